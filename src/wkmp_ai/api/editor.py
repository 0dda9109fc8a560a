"""The segment editor's API and page (docs/editor.md): thin routes over
:mod:`wkmp_ai.services.editor`, :mod:`wkmp_ai.services.releases` and :mod:`wkmp_ai.services.playback`.
"""

from __future__ import annotations

import asyncio
import logging
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from wkmp_ai.api.services import Services, get_services
from wkmp_ai.services import editor, playback, releases

router = APIRouter(tags=["segment editor"])
_BACKGROUND: set[asyncio.Task[None]] = set()
log = logging.getLogger(__name__)

MAX_TICKS = 604_800 * 28_224_000  # a week
FileId = Annotated[str, Path(pattern=r"^[0-9A-Za-z-]{1,64}$", description="the file's guid")]


class PassageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_ticks: StrictInt = Field(ge=0, le=MAX_TICKS)
    end_ticks: StrictInt = Field(ge=0, le=MAX_TICKS)
    lead_in_start_ticks: StrictInt | None = Field(None, ge=0, le=MAX_TICKS)
    lead_out_start_ticks: StrictInt | None = Field(None, ge=0, le=MAX_TICKS)
    recording_mbid: str | None = Field(None, max_length=36, description="a recording from the release's track list")
    id: str | None = Field(None, pattern=r"^[0-9A-Za-z-]{1,64}$", description="an existing passage, kept")


class PassagesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passages: list[PassageIn] = Field(max_length=2000)


class ReleaseChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    release_mbid: str = Field(max_length=36)
    whole_folder: StrictBool = Field(False, description="also re-pair the other files of the album folder")


@router.get("/files", response_model=None)
def list_files(
    services: Annotated[Services, Depends(get_services)],
    filter: Annotated[Literal[editor.FILTERS], Query(description="which files")] = "all",  # type: ignore[valid-type]
    q: Annotated[str | None, Query(max_length=200, description="text in the path, title, artist or album")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Imported files by path, with their passage count and identification status; filtered and searched."""
    return editor.list_files(services.db, filter, q, offset, limit)


@router.get("/files/{file_id}", response_model=None)
def get_file(file_id: FileId, services: Annotated[Services, Depends(get_services)]) -> dict[str, Any] | JSONResponse:
    """One file with its passages (ticks, lead points, recording, identification, boundary source) and albums."""
    return editor.file_detail(services.db, file_id)


@router.get("/files/{file_id}/peaks", response_model=None)
def get_peaks(file_id: FileId, services: Annotated[Services, Depends(get_services)]) -> dict[str, Any] | JSONResponse:
    """Min/max pairs of the mono mix, ``samples_per_peak`` samples each (about 20 a second)."""
    peaks = editor.peaks_of(services.db, services.settings.root_folder, file_id)
    lows, highs = peaks.minmax()
    body = {
        "duration_s": peaks.duration_s,
        "sample_rate": peaks.sample_rate,
        "samples_per_peak": peaks.samples_per_peak,
        "peaks_per_second": peaks.sample_rate / peaks.samples_per_peak,
        "count": peaks.count,
        "min": lows,
        "max": highs,
    }
    return JSONResponse(body)  # straight to JSON: 170,000 numbers for 70 minutes need no validation pass


@router.get("/files/{file_id}/audio", response_model=None, response_class=FileResponse)
def get_audio(file_id: FileId, services: Annotated[Services, Depends(get_services)]) -> FileResponse | JSONResponse:
    """The audio for the browser's player; answers ``Range`` requests with 206."""
    path, media_type = playback.playable(services.db, services.settings.root_folder, file_id)
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})


@router.put("/files/{file_id}/passages", response_model=None)
async def put_passages(
    file_id: FileId, body: PassagesIn, services: Annotated[Services, Depends(get_services)]
) -> dict[str, Any] | JSONResponse:
    """Replace the file's passages in one transaction: 400 with one message per problem and nothing saved;
    kept passages keep their ids and links; moved and new ones are measured and identified again."""
    edits = [editor.PassageEdit(**p.model_dump()) for p in body.passages]
    result = await asyncio.to_thread(editor.replace_passages, services.db, services.settings, file_id, edits)
    request = result["reidentify"]
    if request is not None:  # identified in the background; the file shows 'pending' until then
        task = asyncio.create_task(
            releases.reidentify(services.db, services.settings, request, limiters=services.imports.limiters)
        )
        _BACKGROUND.add(task)  # kept until done: the event loop holds only weak references
        task.add_done_callback(_BACKGROUND.discard)
    detail: dict[str, Any] = result["file"]
    return detail


@router.get("/files/{file_id}/releases", response_model=None)
async def get_releases(
    file_id: FileId, services: Annotated[Services, Depends(get_services)]
) -> dict[str, Any] | JSONResponse:
    """Candidate releases with their track lists (cache, else MusicBrainz); a file nothing is known of is searched."""
    return await releases.release_candidates(
        services.db, services.settings, file_id, limiters=services.imports.limiters
    )


@router.post("/files/{file_id}/release", response_model=None)
async def post_release(
    file_id: FileId, body: ReleaseChoice, services: Annotated[Services, Depends(get_services)]
) -> dict[str, Any] | JSONResponse:
    """Pair the file's passages (or its album folder's) with the tracks of the release the user chose."""
    return await releases.choose_release(
        services.db,
        services.settings,
        file_id,
        body.release_mbid,
        whole_folder=body.whole_folder,
        limiters=services.imports.limiters,
    )


@router.get("/segment-editor", include_in_schema=False)
def segment_editor_page() -> HTMLResponse:
    page = resources.files("wkmp_ai.web").joinpath("segment-editor.html").read_text(encoding="utf-8")
    return HTMLResponse(
        page,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            # wavesurfer.js styles its shadow DOM with a <style> element and style attributes
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'",
        },
    )
