"""Recordings a person assigns to passages in the segment editor, written as identification writes
them (:func:`wkmp_ai.db.identify.write_identification`), so a choice looks exactly like an
identification with method ``user`` (one recording) or ``user-release`` (a whole release).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wkmp_ai.db import editor as q
from wkmp_ai.db import identify as identify_queries
from wkmp_ai.identify.evidence import ReleaseDoc
from wkmp_ai.identify.musicbrainz import parse_recording, parse_release
from wkmp_ai.records.identify import AlbumIdentification, PassageIdentification, PassageStatus, RecordingInfo

__all__ = ["Assignment", "assignments", "cached_release", "identification", "write_assignments"]


def cached_release(conn: sqlite3.Connection, mbid: str) -> ReleaseDoc | None:
    cached = identify_queries.get_musicbrainz(conn, mbid)
    if cached is None or cached[0] != "release":
        return None
    doc = json.loads(cached[1])
    return parse_release(doc, doc.get("wkmp-browsed") or ())


@dataclass(frozen=True)
class Assignment:
    recording: RecordingInfo
    release: ReleaseDoc | None
    title: str | None  # the track's title on that release


def assignments(conn: sqlite3.Connection, wanted: Mapping[int, str]) -> dict[int, Assignment]:
    """Recordings the user picked (key → MBID) that the caches know, with the release they were picked from."""
    out: dict[int, Assignment] = {}
    for key, mbid in wanted.items():
        cached = identify_queries.get_musicbrainz(conn, mbid)
        if cached is None or cached[0] != "recording":
            continue
        doc = json.loads(cached[1])
        release = None
        for rel in doc.get("releases") or ():
            release = cached_release(conn, str(rel.get("id")))
            if release is not None:
                break
        track = next((t for t in release.tracks if t.recording.mbid == mbid), None) if release else None
        out[key] = Assignment(parse_recording(doc), release, track.title if track else None)
    return out


def identification(
    file_id: str, rel_path: str, pairs: Sequence[tuple[str, int, Assignment]], method: str
) -> AlbumIdentification:
    """The rows of a user's choice, as identification writes them: (passage id, length in ticks, what)."""
    passages = []
    releases = {}
    for passage_id, length, a in pairs:
        if a.release is not None:
            releases[a.release.mbid] = a.release.info()
        passages.append(
            PassageIdentification(
                passage_id=passage_id,
                file_id=file_id,
                rel_path=rel_path,
                status=PassageStatus.IDENTIFIED,
                start_ticks=0,
                end_ticks=length,
                recording=a.recording,
                release_mbid=a.release.mbid if a.release else None,
                method=method,
                score=1.0,
                fill_title=a.title or a.recording.title or None,
                fill_artist=a.recording.artist_display or None,
                fill_album=a.release.title if a.release else None,
                detail="chosen in the segment editor",
            )
        )
    return AlbumIdentification(group_key="", files=(), passages=tuple(passages), releases=tuple(releases.values()))


def write_assignments(
    conn: sqlite3.Connection,
    file_id: str,
    rel_path: str,
    chosen: Mapping[str, Assignment],
    writes: Sequence[q.PassageWrite],
    ids: Sequence[str],
) -> None:
    """Write recordings the user assigned to passages (passage id → assignment), in the caller's transaction."""
    if not chosen:
        return
    lengths = {pid: w.end_ticks - w.start_ticks for pid, w in zip(ids, writes, strict=True)}
    pairs = [(pid, lengths[pid], a) for pid, a in chosen.items()]
    identify_queries.write_identification(conn, identification(file_id, rel_path, pairs, "user"))
