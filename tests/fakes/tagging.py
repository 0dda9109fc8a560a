"""The fake library as people really tag it: for identification by a MusicBrainz search.

:func:`build_search_library` keeps the world of :func:`tests.fakes.world.build_library` (originals,
re-releases, deluxe editions, the shared compilation and a "Greatest Hits" decoy per artist) and
re-tags the files the way real folders come:

==  =========================================================================================
0   full MusicBrainz tags naming the re-release (as in build_library)
1   recording MBIDs and the album only (as in build_library)
2   no tags; files named ``track01.flac`` (the folder names artist and album)
3   ARTIST IN CAPITALS, album ``Album 3 (Remastered)``, the re-release's year: the re-release
4   an accented title, a typo in another, a featured artist in a third
5   a partial folder: tracks 1–9 of 12, no track total
6   titles without track numbers; the artist tag reads ``Artist 6 feat. Guest 6``
7   no tags; files named ``NN - Title.flac`` in ``Artist 7/Album 7 (1997)/``
8   album artist, disc 1/1, track total, the original date
9   no tags; files named ``Artist 9 - Album 9 - NN - Title.flac`` in a flat ``Incoming`` folder
==  =========================================================================================

Each album's right release is in ``AlbumSpec.expected_release``; ``tagged`` tells which albums
carry ordinary tags (0, 1, 3, 4, 5, 6, 8) and which are untagged (2, 7, 9).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.fakes.world import AlbumSpec, FileSpec, Library, build_library, mbid

__all__ = ["UNTAGGED", "build_search_library"]

UNTAGGED = frozenset({2, 7, 9})


def _retag(a: int, spec: AlbumSpec) -> tuple[list[FileSpec], Any]:
    files = []
    expected = spec.expected_release
    for t, f in enumerate(spec.files, 1):
        rec = f.recording
        folder = spec.folder
        name = f.rel_path.rsplit("/", 1)[1]
        tags: dict[str, Any] | None = dict(f.tags)
        if a == 3:
            tags = {**tags, "artist": spec.artist.name.upper(), "album": "Album 3 (Remastered)", "date": "2008-06-01"}
        elif a == 4:
            title = {2: "Söng 4-2", 5: "Snog 4-5", 7: "Song 4-7 (feat. Guest 4)"}.get(t, rec.title)
            tags = {**tags, "title": title}
        elif a == 5 and t > 9:
            continue
        elif a == 6:
            tags = {k: v for k, v in tags.items() if k != "track_number"}
            tags["artist"] = "Artist 6 feat. Guest 6"
        elif a == 7:
            tags, folder, name = {}, "Artist 7/Album 7 (1997)", f"{t:02d} - {rec.title}.flac"
        elif a == 8:
            tags = {
                **tags,
                "album_artist": spec.artist.name,
                "disc_number": 1,
                "disc_total": 1,
                "track_total": len(spec.files),
                "date": expected.date,
            }
        elif a == 9:
            tags, folder, name = {}, "Incoming", f"Artist 9 - Album 9 - {t:02d} - {rec.title}.flac"
        files.append(replace(f, rel_path=f"{folder}/{name}", tags=tags))
    return files, folder


def build_search_library(n_albums: int = 10, tracks: int = 12, *, seed: int = 7) -> Library:
    base = build_library(n_albums, tracks, seed=seed)
    albums = []
    for a, spec in enumerate(base.albums):
        files, folder = _retag(a, spec)
        expected = spec.expected_release
        if a == 3:
            expected = base.world.releases[mbid("reissue", a)]
        albums.append(replace(spec, folder=folder, files=files, expected_release=expected))
    return Library(base.world, albums)
