"""GraphiQL in a real headless Chromium, offline (nothing beyond loopback): the first screen shows no
error and asks nothing of the API until a key is set in the key bar; with a key the Docs open with
the schema without another click and the README query runs; "keep the key in this browser" keeps
it across reloads (and only then); a subscription started in GraphiQL hears a change a mutation
makes.

Playwright's async API is used: its sync API keeps an event loop running on the test thread, and
pytest-asyncio then cannot set up the async graph fixtures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, Request, Route, async_playwright

from service.database import Graph, Neo4jConnection
from service.graphiql import KEY_STORAGE_NAME
from service.segments.presets import audience_rule
from tests.helpers import ARTIFACTS, ApiKeys, ServerThread, ago, run_cypher, save_segment

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
TIMEOUT_MS = 30_000
RESULT = ".graphiql-response .result-window"
DOCS = ".graphiql-doc-explorer"
PAGE_URL = "https://www.bodea.com/products/new-product"
SUBSCRIBE = """subscription WatchTownsend($segmentId: ID) {
  audienceChanges(segmentId: $segmentId) { email change segmentName }
}"""
VISIT = """mutation ($id: String!, $person: String!, $at: DateTime!) {
  recordWebVisits(source: "Marketo 1", visits: [
    {id: $id, personId: $person, url: "https://www.bodea.com/products/new-product", visitedAt: $at}]) { records } }"""
# The query and variables editors are CodeMirror instances: set them as a user's typing would.
SET_EDITOR = """([selector, text]) => {
  const editor = document.querySelector(selector + ' .CodeMirror');
  if (!editor) return false;
  editor.CodeMirror.setValue(text);
  return true;
}"""
TEXT_IN = "([selector, text]) => (document.querySelector(selector)?.innerText ?? '').includes(text)"


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """The system Chromium, headless; a missing binary is a failure, not a skip."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install the system Chromium (`make test` does) to run the browser tests")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Watched:
    """What a page did: requests beyond loopback (refused), GraphQL requests, script errors."""

    blocked: list[str] = field(default_factory=list)
    graphql: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def loopback_only(blocked: list[str]) -> Callable[[Route], Awaitable[None]]:
    """A route handler that lets loopback requests through and refuses the rest, noting them in `blocked`."""

    async def handle(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK_HOSTS:
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    return handle


async def offline_context(browser: Browser, watched: Watched) -> BrowserContext:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    await context.route("**/*", loopback_only(watched.blocked))
    return context


def watch(page: Page, watched: Watched) -> None:
    def on_request(request: Request) -> None:
        if urlsplit(request.url).path == "/graphql" and request.method == "POST":
            watched.graphql.append(request.post_data or "")

    page.on("request", on_request)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on("console", lambda message: watched.errors.append(message.text) if message.type == "error" else None)


async def wait_for_text(page: Page, selector: str, text: str) -> None:
    await page.wait_for_function(TEXT_IN, arg=[selector, text], timeout=TIMEOUT_MS)


async def set_key(page: Page, key: str, keep: bool = False) -> None:
    if keep:
        await page.locator("#keep-key").check()
    await page.locator("#api-key").fill(f'{{"Authorization": "Bearer {key}"}}')  # the line `make run` prints
    await page.locator("#api-key").press("Enter")


async def test_graphiql_opens_without_error_takes_a_key_and_runs_the_readme_query(
        page_service: ServerThread, seeded_graph: Graph, api_keys: ApiKeys) -> None:
    live_server = page_service.url
    watched = Watched()
    async with chromium() as browser:
        context = await offline_context(browser, watched)
        try:
            page = await context.new_page()
            watch(page, watched)
            await page.goto(f"{live_server}/graphql", timeout=TIMEOUT_MS)
            editor = page.locator(".graphiql-query-editor .CodeMirror")
            await editor.wait_for(timeout=TIMEOUT_MS)
            assert "TownsendAudience" in await editor.inner_text()

            # The first screen: where the key comes from, no request made, no error anywhere.
            bar = await page.locator("#key-bar").inner_text()
            assert "make run" in bar and ".cache/dev-api-key" in bar
            assert "keep the key in this browser" in bar
            assert not await page.locator("#keep-key").is_checked()
            await asyncio.sleep(1.5)  # time for any automatic schema fetch to have happened
            body = await page.locator("body").inner_text()
            assert "not valid" not in body and "Error fetching schema" not in body, body
            assert watched.graphql == [], "GraphiQL called the API before a key was set"
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "graphiql-first-screen.png"))

            # A key, as the line `make run` prints: the schema loads and the Docs open, no other click.
            await set_key(page, api_keys.read)
            await wait_for_text(page, "#key-status", "schema loaded")
            await wait_for_text(page, DOCS, "Query")
            await page.locator(DOCS).wait_for(state="visible", timeout=TIMEOUT_MS)
            box = await page.locator(DOCS).bounding_box()
            assert box is not None and box["width"] > 200, box  # the Docs pane open, not merely rendered
            docs = await page.locator(DOCS).inner_text()
            assert "Error fetching schema" not in docs
            assert "subscription" in docs.lower()
            await page.locator(".graphiql-execute-button").click()
            await wait_for_text(page, RESULT, "p2@townsend.com")
            text = await page.locator(RESULT).inner_text()
            assert "1100000" in text
            assert '"count": 1' in text
            await page.screenshot(path=str(ARTIFACTS / "graphiql.png"))
            await page.locator(f"{DOCS} a.graphiql-doc-explorer-type-name", has_text="Query").first.click()
            await wait_for_text(page, DOCS, "audience")
            await page.screenshot(path=str(ARTIFACTS / "graphiql-docs.png"))

            # Not kept unless asked: a reload forgets the key.
            await page.reload()
            await page.locator("#key-bar").wait_for(timeout=TIMEOUT_MS)
            assert await page.locator("#api-key").input_value() == ""
            assert await page.evaluate("name => localStorage.getItem(name)", KEY_STORAGE_NAME) is None

            # Kept when asked: after a reload the key is there and the Docs load on their own.
            await set_key(page, api_keys.read, keep=True)
            await wait_for_text(page, "#key-status", "schema loaded")
            await page.reload()
            await wait_for_text(page, "#key-status", "schema loaded")
            assert await page.locator("#keep-key").is_checked()
            assert await page.locator("#api-key").input_value() == api_keys.read
            await wait_for_text(page, DOCS, "Query")
            await page.locator(DOCS).wait_for(state="visible", timeout=TIMEOUT_MS)
            await page.locator("#keep-key").uncheck()
            assert await page.evaluate("name => localStorage.getItem(name)", KEY_STORAGE_NAME) is None
        finally:
            await context.close()

    assert watched.blocked == [], f"the page tried to reach beyond this service: {watched.blocked}"
    assert watched.errors == [], watched.errors


# The browser tests need no warm plan cache: their services say ready after this long at most.
WARM_SECONDS = 10.0


@pytest.fixture(scope="module")
def page_service(neo4j_connection: Neo4jConnection) -> Iterator[ServerThread]:
    """The service the page is loaded from (its live loop acts only when a request wakes it)."""
    with ServerThread(neo4j_connection, poll_seconds=3600, sweep_seconds=3600, warm_seconds=WARM_SECONDS) as running:
        yield running


@pytest.fixture
def live_service(neo4j_connection: Neo4jConnection, api_keys: ApiKeys) -> Iterator[ServerThread]:
    """A service whose live loop runs, so that a mutation's change reaches subscribers at once."""
    with ServerThread(neo4j_connection, poll_seconds=0.2, sweep_seconds=3600, warm_seconds=WARM_SECONDS) as running:
        yield running


async def test_a_subscription_in_graphiql_hears_a_change_made_by_a_mutation(
        live_service: ServerThread, seeded_graph: Graph, api_keys: ApiKeys) -> None:
    # p2 out of the Townsend audience (no visit), so that a visit recorded by mutation brings them in.
    await run_cypher(seeded_graph,
                     "MATCH (:Person {email: 'p2@townsend.com'})-[:VISITED]->(visit:WebVisit) DETACH DELETE visit")
    townsend = await save_segment(seeded_graph, "Townsend top customers", audience_rule(1_000_000, PAGE_URL, 30))
    watched = Watched()
    async with chromium() as browser:
        context = await offline_context(browser, watched)
        try:
            page = await context.new_page()
            watch(page, watched)
            await page.goto(f"{live_service.url}/graphql", timeout=TIMEOUT_MS)
            await page.locator(".graphiql-query-editor .CodeMirror").wait_for(timeout=TIMEOUT_MS)
            await set_key(page, api_keys.read)  # a read key is enough to listen
            await wait_for_text(page, "#key-status", "schema loaded")
            assert await page.evaluate(SET_EDITOR, [".graphiql-query-editor", SUBSCRIBE])
            await page.get_by_role("button", name="Variables").click()
            assert await page.evaluate(SET_EDITOR, [".graphiql-editor-tool",
                                                    f'{{"segmentId": "{townsend}"}}'])
            broker = live_service.app.state.live.broker
            before = broker.subscribers
            await page.locator(".graphiql-execute-button").click()
            deadline = time.monotonic() + 15
            while broker.subscribers == before:  # the subscription is registered: changes reach it
                assert time.monotonic() < deadline, "the subscription did not start"
                await asyncio.sleep(0.05)

            async with httpx.AsyncClient(base_url=live_service.url, timeout=30,
                                         headers=ApiKeys.header(api_keys.write)) as client:
                answer = (await client.post("/graphql", json={
                    "query": VISIT, "variables": {"id": "graphiql-live-1", "person": "1002", "at": ago(seconds=5)},
                })).json()
            assert not answer.get("errors"), answer
            await wait_for_text(page, RESULT, "p2@townsend.com")
            text = await page.locator(RESULT).inner_text()
            assert "ENTERED" in text and "Townsend top customers" in text
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "graphiql-subscription.png"))
        finally:
            await context.close()

    assert watched.blocked == [], f"the page tried to reach beyond this service: {watched.blocked}"
    assert watched.errors == [], watched.errors
