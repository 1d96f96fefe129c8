"""The Neo4j Browser tuned for this graph: the local server's configuration makes the Browser load the
service's GRASS style and Townsend guide when the user connects, with product analytics off; in a real
headless Chromium, the Browser connects, plays the guide, and captions p2 by email.

The test Neo4j is configured as `make run` configures the demo's (service at http://127.0.0.1:8000);
the test browser's requests to that address are answered by this session's service instead.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Route

from service.config import get_settings
from service.database import Graph, Neo4jConnection
from service.neo4j_browser import FILES_DIR, GUIDE_NAME, STYLE_NAME, guide_url, style_url
from service.neo4j_provider import service_url
from tests.helpers import ARTIFACTS, LOCAL_NEO4J, ServerThread, run_cypher
from tests.test_graphiql_browser import TIMEOUT_MS, WARM_SECONDS, chromium, loopback_only

pytestmark = pytest.mark.browser

GUIDE_TITLE = "Townsend: one customer across two lines of business"
GUIDE_FIRST_HEADING = "The Townsend example"
# Fetched by the Browser's own page and scripts, not by anything this project configures (see the test).
BROWSER_OWN_ASSET_HOSTS = {"fonts.googleapis.com", "cdn.segment.com", "canny.io"}
P2 = "MATCH (person:Person {email: 'p2@townsend.com'}) RETURN person"
CAPTIONED = """text => [...document.querySelectorAll('svg text')].some(t => (t.textContent || '').includes(text))"""


@pytest.fixture(scope="module")
def service(neo4j_connection: Neo4jConnection) -> Iterator[str]:
    """The service the Browser loads its style and guide from."""
    with ServerThread(neo4j_connection, poll_seconds=3600, sweep_seconds=3600, warm_seconds=WARM_SECONDS) as running:
        yield running.url


def local_server_conf() -> dict[str, str]:
    if not LOCAL_NEO4J:
        pytest.skip("the test Neo4j is not a local server this session configured (NEO4J_TEST_URI or Docker)")
    lines = (LOCAL_NEO4J[0].home / "conf" / "neo4j.conf").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_the_local_server_loads_the_style_and_guide_on_connect_with_analytics_off(
        neo4j_connection: Neo4jConnection) -> None:
    conf = local_server_conf()
    service = service_url(get_settings())
    assert conf["browser.post_connect_cmd"] == f"style {style_url(service)}; play {guide_url(service)}"
    assert "127.0.0.1" in conf["browser.remote_content_hostname_whitelist"].split(",")
    assert conf["client.allow_telemetry"] == "false"
    assert conf["dbms.usage_report.enabled"] == "false"


def test_docker_compose_gives_the_browser_the_same_settings() -> None:
    compose = (Path(__file__).resolve().parent.parent / "docker-compose.yml").read_text()
    service = "http://127.0.0.1:8000"
    assert f"NEO4J_browser_post__connect__cmd: \"style {style_url(service)}; play {guide_url(service)}\"" in compose
    assert "NEO4J_browser_remote__content__hostname__whitelist:" in compose
    assert 'NEO4J_client_allow__telemetry: "false"' in compose


def test_the_service_serves_the_style_and_guide_to_the_browser(service: str) -> None:
    live_server = service
    origin = {"Origin": "http://127.0.0.1:7474"}
    style = httpx.get(style_url(live_server), headers=origin, timeout=30)
    assert style.status_code == 200
    assert style.headers["access-control-allow-origin"] == "*"
    assert style.text == (FILES_DIR / STYLE_NAME).read_text()
    for label, caption in (("Person", "{email}"), ("Account", "{name} ({source})"),
                           ("Company", "{id} won {wonSum}"), ("Opportunity", "{name} {amount}")):
        block = style.text.split(f"node.{label} {{", 1)[1].split("}\n", 1)[0]
        assert f'caption: "{caption}";' in block and "color: #" in block
    preflight = httpx.options(guide_url(live_server), timeout=30, headers={
        **origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "pragma,cache-control"})
    assert preflight.status_code == 204
    assert "pragma" in preflight.headers["access-control-allow-headers"]
    guide = httpx.get(guide_url(live_server), headers=origin, timeout=30)
    assert guide.status_code == 200
    assert guide.headers["access-control-allow-origin"] == "*"
    assert f"<title>{GUIDE_TITLE}</title>" in guide.text
    assert guide.text.count("<slide") == 6
    assert f"{live_server}/graphql" in guide.text and "{{SERVICE_URL}}" not in guide.text
    assert "{{SERVICE_URL}}" in (FILES_DIR / GUIDE_NAME).read_text()


@pytest.mark.asyncio
async def test_the_browser_connects_plays_the_guide_and_captions_p2_by_email(
        neo4j_connection: Neo4jConnection, service: str, seeded_graph: Graph) -> None:
    live_server = service
    local_server_conf()
    server = LOCAL_NEO4J[0]
    configured = service_url(get_settings())
    blocked: list[str] = []
    page_errors: list[str] = []

    async def to_test_service(route: Route) -> None:  # the configured service address -> this session's
        path = urlsplit(route.request.url).path
        response = await route.fetch(url=f"{live_server}{path}")
        await route.fulfill(response=response)

    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1500, "height": 950})
        try:
            await context.route("**/*", loopback_only(blocked))
            await context.route(f"{configured}/neo4j-browser/**", to_test_service)
            page = await context.new_page()
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            await page.goto(server.browser_url, timeout=TIMEOUT_MS)
            await page.locator('[data-testid="username"]').fill(neo4j_connection.user, timeout=TIMEOUT_MS)
            await page.locator('[data-testid="password"]').fill(neo4j_connection.password.get_secret_value())
            await page.locator('[data-testid="connect"]').click()

            # On connecting: the guide opens (fetched from the service) and the style is applied.
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            try:
                await page.get_by_text(GUIDE_FIRST_HEADING).first.wait_for(timeout=TIMEOUT_MS)
                await page.get_by_text("1 / 6").first.wait_for(timeout=TIMEOUT_MS)  # its six slides
            except Exception:
                await page.screenshot(path=str(ARTIFACTS / "neo4j-browser-failure.png"))
                raise
            await page.screenshot(path=str(ARTIFACTS / "neo4j-browser-guide.png"))

            editor = page.locator('[data-testid="activeEditor"]')
            await editor.click()
            await page.keyboard.type(P2)
            await page.locator('[data-testid="editor-Run"]').click()
            try:
                await page.wait_for_function(CAPTIONED, arg="p2@townsend.com", timeout=TIMEOUT_MS)
            except Exception:
                await page.screenshot(path=str(ARTIFACTS / "neo4j-browser-failure.png"))
                raise
            await page.screenshot(path=str(ARTIFACTS / "neo4j-browser-p2.png"))
        finally:
            await context.close()

    assert page_errors == [], page_errors
    # The Browser bundled with Neo4j 5.26 asks for web fonts from its page, and loads the scripts of its
    # analytics and feedback services whatever the server says (refused here). What the server's
    # configuration controls is whether usage data is sent (client.allow_telemetry=false): nothing but
    # those scripts is asked for, and no analytics endpoint is called.
    hosts = {urlsplit(url).hostname for url in blocked}
    assert hosts <= BROWSER_OWN_ASSET_HOSTS, f"the Browser tried to reach beyond this machine: {blocked}"
    assert not [url for url in blocked if "api.segment.io" in url or "/track" in url or "/v1/t" in url], blocked


@pytest.mark.asyncio
async def test_every_step_of_the_guide_runs_on_the_seed(seeded_graph: Graph) -> None:
    guide = (FILES_DIR / GUIDE_NAME).read_text()
    blocks = re.findall(r'<pre mode="cypher"[^>]*runnable">(.*?)</pre>', guide, re.DOTALL)
    steps = [html.unescape(block) for block in blocks]
    assert len(steps) == 4
    answers = [await run_cypher(seeded_graph, step) for step in steps]
    assert all(answers), answers
    assert sorted(row["amount"] for row in answers[1]) == [200_000.0, 900_000.0]
    assert {row["companyWonTotal"] for row in answers[1]} == {1_100_000.0}
    assert {row["person"]["email"] for row in answers[2]} == {"p2@townsend.com"}
