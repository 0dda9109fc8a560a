"""SQL of identification: the service caches, identification state, and the rows a result becomes.

Every function takes a connection; the writers expect to run inside the caller's transaction
(``Database.write()``) and are idempotent, so a group written twice leaves the same rows
(docs/identify.md, *What a result becomes*).

Cache keys: ``wkmp_ai_acoustid_results.lookup_key`` (and ``acoustid_cache.fingerprint``) is the
SHA-256 of ``"<duration>:<fingerprint>"``; ``musicbrainz_cache.mbid`` is the entity's MBID;
``acousticbrainz_cache.recording_mbid``; ``wkmp_ai_coverart_cache.release_mbid``;
``wkmp_ai_search_cache.query`` (``"<entity>:<limit>:<Lucene query>"``). Negative answers
live in ``wkmp_ai_service_misses`` (404s) or as ``'[]'`` results (AcoustID no-match), because the
shared tables cannot hold them.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from wkmp_ai.db.candidates import write_candidates
from wkmp_ai.records.identify import (
    AlbumIdentification,
    ArtImage,
    CacheWrites,
    FileToIdentify,
    PassageIdentification,
    PassageStatus,
    RecordingInfo,
    ReleaseInfo,
)

__all__ = [
    "cached_musicbrainz",
    "get_acousticbrainz",
    "get_acoustid",
    "get_coverart",
    "get_miss",
    "get_musicbrainz",
    "get_search",
    "load_flavor_pending",
    "load_pending",
    "save_pending",
    "write_cache",
    "write_flavors",
    "write_identification",
]


def _fresh(max_age_s: float | None) -> tuple[str, tuple[Any, ...]]:
    if max_age_s is None:
        return "", ()
    return " AND cached_at > datetime('now', ?)", (f"-{int(max_age_s)} seconds",)


# --- cache reads --------------------------------------------------------------------------------


def get_acoustid(conn: sqlite3.Connection, key: str, *, nomatch_max_age_s: float | None) -> str | None:
    """Compact results JSON for a lookup key ('[]' = a no-match younger than the limit), else None."""
    row = conn.execute(
        "SELECT results, cached_at FROM wkmp_ai_acoustid_results WHERE lookup_key = ?", (key,)
    ).fetchone()
    if row is not None:
        if row[0] != "[]" or nomatch_max_age_s is None:
            return str(row[0])
        clause, args = _fresh(nomatch_max_age_s)
        fresh = conn.execute(f"SELECT 1 FROM wkmp_ai_acoustid_results WHERE lookup_key = ?{clause}", (key, *args))
        return "[]" if fresh.fetchone() else None
    # A row of the shared table alone (no evidence kept): the best recording and its score.
    shared = conn.execute("SELECT recording_mbid, confidence FROM acoustid_cache WHERE fingerprint = ?", (key,))
    best = shared.fetchone()
    if best is None:
        return None
    return json.dumps([{"id": best[0], "score": best[1] if best[1] is not None else 1.0, "releases": []}])


def get_musicbrainz(conn: sqlite3.Connection, mbid: str) -> tuple[str, str] | None:
    row = conn.execute("SELECT entity_type, metadata FROM musicbrainz_cache WHERE mbid = ?", (mbid,)).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def cached_musicbrainz(conn: sqlite3.Connection, mbids: Sequence[str], entity_type: str) -> set[str]:
    """Which of ``mbids`` have a cached document of this type (one query per 500)."""
    found: set[str] = set()
    for start in range(0, len(mbids), 500):
        chunk = mbids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT mbid FROM musicbrainz_cache WHERE entity_type = ? AND mbid IN ({marks})", (entity_type, *chunk)
        )
        found.update(str(row[0]) for row in rows)
    return found


def get_acousticbrainz(conn: sqlite3.Connection, recording_mbid: str) -> str | None:
    row = conn.execute(
        "SELECT high_level_data FROM acousticbrainz_cache WHERE recording_mbid = ?", (recording_mbid,)
    ).fetchone()
    return None if row is None else str(row[0])


def get_coverart(conn: sqlite3.Connection, release_mbid: str) -> str | None:
    row = conn.execute("SELECT images FROM wkmp_ai_coverart_cache WHERE release_mbid = ?", (release_mbid,)).fetchone()
    return None if row is None else str(row[0])


def get_miss(conn: sqlite3.Connection, service: str, key: str, *, max_age_s: float | None) -> bool:
    clause, args = _fresh(max_age_s)
    row = conn.execute(
        f"SELECT 1 FROM wkmp_ai_service_misses WHERE service = ? AND key = ?{clause}", (service, key, *args)
    ).fetchone()
    return row is not None


def get_search(
    conn: sqlite3.Connection, key: str, *, max_age_s: float | None, empty_max_age_s: float | None
) -> str | None:
    """Cached results JSON of a search ('[]' when it found nothing), unless older than the limit."""
    row = conn.execute("SELECT results FROM wkmp_ai_search_cache WHERE query = ?", (key,)).fetchone()
    if row is None:
        return None
    clause, args = _fresh(empty_max_age_s if row[0] == "[]" else max_age_s)
    if (
        clause
        and conn.execute(f"SELECT 1 FROM wkmp_ai_search_cache WHERE query = ?{clause}", (key, *args)).fetchone() is None
    ):
        return None
    return str(row[0])


# --- cache writes -------------------------------------------------------------------------------


def write_cache(conn: sqlite3.Connection, writes: CacheWrites) -> None:
    """Upsert every cached answer; each upsert refreshes ``cached_at``."""
    for key, results in writes.acoustid.items():
        conn.execute(
            "INSERT INTO wkmp_ai_acoustid_results(lookup_key, results) VALUES (?, ?) "
            "ON CONFLICT(lookup_key) DO UPDATE SET results = excluded.results, cached_at = CURRENT_TIMESTAMP",
            (key, results),
        )
        best = json.loads(results)
        if best:
            conn.execute(
                "INSERT INTO acoustid_cache(fingerprint, recording_mbid, confidence) VALUES (?, ?, ?) "
                "ON CONFLICT(fingerprint) DO UPDATE SET recording_mbid = excluded.recording_mbid, "
                "confidence = excluded.confidence, cached_at = CURRENT_TIMESTAMP",
                (key, best[0]["id"], best[0]["score"]),
            )
    for mbid, (entity_type, metadata) in writes.musicbrainz.items():
        conn.execute(
            "INSERT INTO musicbrainz_cache(mbid, entity_type, metadata) VALUES (?, ?, ?) "
            "ON CONFLICT(mbid) DO UPDATE SET entity_type = excluded.entity_type, metadata = excluded.metadata, "
            "cached_at = CURRENT_TIMESTAMP",
            (mbid, entity_type, metadata),
        )
    for mbid, data in writes.acousticbrainz.items():
        conn.execute(
            "INSERT INTO acousticbrainz_cache(recording_mbid, high_level_data) VALUES (?, ?) "
            "ON CONFLICT(recording_mbid) DO UPDATE SET high_level_data = excluded.high_level_data, "
            "cached_at = CURRENT_TIMESTAMP",
            (mbid, data),
        )
    for release, images in writes.coverart.items():
        conn.execute(
            "INSERT INTO wkmp_ai_coverart_cache(release_mbid, images) VALUES (?, ?) "
            "ON CONFLICT(release_mbid) DO UPDATE SET images = excluded.images, cached_at = CURRENT_TIMESTAMP",
            (release, images),
        )
    for key, results in writes.search.items():
        conn.execute(
            "INSERT INTO wkmp_ai_search_cache(query, results) VALUES (?, ?) "
            "ON CONFLICT(query) DO UPDATE SET results = excluded.results, cached_at = CURRENT_TIMESTAMP",
            (key, results),
        )
    for (service, key), detail in writes.misses.items():
        conn.execute(
            "INSERT INTO wkmp_ai_service_misses(service, key, detail) VALUES (?, ?, ?) "
            "ON CONFLICT(service, key) DO UPDATE SET detail = excluded.detail, cached_at = CURRENT_TIMESTAMP",
            (service, key, detail),
        )


# --- identification state -----------------------------------------------------------------------


def save_pending(conn: sqlite3.Connection, file: FileToIdentify, group_key: str) -> None:
    """Record a file handed to identification, with its passages pending (call with its passages' rows)."""
    conn.execute(
        "INSERT INTO wkmp_ai_identify_files(file_id, group_key, request, status) VALUES (?, ?, ?, 'pending') "
        "ON CONFLICT(file_id) DO UPDATE SET group_key = excluded.group_key, request = excluded.request, "
        "status = 'pending', updated_at = CURRENT_TIMESTAMP",
        (file.file_id, group_key, file.to_json()),
    )
    for p in file.passages:
        conn.execute(
            "INSERT INTO wkmp_ai_identify_passages(passage_id, file_id, status) VALUES (?, ?, 'pending') "
            "ON CONFLICT(passage_id) DO UPDATE SET status = 'pending', updated_at = CURRENT_TIMESTAMP",
            (p.passage_id, file.file_id),
        )


def load_pending(conn: sqlite3.Connection, *, limit: int | None = None) -> list[tuple[str, FileToIdentify]]:
    """(group key, request) of every pending file whose file row still exists; passages that no
    longer exist are left out of the request."""
    rows = conn.execute(
        "SELECT s.group_key, s.request FROM wkmp_ai_identify_files s JOIN files ON files.guid = s.file_id "
        "WHERE s.status = 'pending' ORDER BY s.group_key, s.file_id" + (" LIMIT ?" if limit else ""),
        (limit,) if limit else (),
    ).fetchall()
    out = []
    for group_key, request in rows:
        file = FileToIdentify.from_json(request)
        ids = [p.passage_id for p in file.passages]
        marks = ",".join("?" * len(ids))
        alive = (
            {r[0] for r in conn.execute(f"SELECT guid FROM passages WHERE guid IN ({marks})", ids)} if ids else set()
        )
        kept = tuple(p for p in file.passages if p.passage_id in alive)
        if kept:
            out.append((str(group_key), replace(file, passages=kept)))
    return out


def load_flavor_pending(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(passage id, file rel path, recording mbid) of identified passages still waiting for AcousticBrainz."""
    rows = conn.execute(
        "SELECT s.passage_id, files.path, s.recording_mbid FROM wkmp_ai_identify_passages s "
        "JOIN passages ON passages.guid = s.passage_id JOIN files ON files.guid = s.file_id "
        "WHERE s.flavor_pending = 1 AND s.status = 'identified' AND s.recording_mbid IS NOT NULL"
    ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


# --- the rows a result becomes ------------------------------------------------------------------


def _upsert_artist(conn: sqlite3.Connection, mbid: str, name: str) -> str:
    conn.execute(
        "INSERT INTO artists(guid, artist_mbid, name) VALUES (?, ?, ?) "
        "ON CONFLICT(artist_mbid) DO UPDATE SET name = excluded.name WHERE name IS NOT excluded.name",
        (str(uuid.uuid4()), mbid, name or mbid),
    )
    return str(conn.execute("SELECT guid FROM artists WHERE artist_mbid = ?", (mbid,)).fetchone()[0])


def _upsert_work(conn: sqlite3.Connection, mbid: str, title: str) -> str:
    conn.execute(
        "INSERT INTO works(guid, work_mbid, title) VALUES (?, ?, ?) "
        "ON CONFLICT(work_mbid) DO UPDATE SET title = excluded.title WHERE title IS NOT excluded.title",
        (str(uuid.uuid4()), mbid, title or mbid),
    )
    return str(conn.execute("SELECT guid FROM works WHERE work_mbid = ?", (mbid,)).fetchone()[0])


def _upsert_album(conn: sqlite3.Connection, release: ReleaseInfo) -> str:
    conn.execute(
        "INSERT INTO albums(guid, album_mbid, title, release_date) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(album_mbid) DO UPDATE SET title = excluded.title, release_date = excluded.release_date "
        "WHERE title IS NOT excluded.title OR release_date IS NOT excluded.release_date",
        (str(uuid.uuid4()), release.mbid, release.title or release.mbid, release.date),
    )
    return str(conn.execute("SELECT guid FROM albums WHERE album_mbid = ?", (release.mbid,)).fetchone()[0])


def _upsert_song(conn: sqlite3.Connection, recording: RecordingInfo) -> str:
    """The song of this recording and artist set (docs/design.md, *Database*), created when missing."""
    artist_ids = [_upsert_artist(conn, a.mbid, a.name) for a in recording.artists]
    wanted = set(artist_ids)
    song_id = None
    for (candidate,) in conn.execute(
        "SELECT guid FROM songs WHERE recording_mbid = ? ORDER BY created_at, guid", (recording.mbid,)
    ).fetchall():
        have = {r[0] for r in conn.execute("SELECT artist_id FROM song_artists WHERE song_id = ?", (candidate,))}
        if have == wanted:
            song_id = str(candidate)
            break
    if song_id is None:
        song_id = str(uuid.uuid4())
        conn.execute("INSERT INTO songs(guid, recording_mbid) VALUES (?, ?)", (song_id, recording.mbid))
        weight = 1.0 / len(artist_ids) if artist_ids else 1.0
        conn.executemany(
            "INSERT OR IGNORE INTO song_artists(song_id, artist_id, weight) VALUES (?, ?, ?)",
            [(song_id, a, weight) for a in artist_ids],
        )
    work_ids = [_upsert_work(conn, w.mbid, w.title) for w in recording.works]
    conn.executemany(
        "INSERT OR IGNORE INTO song_works(song_id, work_id) VALUES (?, ?)", [(song_id, w) for w in work_ids]
    )
    if work_ids:
        conn.execute("UPDATE songs SET work_id = ? WHERE guid = ? AND work_id IS NULL", (work_ids[0], song_id))
        _update_related(conn, song_id)
    return song_id


def _update_related(conn: sqlite3.Connection, song_id: str) -> None:
    """related_songs: other songs of the same work(s), most shared works first; kept symmetric."""
    rows = conn.execute(
        "SELECT b.song_id, COUNT(*) AS shared FROM song_works a JOIN song_works b "
        "ON a.work_id = b.work_id AND b.song_id != a.song_id WHERE a.song_id = ? "
        "GROUP BY b.song_id ORDER BY shared DESC, b.song_id",
        (song_id,),
    ).fetchall()
    related = [str(r[0]) for r in rows]
    _set_related(conn, song_id, related)
    for other in related:
        current = _get_related(conn, other)
        if song_id not in current:
            _set_related(conn, other, [*current, song_id])


def _get_related(conn: sqlite3.Connection, song_id: str) -> list[str]:
    row = conn.execute("SELECT related_songs FROM songs WHERE guid = ?", (song_id,)).fetchone()
    try:
        value = json.loads(row[0]) if row and row[0] else []
    except ValueError:
        value = []
    return [str(v) for v in value] if isinstance(value, list) else []


def _set_related(conn: sqlite3.Connection, song_id: str, related: list[str]) -> None:
    text = json.dumps(related) if related else None
    conn.execute("UPDATE songs SET related_songs = ? WHERE guid = ? AND related_songs IS NOT ?", (text, song_id, text))


def _set_flavor(conn: sqlite3.Connection, passage_id: str, vector: Any, recording_mbid: str | None) -> None:
    """The AcousticBrainz vector replaces the local one; import_metadata records where it came from."""
    conn.execute(
        "UPDATE passages SET musical_flavor_vector = ?, import_metadata = json_set("
        "CASE WHEN json_valid(import_metadata) THEN import_metadata ELSE '{}' END, "
        "'$.flavor.source', 'acousticbrainz', '$.flavor.recording_mbid', ?) WHERE guid = ?",
        (json.dumps(vector, sort_keys=True, separators=(",", ":")), recording_mbid, passage_id),
    )


def _write_passage(conn: sqlite3.Connection, p: PassageIdentification, album_ids: dict[str, str]) -> None:
    if p.status is PassageStatus.IDENTIFIED and p.recording is not None:
        song_id = _upsert_song(conn, p.recording)
        conn.execute("DELETE FROM passage_songs WHERE passage_id = ? AND song_id != ?", (p.passage_id, song_id))
        conn.execute(
            "INSERT INTO passage_songs(passage_id, song_id, start_time_ticks, end_time_ticks) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(passage_id, song_id) DO UPDATE SET start_time_ticks = excluded.start_time_ticks, "
            "end_time_ticks = excluded.end_time_ticks",
            (p.passage_id, song_id, p.start_ticks, p.end_ticks),
        )
        album_id = album_ids.get(p.release_mbid or "")
        conn.execute("DELETE FROM passage_albums WHERE passage_id = ? AND album_id IS NOT ?", (p.passage_id, album_id))
        if album_id is not None:
            conn.execute(
                "INSERT OR IGNORE INTO passage_albums(passage_id, album_id) VALUES (?, ?)", (p.passage_id, album_id)
            )
        for column, value in (("title", p.fill_title), ("artist", p.fill_artist), ("album", p.fill_album)):
            if value:
                conn.execute(
                    f"UPDATE passages SET {column} = ? WHERE guid = ? AND {column} IS NOT ?",
                    (value, p.passage_id, value),
                )
    if p.flavor is not None:
        _set_flavor(conn, p.passage_id, p.flavor, p.recording.mbid if p.recording else None)
    conn.execute(
        "INSERT INTO wkmp_ai_identify_passages(passage_id, file_id, status, recording_mbid, release_mbid, method, "
        "score, flavor_source, flavor_pending, detail) VALUES (?, ?, ?, ?, ?, ?, ?, "
        "CASE WHEN ? = 'essentia' AND (SELECT musical_flavor_vector FROM passages WHERE guid = ?) IS NULL "
        "THEN NULL ELSE ? END, ?, ?) "
        "ON CONFLICT(passage_id) DO UPDATE SET status = excluded.status, recording_mbid = excluded.recording_mbid, "
        "release_mbid = excluded.release_mbid, method = excluded.method, score = excluded.score, "
        "flavor_source = excluded.flavor_source, flavor_pending = excluded.flavor_pending, "
        "detail = excluded.detail, updated_at = CURRENT_TIMESTAMP",
        (
            p.passage_id,
            p.file_id,
            p.status.value,
            p.recording.mbid if p.recording else None,
            p.release_mbid if p.release_mbid in album_ids else None,
            p.method,
            p.score,
            p.flavor_source,
            p.passage_id,
            p.flavor_source,
            int(p.flavor_pending),
            p.detail,
        ),
    )


def _write_image(conn: sqlite3.Connection, art: ArtImage, album_id: str) -> None:
    row = conn.execute(
        "SELECT guid FROM images WHERE entity_id = ? AND image_type = ? AND file_path = ?",
        (album_id, art.image_type, art.rel_path),
    ).fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO images(guid, file_path, image_type, entity_id, priority, width, height) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), art.rel_path, art.image_type, album_id, art.priority, art.width, art.height),
        )
    else:
        conn.execute(
            "UPDATE images SET width = ?, height = ? WHERE guid = ? AND (width IS NOT ? OR height IS NOT ?)",
            (art.width, art.height, row[0], art.width, art.height),
        )


def _file_status(statuses: Iterable[PassageStatus]) -> str:
    values = set(statuses)
    if not values or PassageStatus.PENDING in values:
        return "pending"
    if values == {PassageStatus.IDENTIFIED}:
        return "identified"
    return "partial" if PassageStatus.IDENTIFIED in values else "no_match"


def write_identification(conn: sqlite3.Connection, result: AlbumIdentification) -> None:
    """All rows of one identified album group, idempotently, inside the caller's transaction.

    Passages deleted since the group was handed over are skipped (their files' rows are gone).
    """
    write_cache(conn, result.cache)
    ids = [p.passage_id for p in result.passages]
    marks = ",".join("?" * len(ids))
    alive = {r[0] for r in conn.execute(f"SELECT guid FROM passages WHERE guid IN ({marks})", ids)} if ids else set()
    passages = [p for p in result.passages if p.passage_id in alive]
    used = {p.release_mbid for p in passages if p.status is PassageStatus.IDENTIFIED and p.release_mbid}
    album_ids = {r.mbid: _upsert_album(conn, r) for r in result.releases if r.mbid in used}
    for p in passages:
        _write_passage(conn, p, album_ids)
    for art in result.art:
        if art.album_mbid in album_ids:
            _write_image(conn, art, album_ids[art.album_mbid])
    alive_files = {p.file_id for p in passages}
    for candidates in result.candidates:
        if candidates.file_id in alive_files:
            write_candidates(conn, candidates)
    by_file: dict[str, list[PassageStatus]] = {}
    for p in passages:
        by_file.setdefault(p.file_id, []).append(p.status)
    for file in result.files:
        if file.file_id not in by_file:
            continue
        status = _file_status(by_file[file.file_id])
        request = file if status != "identified" else _without_fingerprints(file)
        conn.execute(
            "INSERT INTO wkmp_ai_identify_files(file_id, group_key, request, status, attempts, last_attempt_at) "
            "VALUES (?, ?, ?, ?, 1, CURRENT_TIMESTAMP) ON CONFLICT(file_id) DO UPDATE SET "
            "group_key = excluded.group_key, request = excluded.request, status = excluded.status, "
            "attempts = attempts + 1, last_attempt_at = CURRENT_TIMESTAMP, updated_at = CURRENT_TIMESTAMP",
            (file.file_id, result.group_key, request.to_json(), status),
        )


def _without_fingerprints(file: FileToIdentify) -> FileToIdentify:
    return replace(file, passages=tuple(replace(p, fingerprint=None) for p in file.passages))


def write_flavors(conn: sqlite3.Connection, updates: Iterable[tuple[str, str, Any]]) -> None:
    """Apply a flavor refresh — (passage id, recording MBID, vector or None when AcousticBrainz has
    none) — to passages identified while AcousticBrainz could not be asked."""
    for passage_id, recording_mbid, vector in updates:
        if vector is not None:
            _set_flavor(conn, passage_id, vector, recording_mbid)
        conn.execute(
            "UPDATE wkmp_ai_identify_passages SET flavor_pending = 0, flavor_source = CASE "
            "WHEN ? IS NOT NULL THEN 'acousticbrainz' "
            "WHEN (SELECT musical_flavor_vector FROM passages WHERE guid = ?) IS NOT NULL THEN 'essentia' "
            "END, updated_at = CURRENT_TIMESTAMP WHERE passage_id = ?",
            (1 if vector is not None else None, passage_id, passage_id),
        )
