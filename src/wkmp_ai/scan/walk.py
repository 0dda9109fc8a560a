"""Walking the folder tree: which files are candidates for the magic-byte check.

Rules (docs/scan.md, *What is skipped*):

- Symbolic links are followed, to files and to folders, but only when their canonical target
  lies inside the root folder; a link leading out is skipped with ``PATH_OUTSIDE_ROOT``.
- Each folder is entered once, recognised by (device, inode). A link back to a folder on the
  current path is a loop (``SYMLINK_LOOP``); a link to a folder walked elsewhere is simply not
  walked twice. A loop therefore costs one stat, however deep it would go.
- Names starting with ``.`` are skipped (dot-files, ``.git``), and so are the folders in
  :data:`SKIPPED_FOLDERS` that file managers, NAS boxes and tools leave behind.
- A name that is not valid UTF-8 cannot be stored in ``files.path`` (TEXT, shared with the other
  WKMP modules), so it is skipped with ``FILE_NAME_NOT_UTF8``, telling the user to rename it.
- A folder that cannot be listed is reported (``DIRECTORY_UNREADABLE``) and the walk goes on.
- The database in the root folder (``wkmp.db`` and its ``-wal``, ``-shm`` and ``-journal``
  files) is never a candidate, not even through a link. Sniffing opens and closes each candidate,
  and closing *any* descriptor of a file drops every POSIX lock this process holds on it: the
  writer's lock on ``wkmp.db-shm`` would go, the next process to open the database (the player,
  a reader) would believe it is the first and reset the shared memory, and the writer would die
  of SIGBUS on its mapping (seen twice in CI before this rule).

Paths are plain strings here: this loop runs once per file of a large library.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from wkmp_ai.config import DB_FILENAME
from wkmp_ai.errors import ErrorCode
from wkmp_ai.records.scan import ScanWarning

__all__ = ["SKIPPED_FOLDERS", "Folder", "Walk", "folder_and_name", "relative_to_root"]

SKIPPED_FOLDERS = frozenset(
    {"node_modules", "@eaDir", "$RECYCLE.BIN", "System Volume Information", "lost+found", "#recycle", "#snapshot"}
)
DATABASE_FILES = frozenset(DB_FILENAME + suffix for suffix in ("", "-wal", "-shm", "-journal"))


@dataclass(frozen=True, slots=True)
class Folder:
    """Regular files found in one folder: its canonical absolute path, its root-relative path
    (``""`` for the root, else ending with ``/``) and the file names. Candidates travel in this
    shape so that the walk builds no string per file."""

    path: str
    rel: str
    names: list[str]


def folder_and_name(rel_path: str) -> tuple[str, str]:
    """``"A/B/x.flac"`` → ``("A/B", "x.flac")``; the root's folder is "". Sorting by it keeps a folder's own
    files together ("A/B.flac", "A/B/x.flac", "A/C.flac" sort apart by path alone)."""
    folder, _, name = rel_path.rpartition("/")
    return folder, name


def relative_to_root(path: str, root: str) -> str | None:
    """``path`` (canonical) relative to ``root`` (canonical) with ``/``; None when outside the root."""
    if path == root:
        return ""
    prefix = root if root.endswith(os.sep) else root + os.sep
    if not path.startswith(prefix):
        return None
    rel = path[len(prefix) :]
    return rel if os.sep == "/" else rel.replace(os.sep, "/")


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Walk:
    """One walk of ``start`` (inside ``root``); iterate :meth:`folders` for the candidates.

    ``warn`` receives every :class:`ScanWarning`; :attr:`unreadable` collects the root-relative
    paths that could not be read (folders end with ``/``).
    """

    def __init__(self, start: str, root: str, warn: Callable[[ScanWarning], None]):
        self.root = os.path.realpath(root)
        self.start = os.path.realpath(start)
        if relative_to_root(self.start, self.root) is None:
            raise ValueError(f"{start} is outside the root folder {self.root}")
        self.warn = warn
        self.unreadable: list[str] = []
        self._visited: set[tuple[int, int]] = set()

    def _rel_dir(self, path: str) -> str:
        rel = relative_to_root(path, self.root) or ""
        return rel + "/" if rel else ""

    def folders(self) -> Iterator[Folder]:
        """Yield the candidate files folder by folder, depth first."""
        try:
            st = os.stat(self.start)
        except OSError as exc:
            self.unreadable.append(self._rel_dir(self.start))
            self.warn(ScanWarning(ErrorCode.DIRECTORY_UNREADABLE, self._rel_dir(self.start), exc.strerror or str(exc)))
            return
        key = (st.st_dev, st.st_ino)
        self._visited.add(key)
        stack: list[tuple[str, str, frozenset[tuple[int, int]]]] = [
            (self.start, self._rel_dir(self.start), frozenset({key}))
        ]
        while stack:
            folder, rel, ancestors = stack.pop()
            files: list[str] = []
            linked: list[Folder] = []
            subfolders: list[tuple[str, str, frozenset[tuple[int, int]]]] = []
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        name = entry.name
                        if name[0] == ".":
                            continue
                        if name.isascii() and entry.is_file(follow_symlinks=False):  # the common case, inline
                            files.append(name)
                        else:
                            self._visit(entry, folder, rel, ancestors, files, linked, subfolders)
            except OSError as exc:
                self.unreadable.append(rel)
                self.warn(ScanWarning(ErrorCode.DIRECTORY_UNREADABLE, rel or "./", exc.strerror or str(exc)))
            if folder == self.root:
                files = [name for name in files if name not in DATABASE_FILES]
            if files:
                yield Folder(folder, rel, files)
            yield from linked
            stack.extend(reversed(subfolders))

    def _visit(
        self,
        entry: os.DirEntry[str],
        folder: str,
        rel: str,
        ancestors: frozenset[tuple[int, int]],
        files: list[str],
        linked: list[Folder],
        subfolders: list[tuple[str, str, frozenset[tuple[int, int]]]],
    ) -> None:
        name = entry.name
        if not _utf8(name):
            shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            self.warn(
                ScanWarning(
                    ErrorCode.FILE_NAME_NOT_UTF8,
                    rel + shown,
                    "name is not valid UTF-8 and cannot be stored; rename it (e.g. convmv -f latin1 -t utf8)",
                )
            )
            return
        if entry.is_symlink():
            self._visit_link(entry, rel + name, ancestors, linked, subfolders)
        elif entry.is_dir(follow_symlinks=False):
            if name in SKIPPED_FOLDERS:
                return
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                self._unreadable(rel + name + "/", exc)
                return
            key = (st.st_dev, st.st_ino)
            if key in self._visited:  # a bind mount showing a folder twice
                return
            self._visited.add(key)
            subfolders.append((folder + os.sep + name, rel + name + "/", ancestors | {key}))
        elif entry.is_file(follow_symlinks=False):
            files.append(name)

    def _visit_link(
        self,
        entry: os.DirEntry[str],
        shown: str,
        ancestors: frozenset[tuple[int, int]],
        linked: list[Folder],
        subfolders: list[tuple[str, str, frozenset[tuple[int, int]]]],
    ) -> None:
        target = os.path.realpath(entry.path)
        target_rel = relative_to_root(target, self.root)
        if target_rel is None:
            self.warn(
                ScanWarning(
                    ErrorCode.PATH_OUTSIDE_ROOT, shown, f"symbolic link leads outside the root folder ({target})"
                )
            )
            return
        try:
            st = os.stat(entry.path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self.warn(ScanWarning(ErrorCode.SYMLINK_LOOP, shown, "symbolic link loop"))
            else:
                self.warn(ScanWarning(ErrorCode.FILE_UNREADABLE, shown, f"broken symbolic link ({exc.strerror})"))
            return
        if stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                self.warn(ScanWarning(ErrorCode.SYMLINK_LOOP, shown, f"symbolic link back to {target_rel or '.'}/"))
            elif key not in self._visited and os.path.basename(target) not in SKIPPED_FOLDERS:
                self._visited.add(key)
                subfolders.append((target, target_rel + "/" if target_rel else "", ancestors | {key}))
        elif stat.S_ISREG(st.st_mode):
            parent, _, name = target.rpartition(os.sep)
            if (parent or os.sep) == self.root and name in DATABASE_FILES:
                return
            parent_rel = target_rel.rpartition("/")[0]
            linked.append(Folder(parent or os.sep, parent_rel + "/" if parent_rel else "", [name]))

    def _unreadable(self, rel: str, exc: OSError) -> None:
        self.unreadable.append(rel)
        self.warn(ScanWarning(ErrorCode.DIRECTORY_UNREADABLE, rel, exc.strerror or str(exc)))
