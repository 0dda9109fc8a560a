"""Identification through AcoustID, MusicBrainz, AcousticBrainz and the Cover Art Archive."""
