"""GraphiQL served from the service itself, so the explorer works with no internet.

Strawberry's stock page loads React and GraphiQL from a CDN. Here the same UMD builds
are installed at set-up by `npm ci` in graphiql/ (pinned in its package-lock.json) and
served from an allow-list under /graphiql/assets/; the page references nothing else.
"""

import hashlib
import json
from pathlib import Path
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema

from service.config import PROJECT_ROOT

ASSETS_DIR: Path = PROJECT_ROOT / "graphiql" / "node_modules"
ASSETS_URL: str = "/graphiql/assets"

# Public name -> installed file. Nothing outside this list is ever served.
ASSET_FILES: dict[str, Path] = {
    "react.js": ASSETS_DIR / "react" / "umd" / "react.production.min.js",
    "react-dom.js": ASSETS_DIR / "react-dom" / "umd" / "react-dom.production.min.js",
    "graphiql.js": ASSETS_DIR / "graphiql" / "graphiql.min.js",
    "graphiql.css": ASSETS_DIR / "graphiql" / "graphiql.min.css",
}

# What the headers editor shows until the user puts their key in: every GraphQL request needs one.
DEFAULT_HEADERS: str = json.dumps({"Authorization": "Bearer <your key>"}, indent=2)

NOT_INSTALLED: str = "GraphiQL assets are not installed: run `make setup` (npm ci in graphiql/)"
CACHE_CONTROL: str = "public, max-age=31536000, immutable"

# Browsers are told to fetch nothing but this origin; inline script/style is the page itself.
CONTENT_SECURITY_POLICY: str = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'"
)


def _media_type(name: str) -> str:
    return "text/css" if name.endswith(".css") else "application/javascript"


def _cache_key() -> str:
    """Changes whenever the pinned versions change, so long caching never serves stale files."""
    lock = PROJECT_ROOT / "graphiql" / "package-lock.json"
    try:
        return hashlib.sha256(lock.read_bytes()).hexdigest()[:12]
    except OSError:
        return "0"


def _script_json(value: str) -> str:
    """A JS string literal that cannot end the surrounding <script> element."""
    return json.dumps(value).replace("</", "<\\/").replace("<!--", "<\\!--")


def graphiql_html(default_query: str, endpoint: str = "/graphql") -> str:
    """The explorer page: assets from this service only, queries POSTed as JSON to endpoint with
    the headers of the headers editor (where the API key goes; shown open, with a placeholder)."""
    v = _cache_key()
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>accountgraph GraphiQL</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="{ASSETS_URL}/graphiql.css?v={v}" />
    <style>
      body {{ margin: 0; height: 100vh; overflow: hidden; }}
      #graphiql {{ height: 100vh; }}
    </style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script src="{ASSETS_URL}/react.js?v={v}"></script>
    <script src="{ASSETS_URL}/react-dom.js?v={v}"></script>
    <script src="{ASSETS_URL}/graphiql.js?v={v}"></script>
    <script>
      (function () {{
        var root = document.getElementById("graphiql");
        if (typeof GraphiQL === "undefined" || typeof ReactDOM === "undefined") {{
          root.textContent = {_script_json(NOT_INSTALLED)};
          return;
        }}
        var exampleQuery = {_script_json(default_query)};
        var defaultHeaders = {_script_json(DEFAULT_HEADERS)};
        var fetcher = GraphiQL.createFetcher({{ url: {_script_json(endpoint)} }});
        ReactDOM.createRoot(root).render(
          React.createElement(GraphiQL, {{
            fetcher: fetcher,
            defaultQuery: exampleQuery,
            query: exampleQuery,
            defaultHeaders: defaultHeaders,
            isHeadersEditorEnabled: true,
            defaultEditorToolsVisibility: "headers",
          }})
        );
      }})();
    </script>
  </body>
</html>
"""


async def _serve_asset(request: Request) -> Response:
    name = request.path_params["name"]
    path = ASSET_FILES.get(name)
    if path is None:
        return PlainTextResponse("Not Found", status_code=404)
    if not ASSETS_DIR.is_dir() or not path.is_file():
        return PlainTextResponse(NOT_INSTALLED, status_code=503)
    return FileResponse(
        path, media_type=_media_type(name), headers={"Cache-Control": CACHE_CONTROL}
    )


def asset_route() -> Route:
    """GET /graphiql/assets/{name}: the allow-listed explorer files, 404 for any other name."""
    return Route(ASSETS_URL + "/{name}", _serve_asset, methods=["GET", "HEAD"])


ContextT = TypeVar("ContextT")
RootValueT = TypeVar("RootValueT")


class OfflineGraphQL(GraphQL[ContextT, RootValueT]):
    """Strawberry's ASGI GraphQL app whose IDE page is the self-hosted GraphiQL."""

    def __init__(self, schema: BaseSchema, *, default_query: str, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.default_query = default_query

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(
            graphiql_html(self.default_query, endpoint=request.url.path),
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
        )
