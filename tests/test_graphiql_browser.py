"""GraphiQL in a real headless Chromium: loads offline from this service, without a key, and runs the
example query with the key put in its headers editor (refused before that).

Playwright's async API is used: its sync API keeps an event loop running on the test thread, and
pytest-asyncio then cannot set up the async graph fixtures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Route, async_playwright

from service.database import Graph
from service.graphiql import DEFAULT_HEADERS
from tests.helpers import ARTIFACTS, ApiKeys

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
TIMEOUT_MS = 30_000
RESULT = ".graphiql-response .result-window"
# The headers editor is the editor-tool CodeMirror holding the default headers; set it as a user would edit it.
SET_HEADERS = """([placeholder, text]) => {
  const editors = [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')].map(e => e.CodeMirror);
  const headers = editors.find(editor => editor.getValue() === placeholder);
  if (!headers) return false;
  headers.setValue(text);
  return true;
}"""


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


async def test_graphiql_runs_the_example_query_offline(live_server: str, seeded_graph: Graph,
                                                       api_keys: ApiKeys) -> None:
    blocked: list[str] = []
    page_errors: list[str] = []

    async def loopback_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK_HOSTS:
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            await context.route("**/*", loopback_only)
            page = await context.new_page()
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            await page.goto(f"{live_server}/graphql", timeout=TIMEOUT_MS)

            editor = page.locator(".graphiql-query-editor .CodeMirror")
            await editor.wait_for(timeout=TIMEOUT_MS)
            assert "TownsendAudience" in await editor.inner_text()

            # The headers editor shows where the key goes; with its placeholder, the API refuses.
            await page.locator(".graphiql-execute-button").click()
            await page.wait_for_function(
                "selector => (document.querySelector(selector)?.innerText ?? '').includes('the API key is not valid')",
                arg=RESULT, timeout=TIMEOUT_MS,
            )
            assert "p2@townsend.com" not in await page.locator(RESULT).inner_text()

            headers = f'{{"Authorization": "Bearer {api_keys.read}"}}'
            assert await page.evaluate(SET_HEADERS, [DEFAULT_HEADERS, headers]), (
                "no headers editor with the placeholder")
            await page.locator(".graphiql-execute-button").click()
            await page.wait_for_function(
                "selector => (document.querySelector(selector)?.innerText ?? '').includes('p2@townsend.com')",
                arg=RESULT, timeout=TIMEOUT_MS,
            )
            text = await page.locator(RESULT).inner_text()
            assert "p2@townsend.com" in text
            assert "1100000" in text
            assert '"count": 1' in text

            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "graphiql.png"))
        finally:
            await context.close()

    assert blocked == [], f"the page tried to reach beyond this service: {blocked}"
    assert page_errors == [], page_errors
