"""Identification by a MusicBrainz search on tags and names, for what fingerprints leave open.

Last in the order of evidence (docs/identify.md): MBIDs in the tags,
then AcoustID, then this. It takes the passages of an album group that are still without a
recording — no API key, AcoustID unavailable or without a match, no fingerprint — and:

- **an album** (three or more files, or one file split into passages, with an album title from
  the tags or, for untagged files, from the folder): one release search, then the releases worth
  fetching, best first, while one could still beat the best so far (at most two lookups that are
  not cached). Each fetched release is compared file by file (:mod:`wkmp_ai.identify.tagdistance`);
  the closest is chosen when its confidence clears :data:`ACCEPT` (:data:`ACCEPT_NAMES` when names
  carry the evidence). Typical cost: one search and one release lookup per album.
- **singles** (a file alone, or two or three files an album search could not place): one
  recording search each, and one recording lookup for the chosen recording's works.

Whatever the outcome, the releases considered are kept per file (``AlbumRun.candidates`` →
``wkmp_ai_release_candidates``) for the user. Passages left without a match stay ``pending``
when AcoustID could not be asked (a later run with a key may place them), else ``no_match``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from wkmp_ai.errors import ErrorCode
from wkmp_ai.identify.evidence import ReleaseDoc
from wkmp_ai.identify.http import NotFound, Rejected, ServiceError
from wkmp_ai.identify.matching import PassageWork, Resolution
from wkmp_ai.identify.mbsearch import (
    RECORDING_SEARCH_LIMIT,
    RELEASE_SEARCH_LIMIT,
    SearchRelease,
    parse_recording_search,
    parse_release_search,
)
from wkmp_ai.identify.musicbrainz import parse_recording
from wkmp_ai.identify.tagdistance import (
    ACCEPT,
    ACCEPT_NAMES,
    ReleaseMatch,
    rank_releases,
    recording_distance,
    release_distance,
    release_for_recording,
    search_bound,
)
from wkmp_ai.identify.tagquery import AlbumQuery, describe_group, loose_release_query, recording_query, release_query
from wkmp_ai.records.identify import CandidateRelease, FileCandidates, IdentifyWarning, ReleaseInfo

if TYPE_CHECKING:
    from wkmp_ai.identify.album import AlbumRun

__all__ = ["TagSearch"]

ALBUM_MIN_FILES = 3  # fewer files are searched one recording at a time
SINGLES_FALLBACK_MAX = 3  # an album search that fails for this few files falls back to singles
MAX_FETCHES = 2  # uncached release lookups per album search
MAX_CONSIDERED = 5  # search answers looked at (and kept as candidates)


def _label(title: str, artist: str | None, date: str | None) -> str:
    return f"“{title}”" + (f" by {artist}" if artist else "") + (f" ({date})" if date else "")


def _same_tracks(match: ReleaseMatch, rel: SearchRelease) -> bool:
    doc = match.release
    group = doc.release_group_mbid or (match.search.release_group_mbid if match.search else None)
    return group is not None and group == rel.release_group_mbid and doc.track_count == rel.track_count


class TagSearch:
    def __init__(self, run: AlbumRun):
        self.owner = run
        self.ident = run.ident

    def _eligible(self) -> list[PassageWork]:
        """Open passages, and those waiting only for AcoustID — not those whose fingerprint or tags
        name a recording: that evidence is better than any search, even where it led nowhere."""
        return [
            w
            for w in self.owner.works
            if w.resolved is None
            and (w.blocked is None or w.blocked_by == "acoustid")
            and not w.acoustid
            and not w.tag_recording
        ]

    def _reason(self) -> str:
        if not self.ident.has_acoustid_key:
            return "no AcoustID API key"
        if not self.ident.available("acoustid"):
            return "AcoustID unavailable"
        return "no fingerprint match"

    async def run(self) -> None:
        todo = self._eligible()
        if not todo:
            return
        q = describe_group(todo, self.owner.group.album)
        one_split_file = len({w.file.file_id for w in todo}) == 1 and not todo[0].single
        bucket = q.album_from_names and (q.various or not q.artist)  # "Singles/", "Downloads/" …
        if q.album and q.items and (len(q.items) >= ALBUM_MIN_FILES or one_split_file) and not bucket:
            if await self._album(q, todo) or self.owner.musicbrainz_down or len(q.items) > SINGLES_FALLBACK_MAX:
                return
            todo = self._eligible()
        for w in todo:
            if w.single and not self.owner.musicbrainz_down:
                await self._single(w)

    # --- MusicBrainz, failures translated once ----------------------------------------------

    async def _search(self, entity: str, query: str, works: Sequence[PassageWork]) -> list[dict[str, object]] | None:
        limit = RELEASE_SEARCH_LIMIT if entity == "release" else RECORDING_SEARCH_LIMIT
        try:
            return await self.ident.search(entity, query, limit)
        except (Rejected, NotFound):
            return []  # the server refused the query itself (or has no search): as good as no answer
        except ServiceError as exc:
            self.owner.musicbrainz_failed(exc, works)
            return None

    async def _release(self, mbid: str, works: Sequence[PassageWork]) -> ReleaseDoc | None:
        if mbid in self.owner.docs:
            return self.owner.docs[mbid]
        try:
            doc = await self.ident.release(mbid)
        except ServiceError as exc:
            self.owner.musicbrainz_failed(exc, works)
            return None
        if doc is not None:
            self.owner.docs[mbid] = doc
        return doc

    # --- an album ---------------------------------------------------------------------------

    async def _album(self, q: AlbumQuery, todo: list[PassageWork]) -> bool:
        query = release_query(q)
        if query is None:
            return False
        results = await self._search("release", query, todo)
        if results is None:
            return False
        releases = parse_release_search(results)
        if not releases and (loose := loose_release_query(q)) is not None:
            results = await self._search("release", loose, todo)
            if results is None:
                return False
            releases = parse_release_search(results)
        threshold = ACCEPT_NAMES if q.weak else ACCEPT
        bounds = {r.mbid: search_bound(q, r) for r in releases}
        ranked = sorted(releases, key=lambda r: (round(bounds[r.mbid], 6), r.date or "9999", r.mbid))[:MAX_CONSIDERED]
        matches: list[ReleaseMatch] = []
        fetched = 0
        for rel in ranked:
            bound = bounds[rel.mbid]
            if 1.0 - bound < threshold or (matches and min(m.distance for m in matches) <= bound):
                break  # neither this nor anything after it can be chosen, or beat what we have
            sibling = next((m for m in matches if _same_tracks(m, rel)), None)
            if sibling is not None and min(m.distance for m in matches) <= search_bound(q, rel, sibling):
                continue  # a re-release of a track list already compared, and no better for its title or year
            if not await self.owner.releases_cached([rel.mbid]):
                if fetched >= MAX_FETCHES:
                    continue
                fetched += 1
            doc = await self._release(rel.mbid, todo)
            if self.owner.musicbrainz_down:
                return False
            if doc is not None:
                matches.append(release_distance(q, doc, rel))
        matches.sort(key=lambda m: (round(m.distance, 6), m.release.date or "9999", m.release.mbid))
        best = matches[0] if matches else None
        accepted = best is not None and best.confidence >= threshold
        self._keep_candidates(q, todo, ranked, bounds, matches, best if accepted else None)
        method = "name_search" if q.from_names else "tag_search"
        folder = self.owner.folder_path
        if best is None or not accepted:
            self._album_failed(q, todo, ranked, best, threshold)
            return False
        doc = best.release
        info = doc.info()
        placed = set()
        for ref, track, distance in best.pairs:
            w = todo[ref]
            placed.add(ref)
            score = round(min(best.confidence, 1.0 - distance), 4)
            w.resolved = Resolution(track.recording, info, method, score)
            w.blocked = w.blocked_by = w.problem = None
        for ref, w in enumerate(todo):
            if ref in placed or not any(i.ref == ref for i in q.items):
                continue
            message = (
                f"no track of {_label(doc.title, doc.artist_credit, doc.date)}, chosen for its folder, fits this file"
            )
            if w.blocked is None:
                w.problem = (ErrorCode.MUSICBRAINZ_SEARCH_NO_MATCH, message)
            else:
                w.blocked = f"{w.blocked}; {message}"
        source = "file and folder names" if q.from_names else "tags"
        self.owner.warn(
            IdentifyWarning(
                ErrorCode.IDENTIFIED_BY_TAGS,
                f"identified by a MusicBrainz search on its {source} ({self._reason()}): "
                f"{_label(doc.title, doc.artist_credit, doc.date)}, {len(best.pairs)} of {len(q.items)} files "
                f"on its {doc.track_count} tracks, confidence {best.confidence:.2f}",
                folder,
            )
        )
        return True

    def _album_failed(
        self,
        q: AlbumQuery,
        todo: list[PassageWork],
        ranked: list[SearchRelease],
        best: ReleaseMatch | None,
        threshold: float,
    ) -> None:
        wanted = _label(q.album or "?", q.artist, None)
        if not ranked:
            code = ErrorCode.MUSICBRAINZ_SEARCH_NO_MATCH
            message = f"MusicBrainz knows no release {wanted}"
        elif best is None:
            code = ErrorCode.IDENTIFY_LOW_CONFIDENCE
            top = ranked[0]
            message = (
                f"no release found by a search for {wanted} fits its files well enough (the closest, "
                f"{_label(top.title, top.artist, top.date)}, cannot reach {threshold:.2f}); "
                f"{len(ranked)} candidates kept for the user to choose from"
            )
        else:
            code = ErrorCode.IDENTIFY_LOW_CONFIDENCE
            doc = best.release
            message = (
                f"no release fits its {('names' if q.from_names else 'tags')} well enough: the closest, "
                f"{_label(doc.title, doc.artist_credit, doc.date)}, has confidence {best.confidence:.2f} "
                f"< {threshold:.2f}; {len(ranked)} candidates kept for the user to choose from"
            )
        self.owner.warn(IdentifyWarning(code, message, self.owner.folder_path))
        for w in todo:
            if w.blocked is None:
                w.problem, w.quiet = (code, message), True
            else:
                w.blocked = f"{w.blocked}; MusicBrainz search: {message}"

    def _keep_candidates(
        self,
        q: AlbumQuery,
        todo: list[PassageWork],
        ranked: list[SearchRelease],
        bounds: dict[str, float],
        matches: list[ReleaseMatch],
        chosen: ReleaseMatch | None,
    ) -> None:
        checked = {m.release.mbid: m for m in matches}
        out = []
        for rel in ranked:
            match = checked.get(rel.mbid)
            out.append(
                CandidateRelease(
                    release_mbid=rel.mbid,
                    title=rel.title,
                    artist=rel.artist,
                    date=rel.date,
                    track_count=rel.track_count,
                    score=match.confidence if match else round(1.0 - bounds[rel.mbid], 4),
                    checked=match is not None,
                    chosen=chosen is not None and chosen.release.mbid == rel.mbid,
                    country=rel.country,
                    kind=rel.kind,
                )
            )
        out.sort(key=lambda c: (not c.chosen, -c.score, c.release_mbid))
        method = "name_search" if q.from_names else "tag_search"
        for file_id in dict.fromkeys(todo[i.ref].file.file_id for i in q.items):
            self.owner.candidates.append(FileCandidates(file_id, method, tuple(out)))

    # --- a single ---------------------------------------------------------------------------

    async def _single(self, w: PassageWork) -> None:
        album = w.file.tags.album
        q = describe_group([w], album)
        if not q.items:
            return
        item = q.items[0]
        artist = item.artist or q.artist
        query = recording_query(item, artist, album)
        if query is None:
            return  # neither tags nor name give a title and an artist to search for
        results = await self._search("recording", query, [w])
        if results is None:
            return
        names = item.title_from_name or (not item.artist and q.artist_from_names)
        threshold = ACCEPT_NAMES if names else ACCEPT
        scored = sorted(
            (round(recording_distance(item, artist, album, r), 6), -r.score, r.mbid, r)
            for r in parse_recording_search(results)
        )
        kept: dict[str, CandidateRelease] = {}
        for distance, _, _, rec in scored:
            for rel in rank_releases(rec, album, q.year):
                if rel.mbid in kept or len(kept) >= MAX_CONSIDERED:
                    continue
                kept[rel.mbid] = CandidateRelease(
                    release_mbid=rel.mbid,
                    title=rel.title,
                    artist=rel.artist or rec.artist,
                    date=rel.date,
                    track_count=rel.track_count,
                    score=round(1.0 - distance, 4),
                    checked=True,
                    recording_mbid=rec.mbid,
                    country=rel.country,
                    kind=rel.kind,
                )
        best = scored[0] if scored and 1.0 - scored[0][0] >= threshold else None
        chosen = release_for_recording(best[3], album, q.year) if best else None
        releases = [replace(c, chosen=chosen is not None and c.release_mbid == chosen.mbid) for c in kept.values()]
        method = "name_search" if names else "tag_search"
        if releases:
            self.owner.candidates.append(FileCandidates(w.file.file_id, method, tuple(releases)))
        if best is None:
            wanted = _label(item.title or "?", artist, None)
            if not scored:
                code, message = ErrorCode.MUSICBRAINZ_SEARCH_NO_MATCH, f"MusicBrainz knows no recording {wanted}"
            else:
                code = ErrorCode.IDENTIFY_LOW_CONFIDENCE
                message = (
                    f"no recording found by a search for {wanted} fits well enough (the closest has confidence "
                    f"{1.0 - scored[0][0]:.2f} < {threshold:.2f})"
                )
            if w.blocked is None:
                w.problem = (code, message)
            else:
                w.blocked = f"{w.blocked}; MusicBrainz search: {message}"
            return
        rec = best[3]
        doc = await self.owner.recording_doc(w, rec.mbid)
        if doc is None:
            return
        info = (
            ReleaseInfo(chosen.mbid, chosen.title, chosen.date, chosen.track_count, chosen.release_group_mbid)
            if chosen
            else None
        )
        confidence = round(1.0 - best[0], 4)
        w.resolved = Resolution(parse_recording(doc), info, method, confidence)
        w.blocked = w.blocked_by = w.problem = None
        source = "file name" if names else "tags"
        self.owner.warn(
            IdentifyWarning(
                ErrorCode.IDENTIFIED_BY_TAGS,
                f"identified by a MusicBrainz search on its {source} ({self._reason()}): recording "
                f"{_label(rec.title, rec.artist, None)}"
                + (f" on {_label(chosen.title, None, chosen.date)}" if chosen else "")
                + f", confidence {confidence:.2f}",
                w.file.rel_path,
            )
        )
