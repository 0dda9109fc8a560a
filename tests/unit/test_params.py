"""Parameter validation: every key checked for type and range, one message per offending key."""

import pytest

from wkmp_ai import params as P


def test_defaults_are_valid_and_complete() -> None:
    values = P.defaults()
    assert P.validate(values) == values
    assert {
        "rms_window_ms",
        "lead_in_threshold_db",
        "lead_out_threshold_db",
        "quick_ramp_threshold",
        "quick_ramp_duration_s",
        "max_lead_in_duration_s",
        "max_lead_out_duration_s",
        "apply_a_weighting",
        "silence_threshold_db",
        "min_silence_duration_ms",
        "import_parallelism",
        "source_media",
        "create_album_passage",
        "min_passage_duration_s",
    } == set(values)
    # the documented defaults (wkmp_ai/params.py)
    assert values["rms_window_ms"] == 100
    assert values["lead_in_threshold_db"] == -12.0
    assert values["quick_ramp_threshold"] == 0.75
    assert values["import_parallelism"] == 4
    assert values["silence_threshold_db"] == -60.0
    assert values["min_silence_duration_ms"] == 500
    assert values["create_album_passage"] is False


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("rms_window_ms", 5),
        ("rms_window_ms", 1001),
        ("lead_in_threshold_db", 0.5),
        ("lead_out_threshold_db", -60.1),
        ("quick_ramp_threshold", 1.5),
        ("quick_ramp_duration_s", 0.05),
        ("max_lead_in_duration_s", 10.5),
        ("max_lead_out_duration_s", -1),
        ("silence_threshold_db", -101),
        ("silence_threshold_db", 1),
        ("min_silence_duration_ms", 50),
        ("import_parallelism", 0),
        ("import_parallelism", 17),
        ("min_passage_duration_s", 601),
    ],
)
def test_out_of_range_is_named(key: str, value: float) -> None:
    with pytest.raises(P.ParameterError) as info:
        P.validate({key: value}, partial=True)
    assert list(info.value.errors) == [key]
    assert "between" in info.value.errors[key]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("rms_window_ms", 100.5),  # int parameter given a fraction
        ("rms_window_ms", "100"),
        ("rms_window_ms", True),  # bool is not a number here
        ("apply_a_weighting", 1),
        ("apply_a_weighting", "yes"),
        ("lead_in_threshold_db", None),
        ("lead_in_threshold_db", float("nan")),
        ("source_media", "tape"),
        ("source_media", 3),
    ],
)
def test_wrong_types_are_named(key: str, value: object) -> None:
    with pytest.raises(P.ParameterError) as info:
        P.validate({key: value}, partial=True)
    assert list(info.value.errors) == [key]


def test_every_offending_key_gets_its_own_message() -> None:
    with pytest.raises(P.ParameterError) as info:
        P.validate(
            {"rms_window_ms": 5, "bogus": 1, "import_parallelism": "4", "lead_in_threshold_db": -10}, partial=True
        )
    assert set(info.value.errors) == {"rms_window_ms", "bogus", "import_parallelism"}
    assert "not a known parameter" in info.value.errors["bogus"]


def test_full_validation_reports_missing_keys() -> None:
    values = P.defaults()
    del values["rms_window_ms"]
    with pytest.raises(P.ParameterError) as info:
        P.validate(values)
    assert info.value.errors == {"rms_window_ms": "rms_window_ms is missing"}


def test_ints_are_accepted_for_floats_and_normalised() -> None:
    clean = P.validate({"lead_in_threshold_db": -10, "max_lead_in_duration_s": 6}, partial=True)
    assert clean == {"lead_in_threshold_db": -10.0, "max_lead_in_duration_s": 6.0}
    assert all(isinstance(v, float) for v in clean.values())


def test_bounds_are_inclusive() -> None:
    P.validate({"rms_window_ms": 10, "import_parallelism": 16, "silence_threshold_db": -100.0}, partial=True)
    P.validate({"rms_window_ms": 1000, "import_parallelism": 1, "silence_threshold_db": 0.0}, partial=True)


def test_merge_update_keeps_other_values() -> None:
    current = {**P.defaults(), "rms_window_ms": 200}
    merged = P.merge_update(current, {"lead_in_threshold_db": -10.0})
    assert merged["rms_window_ms"] == 200
    assert merged["lead_in_threshold_db"] == -10.0


@pytest.mark.parametrize(
    ("medium", "threshold"),
    [("cd", -80.0), ("vinyl", -60.0), ("cassette_dolby", -70.0), ("cassette", -50.0), ("other", -60.0)],
)
def test_source_media_preset_sets_the_silence_threshold(medium: str, threshold: float) -> None:
    merged = P.merge_update({**P.defaults(), "silence_threshold_db": -33.0}, {"source_media": medium})
    assert merged["source_media"] == medium
    assert merged["silence_threshold_db"] == threshold


def test_explicit_threshold_wins_over_the_preset() -> None:
    merged = P.merge_update(P.defaults(), {"source_media": "cd", "silence_threshold_db": -75.0})
    assert merged["silence_threshold_db"] == -75.0


def test_from_stored_replaces_bad_values_with_defaults_and_warns() -> None:
    values, warnings = P.from_stored({"rms_window_ms": 5, "lead_in_threshold_db": -9.0, "junk": 1})
    assert values["rms_window_ms"] == 100
    assert values["lead_in_threshold_db"] == -9.0
    assert len(warnings) == 2


def test_non_object_is_refused() -> None:
    with pytest.raises(P.ParameterError):
        P.validate([1, 2], partial=True)  # type: ignore[arg-type]
