"""Write a fake library into a real ``wkmp.db`` the way the import would have, before identification.

For every file: a ``files`` row and one ``passages`` row (start 0, end = duration; title, artist
and album from the tags or their fallbacks; a local flavor vector as the analysis would have
written; import_metadata), plus the identification request via ``save_pending`` in the same
transaction. Returns the :class:`FileToIdentify` records, the import's hand-over.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath

from tests.fakes.world import FileSpec, Library
from wkmp_ai.db import Database
from wkmp_ai.db.identify import save_pending
from wkmp_ai.records.identify import FileTags, FileToIdentify, PassageToIdentify, group_key
from wkmp_ai.ticks import seconds_to_ticks

__all__ = ["LOCAL_FLAVOR", "Seeded", "linked", "seed_files", "seed_library"]

# What the local analysis (Essentia) would store: only honestly derivable characteristics.
LOCAL_FLAVOR = {"tonal_atonal": {"atonal": 0.2, "tonal": 0.8}}


@dataclass
class Seeded:
    files: list[FileToIdentify]
    spec_by_file: dict[str, FileSpec]


def _tags(spec: FileSpec) -> FileTags:
    known = FileTags.__dataclass_fields__
    values = {k: v for k, v in spec.tags.items() if k in known}
    return FileTags(duration_s=spec.duration_s, **values)


def seed_files(db: Database, specs: list[tuple[FileSpec, bool]], *, fingerprints: bool = True) -> Seeded:
    """(spec, has_folder_art) pairs → rows and requests."""
    files = []
    by_file = {}
    with db.write() as conn:
        for spec, has_art in specs:
            file_id = str(uuid.uuid4())
            passage_id = str(uuid.uuid4())
            end = seconds_to_ticks(spec.duration_s)
            conn.execute(
                "INSERT INTO files(guid, path, hash, duration, modification_time) "
                "VALUES (?, ?, ?, ?, '2025-01-01 00:00:00')",
                (file_id, spec.rel_path, hashlib.sha256(spec.rel_path.encode()).hexdigest(), spec.duration_s),
            )
            stem = PurePosixPath(spec.rel_path).stem
            conn.execute(
                "INSERT INTO passages(guid, file_id, start_time_ticks, end_time_ticks, title, artist, album, "
                "musical_flavor_vector, import_metadata) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?)",
                (
                    passage_id,
                    file_id,
                    end,
                    spec.tags.get("title") or stem,
                    spec.tags.get("artist") or "Unknown Artist",
                    spec.tags.get("album") or "Unknown Album",
                    json.dumps(LOCAL_FLAVOR),
                    json.dumps({"flavor": {"source": "essentia", "bpm": 120.0}}),
                ),
            )
            folder = str(PurePosixPath(spec.rel_path).parent)
            request = FileToIdentify(
                file_id=file_id,
                rel_path=spec.rel_path,
                folder="" if folder == "." else folder,
                tags=_tags(spec),
                passages=(
                    PassageToIdentify(
                        passage_id=passage_id,
                        fingerprint=spec.recording.fingerprint if fingerprints else None,
                        duration_s=spec.duration_s,
                        start_ticks=0,
                        end_ticks=end,
                    ),
                ),
                has_folder_art=has_art,
            )
            save_pending(conn, request, group_key(request.folder, request.tags.album))
            files.append(request)
            by_file[file_id] = spec
    return Seeded(files, by_file)


def seed_library(db: Database, library: Library) -> Seeded:
    return seed_files(db, [(f, album.has_folder_art) for album in library.albums for f in album.files])


def linked(db: Database) -> dict[str, tuple[str, str]]:
    """What identification wrote: file path → (recording MBID, release MBID) from the shared tables."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT f.path, s.recording_mbid, a.album_mbid FROM passages p JOIN files f ON f.guid = p.file_id "
            "JOIN passage_songs ps ON ps.passage_id = p.guid JOIN songs s ON s.guid = ps.song_id "
            "JOIN passage_albums pa ON pa.passage_id = p.guid JOIN albums a ON a.guid = pa.album_id"
        ).fetchall()
    return {path: (rec, album) for path, rec, album in rows}
