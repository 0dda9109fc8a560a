"""``POST /analyze/amplitude`` (REFERENCE.md §3): amplitude analysis of a time range of one file.

The request names a file inside the root folder (absolute, or relative to the root), a range in
seconds and optionally some parameters that override the stored ones for this call only. The
answer is IMPL008's shape plus what a client needs to use it: the range actually analysed, the
spacing of ``rms_profile`` and any warnings. The work is the same code the import runs
(:func:`wkmp_ai.audio.analyze.analyze_amplitude`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wkmp_ai import params as P
from wkmp_ai.api.responses import error_response, invalid_parameters, parameters_with
from wkmp_ai.api.services import Services, get_services
from wkmp_ai.config import resolve_inside_root
from wkmp_ai.errors import ErrorCode, IngestError, Severity, plain_message

router = APIRouter(tags=["analyze"])


MAX_TIME_S = 604_800.0  # a week: any longer time is not in a file we import


class AmplitudeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt key must not be ignored silently

    file_path: str = Field(description="audio file inside the root folder; absolute or relative to the root")
    start_time: float = Field(
        0.0, ge=0.0, le=MAX_TIME_S, allow_inf_nan=False, description="seconds from the start of the file"
    )
    end_time: float | None = Field(
        None, gt=0.0, le=MAX_TIME_S, allow_inf_nan=False, description="seconds from the start; omitted = end of file"
    )
    parameters: dict[str, Any] = Field(default_factory=dict, description="overrides of the stored parameters")


@router.post("/analyze/amplitude", response_model=None)
def amplitude(
    request: AmplitudeRequest, services: Annotated[Services, Depends(get_services)]
) -> dict[str, Any] | JSONResponse:
    root = services.settings.root_folder
    try:
        path = resolve_inside_root(root, request.file_path)
    except ValueError as exc:
        return error_response(400, ErrorCode.PATH_OUTSIDE_ROOT.value, str(exc))
    try:
        if not path.is_file():
            return error_response(404, "not_found", f"no such file: {request.file_path}")
    except OSError as exc:
        return error_response(400, "invalid_request", f"{request.file_path}: {plain_message(exc)}")
    try:
        params = parameters_with(services, request.parameters)
    except P.ParameterError as exc:
        return invalid_parameters(exc)
    from wkmp_ai.audio.analyze import analyze_amplitude  # the audio stack loads on first use only

    try:
        result = analyze_amplitude(path, request.start_time, request.end_time, params)
    except ValueError as exc:
        return error_response(400, "invalid_request", str(exc))
    except IngestError as exc:
        status = 422 if exc.severity is Severity.SKIP_FILE else 500
        return error_response(status, exc.code.value, exc.detail)
    return {
        "file_path": request.file_path,
        "start_time": result.start_s,
        "end_time": result.end_s,
        "peak_rms": result.peak_rms,
        "lead_in_duration": result.lead_in_s,
        "lead_out_duration": result.lead_out_s,
        "quick_ramp_up": result.quick_ramp_up,
        "quick_ramp_down": result.quick_ramp_down,
        "rms_profile": list(result.rms_profile),
        "rms_profile_interval_s": result.rms_profile_interval_s,
        "warnings": [w.to_json() for w in result.warnings],
        "analyzed_at": result.analyzed_at,
    }
