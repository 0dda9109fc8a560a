"""The import wizard (``/``) and the live progress page (``/import-progress``) in a real headless
Chromium: browse to a folder and import it with a changed parameter, watch the phases to the end,
reload mid-import, cancel, the history after a restart, the services' status with and without a
key. Each test saves screenshots into tests/screenshots/; the ``watch`` fixture fails a test on a
console error or a request leaving 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Watch, shot
from tests.conftest import LiveServer, running_server
from tests.fakes import FakeServices, FaultKind, World
from tests.ingest.library import make_album
from wkmp_ai.config import Settings

pytestmark = pytest.mark.browser
LONG = 120_000  # ms: an import on a busy 2-core machine


def open_wizard(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/")
    expect(page.locator("#folders")).to_have_attribute("aria-busy", "false")


def test_browse_to_a_folder_and_import_it_with_a_changed_parameter(page: Page, live_server: LiveServer) -> None:
    root = live_server.settings.root_folder
    make_album(root, "Jazz/Kind of Blue", 2, seconds=4.0)
    make_album(root, "Rock/Other", 1, seconds=4.0)
    open_wizard(page, live_server)
    expect(page.locator("#root")).to_have_text(str(root))
    jazz = page.get_by_role("button", name=re.compile(r"^Jazz, "))
    expect(jazz).to_have_accessible_name("Jazz, 2 audio files")
    jazz.click()
    album = page.get_by_role("button", name=re.compile(r"^Kind of Blue, "))
    expect(album).to_be_focused()  # opening a folder moves the focus into its list
    page.keyboard.press("Enter")  # keyboard alone opens the sub-folder
    expect(page.locator("#crumbs [aria-current=page]")).to_have_text("Kind of Blue")
    expect(page.locator("#start-what")).to_contain_text("Jazz/Kind of Blue — 2 audio files")
    # a parameter changed in the page is saved at once and used by the import
    page.locator("#params-details summary").click()
    lead_in = page.get_by_label("Lead-in level")
    lead_in.fill("-20")
    lead_in.press("Tab")
    expect(page.locator("#save-state")).to_contain_text("saved")
    assert live_server.get("/parameters/global").json()["lead_in_threshold_db"] == -20.0
    shot(page, "wizard-1-folder-chosen")
    page.click("#start")
    page.wait_for_url(re.compile(r"/import-progress\?session_id="))
    expect(page.locator("#progress-panel")).to_be_visible()
    shot(page, "progress-1-running")
    expect(page.locator("#summary-panel")).to_be_visible(timeout=LONG)
    expect(page.locator("#summary-title")).to_contain_text("Completed")
    expect(page.locator("#open-wkmp")).to_have_attribute("href", "http://localhost:5720")
    counts = page.locator("#summary-counts")
    expect(counts.locator("div", has_text="Files imported")).to_contain_text("2")
    expect(counts.locator("div", has_text="Passages created")).to_contain_text("2")
    # offline: both files wait for identification, each linking to the segment editor
    pending = page.locator("[data-outcome=pending]")
    expect(pending.locator("summary")).to_have_text("Waiting to be identified: 2 files")
    links = pending.locator("a")
    expect(links).to_have_count(2)
    for i in range(2):
        assert re.fullmatch(r"/segment-editor\?file=[0-9a-f-]{36}", links.nth(i).get_attribute("href") or "")
    expect(page.locator("#errors-panel")).to_be_visible()  # the services could not be reached: said so
    shot(page, "progress-2-completed")
    with sqlite3.connect(root / "wkmp.db") as conn:
        metas = [json.loads(m) for (m,) in conn.execute("SELECT import_metadata FROM passages")]
    assert len(metas) == 2
    assert {m["amplitude_analysis"]["parameters_used"]["lead_in_threshold_db"] for m in metas} == {-20.0}


def follow_import_with_one_worker(page: Page, live_server: LiveServer, folder: str) -> None:
    """Start importing ``folder`` with one worker (slow enough to watch) and open its progress page."""
    live_server.post("/parameters/global", json={"import_parallelism": 1})
    session_id = live_server.post("/import/start", json={"root_folder": folder}).json()["session_id"]
    page.goto(f"{live_server.url}/import-progress?session_id={session_id}")


def test_every_phase_is_shown_and_the_bar_never_stands_still(page: Page, live_server: LiveServer) -> None:
    root = live_server.settings.root_folder
    for n in range(3):
        make_album(root, f"Box/CD{n + 1}", 2, seconds=6.0, seed=n)
    follow_import_with_one_worker(page, live_server, "Box")
    seen: dict[str, set[str]] = {"scanning": set(), "analysis": set(), "identification": set()}
    values: list[float] = []
    deadline = time.monotonic() + LONG / 1000
    while page.locator("#summary-panel").is_hidden():
        assert time.monotonic() < deadline
        for phase in seen:
            seen[phase].add(page.locator(f"#phase-{phase}").get_attribute("data-status") or "")
        values.append(float(page.locator("#overall").get_attribute("value") or 0))
        if "active" in seen["analysis"] and len(values) % 10 == 1:
            shot(page, "progress-3-phases")
        time.sleep(0.1)
    assert "active" in seen["analysis"] and "done" in seen["scanning"]
    assert values == sorted(values), "the overall bar never goes back"
    assert all(v < 100 for v in values)  # 100 % only in the summary
    assert max(values) > 10  # it moved
    expect(page.locator("#summary-title")).to_contain_text("Completed")


def test_the_scan_is_shown_going_on_beside_the_analysis(page: Page, live_server: LiveServer) -> None:
    """One worker and twelve folders: the scan hands the first folders over and waits for the worker
    (docs/import.md, *Scan and analysis overlap*); the page shows both phases at work."""
    root = live_server.settings.root_folder
    for n in range(12):
        make_album(root, f"Shelf/Album {n:02d}", 1, seconds=30.0, seed=n)
    follow_import_with_one_worker(page, live_server, "Shelf")
    expect(page.locator("#phase-analysis")).to_have_attribute("data-status", "active", timeout=LONG)
    expect(page.locator("#phase-scanning")).to_have_attribute("data-status", "active")
    expect(page.locator("#phase-scanning")).to_contain_text("in progress")
    expect(page.locator("#analysis-text")).to_contain_text("of 12 files")  # the files still to read count too
    shot(page, "progress-7-scan-beside-analysis")
    expect(page.locator("#phase-scanning")).to_have_attribute("data-status", "done", timeout=LONG)
    expect(page.locator("#summary-panel")).to_be_visible(timeout=LONG)
    expect(page.locator("#summary-counts div", has_text="Files imported")).to_contain_text("12")


@contextlib.contextmanager
def server_with_slow_musicbrainz(settings: Settings, hold_s: float, times: int) -> Iterator[LiveServer]:
    """A service whose MusicBrainz holds each of its first ``times`` answers ``hold_s`` seconds, so an
    import stays in identification that long: offline, a MusicBrainz that cannot be reached is given
    up within ~1 s (docs/identify.md), too soon for a person, or a test, to act mid-import."""
    with FakeServices(World()) as fakes:
        fakes.musicbrainz.inject(FaultKind.DELAY, delay_s=hold_s, times=times)
        with running_server(replace(settings, **fakes.settings_changes())) as server:
            yield server


def test_reload_mid_import_keeps_following(page: Page, settings: Settings) -> None:
    root = settings.root_folder
    make_album(root, "Long", 6, seconds=12.0)
    (root / "Long" / "05 Track 5.flac").write_bytes(b"fLaC" + b"\0" * 200)  # a broken file: an error to list
    with server_with_slow_musicbrainz(settings, hold_s=8.0, times=1) as live_server:
        _reload_mid_import(page, live_server)
        page.context.close()  # before the server stops: its streams end with it


def _reload_mid_import(page: Page, live_server: LiveServer) -> None:
    follow_import_with_one_worker(page, live_server, "Long")
    expect(page.locator("#phase-analysis")).to_have_attribute("data-status", "active", timeout=LONG)
    expect(page.locator("#n-ok")).not_to_have_text("0", timeout=LONG)
    before = int(page.locator("#n-ok").inner_text())
    page.reload()
    expect(page.locator("#progress-panel")).to_be_visible()
    assert int(page.locator("#n-ok").inner_text()) >= before  # the counts come back at once
    shot(page, "progress-4-after-reload")
    expect(page.locator("#summary-panel")).to_be_visible(timeout=LONG)
    expect(page.locator("#summary-counts div", has_text="Files imported")).to_contain_text("5")
    # each problem in plain words, its code kept for searches (a tooltip)
    expect(page.locator("[data-outcome=skipped]")).to_contain_text("Long/05 Track 5.flac — Not audio: ")
    expect(page.locator("[data-outcome=skipped]")).not_to_contain_text("NOT_AUDIO")
    # the broken file's error survived the reload, grouped by its code and filterable by path
    button = page.locator("#codes button[data-code=NOT_AUDIO]")
    expect(button).to_have_text("Not audio (1)")
    expect(button).to_have_attribute("title", "NOT_AUDIO")
    button.click()
    expect(page.locator("#errors tbody tr")).to_have_count(1)
    expect(page.locator("#errors tbody tr")).to_contain_text("Long/05 Track 5.flac")
    expect(page.locator("#errors tbody td[data-code=NOT_AUDIO]")).to_have_text("Not audio")
    page.locator("#codes button", has_text="All").click()
    page.get_by_label("Path contains").fill("no such path")
    expect(page.locator("#errors tbody tr")).to_have_count(0)
    shot(page, "progress-5-errors-filtered")


def test_cancel_stops_the_import_and_offers_no_ready_library(page: Page, settings: Settings) -> None:
    make_album(settings.root_folder, "Many", 8, seconds=12.0)
    with server_with_slow_musicbrainz(settings, hold_s=60.0, times=100) as live_server:
        _cancel_mid_import(page, live_server)
        page.context.close()


def _cancel_mid_import(page: Page, live_server: LiveServer) -> None:
    live_server.post("/parameters/global", json={"import_parallelism": 1})
    open_wizard(page, live_server)
    page.get_by_role("button", name=re.compile(r"^Many, ")).click()
    expect(page.locator("#crumbs [aria-current=page]")).to_have_text("Many")
    page.click("#start")
    expect(page.locator("#progress-panel")).to_be_visible()
    expect(page.locator("#n-ok")).not_to_have_text("0", timeout=LONG)
    page.get_by_role("button", name="Cancel import").click()
    expect(page.locator("#summary-panel")).to_be_visible(timeout=30_000)
    expect(page.locator("#summary-title")).to_have_text("Cancelled Many")
    expect(page.locator("#done-banner")).to_contain_text("cancelled")
    expect(page.locator("#open-wkmp")).to_have_count(0)  # no "your library is ready" after a cancel
    shot(page, "progress-6-cancelled")


def test_history_after_a_restart_and_a_running_import_shown_at_once(
    new_page: Callable[..., Page], settings: Settings
) -> None:
    make_album(settings.root_folder, "Before", 1, seconds=4.0)
    with running_server(settings) as server:
        server.post("/import/start", json={"root_folder": "Before"})
        deadline = time.monotonic() + LONG / 1000
        while not any(e["finished_at"] for e in server.get("/import/history").json()["imports"]):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    make_album(settings.root_folder, "After", 6, seconds=12.0)
    with running_server(settings) as server:
        page = new_page()
        open_wizard(page, server)
        row = page.locator("#history tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Before")
        expect(row).to_contain_text("Completed")
        shot(page, "wizard-2-history")
        row.get_by_role("link").click()
        expect(page.locator("#summary-panel")).to_be_visible()  # from the history: the session itself is gone
        expect(page.locator("[data-outcome=pending] summary")).to_have_text("Waiting to be identified: 1 file")
        # an import started elsewhere (wkmp-ui, the API) shows in an open wizard at once
        page.goto(server.url + "/")
        expect(page.locator("#running")).to_be_hidden()
        server.post("/parameters/global", json={"import_parallelism": 1})
        started = server.post("/import/start", json={"root_folder": "After"}).json()["session_id"]
        expect(page.locator("#running")).to_be_visible(timeout=10_000)
        expect(page.locator("#start")).to_be_disabled()
        shot(page, "wizard-3-running-elsewhere")
        page.get_by_role("link", name="Follow its progress").click()
        assert started in page.url
        expect(page.locator("#progress-panel")).to_be_visible()
        server.post(f"/import/cancel/{started}")
        expect(page.locator("#summary-title")).to_contain_text("Cancelled", timeout=30_000)
        page.context.close()  # before the server stops: its streams end with it


def test_service_status_without_a_key(page: Page, live_server: LiveServer) -> None:
    open_wizard(page, live_server)
    services = page.locator("#services li")
    expect(services).to_have_count(4)
    expect(page.locator("#services [data-service=musicbrainz]")).to_contain_text("not reachable")
    expect(page.locator("#key-note")).to_contain_text("No AcoustID key is set")
    shot(page, "wizard-4-services-offline")


def test_service_status_with_a_key_never_shows_it(page: Page, settings: Settings) -> None:
    with FakeServices(World()) as fakes, running_server(replace(settings, **fakes.settings_changes())) as server:
        open_wizard(page, server)
        for name in ("acoustid", "musicbrainz", "acousticbrainz", "coverart"):
            expect(page.locator(f"#services [data-service={name}]")).to_contain_text("reachable")
            expect(page.locator(f"#services [data-service={name}]")).not_to_contain_text("not reachable")
        expect(page.locator("#key-note")).to_contain_text("An AcoustID key is set")
        assert fakes.api_key not in page.content()
        shot(page, "wizard-5-services-online")
        page.context.close()  # before the server stops: its streams end with it


def test_bad_input_gets_the_servers_message(page: Page, live_server: LiveServer, watch: Watch) -> None:
    watch.allow(r"status of 400 \(Bad Request\)")  # the folder and the parameter are refused
    open_wizard(page, live_server)
    page.fill("#folder", "/etc")
    page.click("#go")
    expect(page.locator("#folder-error")).to_contain_text("outside the root folder")
    expect(page.locator("#folder")).to_have_attribute("aria-invalid", "true")
    page.locator("#params-details summary").click()
    window = page.get_by_label("Loudness window")
    window.fill("5000")
    window.press("Tab")
    expect(page.locator("#p-rms_window_ms-msg")).to_have_text("rms_window_ms must be between 10 and 1000, got 5000")
    expect(window).to_have_attribute("aria-invalid", "true")
    assert live_server.get("/parameters/global").json()["rms_window_ms"] == 100  # nothing saved
    shot(page, "wizard-6-bad-input")
    # presets and reset: a preset changes several values at once; reset brings the defaults back
    page.get_by_label("Genre preset").select_option("classical")
    expect(page.locator("#save-state")).to_contain_text("Classical preset applied")
    expect(window).to_have_value("200")
    page.get_by_label("Source media").select_option("vinyl")
    expect(page.get_by_label("Silence threshold")).to_have_value("-60")
    page.get_by_role("button", name="Reset to defaults").click()
    expect(window).to_have_value("100")
    assert live_server.get("/parameters/global").json()["rms_window_ms"] == 100


def test_narrow_window(new_page: Callable[..., Page], live_server: LiveServer) -> None:
    make_album(live_server.settings.root_folder, "A rather long artist name/An even longer album title", 1, seconds=4.0)
    page = new_page(width=400, height=800)
    open_wizard(page, live_server)
    page.locator("#params-details summary").click()
    shot(page, "wizard-7-narrow")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways at 400 px ({width} px wide)"
