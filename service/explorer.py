"""The audience explorer: a page for marketers at /explorer, served by the service like GraphiQL.

The page is plain HTML, JavaScript and CSS written in this repository (explorer/), with no library:
it asks for the API key (as GraphiQL does), then reads saved segments, their members, explanations
and activations from /graphql with fetch, and draws sparklines and explanations as SVG of its own.
Only the allow-listed files below are served, under a Content-Security-Policy that lets the page load
nothing but them and talk to nothing but this origin (no inline script or style at all).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from service.config import PROJECT_ROOT

EXPLORER_DIR: Path = PROJECT_ROOT / "explorer"
EXPLORER_PATH: str = "/explorer"
ASSETS_URL: str = "/explorer/assets"

# Public name -> file. Nothing outside this list is ever served.
ASSET_FILES: dict[str, Path] = {
    "explorer.js": EXPLORER_DIR / "explorer.js",
    "explorer.css": EXPLORER_DIR / "explorer.css",
}
PAGE: Path = EXPLORER_DIR / "explorer.html"
MEDIA_TYPES = {".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

CONTENT_SECURITY_POLICY: str = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _version() -> str:
    """Changes whenever an asset changes, so browsers never run a stale script with a new page."""
    digest = hashlib.sha256()
    for path in ASSET_FILES.values():
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
    return digest.hexdigest()[:12]


async def _page(request: Request) -> Response:
    try:
        html = PAGE.read_text(encoding="utf-8")
    except OSError:
        return PlainTextResponse(f"the explorer's files are missing ({PAGE})", status_code=503)
    return HTMLResponse(html.replace("{{v}}", _version()),
                        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


async def _asset(request: Request) -> Response:
    path = ASSET_FILES.get(request.path_params["name"])
    if path is None:
        return PlainTextResponse("Not Found", status_code=404)
    if not path.is_file():
        return PlainTextResponse(f"the explorer's files are missing ({path})", status_code=503)
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix],
                        headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"})


def explorer_routes() -> list[Route]:
    """GET /explorer (the page) and /explorer/assets/{name} (its script and style sheet); open, like
    GraphiQL's page: they hold no data, and every query the page makes carries the user's key."""
    return [Route(EXPLORER_PATH, _page, methods=["GET", "HEAD"]),
            Route(ASSETS_URL + "/{name}", _asset, methods=["GET", "HEAD"])]
