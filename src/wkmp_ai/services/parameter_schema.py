"""What the wizard shows of the import parameters: each one's type, unit, range, default and meaning,
the source-media presets and the genre presets (``GET /parameters/schema``).

The genre presets are those of AMP-PARAM-020 (docs/import.md, *Parameters*); the keys a preset does
not name keep their current values. A preset is applied with ``POST /parameters/global`` like any
other change, so it is validated and saved the same way.
"""

from __future__ import annotations

from typing import Any

from wkmp_ai import params as P

__all__ = ["GENRE_PRESETS", "parameter_schema"]

GENRE_PRESETS: dict[str, dict[str, Any]] = {
    "classical": {
        "rms_window_ms": 200,
        "lead_in_threshold_db": -15.0,
        "lead_out_threshold_db": -15.0,
        "quick_ramp_duration_s": 2.0,
        "max_lead_in_duration_s": 5.0,
        "max_lead_out_duration_s": 5.0,
        "silence_threshold_db": -80.0,
    },
    "rock_pop": {
        "rms_window_ms": 50,
        "lead_in_threshold_db": -8.0,
        "lead_out_threshold_db": -8.0,
        "quick_ramp_duration_s": 0.5,
        "max_lead_in_duration_s": 2.0,
        "max_lead_out_duration_s": 2.0,
        "silence_threshold_db": -60.0,
    },
    "electronic_ambient": {
        "rms_window_ms": 250,
        "lead_in_threshold_db": -18.0,
        "lead_out_threshold_db": -18.0,
        "quick_ramp_duration_s": 3.0,
        "max_lead_in_duration_s": 8.0,
        "max_lead_out_duration_s": 8.0,
        "silence_threshold_db": -70.0,
    },
}
GENRE_LABELS = {"classical": "Classical", "rock_pop": "Rock / Pop", "electronic_ambient": "Electronic / Ambient"}
MEDIA_LABELS = {
    "cd": "CD",
    "vinyl": "Vinyl",
    "cassette_dolby": "Cassette with Dolby",
    "cassette": "Cassette without Dolby",
    "other": "Other / mixed",
}
LABELS = {
    "rms_window_ms": "Loudness window",
    "lead_in_threshold_db": "Lead-in level",
    "lead_out_threshold_db": "Lead-out level",
    "quick_ramp_threshold": "Quick-ramp level",
    "quick_ramp_duration_s": "Quick-ramp duration",
    "max_lead_in_duration_s": "Longest lead-in",
    "max_lead_out_duration_s": "Longest lead-out",
    "apply_a_weighting": "A-weighting",
    "silence_threshold_db": "Silence threshold",
    "min_silence_duration_ms": "Shortest silence between tracks",
    "import_parallelism": "Files analysed at once",
    "source_media": "Source media",
    "min_passage_duration_s": "Shortest passage",
    "create_album_passage": "Whole-file passage too",
}


HELP = {
    "rms_window_ms": "How long a slice of sound the loudness is measured over. Longer smooths out drum hits.",
    "lead_in_threshold_db": "A track's lead-in ends where it first gets this loud, relative to its loudest part.",
    "lead_out_threshold_db": "A track's lead-out starts where it last is this loud, relative to its loudest part.",
    "quick_ramp_threshold": "Kept for compatibility with older settings; the analysis does not use it.",
    "quick_ramp_duration_s": "A track that gets loud faster than this starts right away (no lead-in).",
    "max_lead_in_duration_s": "The lead-in is never longer than this.",
    "max_lead_out_duration_s": "The lead-out is never longer than this.",
    "apply_a_weighting": "Weigh frequencies as the ear does before measuring loudness.",
    "silence_threshold_db": "Quieter than this counts as silence between tracks (set by the source media).",
    "min_silence_duration_ms": "A silence must last this long to split a file into separate tracks.",
    "import_parallelism": "More is faster on a machine with many cores; never more than its cores are used.",
    "source_media": "Where the recordings come from; sets the silence threshold.",
    "min_passage_duration_s": "A piece shorter than this is joined to its neighbour.",
    "create_album_passage": "For a file split into several tracks, also keep one passage for the whole file.",
}


def _unit(name: str) -> str | None:
    for suffix, unit in (("_ms", "ms"), ("_db", "dB"), ("_s", "s")):
        if name.endswith(suffix):
            return unit
    return "files" if name == "import_parallelism" else None


def _step(spec: P.ParamSpec) -> float | None:
    if spec.kind is int:
        return 1
    if spec.kind is float:
        return 0.01 if spec.maximum is not None and spec.maximum <= 1.0 and spec.minimum == 0.0 else 0.1
    return None


def parameter_schema() -> dict[str, Any]:
    parameters = [
        {
            "name": spec.name,
            "label": LABELS.get(spec.name, spec.name),
            "type": {int: "integer", float: "number", bool: "boolean", str: "string"}[spec.kind],
            "unit": _unit(spec.name),
            "minimum": spec.minimum,
            "maximum": spec.maximum,
            "step": _step(spec),
            "choices": list(spec.choices) if spec.choices else None,
            "default": spec.default,
            "description": HELP.get(spec.name, spec.doc),
        }
        for spec in P.PARAMETER_SPECS.values()
    ]
    return {
        "parameters": parameters,
        "source_media": [
            {"name": name, "label": MEDIA_LABELS[name], "silence_threshold_db": db}
            for name, db in P.SOURCE_MEDIA_THRESHOLDS_DB.items()
        ],
        "genre_presets": [
            {"name": name, "label": GENRE_LABELS[name], "values": values} for name, values in GENRE_PRESETS.items()
        ],
        "defaults": P.defaults(),
    }
