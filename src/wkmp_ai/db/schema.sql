-- The shared WKMP schema (docs/design.md, *Database*), created idempotently.
-- Other WKMP modules create the same tables; every statement is IF NOT EXISTS so that whichever
-- module starts first builds them and the others find them. Do not change a column here without
-- changing it in every module.

CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS files (
  guid TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE, hash TEXT NOT NULL,  -- SHA-256; not unique
  duration REAL,                    -- seconds, NULL = not yet scanned
  modification_time TIMESTAMP NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (duration IS NULL OR duration > 0));
CREATE INDEX IF NOT EXISTS idx_files_path ON files(path);
CREATE INDEX IF NOT EXISTS idx_files_hash ON files(hash);
CREATE TABLE IF NOT EXISTS passages (
  guid TEXT PRIMARY KEY,
  file_id TEXT NOT NULL REFERENCES files(guid) ON DELETE CASCADE,
  start_time_ticks INTEGER NOT NULL,
  fade_in_start_ticks INTEGER, lead_in_start_ticks INTEGER,
  lead_out_start_ticks INTEGER, fade_out_start_ticks INTEGER,   -- NULL = global Crossfade Time
  end_time_ticks INTEGER NOT NULL,
  fade_in_curve TEXT, fade_out_curve TEXT,                       -- NULL = global default
  title TEXT, user_title TEXT, artist TEXT, album TEXT,
  musical_flavor_vector TEXT, import_metadata TEXT, additional_metadata TEXT,   -- JSON
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (start_time_ticks >= 0),
  CHECK (end_time_ticks > start_time_ticks),
  CHECK (fade_in_start_ticks IS NULL OR (fade_in_start_ticks >= start_time_ticks AND fade_in_start_ticks <= end_time_ticks)),
  CHECK (lead_in_start_ticks IS NULL OR (lead_in_start_ticks >= start_time_ticks AND lead_in_start_ticks <= end_time_ticks)),
  CHECK (lead_out_start_ticks IS NULL OR (lead_out_start_ticks >= start_time_ticks AND lead_out_start_ticks <= end_time_ticks)),
  CHECK (fade_out_start_ticks IS NULL OR (fade_out_start_ticks >= start_time_ticks AND fade_out_start_ticks <= end_time_ticks)),
  CHECK (fade_in_start_ticks IS NULL OR fade_out_start_ticks IS NULL OR fade_in_start_ticks <= fade_out_start_ticks),
  CHECK (lead_in_start_ticks IS NULL OR lead_out_start_ticks IS NULL OR lead_in_start_ticks <= lead_out_start_ticks),
  CHECK (fade_in_curve IS NULL OR fade_in_curve IN ('exponential', 'cosine', 'linear')),
  CHECK (fade_out_curve IS NULL OR fade_out_curve IN ('logarithmic', 'cosine', 'linear')));
CREATE INDEX IF NOT EXISTS idx_passages_file_id ON passages(file_id);
CREATE INDEX IF NOT EXISTS idx_passages_title ON passages(title);
CREATE TABLE IF NOT EXISTS songs (
  guid TEXT PRIMARY KEY, recording_mbid TEXT NOT NULL,
  work_id TEXT,                     -- described as FK to works; no REFERENCES given
  related_songs TEXT,               -- JSON array of song guids, most→least related
  lyrics TEXT,
  base_probability REAL NOT NULL DEFAULT 1.0,
  min_cooldown INTEGER NOT NULL DEFAULT 604800,
  ramping_cooldown INTEGER NOT NULL DEFAULT 1209600,
  last_played_at TIMESTAMP,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (base_probability >= 0.0 AND base_probability <= 1000.0),
  CHECK (min_cooldown >= 0), CHECK (ramping_cooldown >= 0));
CREATE INDEX IF NOT EXISTS idx_songs_recording_mbid ON songs(recording_mbid);
CREATE INDEX IF NOT EXISTS idx_songs_last_played ON songs(last_played_at);
CREATE TABLE IF NOT EXISTS artists (
  guid TEXT PRIMARY KEY, artist_mbid TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  base_probability REAL NOT NULL DEFAULT 1.0,
  min_cooldown INTEGER NOT NULL DEFAULT 7200, ramping_cooldown INTEGER NOT NULL DEFAULT 14400,
  last_played_at TIMESTAMP,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (base_probability >= 0.0 AND base_probability <= 1000.0),
  CHECK (min_cooldown >= 0), CHECK (ramping_cooldown >= 0));
CREATE INDEX IF NOT EXISTS idx_artists_mbid ON artists(artist_mbid);
CREATE INDEX IF NOT EXISTS idx_artists_last_played ON artists(last_played_at);
CREATE TABLE IF NOT EXISTS works (
  guid TEXT PRIMARY KEY, work_mbid TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
  base_probability REAL NOT NULL DEFAULT 1.0,
  min_cooldown INTEGER NOT NULL DEFAULT 259200, ramping_cooldown INTEGER NOT NULL DEFAULT 604800,
  last_played_at TIMESTAMP,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (base_probability >= 0.0 AND base_probability <= 1000.0),
  CHECK (min_cooldown >= 0), CHECK (ramping_cooldown >= 0));
CREATE INDEX IF NOT EXISTS idx_works_mbid ON works(work_mbid);
CREATE INDEX IF NOT EXISTS idx_works_last_played ON works(last_played_at);
CREATE TABLE IF NOT EXISTS albums (
  guid TEXT PRIMARY KEY,
  album_mbid TEXT NOT NULL UNIQUE,  -- MB Release ID
  title TEXT NOT NULL,
  release_date TEXT,                -- ISO 8601
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX IF NOT EXISTS idx_albums_mbid ON albums(album_mbid);
CREATE TABLE IF NOT EXISTS images (
  guid TEXT PRIMARY KEY, file_path TEXT NOT NULL, image_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,          -- entity guid, no FK; 'wkmp' for logo
  priority INTEGER NOT NULL DEFAULT 100,
  width INTEGER, height INTEGER,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (image_type IN ('album_front', 'album_back', 'album_liner', 'song', 'passage', 'artist', 'work', 'logo')),
  CHECK (priority >= 0));
CREATE INDEX IF NOT EXISTS idx_images_entity ON images(entity_id, image_type, priority);
CREATE INDEX IF NOT EXISTS idx_images_type ON images(image_type);
CREATE TABLE IF NOT EXISTS passage_songs (
  passage_id TEXT NOT NULL REFERENCES passages(guid) ON DELETE CASCADE,
  song_id TEXT NOT NULL REFERENCES songs(guid) ON DELETE CASCADE,
  start_time_ticks INTEGER NOT NULL, end_time_ticks INTEGER NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (passage_id, song_id),
  CHECK (start_time_ticks >= 0), CHECK (end_time_ticks > start_time_ticks));
CREATE INDEX IF NOT EXISTS idx_passage_songs_passage ON passage_songs(passage_id);
CREATE INDEX IF NOT EXISTS idx_passage_songs_song ON passage_songs(song_id);
CREATE INDEX IF NOT EXISTS idx_passage_songs_timing ON passage_songs(passage_id, start_time_ticks);
CREATE TABLE IF NOT EXISTS song_artists (
  song_id TEXT NOT NULL REFERENCES songs(guid) ON DELETE CASCADE,
  artist_id TEXT NOT NULL REFERENCES artists(guid) ON DELETE CASCADE,
  weight REAL NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (song_id, artist_id), CHECK (weight > 0.0 AND weight <= 1.0));
CREATE INDEX IF NOT EXISTS idx_song_artists_song ON song_artists(song_id);
CREATE INDEX IF NOT EXISTS idx_song_artists_artist ON song_artists(artist_id);
CREATE TABLE IF NOT EXISTS passage_albums (
  passage_id TEXT NOT NULL REFERENCES passages(guid) ON DELETE CASCADE,
  album_id TEXT NOT NULL REFERENCES albums(guid) ON DELETE CASCADE,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (passage_id, album_id));
CREATE INDEX IF NOT EXISTS idx_passage_albums_passage ON passage_albums(passage_id);
CREATE INDEX IF NOT EXISTS idx_passage_albums_album ON passage_albums(album_id);
CREATE TABLE IF NOT EXISTS song_works (
  song_id TEXT NOT NULL REFERENCES songs(guid) ON DELETE CASCADE,
  work_id TEXT NOT NULL REFERENCES works(guid) ON DELETE CASCADE,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (song_id, work_id));
CREATE INDEX IF NOT EXISTS idx_song_works_song ON song_works(song_id);
CREATE INDEX IF NOT EXISTS idx_song_works_work ON song_works(work_id);
CREATE TABLE IF NOT EXISTS acoustid_cache (
  fingerprint TEXT PRIMARY KEY, recording_mbid TEXT NOT NULL, confidence REAL,
  cached_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX IF NOT EXISTS idx_acoustid_fingerprint ON acoustid_cache(fingerprint);
CREATE TABLE IF NOT EXISTS musicbrainz_cache (
  mbid TEXT PRIMARY KEY, entity_type TEXT NOT NULL,
  metadata TEXT NOT NULL,           -- JSON
  cached_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (entity_type IN ('recording', 'release', 'artist', 'work')));
CREATE INDEX IF NOT EXISTS idx_musicbrainz_mbid ON musicbrainz_cache(mbid);
CREATE INDEX IF NOT EXISTS idx_musicbrainz_type ON musicbrainz_cache(entity_type);
CREATE TABLE IF NOT EXISTS acousticbrainz_cache (
  recording_mbid TEXT PRIMARY KEY, high_level_data TEXT NOT NULL,
  cached_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX IF NOT EXISTS idx_acousticbrainz_mbid ON acousticbrainz_cache(recording_mbid);
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY, value TEXT NOT NULL,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS module_config (
  module_name TEXT PRIMARY KEY, host TEXT NOT NULL, port INTEGER NOT NULL,
  enabled BOOLEAN NOT NULL DEFAULT 1,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (module_name IN ('audio_player', 'user_interface', 'program_director', 'audio_ingest', 'lyric_editor')),
  CHECK (port > 0 AND port <= 65535));
CREATE INDEX IF NOT EXISTS idx_module_config_name ON module_config(module_name);

-- updated_at follows every UPDATE that does not set it itself.
CREATE TRIGGER IF NOT EXISTS trg_files_updated_at AFTER UPDATE ON files
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN UPDATE files SET updated_at = CURRENT_TIMESTAMP WHERE guid = OLD.guid; END;

CREATE TRIGGER IF NOT EXISTS trg_passages_updated_at AFTER UPDATE ON passages
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN UPDATE passages SET updated_at = CURRENT_TIMESTAMP WHERE guid = OLD.guid; END;

CREATE TRIGGER IF NOT EXISTS trg_songs_updated_at AFTER UPDATE ON songs
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN UPDATE songs SET updated_at = CURRENT_TIMESTAMP WHERE guid = OLD.guid; END;

CREATE TRIGGER IF NOT EXISTS trg_artists_updated_at AFTER UPDATE ON artists
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN UPDATE artists SET updated_at = CURRENT_TIMESTAMP WHERE guid = OLD.guid; END;

CREATE TRIGGER IF NOT EXISTS trg_works_updated_at AFTER UPDATE ON works
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN UPDATE works SET updated_at = CURRENT_TIMESTAMP WHERE guid = OLD.guid; END;

CREATE TRIGGER IF NOT EXISTS trg_albums_updated_at AFTER UPDATE ON albums
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN UPDATE albums SET updated_at = CURRENT_TIMESTAMP WHERE guid = OLD.guid; END;

CREATE TRIGGER IF NOT EXISTS trg_images_updated_at AFTER UPDATE ON images
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN UPDATE images SET updated_at = CURRENT_TIMESTAMP WHERE guid = OLD.guid; END;

CREATE TRIGGER IF NOT EXISTS trg_settings_updated_at AFTER UPDATE ON settings
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN UPDATE settings SET updated_at = CURRENT_TIMESTAMP WHERE key = OLD.key; END;

CREATE TRIGGER IF NOT EXISTS trg_module_config_updated_at AFTER UPDATE ON module_config
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN UPDATE module_config SET updated_at = CURRENT_TIMESTAMP WHERE module_name = OLD.module_name; END;
