"""The import page in a real headless Chromium (Debian's, driven by Playwright): start an import,
watch it over SSE, see the summary and the warnings; a bad folder shows the server's message."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import LiveServer
from tests.ingest.library import make_album

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian chromium is not installed"),
]
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_start_and_follow_an_import(page: Page, live_server: LiveServer) -> None:
    root = live_server.settings.root_folder
    make_album(root, "Artist/Album", 3, seconds=4.0)
    page.goto(live_server.url + "/")
    expect(page.locator("#root")).to_have_text(str(root))
    page.fill("#folder", "Artist")
    page.click("#start")
    expect(page.locator("#progress-panel")).to_be_visible()
    expect(page.locator("#summary-panel")).to_be_visible(timeout=90_000)
    expect(page.locator("#summary-title")).to_have_text("Import completed")
    summary = page.locator("#summary")
    expect(summary.locator("tr", has_text="Files imported")).to_contain_text("3")
    expect(summary.locator("tr", has_text="Passages created")).to_contain_text("3")
    expect(page.locator("#progress-panel")).to_be_hidden()
    assert "/import-progress?session_id=" in page.url
    # identification had no services to reach: the page lists the warnings the session reported
    expect(page.locator("#errors-panel")).to_be_visible()
    assert page.locator("#errors tbody tr").count() >= 1


def test_a_folder_outside_the_root_shows_the_servers_message(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/")
    page.fill("#folder", "/etc")
    page.click("#start")
    expect(page.locator("#start-error")).to_contain_text("outside the root folder")
    expect(page.locator("#progress-panel")).to_be_hidden()


def test_progress_page_follows_a_session_started_elsewhere(page: Page, live_server: LiveServer) -> None:
    make_album(live_server.settings.root_folder, "Elsewhere", 2, seconds=4.0)
    session_id = live_server.post("/import/start", json={}).json()["session_id"]
    page.goto(f"{live_server.url}/import-progress?session_id={session_id}")
    expect(page.locator("#summary-panel")).to_be_visible(timeout=90_000)
    expect(page.locator("#summary").locator("tr", has_text="Files imported")).to_contain_text("2")
