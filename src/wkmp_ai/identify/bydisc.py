"""Identification by MusicBrainz Disc ID: a whole-disc rip names its own release (docs/cue.md).

A file whose cue sheet (or CD CUESHEET block) describes one whole CD carries the Disc ID of that
table of contents (:mod:`wkmp_ai.identify.discid`). One request,
``/ws/2/discid/{id}?inc=recordings+artist-credits+release-groups&toc=…``, lists the releases the
disc is on; with the ``toc``, MusicBrainz also offers releases of matching track lengths when it
does not know the Disc ID itself. A release *fits* when one of its media holding the disc (any
medium, for those fuzzy answers) has as many tracks as the file has passages, each passage's
duration within the usual tolerance of its track's (±7 s or ±5 %).

- Exactly one release fits: the passages are its tracks, in order (method ``disc_id``). No
  fingerprint lookup, no search, no release lookup: one request for the whole disc.
- Several fit (one pressing sold under several releases): each passage gets a vote for its track
  on each of them, and AcoustID and the tag search decide among them as for any other file.
- None fits, or MusicBrainz does not know the disc: nothing changes; AcoustID and the tag search
  go on.

A rip whose tags already name its release (``musicbrainz_release_id``) is not looked up by disc:
the release lookup the tags call for is its one request.

The answer is cached (as a search: 180 days, an empty one 30), so a re-import sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wkmp_ai.identify.evidence import ReleaseDoc, ReleaseEvidence, TrackDoc
from wkmp_ai.identify.http import Rejected, ServiceError
from wkmp_ai.identify.matching import Resolution, duration_fits
from wkmp_ai.identify.musicbrainz import is_mbid, parse_release, trim_release

if TYPE_CHECKING:
    from wkmp_ai.identify.album import AlbumRun

__all__ = ["METHOD", "fitting_media", "identify_by_disc", "trim_disc_answer"]

log = logging.getLogger(__name__)

METHOD = "disc_id"
DISC_MEDIA = "wkmp-disc-media"  # positions of the media that list this Disc ID (kept with the trimmed doc)


def _trim(doc: dict[str, Any], disc_id: str) -> dict[str, Any]:
    out = trim_release(doc)
    out[DISC_MEDIA] = [
        m.get("position")
        for m in doc.get("media") or ()
        if isinstance(m, dict) and any(isinstance(d, dict) and d.get("id") == disc_id for d in m.get("discs") or ())
    ]
    return out


def trim_disc_answer(answer: dict[str, Any], disc_id: str) -> list[dict[str, Any]]:
    """The releases of a ``/ws/2/discid`` answer, trimmed to what the pairing needs."""
    return [_trim(r, disc_id) for r in answer.get("releases") or () if isinstance(r, dict) and is_mbid(r.get("id"))]


def fitting_media(doc: ReleaseDoc, named: Sequence[int], durations: Sequence[float]) -> list[list[TrackDoc]]:
    """The media of ``doc`` (those in ``named``, if any) whose tracks fit these passage durations, in order."""
    out = []
    for position in sorted({t.medium_position for t in doc.tracks}):
        if named and position not in named:
            continue
        tracks = sorted((t for t in doc.tracks if t.medium_position == position), key=lambda t: t.position)
        if len(tracks) == len(durations) and all(
            duration_fits(d, t.length_s) for d, t in zip(durations, tracks, strict=True)
        ):
            out.append(tracks)
    return out


async def identify_by_disc(run: AlbumRun) -> None:
    """Resolve the passages of every whole-disc rip in the group whose Disc ID names one release."""
    for file in run.group.files:
        works = [w for w in run.works if w.file is file and w.open]
        if not file.disc_id or not file.disc_toc or not works or len(works) != len(file.passages):
            continue
        if is_mbid(file.tags.musicbrainz_release_id):
            continue  # the tags name the release: its lookup is the one request (docs/identify.md)
        if run.musicbrainz_down:
            return
        try:
            docs = await run.ident.disc_releases(file.disc_id, file.disc_toc)
        except Rejected as exc:  # this lookup refused (a TOC it would not take): the other paths go on
            log.warning("%s: Disc ID lookup refused: %s", file.rel_path, exc.detail)
            continue
        except ServiceError as exc:
            run.musicbrainz_failed(exc, works)
            return
        durations = [w.passage.duration_s for w in works]
        fits = []
        for raw in docs:
            release = parse_release(raw)
            fits += [(release, tracks) for tracks in fitting_media(release, raw.get(DISC_MEDIA) or (), durations)]
        if len({release.mbid for release, _ in fits}) == 1:
            release, tracks = fits[0]
            run.docs.setdefault(release.mbid, release)
            for w, track in zip(works, tracks, strict=True):
                w.resolved = Resolution(track.recording, release.info(), METHOD)
            continue
        for release, tracks in fits:
            for w, track in zip(works, tracks, strict=True):
                w.evidence.append(
                    ReleaseEvidence(
                        release_mbid=release.mbid,
                        recording_mbid=track.recording.mbid,
                        release_group_mbid=release.release_group_mbid,
                        title=release.title,
                        date=release.date,
                        track_count=release.track_count,
                        medium_count=release.medium_count,
                        medium_position=track.medium_position,
                        track_position=track.position,
                    )
                )
