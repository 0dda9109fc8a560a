"""Import sessions: the per-file pipeline, its workers, the single writer and progress events."""
