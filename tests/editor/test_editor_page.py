"""The segment editor page in a real headless Chromium (Debian's, driven by Playwright) over a real
import: regions per passage, a boundary dragged by mouse and saved, a file split from the keyboard,
another release chosen; no console errors, no request leaving 127.0.0.1, every control named.
Screenshots go to tests/screenshots/ (git-ignored) for a person to look at."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.editor.conftest import SONG_S, Imported
from wkmp_ai.ticks import TICKS_PER_SECOND

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"
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
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module", autouse=True)
def patient_expectations() -> Iterator[None]:
    """Saves re-measure audio and release look-ups ask a (fake) MusicBrainz: on a loaded 2-core
    machine they can take longer than Playwright's 5 s default."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


class Watched:
    """A page at 1280×800 whose console errors and outgoing requests are recorded."""

    def __init__(self, page: Page, base: str):
        self.page = page
        self.base = base
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith((base, "data:", "blob:")) else self.foreign.append(r.url))

    def open(self, file_id: str) -> Page:
        self.page.goto(f"{self.base}/segment-editor?file={file_id}")
        self.page.wait_for_function("() => window.segmentEditor && segmentEditor.file && segmentEditor.ready")
        self.page.wait_for_function("() => segmentEditor.ws.getMediaElement().readyState >= 1")
        return self.page

    def regions(self) -> list[dict[str, Any]]:
        return self.page.evaluate(
            "() => segmentEditor.regions.getRegions().map(r => ({id: r.id, start: r.start, end: r.end}))"
        )

    def shot(self, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"editor-{name}.png"))

    def check(self, expected: tuple[str, ...] = ()) -> None:
        """No console error but the ``expected`` ones (Chromium logs every 4xx answer it fetched)."""
        assert [e for e in self.errors if not any(x in e for x in expected)] == [], self.errors
        assert self.foreign == [], self.foreign


@pytest.fixture
def watched(browser: Browser, imported: Imported) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    w = Watched(context.new_page(), imported.server.url)
    yield w
    context.close()


def test_three_songs_show_three_regions(watched: Watched, imported: Imported) -> None:
    page = watched.open(imported.ids["Browser"])
    passages = [r for r in watched.regions() if r["id"].startswith("p")]
    assert len(passages) == 3
    for region, (start, end) in zip(passages, imported.files["Browser"].songs, strict=True):
        assert region["start"] <= start < end <= region["end"]  # each song inside its region
    markers = [r for r in watched.regions() if r["id"].startswith(("in", "out"))]
    assert len(markers) == 6  # a lead-in and a lead-out per passage
    expect(page.locator("#passages tbody tr")).to_have_count(3)
    expect(page.locator("#file-list button[aria-current]")).to_have_count(1)
    watched.shot("three-songs")
    watched.check()


def test_dragging_a_boundary_and_saving_changes_the_ticks(watched: Watched, imported: Imported) -> None:
    page = watched.open(imported.ids["Browser"])
    before = imported.passages("Browser")
    handle = page.locator('[part="region p0"] [part~="region-handle-right"]')
    box = handle.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    px_per_s = page.evaluate("() => segmentEditor.ws.getWrapper().clientWidth / segmentEditor.file.duration_s")
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x - step * px_per_s / 10, y)
    page.mouse.up()
    expect(page.locator("#save")).to_be_enabled()
    expect(page.locator("#save")).to_have_text("Save changes")
    watched.shot("boundary-dragged")
    page.click("#save")
    expect(page.locator("#status")).to_contain_text("Saved", timeout=30_000)
    after = imported.passages("Browser")
    assert [r[0] for r in after] == [r[0] for r in before]  # the same passages, ids kept
    moved_s = (before[0][2] - after[0][2]) / TICKS_PER_SECOND
    assert 0.6 < moved_s < 1.4  # dragged about a second to the left
    assert after[1][1] == after[0][2]  # the shared boundary moved with it
    assert after[2][1:3] == before[2][1:3]
    watched.check()


def test_splitting_a_single_song_from_the_keyboard(watched: Watched, imported: Imported) -> None:
    page = watched.open(imported.ids["Single"])
    assert len(imported.passages("Single")) == 1
    for _ in range(8):  # quick presses, each while the one before is still seeking: none may be lost
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => Math.abs(segmentEditor.ws.getCurrentTime() - 8) < 0.01")
    page.keyboard.press("s")
    expect(page.locator("#passages tbody tr")).to_have_count(2)
    page.keyboard.press("Control+z")
    expect(page.locator("#passages tbody tr")).to_have_count(1)
    page.keyboard.press("Control+Shift+z")
    expect(page.locator("#passages tbody tr")).to_have_count(2)
    watched.shot("split")
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("Saved", timeout=30_000)
    rows = imported.passages("Single")
    assert len(rows) == 2
    assert abs(rows[0][2] / TICKS_PER_SECOND - 8.0) < 0.02 and rows[1][1] == rows[0][2]
    assert rows[0][1] == 0 and rows[1][2] > (0.5 + 2 * SONG_S) * TICKS_PER_SECOND
    watched.check()


def test_choosing_another_release_repairs_the_tracks(watched: Watched, imported: Imported) -> None:
    imported.offer_releases("Album")
    page = watched.open(imported.ids["Album"])
    expect(page.locator("#release-choice")).to_be_visible()
    expect(page.locator("#release-options .release")).to_have_count(2)
    page.get_by_label("Right Album").check()
    expect(page.locator("#passages select").first.locator("option")).to_have_count(4)  # none + 3 tracks
    watched.shot("releases")
    page.click("#use-release")
    expect(page.locator("#status")).to_contain_text("Paired 3 passages with “Right Album”", timeout=30_000)
    expect(page.locator("#passages .recording .title")).to_have_text(
        [f"Right Song {n} — The Editors" for n in (1, 2, 3)]
    )
    right = next(r for r in imported.world.releases.values() if r.title == "Right Album")
    linked = imported.rows(
        "SELECT s.recording_mbid FROM passages p JOIN passage_songs ps ON ps.passage_id = p.guid "
        "JOIN songs s ON s.guid = ps.song_id WHERE p.file_id = ? ORDER BY p.start_time_ticks",
        imported.ids["Album"],
    )
    assert [r[0] for r in linked] == [t.recording.mbid for t in right.media[0].tracks]
    watched.shot("release-chosen")
    watched.check()


def test_unsaved_changes_are_not_lost_by_a_click(watched: Watched, imported: Imported) -> None:
    page = watched.open(imported.ids["Mix"])
    page.locator("#waveform").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("b")  # the nearest boundary (the file's start) to the cursor
    expect(page.locator("#save")).to_have_text("Save changes")
    dialogs: list[str] = []

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.locator("#file-list button.file", has_text="Track 1").filter(has_text="Odd").click()
    assert dialogs and "not saved" in dialogs[0]
    assert page.evaluate("() => segmentEditor.file.id") == imported.ids["Mix"]
    watched.check()


def test_every_control_has_a_name(watched: Watched, imported: Imported) -> None:
    page = watched.open(imported.ids["Mix"])
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, input, select')].filter(e => e.offsetParent !== null)
          .filter(e => !(e.getAttribute('aria-label') || (e.id && document.querySelector(`label[for="${e.id}"]`))
                         || e.closest('label') || e.textContent.trim()))
          .map(e => e.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []
    assert page.locator("[role=toolbar]").count() == 1 and page.locator("[role=status]").count() == 1
    start = page.get_by_label("Start of passage 2, seconds")
    expect(start).to_be_visible()
    watched.check()


REAL_TRACKS = (  # the three real-music tests' tracks: 43 s, 104 s and 144 s, no silence inside
    "singularity-music/usr/share/games/singularity/music/lose/Chimes They Fade.ogg",
    "singularity-music/usr/share/games/singularity/music/win/Apex Aleph.ogg",
    "fretsonfire-songs-sectoid/usr/share/games/fretsonfire/data/songs/sectoid/Metal madness/song.ogg",
)


def test_a_real_album_rip_looks_right(watched: Watched, imported: Imported) -> None:
    from tests.realmusic import CorpusUnavailable, corpus, join_with_silence

    try:
        music = corpus()
    except CorpusUnavailable as exc:
        pytest.skip(f"real music unavailable: {exc}")
    root = imported.server.settings.root_folder
    (root / "Real").mkdir(exist_ok=True)
    starts = join_with_silence([music / t for t in REAL_TRACKS], 2.0, root / "Real/Side A.flac")
    assert imported.reimport("Real")["state"] == "COMPLETED"
    file_id = imported.server.get("/files", params={"q": "Side A"}).json()["files"][0]["id"]
    page = watched.open(file_id)
    passages = [r for r in watched.regions() if r["id"].startswith("p")]
    assert len(passages) == 3
    stored = imported.server.get(f"/files/{file_id}").json()["passages"]
    for region, passage in zip(passages, stored, strict=True):  # the regions are the stored passages
        assert region["start"] == pytest.approx(passage["start_ticks"] / TICKS_PER_SECOND, abs=1e-3)
        assert region["end"] == pytest.approx(passage["end_ticks"] / TICKS_PER_SECOND, abs=1e-3)
    for region, before, start in zip(passages[1:], starts[:-1], starts[1:], strict=True):
        assert before + 30 < region["start"] <= start  # each boundary is in the quiet before its track
    watched.shot("real-album")
    page.locator("#waveform").focus()
    for _ in range(4):
        page.keyboard.press("+")
    watched.shot("real-album-zoomed")
    watched.check()


def test_a_refused_save_lists_the_problems_and_keeps_the_edit(watched: Watched, imported: Imported) -> None:
    page = watched.open(imported.ids["Mix"])
    before = imported.passages("Mix")
    end = page.get_by_label("End of passage 2, seconds")
    start = page.get_by_label("Start of passage 2, seconds")
    start.fill(str(float(end.input_value()) - 1.0))  # a passage of one second: shorter than the minimum
    start.press("Enter")
    expect(page.locator("#passages tbody tr.short")).to_have_count(1)
    page.click("#save")
    expect(page.locator("#problems")).to_be_visible()
    expect(page.locator("#problems")).to_contain_text("passage 2: is shorter than the minimum passage length (5 s)")
    assert imported.passages("Mix") == before  # nothing saved
    expect(page.locator("#save")).to_have_text("Save changes")  # the edit is still there to fix
    watched.shot("refused")
    watched.check(expected=("status of 400 (Bad Request)",))  # the refused PUT itself


def test_the_page_without_a_file(watched: Watched, imported: Imported) -> None:
    page = watched.page
    page.goto(f"{imported.server.url}/segment-editor")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#file-list button.file")).to_have_count(
        len(imported.ids) + (1 if (imported.server.settings.root_folder / "Real").exists() else 0)
    )
    page.select_option("#filter", "multi_passage")
    expect(page.locator("#file-count")).to_contain_text("files")
    assert page.locator("#file-list button.file").count() >= 4
    page.fill("#search", "Odd")
    expect(page.locator("#file-list button.file")).to_have_count(0)  # Odd has one passage: not in this filter
    page.select_option("#filter", "all")
    expect(page.locator("#file-list button.file")).to_have_count(1)
    watched.shot("no-file")
    watched.check()
