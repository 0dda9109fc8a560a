"""Choosing and saving the cover art of each scanned file, once per album folder.

Tracks of one folder usually carry the same embedded picture. The picture's SHA-256 identifies
it: the first track of a folder to carry it gets the image file written (``01 Song.jpg``), the
others point at that file. A folder image (``cover.jpg``, ...) serves every track without an
embedded picture; it is used in place when it needs no resizing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from wkmp_ai.errors import ErrorCode, IngestError
from wkmp_ai.records.scan import DiscoveredFile, ScanWarning
from wkmp_ai.scan.art import PreparedArt, find_folder_image, prepare_image, read_image_file
from wkmp_ai.scan.walk import relative_to_root

__all__ = ["ArtChoice", "CoverPlanner"]


@dataclass(frozen=True)
class ArtChoice:
    """The image a file's art points at: root-relative path, pixel size, origin, source SHA-256."""

    path: str
    width: int
    height: int
    source: str  # 'embedded' | 'folder'
    source_hash: str


Lookup = Callable[[str, str], "tuple[str, int, int] | None"]


class CoverPlanner:
    """Decides the art of each file of one scan; remembers what it saved, per folder and picture.

    ``lookup(folder_rel, source_hash)`` finds an image an earlier scan saved in that folder;
    ``save(art, audio_path)`` writes an image beside an audio file and returns the path written
    (the import's :func:`wkmp_ai.ingest.rootfiles.save_beside`: only the import writes into the root).
    """

    def __init__(
        self, root: str, lookup: Lookup, warn: Callable[[ScanWarning], None], save: Callable[[PreparedArt, str], str]
    ):
        self.root = os.path.realpath(root)
        self.lookup = lookup
        self.warn = warn
        self.save = save
        self._saved: dict[tuple[str, str], ArtChoice | None] = {}
        self._folder_art: dict[str, ArtChoice | None] = {}

    def _rel(self, path: str) -> str:
        rel = relative_to_root(path, self.root)
        if rel is None:  # cannot happen for files discovery found; guard the invariant anyway
            raise IngestError(ErrorCode.PATH_OUTSIDE_ROOT, f"{path} is outside the root folder")
        return rel

    def choose(self, found: DiscoveredFile, picture: bytes | None) -> ArtChoice | None:
        """The art for ``found`` given its embedded ``picture`` (or None), saving an image if needed."""
        folder_rel = found.rel_path.rpartition("/")[0]
        folder_rel = folder_rel + "/" if folder_rel else ""
        if picture:
            choice = self._embedded(found, folder_rel, picture)
            if choice is not None:
                return choice
        return self._from_folder(found, folder_rel)

    def _known(self, folder_rel: str, source_hash: str, source: str) -> ArtChoice | None:
        earlier = self.lookup(folder_rel, source_hash)
        if earlier is not None and os.path.isfile(os.path.join(self.root, earlier[0])):
            return ArtChoice(earlier[0], earlier[1], earlier[2], source, source_hash)
        return None

    def _embedded(self, found: DiscoveredFile, folder_rel: str, picture: bytes) -> ArtChoice | None:
        source_hash = hashlib.sha256(picture).hexdigest()
        key = (folder_rel, source_hash)
        if key in self._saved:
            return self._saved[key]
        choice = self._known(folder_rel, source_hash, "embedded")
        if choice is None:
            try:
                art = prepare_image(picture)
                choice = self._save(art, found, "embedded")
            except IngestError as exc:
                self.warn(ScanWarning(exc.code, found.rel_path, f"embedded cover art: {exc.detail}"))
        self._saved[key] = choice
        return choice

    def _from_folder(self, found: DiscoveredFile, folder_rel: str) -> ArtChoice | None:
        folder = found.abs_path.rpartition(os.sep)[0]
        if folder in self._folder_art:
            return self._folder_art[folder]
        choice = None
        image_path = find_folder_image(folder)
        if image_path is not None:
            image_rel = self._rel(image_path)
            try:
                real_path, raw = read_image_file(image_path, self.root)  # inside the root, regular, capped
                art = prepare_image(raw)
                if art.unchanged:
                    choice = ArtChoice(self._rel(real_path), art.width, art.height, "folder", art.source_hash)
                else:
                    choice = self._known(folder_rel, art.source_hash, "folder") or self._save(art, found, "folder")
            except IngestError as exc:
                if exc.code is not ErrorCode.PATH_OUTSIDE_ROOT:  # the walk has reported that link already
                    self.warn(ScanWarning(exc.code, image_rel, f"folder cover art: {exc.detail}"))
        self._folder_art[folder] = choice
        return choice

    def _save(self, art: PreparedArt, found: DiscoveredFile, source: str) -> ArtChoice | None:
        try:
            written = self.save(art, found.abs_path)
        except OSError as exc:
            self.warn(
                ScanWarning(ErrorCode.COVER_ART_INVALID, found.rel_path, f"cannot save cover art: {exc.strerror}")
            )
            return None
        return ArtChoice(self._rel(written), art.width, art.height, source, art.source_hash)
