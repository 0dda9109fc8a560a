"""Conversions between the records of two stages."""

from __future__ import annotations

from wkmp_ai.records.identify import FileTags
from wkmp_ai.records.scan import Tags


def test_file_tags_take_what_identification_uses_and_the_decoded_duration() -> None:
    tags = Tags(
        title="T", artist="A", album="L", album_artist="AA", track_number=3, track_total=9, disc_number=1,
        disc_total=2, date="1999", genre="Rock", duration_s=181.0, musicbrainz_recording_id="rec",
        musicbrainz_release_id="rel", musicbrainz_artist_ids=("a1", "a2"), musicbrainz_albumartist_id="aa",
    )  # fmt: skip
    assert FileTags.from_tags(tags, duration_s=180.25) == FileTags(
        title="T", artist="A", album="L", album_artist="AA", track_number=3, track_total=9, disc_number=1,
        disc_total=2, date="1999", duration_s=180.25, musicbrainz_recording_id="rec",
        musicbrainz_release_id="rel", musicbrainz_artist_ids=("a1", "a2"), musicbrainz_album_artist_ids=("aa",),
    )  # fmt: skip
    assert FileTags.from_tags(Tags(), duration_s=None) == FileTags()
