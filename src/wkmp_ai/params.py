"""Import parameters: their defaults, ranges, validation and the source-media presets.

The 11 amplitude and import parameters plus the segmentation ones (docs/design.md, *Segmentation*). They are
stored as one JSON object under ``settings.key = 'import_parameters'``. Validation is by an
explicit table so that every offending key gets its own message and nothing is saved unless the
whole object is valid.

Source media are a preset, not a second threshold: setting ``source_media`` also sets
``silence_threshold_db`` to the medium's value unless the same update names a threshold itself.
The threshold actually used is always ``silence_threshold_db``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wkmp_ai.errors import Refused

__all__ = [
    "DEFAULTS",
    "PARAMETER_SPECS",
    "SOURCE_MEDIA_THRESHOLDS_DB",
    "ParamSpec",
    "ParameterError",
    "defaults",
    "from_stored",
    "merge_update",
    "validate",
]

SOURCE_MEDIA_THRESHOLDS_DB: dict[str, float] = {
    "cd": -80.0,
    "vinyl": -60.0,
    "cassette_dolby": -70.0,
    "cassette": -50.0,
    "other": -60.0,
}


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: type  # int, float, bool or str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    doc: str = ""

    def check(self, value: Any) -> str | None:
        """Return a message when ``value`` is not acceptable, else None."""
        if self.kind is bool:
            if not isinstance(value, bool):
                return f"{self.name} must be true or false, got {_shown(value)}"
            return None
        if self.kind is str:
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                return f"{self.name} must be one of {', '.join(self.choices or ())}, got {_shown(value)}"
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{self.name} must be a number, got {_shown(value)}"
        if self.kind is int and not isinstance(value, int):
            return f"{self.name} must be an integer, got {_shown(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{self.name} must be finite, got {_shown(value)}"
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            return f"{self.name} must be between {_fmt(self.minimum)} and {_fmt(self.maximum)}, got {_shown(value)}"
        return None


def _shown(value: Any) -> str:
    """A value as the user wrote it (JSON), not as Python would print it; long ones cut short."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


def _fmt(bound: float | None) -> str:
    return "-inf" if bound is None else (str(int(bound)) if float(bound).is_integer() else str(bound))


PARAMETER_SPECS: dict[str, ParamSpec] = {
    spec.name: spec
    for spec in (
        ParamSpec("rms_window_ms", int, 100, 10, 1000, doc="RMS window (ms) for lead-in/lead-out"),
        ParamSpec("lead_in_threshold_db", float, -12.0, -60.0, 0.0, doc="lead-in level, dB below peak RMS"),
        ParamSpec("lead_out_threshold_db", float, -12.0, -60.0, 0.0, doc="lead-out level, dB below peak RMS"),
        ParamSpec(
            "quick_ramp_threshold", float, 0.75, 0.0, 1.0, doc="kept for compatibility (unused by the lead rule)"
        ),
        ParamSpec("quick_ramp_duration_s", float, 1.0, 0.1, 5.0, doc="a ramp faster than this gives lead 0"),
        ParamSpec("max_lead_in_duration_s", float, 5.0, 0.0, 10.0, doc="lead-in clamp (s)"),
        ParamSpec("max_lead_out_duration_s", float, 5.0, 0.0, 10.0, doc="lead-out clamp (s)"),
        ParamSpec("apply_a_weighting", bool, True, doc="A-weight before RMS"),
        ParamSpec("silence_threshold_db", float, -60.0, -100.0, 0.0, doc="silence below this dBFS (RMS)"),
        ParamSpec("min_silence_duration_ms", int, 500, 100, 10000, doc="shortest silence that splits passages"),
        ParamSpec("import_parallelism", int, 4, 1, 16, doc="files analysed at once"),
        ParamSpec(
            "source_media",
            str,
            "other",
            choices=tuple(SOURCE_MEDIA_THRESHOLDS_DB),
            doc="preset that sets silence_threshold_db",
        ),
        ParamSpec("min_passage_duration_s", float, 5.0, 0.0, 600.0, doc="shorter passages merge into a neighbour"),
        ParamSpec("create_album_passage", bool, False, doc="also create a whole-file passage for split files"),
    )
}

DEFAULTS: dict[str, Any] = {name: spec.default for name, spec in PARAMETER_SPECS.items()}


class ParameterError(Refused, ValueError):
    """Raised with one message per offending key (the API answers them as ``errors``)."""

    error = "invalid_parameters"

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()), errors=errors)
        self.errors = errors


def defaults() -> dict[str, Any]:
    return dict(DEFAULTS)


def validate(values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Check ``values`` against the table; return a normalised copy (ints given for floats become floats).

    With ``partial`` the object may omit keys; otherwise every key must be present.
    Raises :class:`ParameterError` naming each unknown, missing, mistyped or out-of-range key.
    """
    if not isinstance(values, Mapping):
        raise ParameterError({"_": "parameters must be a JSON object"})
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key, value in values.items():
        spec = PARAMETER_SPECS.get(key)
        if spec is None:
            errors[key] = f"{key} is not a known parameter"
            continue
        message = spec.check(value)
        if message:
            errors[key] = message
        else:
            clean[key] = float(value) if spec.kind is float else value
    if not partial:
        for key in PARAMETER_SPECS.keys() - values.keys():
            errors[key] = f"{key} is missing"
    if errors:
        raise ParameterError(dict(sorted(errors.items())))
    return clean


def merge_update(current: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a partial ``update`` to ``current`` and return the full, validated result.

    A new ``source_media`` also sets ``silence_threshold_db`` unless the update names one itself.
    """
    clean = validate(update, partial=True)
    merged = {**defaults(), **current, **clean}
    if "source_media" in clean and "silence_threshold_db" not in clean:
        merged["silence_threshold_db"] = SOURCE_MEDIA_THRESHOLDS_DB[clean["source_media"]]
    return validate(merged)


def from_stored(stored: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Rebuild a full parameter object from a stored one: bad or missing keys take defaults.

    Returns the object and one warning per key that was replaced.
    """
    result = defaults()
    warnings: list[str] = []
    for key, value in stored.items():
        spec = PARAMETER_SPECS.get(key)
        if spec is None:
            warnings.append(f"stored parameter {_shown(key)} is unknown and was ignored")
            continue
        message = spec.check(value)
        if message:
            warnings.append(f"stored {message}; using default {_shown(spec.default)}")
        else:
            result[key] = float(value) if spec.kind is float else value
    return result, warnings
