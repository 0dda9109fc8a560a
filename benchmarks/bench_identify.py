"""Identification cost of a 10 × 12 library at the real default rates, against local fakes.

    .venv/bin/python benchmarks/bench_identify.py [--albums 10] [--tracks 12] [--repeat 3] [--reference-albums 2]
                                                  [--only key|nokey]

Two parts. **With an AcoustID key** (the fingerprint path), on tests/fakes' library, as below.
**Without a key** (a MusicBrainz search by tags and names), on the same catalogue tagged the way
people tag (tests/fakes/tagging.py: capitals, remaster notes, typos, a partial folder, untagged
files named three ways; a "Greatest Hits" decoy per artist): requests per album and per file,
the share of tagged and of untagged files placed on the right recording of the right release,
and how many landed on a decoy. The MusicBrainz fake there counts arrivals in any 1-second
window and delays each by 0–40 ms, as a network would.

The fakes (tests/fakes) enforce the real limits — MusicBrainz 1/s, AcoustID 3/s, AcousticBrainz
1/s, Cover Art Archive 5/s — and refuse anything faster (503/429). The clients run with their
real defaults (rates, retry policy, timeouts). For each first import (fresh database) the script
prints the requests sent to each service, requests per file, refusals and the wall time; then it
imports the same library again into the same database and shows it sends nothing.

Reference, measured in the same run on the first ``--reference-albums`` albums: a naive per-file
client (one unbatched AcoustID lookup and one MusicBrainz recording lookup per file, through the
same limiters), the shape the design's own estimate assumes. Ratios are ours ÷ naive per file.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes import FakeServices, Library, Rates, build_library
from tests.fakes.seed import Seeded, linked, seed_library
from tests.fakes.tagging import UNTAGGED, build_search_library

from wkmp_ai.config import Settings, load_settings
from wkmp_ai.db import Database, open_database
from wkmp_ai.db.cachereads import CacheReads
from wkmp_ai.identify import Identifier, make_limiters
from wkmp_ai.identify.acoustid import LOOKUP_META, request_duration
from wkmp_ai.identify.http import ServiceClient
from wkmp_ai.identify.musicbrainz import RECORDING_INC
from wkmp_ai.identify.ratelimit import RateLimiter
from wkmp_ai.ingest.identify import identify_and_write
from wkmp_ai.ingest.writer import Writer
from wkmp_ai.records.identify import group_files

SERVICES = ("acoustid", "musicbrainz", "acousticbrainz", "coverart")


def fresh(root: Path, fakes: FakeServices) -> tuple[Settings, Database]:
    root.mkdir(parents=True)
    settings = replace(load_settings({"root_folder": root}, env={}), **fakes.settings_changes())
    return settings, open_database(settings.db_path)


async def import_once(
    settings: Settings, db: Database, seeded: Seeded, limiters: dict[str, RateLimiter]
) -> tuple[float, int]:
    start = time.perf_counter()
    async with Identifier(settings, CacheReads(db), limiters=limiters) as ident:
        results = await identify_and_write(ident, Writer(db), group_files(seeded.files))
    identified = sum(r.counts()["identified"] for r in results)
    return time.perf_counter() - start, identified


async def naive(
    settings: Settings, library: Library, albums: int, limiters: dict[str, RateLimiter]
) -> tuple[float, int, dict[str, int]]:
    """One AcoustID lookup and one MusicBrainz recording lookup per file, 4 files at a time."""
    files = [f for a in library.albums[:albums] for f in a.files]

    def client(name: str, url: str) -> ServiceClient:
        return ServiceClient(name, url, rate=1.0, user_agent=settings.user_agent, limiter=limiters[name])

    clients = {
        "acoustid": client("acoustid", settings.acoustid_url),
        "musicbrainz": client("musicbrainz", settings.musicbrainz_url),
    }
    gate = asyncio.Semaphore(4)

    async def one(f: Any) -> None:
        async with gate:
            params = {
                "client": settings.acoustid_api_key or "",
                "meta": LOOKUP_META,
                "duration": str(request_duration(f.duration_s)),
                "fingerprint": f.recording.fingerprint,
            }
            doc = await clients["acoustid"].get_json("/v2/lookup", params)
            rid = doc["results"][0]["recordings"][0]["id"]
            await clients["musicbrainz"].get_json(f"/ws/2/recording/{rid}", {"inc": RECORDING_INC, "fmt": "json"})

    start = time.perf_counter()
    await asyncio.gather(*(one(f) for f in files))
    wall = time.perf_counter() - start
    counts = {name: c.stats.requests for name, c in clients.items()}
    for c in clients.values():
        await c.aclose()
    return wall, len(files), counts


def requests_per_album(library: Library, fakes: FakeServices) -> list[int]:
    """MusicBrainz requests charged to the album they were for (by release, recording or query)."""
    owner: dict[str, int] = {}
    for a, album in enumerate(library.albums):
        owner.update({f.recording.mbid: a for f in album.files})
        owner.update({r.mbid: a for r in library.world.releases.values() if r.title == album.title})
    counts = [0] * len(library.albums)
    for r in fakes.musicbrainz.requests:
        key = r.path.rsplit("/", 1)[-1]
        if key in owner:
            counts[owner[key]] += 1
        else:
            query = r.query.get("query", "")
            counts[next(a for a, album in enumerate(library.albums) if f'"{album.title}"' in query)] += 1
    return counts


async def no_key(args: argparse.Namespace, tmp: Path) -> None:
    """The search path: no AcoustID key, the library tagged as people tag it."""
    library = build_search_library(args.albums, args.tracks)
    files = library.files
    rng = random.Random(1)
    jitter = lambda: rng.uniform(0.0, 0.04)  # noqa: E731
    with FakeServices(library.world, rates=Rates(), window=True, jitter=jitter) as fakes:
        settings, db = fresh(tmp / "nokey", fakes)
        settings = replace(settings, acoustid_api_key=None)
        limiters = make_limiters(settings)
        seeded = seed_library(db, library)
        wall, identified = await import_once(settings, db, seeded, limiters)
        counts, refused = fakes.counts(), fakes.throttled()
        searches = sum(1 for r in fakes.musicbrainz.requests if "query" in r.query)
        per_album = requests_per_album(library, fakes)
        got = linked(db)
        decoys = {r.mbid for r in library.world.releases.values() if "Compilation" in r.secondary_types}
        share: dict[bool, list[int]] = {True: [0, 0], False: [0, 0]}
        on_decoy = 0
        for a, album in enumerate(library.albums):
            for f in album.files:
                tagged = a not in UNTAGGED
                share[tagged][0] += got.get(f.rel_path) == (f.recording.mbid, album.expected_release.mbid)
                share[tagged][1] += 1
                on_decoy += got.get(f.rel_path, ("", ""))[1] in decoys
        fakes.reset()
        wall2, _ = await import_once(settings, db, seeded, limiters)
        again = fakes.counts()
        db.close()
    n_albums = len(library.albums)
    print(f"\nwithout an AcoustID key: {n_albums} albums, {len(files)} files (tests/fakes/tagging.py)")
    print(f"  first import: wall {wall:.2f} s, identified {identified}/{len(files)} passages")
    print(
        f"  MusicBrainz: {counts['musicbrainz']} requests ({searches} searches), "
        f"{counts['musicbrainz'] / n_albums:.2f} per album, {counts['musicbrainz'] / len(files):.3f} per file, "
        f"refused {refused['musicbrainz']}; AcoustID {counts['acoustid']}"
    )
    print(f"  MusicBrainz requests per album: {per_album} (most {max(per_album)})")
    for tagged, label in ((True, "tagged"), (False, "untagged")):
        right, total = share[tagged]
        print(f"  {label:<9} files on the right recording and release: {right}/{total} ({100 * right / total:.1f} %)")
    print(f"  files on a compilation decoy: {on_decoy}")
    print(f"  second import: wall {wall2:.2f} s, requests: " + ", ".join(f"{k} {v}" for k, v in again.items()))


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--albums", type=int, default=10)
    ap.add_argument("--tracks", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3, help="first imports on fresh databases (median reported)")
    ap.add_argument("--reference-albums", type=int, default=2, help="albums the naive reference is measured on")
    ap.add_argument("--only", choices=("key", "nokey"), help="run one part only")
    args = ap.parse_args()

    if args.only != "key":
        with tempfile.TemporaryDirectory() as tmp:
            await no_key(args, Path(tmp))
        if args.only == "nokey":
            return
    library = build_library(args.albums, args.tracks)
    n_files = len(library.files)
    with tempfile.TemporaryDirectory() as tmp, FakeServices(library.world, rates=Rates()) as fakes:
        print(
            f"\nwith an AcoustID key — library: {args.albums} albums × {args.tracks} tracks = {n_files} files; rates: "
            f"MusicBrainz {fakes.rates.musicbrainz}/s, AcoustID {fakes.rates.acoustid}/s, "
            f"AcousticBrainz {fakes.rates.acousticbrainz}/s, Cover Art Archive {fakes.rates.coverart}/s"
        )
        walls, per_run, redirects = [], [], 0
        settings = db = seeded = None
        limiters: dict[str, RateLimiter] = {}  # one set for the whole process, as the service keeps them
        for run in range(args.repeat):
            fakes.reset()
            settings, db = fresh(Path(tmp) / f"run{run}", fakes)
            limiters = limiters or make_limiters(settings)
            seeded = seed_library(db, library)
            wall, identified = await import_once(settings, db, seeded, limiters)
            walls.append(wall)
            per_run.append((fakes.counts(), fakes.throttled(), identified))
            redirects = fakes.coverart.count("/ia/")
            if run < args.repeat - 1:
                db.close()
        counts, refused, identified = per_run[-1]
        print(f"\nfirst import (fresh database), {args.repeat} run(s): median wall {statistics.median(walls):.2f} s")
        print(f"  identified {identified}/{n_files} passages")
        print(f"  {'service':<16}{'requests':>9}{'per file':>10}{'refused (503/429)':>19}")
        for name in SERVICES:
            print(f"  {name:<16}{counts[name]:>9}{counts[name] / n_files:>10.3f}{refused[name]:>19}")
        print(f"  (coverart includes {redirects} fetches from archive.org, where the real service redirects)")
        runs = ", ".join(f"{w:.2f}" for w in walls)
        print(f"  wall times: {runs} s; MusicBrainz requests per run: {[c['musicbrainz'] for c, _, _ in per_run]}")

        assert settings is not None and db is not None and seeded is not None
        fakes.reset()
        wall2, identified2 = await import_once(settings, db, seeded, limiters)
        again = fakes.counts()
        print(f"\nsecond import (same database): wall {wall2:.2f} s, identified {identified2}/{n_files}")
        print("  requests: " + ", ".join(f"{name} {again[name]}" for name in SERVICES))
        db.close()

        fakes.reset()
        ref_wall, ref_files, ref_counts = await naive(settings, library, args.reference_albums, limiters)
        ours_mb = counts["musicbrainz"] / n_files
        ref_mb = ref_counts["musicbrainz"] / ref_files
        ours_wall = statistics.median(walls) / n_files
        ref_wall_pf = ref_wall / ref_files
        print(
            f"\nreference: naive per-file client on {ref_files} files: wall {ref_wall:.2f} s ({ref_wall_pf:.3f} s/file)"
        )
        print(
            f"  requests per file: musicbrainz {ref_mb:.3f}, acoustid {ref_counts['acoustid'] / ref_files:.3f}; "
            f"refused {fakes.throttled()['musicbrainz'] + fakes.throttled()['acoustid']}"
        )
        print("\nratio ours ÷ naive (per file):")
        print(f"  MusicBrainz requests  {ours_mb / ref_mb:.3f}")
        print(f"  AcoustID requests     {counts['acoustid'] / n_files / (ref_counts['acoustid'] / ref_files):.3f}")
        print(f"  wall time             {ours_wall / ref_wall_pf:.3f}  (ours includes AcousticBrainz and cover art)")


if __name__ == "__main__":
    asyncio.run(main())
