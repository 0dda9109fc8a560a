"""Which release a file is, as the user says (docs/editor.md): the candidate releases with their
track lists, a release chosen and the file's passages (or its whole album folder's) paired with its
tracks, and a recording assigned to one passage.

Track lists come from the MusicBrainz cache, else from MusicBrainz (rate-limited like an import);
what is fetched is cached. The rows a choice becomes are written by the identification writer
(:func:`wkmp_ai.db.identify.write_identification`), so they look exactly like an identification.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from wkmp_ai.config import Settings
from wkmp_ai.db import editor as q
from wkmp_ai.db import identify as identify_queries
from wkmp_ai.db.cachereads import CacheReads
from wkmp_ai.db.candidates import release_candidates as stored_candidates
from wkmp_ai.db.connection import Database
from wkmp_ai.identify.evidence import ReleaseDoc, TrackDoc
from wkmp_ai.identify.matching import PassageWork, map_to_release
from wkmp_ai.identify.musicbrainz import is_mbid
from wkmp_ai.identify.ratelimit import RateLimiter
from wkmp_ai.records.identify import (
    FileTags,
    FileToIdentify,
    PassageToIdentify,
)
from wkmp_ai.services.assign import Assignment, cached_release, identification
from wkmp_ai.services.editor import EditorProblem, file_detail
from wkmp_ai.ticks import TICKS_PER_SECOND

__all__ = ["choose_release", "pair", "reidentify", "release_candidates"]

log = logging.getLogger(__name__)
# The import's rate limiters (ImportService.limiters), so an edit during an import shares its budget.
Limiters = Mapping[str, RateLimiter]


# --- candidates -----------------------------------------------------------------------------


async def _release_doc(
    db: Database, settings: Settings, mbid: str, identifier: Any | None = None, limiters: Limiters | None = None
) -> tuple[ReleaseDoc | None, str | None]:
    """(release, None), or (None, why not) when MusicBrainz cannot give it."""
    with db.read() as conn:
        cached = cached_release(conn, mbid)
    if cached is not None:
        return cached, None
    from wkmp_ai.identify.http import ServiceError
    from wkmp_ai.identify.identifier import Identifier

    ident = identifier or Identifier(settings, CacheReads(db), limiters=limiters)
    try:
        try:
            doc = await ident.release(mbid)
        except ServiceError as exc:
            return None, f"MusicBrainz could not be asked: {exc.detail}"
        writes = ident.drain_cache()
        if writes:
            with db.write() as conn:
                identify_queries.write_cache(conn, writes)
        return (doc, None) if doc is not None else (None, "MusicBrainz does not know this release")
    finally:
        if identifier is None:
            await ident.aclose()


def _tracks(doc: ReleaseDoc) -> list[dict[str, Any]]:
    ordered = sorted(doc.tracks, key=lambda t: (t.medium_position or 99, t.position or 9999))
    return [
        {
            "medium": t.medium_position,
            "position": t.position,
            "number": t.number,
            "title": t.title or t.recording.title,
            "length_s": t.length_s,
            "recording_mbid": t.recording.mbid,
            "artist": t.recording.artist_display,
        }
        for t in ordered
    ]


async def release_candidates(
    db: Database, settings: Settings, file_id: str, *, limiters: Limiters | None = None
) -> dict[str, Any]:
    """The releases this file may be: its current one, then what a search offered, best first."""
    with db.read() as conn:
        if q.file_row(conn, file_id) is None:
            raise EditorProblem(404, "not_found", f"no file {file_id}")
        current = q.current_releases(conn, file_id)
        offered = stored_candidates(conn, file_id)
        stored = q.identify_request(conn, file_id)
        by_hand = q.chosen_by_hand(conn, file_id)
    searched = False
    if not current and not offered and stored is not None and not by_hand:
        # Nothing known yet: identify the file now (its tags and names searched on MusicBrainz);
        # whatever the search considered is kept as candidates, as an import keeps them.
        await reidentify(db, settings, FileToIdentify.from_json(stored[1]))
        searched = True
        with db.read() as conn:
            current = q.current_releases(conn, file_id)
            offered = stored_candidates(conn, file_id)
    entries: dict[str, dict[str, Any]] = {}
    for mbid in current:
        entries[mbid] = {"release_mbid": mbid, "current": True, "source": "identification", "score": None}
    for c in offered:
        entry = entries.setdefault(c["release_mbid"], {"release_mbid": c["release_mbid"], "current": False})
        entry.update(
            {
                "source": entry.get("source") or c["method"],
                "title": c["title"],
                "artist": c["artist"],
                "date": c["release_date"],
                "country": c["country"],
                "track_count": c["track_count"],
                "score": c["score"],
                "checked": c["checked"],
                "chosen": c["chosen"],
            }
        )
    from wkmp_ai.identify.identifier import Identifier

    ident = Identifier(settings, CacheReads(db), limiters=limiters)
    try:
        for mbid, entry in entries.items():
            doc, problem = await _release_doc(db, settings, mbid, ident)
            entry["tracks"] = _tracks(doc) if doc else None
            entry["tracks_problem"] = problem
            if doc is not None:
                entry.setdefault("title", doc.title)
                entry["title"] = entry.get("title") or doc.title
                entry["artist"] = entry.get("artist") or doc.artist_credit
                entry["date"] = entry.get("date") or doc.date
                entry["track_count"] = entry.get("track_count") or doc.track_count
    finally:
        await ident.aclose()
    return {"file_id": file_id, "searched": searched, "releases": list(entries.values())}


# --- choosing a release ---------------------------------------------------------------------


def _works(conn: sqlite3.Connection, file_id: str) -> tuple[FileToIdentify, list[PassageWork]]:
    row = conn.execute("SELECT path, duration FROM files WHERE guid = ?", (file_id,)).fetchone()
    stored = q.identify_request(conn, file_id)
    tracks = [p for p in q.passages_of(conn, file_id) if not p["album_passage"]]
    passages = tuple(
        PassageToIdentify(
            p["id"], None, (p["end_ticks"] - p["start_ticks"]) / TICKS_PER_SECOND, p["start_ticks"], p["end_ticks"]
        )
        for p in tracks
    )
    if stored is not None:
        base = FileToIdentify.from_json(stored[1])
        file = FileToIdentify(file_id, base.rel_path, base.folder, base.tags, passages, base.has_folder_art)
    else:
        path = str(row[0])
        file = FileToIdentify(file_id, path, path.rpartition("/")[0], FileTags(duration_s=row[1]), passages)
    return file, [PassageWork(file=file, passage=p, index=i) for i, p in enumerate(passages)]


def pair(works: Sequence[PassageWork], release: ReleaseDoc) -> list[tuple[PassageWork, TrackDoc]]:
    """Passages paired with the release's tracks: as identification pairs them (tags, titles, order
    where durations fit), then — the user has said this is the release — what is left in order for a
    file with as many passages as tracks, else each single-track file to the free track nearest its length."""
    pairs = [(w, t) for w, t, _method in map_to_release(works, release)]
    placed = {id(w) for w, _ in pairs}
    used = {(t.medium_position, t.position, t.recording.mbid) for _, t in pairs}
    ordered = sorted((t for t in release.tracks if t.position), key=lambda t: (t.medium_position, t.position))
    free = [t for t in ordered if (t.medium_position, t.position, t.recording.mbid) not in used]
    left = [w for w in works if id(w) not in placed]
    by_file: dict[str, list[PassageWork]] = {}
    for w in left:
        by_file.setdefault(w.file.file_id, []).append(w)
    for members in by_file.values():
        if len(members) > 1 and len(members) == len(free):
            pairs += list(zip(sorted(members, key=lambda w: w.index), free, strict=True))
            free = []
            continue
        for w in members:
            if not free:
                break
            track = min(free, key=lambda t: abs((t.length_s or 0) - w.passage.duration_s))
            free.remove(track)
            pairs.append((w, track))
    return pairs


async def choose_release(
    db: Database,
    settings: Settings,
    file_id: str,
    release_mbid: str,
    *,
    whole_folder: bool = False,
    limiters: Limiters | None = None,
) -> dict[str, Any]:
    if not is_mbid(release_mbid):
        raise EditorProblem(400, "invalid_request", f"{release_mbid} is not a MusicBrainz release ID")
    with db.read() as conn:
        if q.file_row(conn, file_id) is None:
            raise EditorProblem(404, "not_found", f"no file {file_id}")
        file_ids = q.folder_file_ids(conn, file_id) if whole_folder else [file_id]
        files = [_works(conn, fid) for fid in file_ids]
    release, problem = await _release_doc(db, settings, release_mbid, limiters=limiters)
    if release is None:
        status = 404 if problem == "MusicBrainz does not know this release" else 503
        raise EditorProblem(status, "release_unavailable", problem or "the release cannot be read")
    works = [w for _file, ws in files for w in ws]
    pairs = pair(works, release)
    report = []
    with db.write() as conn:
        for file, ws in files:
            mine = [(w, t) for w, t in pairs if w.file.file_id == file.file_id]
            if not mine:
                report.append({"file_id": file.file_id, "path": file.rel_path, "paired": 0, "unpaired": len(ws)})
                continue
            result = identification(
                file.file_id,
                file.rel_path,
                [
                    (
                        w.passage.passage_id,
                        w.passage.end_ticks - w.passage.start_ticks,
                        Assignment(t.recording, release, t.title),
                    )
                    for w, t in mine
                ],
                "user-release",
            )
            identify_queries.write_identification(conn, result)
            q.mark_candidate_chosen(conn, file.file_id, release_mbid)
            file_status = "identified" if len(mine) == len(ws) else "partial"
            q.set_identify_status(conn, file.file_id, file_status)
            report.append(
                {"file_id": file.file_id, "path": file.rel_path, "paired": len(mine), "unpaired": len(ws) - len(mine)}
            )
    return {"release_mbid": release_mbid, "title": release.title, "files": report, "file": file_detail(db, file_id)}


async def reidentify(
    db: Database, settings: Settings, request: FileToIdentify, *, limiters: Limiters | None = None
) -> None:
    """Identify passages whose boundaries a person moved (run after the save, in the background);
    whatever cannot be reached leaves them pending for the next import."""
    from wkmp_ai.identify.identifier import Identifier
    from wkmp_ai.ingest.identify import identify_and_write
    from wkmp_ai.ingest.writer import Writer
    from wkmp_ai.records.identify import group_files

    ident = Identifier(settings, CacheReads(db), limiters=limiters)
    writer = Writer(db)
    try:
        await identify_and_write(ident, writer, group_files([request]))
    except Exception:  # a background task: say what went wrong, the passages stay pending
        log.exception("%s: identification after an edit failed", request.rel_path)
    finally:
        await ident.aclose()
        writer.close()
