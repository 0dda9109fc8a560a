"""A real headless Chromium (Debian's, driven by Playwright) for the page tests.

Every page a test opens is watched: a console error, an uncaught exception or a request to any host
but 127.0.0.1 fails the test at teardown. ``shot(page, name)`` saves a screenshot into
``tests/screenshots/`` (git-ignored; ``WKMP_SCREENSHOTS`` overrides) for a person to look through.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("WKMP_SCREENSHOTS") or Path(__file__).resolve().parents[1] / "screenshots")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_SCHEMES = {"data", "about", "blob"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@dataclass
class Watch:
    """What went wrong in the pages of one test. The pages are closed when the test body ends, before
    its servers stop (a stream cut by a stopping server is not the page's fault)."""

    problems: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """A console message the test expects (Chromium logs every 4xx answer to a fetch as an error)."""
        self.allowed.append(re.compile(pattern))

    def attach(self, page: Page) -> Page:
        page.on("console", lambda m: self._problem(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self._problem(f"uncaught: {e}"))
        page.on("request", self._request)
        return page

    def _problem(self, text: str) -> None:
        if not any(p.search(text) for p in self.allowed):
            self.problems.append(text)

    def _request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in LOCAL_SCHEMES and parts.hostname != "127.0.0.1":
            self._problem(f"request leaving the machine: {request.url}")

    def close_pages(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    watch = getattr(item, "funcargs", {}).get("watch")
    if isinstance(watch, Watch):
        watch.close_pages()


@pytest.fixture
def watch() -> Iterator[Watch]:
    w = Watch()
    yield w
    assert not w.problems, w.problems


@pytest.fixture
def new_page(browser: Browser, watch: Watch) -> Iterator[Callable[..., Page]]:
    def make(width: int = 1280, height: int = 800) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height})
        watch.contexts.append(context)
        return watch.attach(context.new_page())

    yield make
    watch.close_pages()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


def shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
