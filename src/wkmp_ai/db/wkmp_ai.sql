-- Tables of wkmp-ai's own (docs/design.md, *Database*: prefixed wkmp_ai_). Other modules ignore them.
-- Each section belongs to one part of the service; keep them apart.

-- ---------------------------------------------------------------------------------------------
-- Library scan (wkmp_ai.scan, queries in wkmp_ai.db.files): what the scanner knows of each file
-- beyond the shared `files` row. One row per `files` row the scanner has seen; it goes with it.
--   size, mtime_ns  the stat the file had when last read: a rescan re-reads only when they change
--   format          what discovery recognised from the magic bytes (mp3, flac, ogg, opus, m4a, ...)
--   tags            JSON of wkmp_ai.scan.tags.Tags (only the fields the tags filled)
--   art_*           the cover art saved for this file at scan time (docs/scan.md, *Cover art*):
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

-- ingest: which content of each file has been analysed, and how that ended (docs/import.md).
-- A file is finished when its row here has its current hash: then its passages are in place (or
-- it failed and is skipped until it changes). No row, or another hash, means it still needs work.
CREATE TABLE IF NOT EXISTS wkmp_ai_import_state (
  file_id TEXT PRIMARY KEY REFERENCES files(guid) ON DELETE CASCADE,
  hash TEXT NOT NULL,
  status TEXT NOT NULL,
  error_code TEXT,
  error_message TEXT,
  passages INTEGER NOT NULL DEFAULT 0,
  analysed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (status IN ('analysed', 'failed')),
  CHECK (passages >= 0));

-- identify: identification state and the caches the shared schema cannot hold (docs/identify.md).
-- The request of each file handed to identification (tags, passages, fingerprints), kept until
-- it is identified, so a later run can identify pending files without re-analysing them.
CREATE TABLE IF NOT EXISTS wkmp_ai_identify_files (
  file_id TEXT PRIMARY KEY REFERENCES files(guid) ON DELETE CASCADE,
  group_key TEXT NOT NULL,          -- folder + album tag: the album group it was identified with
  request TEXT NOT NULL,            -- JSON FileToIdentify; fingerprints dropped once identified
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_attempt_at TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (status IN ('pending', 'identified', 'partial', 'no_match')));
CREATE INDEX IF NOT EXISTS idx_wkmp_ai_identify_files_status ON wkmp_ai_identify_files(status);
-- One row per passage handed to identification: what became of it.
CREATE TABLE IF NOT EXISTS wkmp_ai_identify_passages (
  passage_id TEXT PRIMARY KEY REFERENCES passages(guid) ON DELETE CASCADE,
  file_id TEXT NOT NULL REFERENCES files(guid) ON DELETE CASCADE,
  status TEXT NOT NULL,
  recording_mbid TEXT, release_mbid TEXT,
  method TEXT,                      -- tags | acoustid | release-tags/-order/-title | tag_search | name_search | disc_id
  score REAL,                       -- AcoustID score, or the confidence of a tag/name search
  flavor_source TEXT,               -- acousticbrainz | essentia (local flavor kept) | NULL
  flavor_pending INTEGER NOT NULL DEFAULT 0,   -- AcousticBrainz could not be asked yet
  detail TEXT,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (status IN ('pending', 'identified', 'no_match')),
  CHECK (flavor_source IS NULL OR flavor_source IN ('acousticbrainz', 'essentia')),
  CHECK (flavor_pending IN (0, 1)));
CREATE INDEX IF NOT EXISTS idx_wkmp_ai_identify_passages_file ON wkmp_ai_identify_passages(file_id);
-- AcoustID answers with their release evidence, keyed by SHA-256("<duration>:<fingerprint>");
-- results '[]' is a cached no-match (acoustid_cache.recording_mbid is NOT NULL, so it cannot hold one).
CREATE TABLE IF NOT EXISTS wkmp_ai_acoustid_results (
  lookup_key TEXT PRIMARY KEY, results TEXT NOT NULL,
  cached_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
-- Cover Art Archive listings (musicbrainz_cache's entity_type CHECK has no place for them).
CREATE TABLE IF NOT EXISTS wkmp_ai_coverart_cache (
  release_mbid TEXT PRIMARY KEY, images TEXT NOT NULL,   -- JSON [[kind, url], …]
  cached_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
-- Negative answers (404s) of MusicBrainz, AcousticBrainz and the Cover Art Archive.
CREATE TABLE IF NOT EXISTS wkmp_ai_service_misses (
  service TEXT NOT NULL, key TEXT NOT NULL, detail TEXT,
  cached_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (service, key));
-- MusicBrainz search answers (trimmed results, MusicBrainz field names), keyed by
-- "<entity>:<limit>:<Lucene query>"; results '[]' is a search that found nothing (kept 30 days).
-- Disc ID lookups are kept here too, keyed "discid:<Disc ID>:<toc>" (docs/cue.md).
CREATE TABLE IF NOT EXISTS wkmp_ai_search_cache (
  query TEXT PRIMARY KEY, results TEXT NOT NULL,
  cached_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
-- The releases a search by tags and names offered for each file, best first: the chosen one
-- (chosen = 1) and the others, or — below the confidence needed — all of them for the user to
-- choose from (the segment editor's GET /files/{id}/releases). Replaced by each identification
-- that searched for the file.
--   score    confidence 0..1; checked = 1 when the release was fetched and compared track by track,
--            0 when judged from the search answer alone (an upper bound)
--   method   tag_search | name_search (the album or titles came from file and folder names)
CREATE TABLE IF NOT EXISTS wkmp_ai_release_candidates (
  file_id TEXT NOT NULL REFERENCES files(guid) ON DELETE CASCADE,
  rank INTEGER NOT NULL,
  release_mbid TEXT NOT NULL,
  recording_mbid TEXT,
  title TEXT NOT NULL,
  artist TEXT,
  release_date TEXT,
  track_count INTEGER,
  country TEXT,
  kind TEXT,
  score REAL NOT NULL,
  checked INTEGER NOT NULL,
  chosen INTEGER NOT NULL DEFAULT 0,
  method TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (file_id, rank),
  CHECK (rank >= 1),
  CHECK (score >= 0 AND score <= 1),
  CHECK (checked IN (0, 1) AND chosen IN (0, 1)));

-- segment editor (queries in wkmp_ai.db.editor, docs/editor.md).
-- Waveform peaks of each file: int16 (min, max) pairs of the mono mix, one per samples_per_peak
-- samples, made during the import's decode (or on the editor's first request), for the content `hash`.
CREATE TABLE IF NOT EXISTS wkmp_ai_peaks (
  file_id TEXT PRIMARY KEY REFERENCES files(guid) ON DELETE CASCADE,
  hash TEXT NOT NULL,
  sample_rate INTEGER NOT NULL,
  samples_per_peak INTEGER NOT NULL,
  total_samples INTEGER NOT NULL,
  data BLOB NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (sample_rate > 0 AND samples_per_peak > 0 AND total_samples >= 0));
-- The whole-file album passages (db/editor.py counts a file's passages without them).
CREATE INDEX IF NOT EXISTS idx_wkmp_ai_album_passages ON passages(file_id)
  WHERE import_metadata LIKE '{"album_passage": true%';
-- Files whose passages a person has edited: a later import keeps them (and notes the content
-- changed on disk when its hash no longer matches `hash`).
CREATE TABLE IF NOT EXISTS wkmp_ai_file_edits (
  file_id TEXT PRIMARY KEY REFERENCES files(guid) ON DELETE CASCADE,
  hash TEXT NOT NULL,
  edited_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  changed_on_disk INTEGER NOT NULL DEFAULT 0,
  CHECK (changed_on_disk IN (0, 1)));
-- import history (wkmp_ai.services.history, queries in wkmp_ai.db.history): one row per import
-- session, written when it starts and again when it ends, so the wizard lists past imports after a
-- restart. A row left without finished_at was stopped by a crash or kill; it is closed as
-- INTERRUPTED when the service next starts.
--   summary    JSON of ImportSession.summary() at the end
--   attention  JSON {"identified"|"pending"|"no_match"|"failed": {"count", "files": [...]}}: what came out
CREATE TABLE IF NOT EXISTS wkmp_ai_import_history (
  session_id TEXT PRIMARY KEY,
  folder TEXT NOT NULL,             -- root-relative, '' for the root itself
  state TEXT NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP,
  parameters TEXT NOT NULL,         -- JSON of the parameters the import ran with
  summary TEXT,
  attention TEXT);
CREATE INDEX IF NOT EXISTS idx_wkmp_ai_import_history_started ON wkmp_ai_import_history(started_at);
