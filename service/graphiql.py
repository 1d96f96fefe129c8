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

# Where the page keeps the key when the user ticks "keep the key in this browser" (localStorage).
KEY_STORAGE_NAME: str = "accountgraph:api-key"
# Where a development key comes from, as the key bar says it (HTML).
KEY_HELP: str = (
    "Every request needs an API key. <code>make run</code> prints one (the line "
    "<code>API key: ag_…</code>) and keeps it in the file <code>.cache/dev-api-key</code>; "
    "<code>accountgraph key create</code> makes others. Paste the key, or the whole "
    "<code>Authorization: Bearer …</code> line."
)

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
    """The explorer page: assets from this service only. A key bar above GraphiQL takes the API key
    (and says where it comes from); until a key is set nothing is fetched, so the first screen shows
    no error. With a key, the schema loads and the Docs open on their own; queries and mutations are
    POSTed with `Authorization: Bearer <key>`, subscriptions go over graphql-transport-ws on the same
    path with the key in connection_init's payload, as the service expects. "Keep the key in this
    browser" (off by default) keeps it in localStorage across reloads."""
    v = _cache_key()
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>accountgraph GraphiQL</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="{ASSETS_URL}/graphiql.css?v={v}" />
    <style>
      body {{ margin: 0; height: 100vh; overflow: hidden; display: flex; flex-direction: column;
             font-family: system-ui, sans-serif; }}
      #key-bar {{ display: flex; flex-wrap: wrap; align-items: center; gap: 6px 12px; padding: 8px 14px;
                 background: #f4f6fb; border-bottom: 1px solid #d6dbe6; font-size: 13px; }}
      #key-bar label {{ font-weight: 600; }}
      #api-key {{ width: 30em; font-family: ui-monospace, monospace; padding: 4px 6px; }}
      #key-bar button {{ padding: 4px 12px; }}
      #key-bar .keep {{ font-weight: normal; }}
      #key-help {{ flex-basis: 100%; color: #444; }}
      #key-help code {{ background: #e6e9f2; padding: 0 3px; border-radius: 3px; }}
      #key-status {{ font-weight: 600; }}
      #key-status.ok {{ color: #16794c; }}
      #key-status.waiting {{ color: #8a5a00; }}
      #key-status.refused {{ color: #b00020; }}
      #graphiql {{ flex: 1; min-height: 0; }}
    </style>
  </head>
  <body>
    <form id="key-bar" autocomplete="off">
      <label for="api-key">API key</label>
      <input id="api-key" name="api-key" type="password" spellcheck="false" placeholder="ag_…" />
      <button id="use-key" type="submit">Use key</button>
      <label class="keep"><input id="keep-key" type="checkbox" /> keep the key in this browser</label>
      <span id="key-status" class="waiting" role="status">No key yet: the schema loads once a key is set.</span>
      <span id="key-help">{KEY_HELP}</span>
    </form>
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
        var endpoint = {_script_json(endpoint)};
        var storageName = {_script_json(KEY_STORAGE_NAME)};
        var socketUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + endpoint;
        var input = document.getElementById("api-key");
        var keep = document.getElementById("keep-key");
        var status = document.getElementById("key-status");
        var reactRoot = ReactDOM.createRoot(root);
        var apiKey = null;
        var fetcher = null;

        function stored() {{
          try {{ return window.localStorage.getItem(storageName); }} catch (e) {{ return null; }}
        }}
        function store(key) {{
          try {{
            if (key) {{ window.localStorage.setItem(storageName, key); }}
            else {{ window.localStorage.removeItem(storageName); }}
          }} catch (e) {{ /* storage refused: the key lasts until the page is closed */ }}
        }}
        function say(text, kind) {{ status.textContent = text; status.className = kind; }}

        // The key alone, from what was pasted: the key, "Bearer <key>", "Authorization: Bearer <key>"
        // or the JSON header line `make run` prints.
        function keyOf(text) {{
          var value = (text || "").trim();
          try {{
            var parsed = JSON.parse(value);
            if (parsed && typeof parsed === "object") {{
              value = String(parsed.Authorization || parsed.authorization || "");
            }}
          }} catch (e) {{ /* not JSON */ }}
          value = value.replace(/^authorization\\s*:\\s*/i, "").replace(/^bearer\\s+/i, "");
          return value.trim() || null;
        }}

        function fetcherFor(key) {{
          var auth = {{ Authorization: "Bearer " + key }};
          var base = GraphiQL.createFetcher({{ url: endpoint, headers: auth, subscriptionUrl: socketUrl,
                                              wsConnectionParams: auth }});
          return function (params, options) {{
            var answer = base(params, options);
            if (params.operationName === "IntrospectionQuery" && answer && answer.then) {{
              answer.then(function (result) {{
                if (key !== apiKey) return;
                if (result && result.data && result.data.__schema) {{
                  say("Key set: schema loaded.", "ok");
                }} else {{
                  var error = result && result.errors && result.errors[0];
                  say("The key was refused: " + (error ? error.message : JSON.stringify(result)), "refused");
                }}
              }}, function (error) {{
                if (key === apiKey) say("The schema could not be loaded: " + error, "refused");
              }});
            }}
            return answer;
          }};
        }}

        function noKey() {{
          return Promise.resolve({{ errors: [{{ message: "Set an API key first (in the bar above)." }}] }});
        }}

        // The first time a schema is in, the Docs open by themselves (as a click on their button would:
        // GraphiQL opens the pane only from there), unless a panel is open already.
        var docsShown = false;
        function showDocs() {{
          if (docsShown) return;
          docsShown = true;
          var button = document.querySelector('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]');
          if (button && !document.querySelector(".graphiql-sidebar button.active")) button.click();
        }}

        function render() {{
          reactRoot.render(React.createElement(GraphiQL, {{
            // No key, no fetcher call: GraphiQL does not ask for the schema (no error on the first screen).
            fetcher: fetcher || noKey,
            schema: apiKey ? undefined : null,
            defaultQuery: exampleQuery,
            query: exampleQuery,
            defaultHeaders: "",
            isHeadersEditorEnabled: true,
            onSchemaChange: showDocs,
          }}));
        }}

        function useKey(key) {{
          if (key === apiKey) return;
          apiKey = key;
          fetcher = key ? fetcherFor(key) : null;
          if (keep.checked) store(key);
          say(key ? "Key set: loading the schema…" : "No key yet: the schema loads once a key is set.",
              "waiting");
          render();
        }}

        document.getElementById("key-bar").addEventListener("submit", function (event) {{
          event.preventDefault();
          var key = keyOf(input.value);
          input.value = key || "";
          useKey(key);
        }});
        input.addEventListener("change", function () {{
          var key = keyOf(input.value);
          if (key) {{ input.value = key; useKey(key); }}
        }});
        keep.addEventListener("change", function () {{ store(keep.checked ? apiKey : null); }});

        var kept = stored();
        if (kept) {{
          keep.checked = true;
          input.value = kept;
          useKey(kept);
        }} else {{
          render();
        }}
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
