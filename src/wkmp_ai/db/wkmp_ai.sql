-- Tables of wkmp-ai's own (DECISIONS.md #1: prefixed wkmp_ai_). Other modules ignore them.
-- Each section belongs to one part of the service; keep them apart.

-- ---------------------------------------------------------------------------------------------
-- Library scan (wkmp_ai.scan, queries in wkmp_ai.db.files): what the scanner knows of each file
-- beyond the shared `files` row. One row per `files` row the scanner has seen; it goes with it.
--   size, mtime_ns  the stat the file had when last read: a rescan re-reads only when they change
--   format          what discovery recognised from the magic bytes (mp3, flac, ogg, opus, m4a, ...)
--   tags            JSON of wkmp_ai.scan.tags.Tags (only the fields the tags filled)
--   art_*           the cover art saved for this file at scan time (REFERENCE.md §7.5):
--                   art_path root-relative, its pixel size, where it came from
--                   ('embedded' | 'folder'), and the SHA-256 of the source picture, by which
--                   tracks of one folder with the same picture share one image file
-- The import session may add columns of its own here (e.g. the hash its analysis was done for).
CREATE TABLE IF NOT EXISTS wkmp_ai_files (
  file_id TEXT PRIMARY KEY REFERENCES files(guid) ON DELETE CASCADE,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  format TEXT NOT NULL,
  tags TEXT,
  art_path TEXT,
  art_width INTEGER,
  art_height INTEGER,
  art_source TEXT,
  art_hash TEXT,
  scanned_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (size >= 0),
  CHECK (art_source IS NULL OR art_source IN ('embedded', 'folder')));
CREATE INDEX IF NOT EXISTS idx_wkmp_ai_files_art_hash ON wkmp_ai_files(art_hash);
-- Files under the scanned folders that are not audio (covers, cue sheets, text), with the stat they
-- had when last read, so that a rescan does not open them again while they stay the same.
CREATE TABLE IF NOT EXISTS wkmp_ai_scan_others (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL);
