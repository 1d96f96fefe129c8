"""The Neo4j Browser tuned for this graph: a GRASS style (captions that identify each node, colours by
label) and a guided walkthrough of the Townsend example, served by this service for the Browser to
load when the user connects (`browser.post_connect_cmd`, written into the local server's neo4j.conf
by service.neo4j_server and set in docker-compose.yml).

The Browser fetches both from its own origin (Neo4j's HTTP port), so the answers allow any origin:
they are static, public files, and no credentials go with them.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.config import PROJECT_ROOT

FILES_DIR = PROJECT_ROOT / "neo4j" / "browser"
URL_PREFIX = "/neo4j-browser"
STYLE_NAME = "style.grass"
GUIDE_NAME = "townsend-guide.html"
SERVICE_URL_PLACEHOLDER = "{{SERVICE_URL}}"
CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}
# The Browser asks for a guide with `Pragma` and `Cache-Control` request headers, so the browser
# first sends a CORS preflight (OPTIONS): it is answered for these two files only.
PREFLIGHT = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
             "Access-Control-Allow-Headers": "pragma, cache-control, content-type, accept",
             "Access-Control-Max-Age": "600"}
# The guide is HTML the Browser shows in its own page; opened directly here, it may run nothing.
GUIDE_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def style_url(service_url: str) -> str:
    return f"{service_url.rstrip('/')}{URL_PREFIX}/{STYLE_NAME}"


def guide_url(service_url: str) -> str:
    return f"{service_url.rstrip('/')}{URL_PREFIX}/{GUIDE_NAME}"


def post_connect_command(service_url: str) -> str:
    """What the Browser runs once connected: load the style, then open the guide (commands are
    separated by semicolons, without their leading colon, as `browser.post_connect_cmd` takes them)."""
    return f"style {style_url(service_url)}; play {guide_url(service_url)}"


def _service_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _style(request: Request) -> Response:
    if request.method == "OPTIONS":
        return Response(status_code=204, headers=PREFLIGHT)
    return Response((FILES_DIR / STYLE_NAME).read_text(), media_type="text/plain; charset=utf-8", headers=CORS)


async def _guide(request: Request) -> Response:
    if request.method == "OPTIONS":
        return Response(status_code=204, headers=PREFLIGHT)
    text = (FILES_DIR / GUIDE_NAME).read_text()
    text = text.replace(SERVICE_URL_PLACEHOLDER, html.escape(_service_url(request), quote=True))
    return Response(text, media_type="text/html; charset=utf-8",
                    headers={**CORS, "Content-Security-Policy": GUIDE_CSP})


def routes() -> list[Route]:
    """GET /neo4j-browser/style.grass and /neo4j-browser/townsend-guide.html (open: no key, no graph)."""
    return [
        Route(f"{URL_PREFIX}/{STYLE_NAME}", _style, methods=["GET", "HEAD", "OPTIONS"]),
        Route(f"{URL_PREFIX}/{GUIDE_NAME}", _guide, methods=["GET", "HEAD", "OPTIONS"]),
    ]
