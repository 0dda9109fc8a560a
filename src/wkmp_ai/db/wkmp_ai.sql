-- Tables of wkmp-ai's own (DECISIONS.md #1: prefixed wkmp_ai_). Other modules ignore them.
-- Each section belongs to one part of the service; keep them apart.

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
  method TEXT,                      -- tags | acoustid | release-tags | release-order | release-title
  score REAL,                       -- AcoustID score when AcoustID found it
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
