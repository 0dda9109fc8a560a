"""The public surface of wkmp_ai.identify is what __all__ says it is."""

from __future__ import annotations

import wkmp_ai.identify as identify


def test_every_exported_name_exists_and_nothing_public_is_missing() -> None:
    assert sorted(identify.__all__) == sorted(set(identify.__all__))
    for name in identify.__all__:
        assert hasattr(identify, name), name
    public = {n for n in vars(identify) if not n.startswith("_") and n[0].isupper()}
    modules = {"acousticbrainz", "acoustid", "album", "batch", "cache", "coverart", "evidence", "http"}
    assert public - set(identify.__all__) - modules == set()
