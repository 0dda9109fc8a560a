"""Identifying one album group, spending as few requests as the evidence allows.

0. A whole-disc rip's MusicBrainz Disc ID (its cue sheet's table of contents) names its release
   in one request when one release fits (:mod:`wkmp_ai.identify.bydisc`).
1. Releases named in the tags (``musicbrainz_release_id``) are fetched first: one request, and
   every passage it accounts for needs no AcoustID lookup at all.
2. Remaining passages without a recording MBID in their tags are looked up in AcoustID (batched
   with the other albums in flight). Each answer votes for the releases its recording is on.
3. Release choice, repeated while it makes progress: fetch the best-scoring release that covers
   two or more open passages (or that the tags name, or that may hold passages known only by
   tags), and pair passages with its tracks (:mod:`wkmp_ai.identify.matching`). Passages known
   only by a recording MBID are probed with a recording lookup, which lists their releases.
   What is left — singles, whose evidence is their own — costs one recording lookup each.
4. Passages still without a recording (no API key, AcoustID down or without a match, no
   fingerprint) are searched for in MusicBrainz by their tags and names
   (:mod:`wkmp_ai.identify.tagsearch`): one release search and one release lookup per album.
5. AcousticBrainz for every identified recording (batched), Cover Art Archive for the album's
   main release when its folder has no art.

A normal album costs one MusicBrainz request (two when a search finds it); a re-import costs none
(everything is cached).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from wkmp_ai.config import resolve_inside_root
from wkmp_ai.errors import ErrorCode, plain_message
from wkmp_ai.identify.acousticbrainz import flavor_vector
from wkmp_ai.identify.acoustid import request_duration
from wkmp_ai.identify.bydisc import identify_by_disc
from wkmp_ai.identify.coverart import CaaImage, ImageRefused, direct_images, image_size, resize_to_jpeg
from wkmp_ai.identify.evidence import ReleaseDoc
from wkmp_ai.identify.http import NotFound, Rejected, ServiceError
from wkmp_ai.identify.lookups import Lookups
from wkmp_ai.identify.matching import PassageWork, Resolution, map_to_release, score_releases
from wkmp_ai.identify.musicbrainz import is_mbid, parse_recording, recording_evidence
from wkmp_ai.identify.tagsearch import TagSearch
from wkmp_ai.records.identify import (
    AlbumGroup,
    AlbumIdentification,
    ArtImage,
    FileCandidates,
    IdentifyWarning,
    PassageIdentification,
    PassageStatus,
    ReleaseInfo,
)

__all__ = ["AlbumRun"]


def _mbid_or_none(text: str | None) -> str | None:
    return text.strip().lower() if text and is_mbid(text) else None


class AlbumRun:
    def __init__(self, ident: Lookups, group: AlbumGroup):
        self.ident = ident
        self.group = group
        self.works: list[PassageWork] = []
        for f in group.files:
            tag_recording = f.tags.musicbrainz_recording_id if len(f.passages) == 1 else None
            for i, p in enumerate(f.passages):
                self.works.append(
                    PassageWork(
                        file=f,
                        passage=p,
                        index=i,
                        tag_recording=tag_recording.strip().lower()
                        if tag_recording and is_mbid(tag_recording)
                        else None,
                    )
                )
        self.tag_releases = sorted(
            {
                f.tags.musicbrainz_release_id.strip().lower()
                for f in group.files
                if is_mbid(f.tags.musicbrainz_release_id) and f.tags.musicbrainz_release_id
            }
        )
        self.docs: dict[str, ReleaseDoc] = {}
        self.warnings: list[IdentifyWarning] = []
        self._warned: set[tuple[str, str | None]] = set()
        self.flavors: dict[str, tuple[dict[str, dict[str, float]] | None, str | None, bool]] = {}
        self.art: list[ArtImage] = []
        self.musicbrainz_down = False
        self.candidates: list[FileCandidates] = []  # what a tag search offered, per file

    # --- bookkeeping ------------------------------------------------------------------------

    def warn(self, warning: IdentifyWarning | None) -> None:
        if warning is None:
            return
        key = (f"{warning.code}:{warning.message}" if warning.path is None else str(warning.code), warning.path)
        if key not in self._warned:
            self._warned.add(key)
            self.warnings.append(warning)

    def open(self) -> list[PassageWork]:
        return [w for w in self.works if w.open]

    @property
    def folder_path(self) -> str:
        return self.group.folder or self.group.files[0].rel_path

    def service_failed(self, service: str, exc: ServiceError, works: list[PassageWork]) -> None:
        """The files need a service that failed: they wait for a later run.

        One failure shared by several files (a batched lookup, a release) is one warning for the
        album, naming how many files wait, not the same line once per file.
        """
        for w in works:
            w.blocked = f"{service}: {exc.detail}"
            w.blocked_by = service
        self._failure_once(service, exc, {w.file.rel_path for w in works})

    def musicbrainz_failed(self, exc: ServiceError, works: Sequence[PassageWork]) -> None:
        """MusicBrainz failed: no more of its lookups for this album. Every passage still open needs
        it to be placed, so the ones this lookup was for and all the others wait for a later run —
        never "no match", since nobody looked."""
        self.musicbrainz_down = True
        asked = {id(w) for w in works}
        self.service_failed("musicbrainz", exc, [*works, *(w for w in self.open() if id(w) not in asked)])

    def _failure_once(self, service: str, exc: ServiceError, paths: set[str]) -> None:
        path = next(iter(paths)) if len(paths) == 1 else self.folder_path
        self.warn(self.ident.failure_warning(service, exc, path, files=len(paths)))

    # --- the run ----------------------------------------------------------------------------

    async def run(self) -> AlbumIdentification:
        if self.works:
            await self._identify()
            steps = [self._flavors()] if self.ident.options.acousticbrainz else []
            if self.ident.options.cover_art:
                steps.append(self._cover_art())
            await asyncio.gather(*steps)  # two services, two rate limits: neither waits for the other
        return self._result()

    async def _identify(self) -> None:
        await identify_by_disc(self)  # a whole-disc rip's Disc ID may name the release at once
        for mbid in self.tag_releases:
            if not self.open() or self.musicbrainz_down:
                break
            await self._use_release(mbid)
        for _ in range(4 * len(self.works) + 8):  # every round makes progress; this only bounds a bug
            if self.musicbrainz_down or not self.open():
                break
            await self._lookup_acoustid()
            todo = self.open()
            if not todo or self.musicbrainz_down:
                break
            cached = await self.releases_cached(ev.release_mbid for w in todo for ev in w.evidence)
            candidates = score_releases(todo, self.group, tag_releases=self.tag_releases, cached=cached.__contains__)
            if candidates:
                pick = next((c for c in candidates if len(c.covered) >= 2 or c.release_mbid in self.tag_releases), None)
                if pick is None and any(w.known_recording() and not w.probed and not w.evidence for w in todo):
                    pick = candidates[0]  # the album may hold the passages we know only by their tags
                if pick is not None:
                    await self._use_release(pick.release_mbid)
                    continue
                for w in [w for w in todo if w.evidence]:
                    if not self.musicbrainz_down:
                        await self._resolve_single(w)
                continue
            probe = next((w for w in todo if w.known_recording() and not w.probed), None)
            if probe is None:
                break
            await self._probe(probe)
        for w in self.open():
            if w.known_recording() and not self.musicbrainz_down:
                await self._resolve_single(w)
        if self.ident.options.tag_search and not self.musicbrainz_down:
            await TagSearch(self).run()

    async def releases_cached(self, mbids: Iterable[str]) -> set[str]:
        """Which of these releases are known without a request (fetched in this run, or cached)."""
        wanted = set(mbids)
        here = wanted & self.docs.keys()
        return here | await self.ident.cached_releases(wanted - here)

    async def _lookup_acoustid(self) -> None:
        need = [w for w in self.open() if w.acoustid is None and w.passage.fingerprint and not w.tag_recording]
        if not need:
            return
        if not self.ident.has_acoustid_key:
            self.warn(
                self.ident.announce(
                    ErrorCode.ACOUSTID_NO_API_KEY,
                    "no AcoustID API key (ACOUSTID_API_KEY or acoustid_api_key in wkmp-ai.toml): fingerprint "
                    "lookups are skipped; files without MusicBrainz IDs in their tags are identified by a "
                    "MusicBrainz search on their tags and names where one fits well, the others stay pending",
                    once="acoustid:no-key",
                )
            )
            for w in need:
                w.blocked = "no AcoustID API key"
                w.blocked_by = "acoustid"
            return
        items = {id(w): (str(w.passage.fingerprint), request_duration(w.passage.duration_s)) for w in need}
        answers = await self.ident.acoustid_lookup(list(dict.fromkeys(items.values())))
        failed: dict[str, tuple[ServiceError, list[PassageWork]]] = {}  # one batch failing fails all its files
        for w in need:
            answer = answers[items[id(w)]]
            if isinstance(answer, Rejected) and self.ident.available("acoustid"):
                w.acoustid = ()
                w.problem = (ErrorCode.ACOUSTID_NO_MATCH, f"AcoustID refused the lookup: {answer.detail}")
            elif isinstance(answer, BaseException):
                error = answer if isinstance(answer, ServiceError) else ServiceError("acoustid", plain_message(answer))
                failed.setdefault(f"{error.code}:{error.detail}", (error, []))[1].append(w)
            else:
                w.acoustid = answer
                w.evidence.extend(ev for c in answer for ev in c.releases)
        for error, works in failed.values():
            self.service_failed("acoustid", error, works)

    async def _use_release(self, mbid: str) -> None:
        todo = self.open()
        try:
            doc = await self.ident.release(mbid)
        except ServiceError as exc:
            self.musicbrainz_failed(exc, todo)
            return
        for w in todo:
            w.excluded.add(mbid)
        if doc is None:
            return
        self.docs[mbid] = doc
        for w, track, method in map_to_release(todo, doc):
            score = next((c.score for c in w.acoustid or () if c.recording_mbid == track.recording.mbid), None)
            w.resolved = Resolution(track.recording, doc.info(), method, score)

    async def recording_doc(self, w: PassageWork, mbid: str) -> dict[str, object] | None:
        if w.recording_doc is not None and w.recording_doc.get("id") == mbid:
            return w.recording_doc
        try:
            doc = await self.ident.recording(mbid)
        except ServiceError as exc:
            self.musicbrainz_failed(exc, [])
            return None
        w.probed = True
        if doc is None:
            self._recording_missing(w, mbid)
            return None
        w.recording_doc = doc
        return doc

    def _recording_missing(self, w: PassageWork, mbid: str) -> None:
        message = f"recording {mbid} is not in MusicBrainz"
        if mbid == w.tag_recording:
            w.tag_recording = None  # fall back to the fingerprint, if there is one
            if not w.passage.fingerprint:
                w.problem = (ErrorCode.MBID_LOOKUP_FAILED, message + " (from the tags)")
            self.warn(IdentifyWarning(ErrorCode.MBID_LOOKUP_FAILED, message + " (from the tags)", w.file.rel_path))
            return
        w.acoustid = tuple(c for c in w.acoustid or () if c.recording_mbid != mbid)
        w.evidence = [ev for ev in w.evidence if ev.recording_mbid != mbid]
        if not w.acoustid:
            w.problem = (ErrorCode.MBID_LOOKUP_FAILED, message)

    async def _probe(self, w: PassageWork) -> None:
        mbid = w.known_recording()
        if mbid is None:
            return
        doc = await self.recording_doc(w, mbid)
        w.probed = True
        if doc is None:
            return
        found = recording_evidence(doc)
        w.evidence.extend(found)
        if not found:
            w.resolved = Resolution(parse_recording(doc), None, self._method(w, mbid), self._score(w, mbid))

    async def _resolve_single(self, w: PassageWork) -> None:
        mbid = w.known_recording()
        if mbid is None or not w.open:
            return
        doc = await self.recording_doc(w, mbid)
        if doc is None:
            return
        votes = [ev for ev in w.evidence if ev.recording_mbid == mbid] + recording_evidence(doc)
        alone = replace(w, evidence=votes, excluded=set())
        ranked = score_releases([alone], self.group, tag_releases=self.tag_releases)
        release = ranked[0].evidence.release_info() if ranked else None
        w.resolved = Resolution(parse_recording(doc), release, self._method(w, mbid), self._score(w, mbid))

    @staticmethod
    def _method(w: PassageWork, mbid: str) -> str:
        return "tags" if mbid == w.tag_recording else "acoustid"

    @staticmethod
    def _score(w: PassageWork, mbid: str) -> float | None:
        return next((c.score for c in w.acoustid or () if c.recording_mbid == mbid), None)

    # --- flavor and art ---------------------------------------------------------------------

    async def _flavors(self) -> None:
        done = [w for w in self.works if w.resolved is not None]
        if not done:
            return
        answers = await self.ident.high_level([w.resolved.recording.mbid for w in done if w.resolved])
        failed: dict[str, tuple[ServiceError, set[str]]] = {}
        for w in done:
            assert w.resolved is not None
            answer = answers.get(w.resolved.recording.mbid)
            pid = w.passage.passage_id
            if isinstance(answer, ServiceError):
                self.flavors[pid] = (None, None, True)
                failed.setdefault(f"{answer.code}:{answer.detail}", (answer, set()))[1].add(w.file.rel_path)
            elif isinstance(answer, BaseException):
                self.flavors[pid] = (None, None, True)
            elif (vector := flavor_vector(answer)) is not None:
                self.flavors[pid] = (vector, "acousticbrainz", False)
            else:
                self.flavors[pid] = (None, "essentia", False)
                self.warn(
                    IdentifyWarning(
                        ErrorCode.ACOUSTICBRAINZ_NO_DATA,
                        f"AcousticBrainz has no data for recording {w.resolved.recording.mbid}; "
                        "the local flavor is kept",
                        w.file.rel_path,
                    )
                )
        for error, paths in failed.values():
            self._failure_once("acousticbrainz", error, paths)

    async def _cover_art(self) -> None:
        if any(f.has_folder_art for f in self.group.files):
            return
        releases = Counter(w.resolved.release.mbid for w in self.works if w.resolved and w.resolved.release)
        if not releases:
            return
        main, count = releases.most_common(1)[0]
        if len(self.works) > 1 and 2 * count <= len(self.works):
            return  # a folder of singles is not one album: the main release needs a majority
        doc = self.docs.get(main)
        missing = IdentifyWarning(
            ErrorCode.MISSING_ALBUM_ART,
            f"no cover art in the folder or the Cover Art Archive ({main})",
            self.folder_path,
        )
        if doc is not None and (doc.cover_art_artwork is False or doc.cover_art_front is False):
            self.warn(missing)  # MusicBrainz already says the archive has no front image
            return
        wanted = {"front", "back"} if self.ident.options.back_cover else {"front"}
        listing = direct_images(main, doc, wanted)  # MusicBrainz's flags name them: no listing needed
        if listing is None:
            try:
                listing = await self.ident.cover_listing(main)
            except ServiceError as exc:
                self.warn(self.ident.failure_warning("coverart", exc, self.folder_path))
                return
            if not any(img.kind == "front" for img in listing):
                self.warn(missing)
        root = self.ident.root_folder
        for img in listing:
            if img.kind not in wanted:
                continue
            rel = f"{self.group.folder}/{main}.{img.kind}.jpg" if self.group.folder else f"{main}.{img.kind}.jpg"
            try:
                dest = resolve_inside_root(root, rel)
            except ValueError:
                continue
            size = image_size(dest) if dest.exists() else None
            if size is not None:
                self.art.append(ArtImage(main, f"album_{img.kind}", rel, size[0], size[1]))
                continue
            try:
                data = await self._cover_image(main, img)
                if data is None:  # the archive's listing has no such image after all
                    if img.kind == "front":
                        self.warn(missing)
                    continue
                jpeg, width, height = await asyncio.to_thread(
                    resize_to_jpeg, data, max_px=self.ident.options.art_max_px
                )
            except ServiceError as exc:
                self.warn(self.ident.failure_warning("coverart", exc, self.folder_path))
                continue
            except ImageRefused as exc:
                self.warn(IdentifyWarning(ErrorCode.COVER_ART_INVALID, f"{img.kind} image: {exc}", rel))
                continue
            self.art.append(ArtImage(main, f"album_{img.kind}", rel, width, height, data=jpeg))

    async def _cover_image(self, main: str, img: CaaImage) -> bytes | None:
        """The image's bytes; a direct address the archive does not know (404) is looked up in the
        release's listing instead (None: the listing has no image of that kind)."""
        try:
            return await self.ident.cover_image(img)
        except NotFound:
            if not img.direct:
                raise
        listed = [i for i in await self.ident.cover_listing(main) if i.kind == img.kind]
        return await self.ident.cover_image(listed[0]) if listed else None

    # --- the result -------------------------------------------------------------------------

    def _result(self) -> AlbumIdentification:
        passages = []
        releases: dict[str, ReleaseInfo] = {}
        for w in self.works:
            p = w.passage
            base = PassageIdentification(
                passage_id=p.passage_id,
                file_id=w.file.file_id,
                rel_path=w.file.rel_path,
                status=PassageStatus.NO_MATCH,
                start_ticks=0,
                end_ticks=p.end_ticks - p.start_ticks,
            )
            if w.resolved is not None:
                res = w.resolved
                rel = res.release
                if rel is not None and rel.mbid in self.docs:
                    rel = self.docs[rel.mbid].info()  # the fetched release knows its track count
                if rel is not None:
                    releases.setdefault(rel.mbid, rel)
                flavor, source, pending = self.flavors.get(p.passage_id, (None, None, False))
                tags = w.file.tags
                passages.append(
                    replace(
                        base,
                        status=PassageStatus.IDENTIFIED,
                        recording=res.recording,
                        release_mbid=rel.mbid if rel else None,
                        method=res.method,
                        score=res.score,
                        flavor=flavor,
                        flavor_source=source,
                        flavor_pending=pending,
                        fill_title=res.recording.title if (not tags.title or not w.single) else None,
                        fill_artist=res.recording.artist_display or None if (not tags.artist or not w.single) else None,
                        fill_album=rel.title if rel and not tags.album else None,
                    )
                )
            elif w.blocked is not None:
                passages.append(replace(base, status=PassageStatus.PENDING, detail=w.blocked))
            else:
                code, message = w.problem or self._no_match(w)
                if not w.quiet:
                    self.warn(IdentifyWarning(code, message, w.file.rel_path))
                passages.append(replace(base, detail=message))
        return AlbumIdentification(
            group_key=self.group.key,
            files=self.group.files,
            passages=tuple(passages),
            releases=tuple(releases.values()),
            art=tuple(self.art),
            warnings=tuple(self.warnings),
            cache=self.ident.drain_cache(),
            candidates=tuple(self.candidates),
        )

    def _no_match(self, w: PassageWork) -> tuple[ErrorCode, str]:
        if w.acoustid == ():
            score = self.ident.options.min_score
            return ErrorCode.ACOUSTID_NO_MATCH, f"no AcoustID match with a score of {score} or more"
        if not w.passage.fingerprint:
            return ErrorCode.FINGERPRINT_FAILED, "no fingerprint, and the tags name no MusicBrainz recording"
        return ErrorCode.MBID_LOOKUP_FAILED, "no MusicBrainz release or recording accounts for this passage"
