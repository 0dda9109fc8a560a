-- Tables of wkmp-ai's own (DECISIONS.md #1: prefixed wkmp_ai_). Other modules ignore them.
-- Each section belongs to one part of the service; keep them apart.

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
