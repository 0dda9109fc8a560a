"""A small, deterministic MusicBrainz world for the fake services, and a library built on it.

The world holds artists, works, recordings (each with a fingerprint the fake AcoustID knows and,
mostly, AcousticBrainz high-level data) and releases. :func:`build_library` makes albums the way
real catalogues look, so that release choice has something to get wrong:

- the **original** release (12 tracks, the earliest date),
- a **re-release** with the same tracks (later date, another country),
- a **deluxe** edition with three bonus tracks, one a live recording of track 1's work,
- a **compilation** shared by all albums with tracks 1 and 2 of each,
- a **decoy** per artist: "Album N: The Greatest Hits", a compilation by the same artist with as
  many tracks, the first eight being the album's own recordings in the album's order (what a
  search by tags could mistake for the album).

Every album's expected release (the truth the tests check) is in :class:`AlbumSpec`.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AlbumSpec", "Artist", "FileSpec", "Library", "Recording", "Release", "World", "build_library", "mbid"]


def mbid(*parts: object) -> str:
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()
    return str(uuid.UUID(hex=digest[:32], version=4))


def fake_fingerprint(*parts: object, length: int = 600) -> str:
    """A Chromaprint-looking string (base64url, starting AQAD), unique per ``parts``."""
    seed = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    raw = b""
    while len(raw) * 4 // 3 < length:
        seed = hashlib.sha256(seed).digest()
        raw += seed
    return "AQAD" + base64.urlsafe_b64encode(raw).decode().rstrip("=")[: length - 4]


@dataclass
class Artist:
    mbid: str
    name: str
    sort_name: str


@dataclass
class Work:
    mbid: str
    title: str
    composer: Artist | None = None


@dataclass
class Recording:
    mbid: str
    title: str
    length_ms: int
    artists: list[Artist]
    works: list[Work]
    fingerprint: str
    acoustid_track: str
    score: float = 0.95
    highlevel: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class Track:
    mbid: str
    position: int
    title: str
    length_ms: int
    recording: Recording


@dataclass
class Medium:
    position: int
    format: str
    tracks: list[Track]
    disc_ids: list[str] = field(default_factory=list)  # MusicBrainz Disc IDs attached to this medium


@dataclass
class Release:
    mbid: str
    title: str
    date: str
    country: str
    artists: list[Artist]
    rg_mbid: str
    rg_title: str
    media: list[Medium]
    status: str = "Official"
    front: bool = True
    back: bool = True
    tags: list[str] = field(default_factory=list)
    primary_type: str = "Album"
    secondary_types: list[str] = field(default_factory=list)

    @property
    def track_count(self) -> int:
        return sum(len(m.tracks) for m in self.media)

    @property
    def artwork(self) -> bool:
        return self.front or self.back


class World:
    def __init__(self) -> None:
        self.artists: dict[str, Artist] = {}
        self.works: dict[str, Work] = {}
        self.recordings: dict[str, Recording] = {}
        self.releases: dict[str, Release] = {}
        self.by_fingerprint: dict[str, Recording] = {}

    def add_recording(self, rec: Recording) -> Recording:
        self.recordings[rec.mbid] = rec
        self.by_fingerprint[rec.fingerprint] = rec
        for a in rec.artists:
            self.artists[a.mbid] = a
        for w in rec.works:
            self.works[w.mbid] = w
        return rec

    def add_release(self, rel: Release) -> Release:
        self.releases[rel.mbid] = rel
        for a in rel.artists:
            self.artists[a.mbid] = a
        return rel

    def appearances(self, rec: Recording) -> list[tuple[Release, Medium, Track]]:
        out = []
        for rel in self.releases.values():
            for m in rel.media:
                for t in m.tracks:
                    if t.recording.mbid == rec.mbid:
                        out.append((rel, m, t))
        return out


_BINARY = {
    "danceability": ("danceable", "not_danceable"),
    "gender": ("female", "male"),
    "mood_acoustic": ("acoustic", "not_acoustic"),
    "mood_happy": ("happy", "not_happy"),
    "mood_sad": ("not_sad", "sad"),
    "voice_instrumental": ("instrumental", "voice"),
}
_COMPLEX = {
    "genre_dortmund": ("alternative", "blues", "electronic", "folkcountry", "jazz", "pop", "rock"),
    "moods_mirex": ("Cluster1", "Cluster2", "Cluster3", "Cluster4", "Cluster5"),
}


def highlevel_doc(rec_mbid: str, rng: random.Random) -> dict[str, Any]:
    """An AcousticBrainz-shaped high-level document whose distributions sum to 1."""
    highlevel: dict[str, Any] = {}
    for name, classes in {**_BINARY, **_COMPLEX}.items():
        raw = [rng.random() + 0.05 for _ in classes]
        total = sum(raw)
        probs = {c: round(v / total, 6) for c, v in zip(classes, raw, strict=True)}
        drift = round(1.0 - sum(probs.values()), 6)
        probs[classes[0]] = round(probs[classes[0]] + drift, 6)
        best = max(probs, key=lambda c: probs[c])
        highlevel[name] = {
            "all": probs,
            "probability": probs[best],
            "value": best,
            "version": {"essentia": "2.1-beta2", "gaia": "2.4-dev"},
        }
    return {
        "highlevel": highlevel,
        "metadata": {
            "audio_properties": {"length": 200.0, "replay_gain": -9.1, "analysis_sample_rate": 44100},
            "tags": {"musicbrainz_recordingid": [rec_mbid]},
            "version": {"essentia": "2.1-beta2", "essentia_build_sha": "fake"},
        },
    }


@dataclass
class FileSpec:
    rel_path: str
    tags: dict[str, Any]
    recording: Recording
    duration_s: float


@dataclass
class AlbumSpec:
    folder: str
    title: str
    artist: Artist
    expected_release: Release
    files: list[FileSpec]
    has_folder_art: bool = False


@dataclass
class Library:
    world: World
    albums: list[AlbumSpec]

    @property
    def files(self) -> list[FileSpec]:
        return [f for a in self.albums for f in a.files]


def build_library(n_albums: int = 10, tracks: int = 12, *, seed: int = 7) -> Library:
    """A library of ``n_albums`` album folders × ``tracks`` files with varied tagging.

    Album 0 carries full MusicBrainz tags naming the *re-release* (so that one is right); album 1
    carries recording MBIDs only; album 2 has no tags at all (fingerprints only); the others have
    ordinary tags (title, artist, album, track numbers). Track ``tracks`` of every album has no
    AcousticBrainz data. Albums 4 and 7 have no art in the archive; album 5's folder has art.
    """
    rng = random.Random(seed)
    world = World()
    compilation_tracks: list[Recording] = []
    album_recordings: list[list[Recording]] = []
    artists_by_album: dict[int, Artist] = {}
    albums = []
    for a in range(n_albums):
        artist = Artist(mbid("artist", a), f"Artist {a}", f"{a}, Artist")
        artists_by_album[a] = artist
        guest = Artist(mbid("guest", a), f"Guest {a}", f"{a}, Guest")
        composer = Artist(mbid("composer", a), f"Composer {a}", f"{a}, Composer")
        recs = []
        for t in range(1, tracks + 1):
            length_ms = 150_000 + rng.randrange(0, 120_000)
            work = Work(mbid("work", a, t), f"Song {a}-{t}", composer) if t % 6 != 0 else None
            credit = [artist, guest] if t == 3 else [artist]
            rid = mbid("recording", a, t)
            rec = world.add_recording(
                Recording(
                    mbid=rid,
                    title=f"Song {a}-{t}",
                    length_ms=length_ms,
                    artists=credit,
                    works=[work] if work else [],
                    fingerprint=fake_fingerprint("fp", a, t),
                    acoustid_track=mbid("acoustid-track", a, t),
                    score=round(0.80 + 0.19 * rng.random(), 3),
                    highlevel=None if t == tracks else highlevel_doc(rid, rng),
                    tags=["rock"] if a % 2 else ["pop", "dance"],
                )
            )
            recs.append(rec)
        first_work = recs[0].works[0] if recs[0].works else None
        bonus = [
            world.add_recording(
                Recording(
                    mbid=mbid("bonus", a, b),
                    title=f"Song {a}-1 (live)" if b == 0 else f"Bonus {a}-{b}",
                    length_ms=200_000 + 1000 * b,
                    artists=[artist],
                    works=[first_work] if b == 0 and first_work else [],
                    fingerprint=fake_fingerprint("bonus", a, b),
                    acoustid_track=mbid("acoustid-bonus", a, b),
                    highlevel=highlevel_doc(mbid("bonus", a, b), rng),
                )
            )
            for b in range(3)
        ]
        title = f"Album {a}"

        def release(kind: str, date: str, country: str, items: list[Recording], *, a: int = a, **kw: Any) -> Release:
            tracks = [Track(mbid("track", kind, a, i), i, r.title, r.length_ms + 13, r) for i, r in enumerate(items, 1)]
            rel = Release(
                mbid(kind, a),
                f"Album {a}",
                date,
                country,
                [artists_by_album[a]],
                mbid("release-group", a),
                f"Album {a}",
                [Medium(1, "CD", tracks)],
                tags=["rock"],
                **kw,
            )
            return world.add_release(rel)

        has_front = a not in (4, 7)
        original = release("original", f"{1990 + a}-03-0{1 + a % 9}", "GB", recs, front=has_front, back=a % 3 == 0)
        reissue = release("reissue", f"{2005 + a}-06-01", "US", recs, front=has_front, back=False)
        release("deluxe", f"{2010 + a}-11-11", "XE", recs + bonus, front=True, back=True)
        compilation_tracks += recs[:2]
        album_recordings.append(recs)
        expected = reissue if a == 0 else original
        folder = f"{artist.name}/{title}"
        files = []
        for t, rec in enumerate(recs, 1):
            duration = rec.length_ms / 1000 + rng.uniform(-0.4, 0.4)
            if a == 0:
                tags = {
                    "title": rec.title,
                    "artist": artist.name,
                    "album": title,
                    "track_number": t,
                    "track_total": tracks,
                    "musicbrainz_recording_id": rec.mbid,
                    "musicbrainz_release_id": reissue.mbid,
                }
            elif a == 1:
                tags = {"musicbrainz_recording_id": rec.mbid, "album": title}
            elif a == 2:
                tags = {}
            else:
                tags = {"title": rec.title, "artist": artist.name, "album": title, "track_number": t}
            name = f"{t:02d} {rec.title}.flac" if a != 2 else f"track{t:02d}.flac"
            files.append(FileSpec(f"{folder}/{name}", tags, rec, round(duration, 3)))
        albums.append(AlbumSpec(folder, title, artist, expected, files, has_folder_art=(a == 5)))

    various = Artist(mbid("artist", "various"), "Various Artists", "Various Artists")
    comp_media = [
        Medium(
            1,
            "CD",
            [
                Track(mbid("track", "compilation", i), i, r.title, r.length_ms, r)
                for i, r in enumerate(compilation_tracks, 1)
            ],
        )
    ]
    world.add_release(
        Release(
            mbid("compilation"),
            "Greatest Hits of Everyone",
            "2015-01-01",
            "XW",
            [various],
            mbid("rg-compilation"),
            "Greatest Hits of Everyone",
            comp_media,
            front=False,
            back=False,
            secondary_types=["Compilation"],
        )
    )
    for a, recs in enumerate(album_recordings):
        _add_decoy(world, a, artists_by_album[a], recs, random.Random(f"decoy/{seed}/{a}"))
    return Library(world, albums)


def _add_decoy(world: World, a: int, artist: Artist, recs: list[Recording], rng: random.Random) -> Release:
    """ "Album N: The Greatest Hits": the album's first eight recordings in order, then hits from elsewhere."""
    hits = [
        world.add_recording(
            Recording(
                mbid=mbid("hit", a, h),
                title=f"Hit {a}-{h}",
                length_ms=150_000 + rng.randrange(0, 120_000),
                artists=[artist],
                works=[],
                fingerprint=fake_fingerprint("hit", a, h),
                acoustid_track=mbid("acoustid-hit", a, h),
            )
        )
        for h in range(len(recs) - min(8, len(recs)))
    ]
    items = recs[:8] + hits
    tracks = [Track(mbid("track", "decoy", a, i), i, r.title, r.length_ms, r) for i, r in enumerate(items, 1)]
    return world.add_release(
        Release(
            mbid("decoy", a),
            f"Album {a}: The Greatest Hits",
            f"{2000 + a}-09-15",
            "DE",
            [artist],
            mbid("rg-decoy", a),
            f"Album {a}: The Greatest Hits",
            [Medium(1, "CD", tracks)],
            front=False,
            back=False,
            secondary_types=["Compilation"],
        )
    )
