"""``POST /analyze/amplitude`` (docs/design.md, *HTTP API*): amplitude analysis of a time range of one file.

The request names a file inside the root folder (absolute, or relative to the root), a range in
seconds and optionally some parameters that override the stored ones for this call only. The
answer is the WKMP API's shape plus what a client needs to use it: the range actually analysed, the
spacing of ``rms_profile`` and any warnings. The work is the same code the import runs
(:func:`wkmp_ai.audio.analyze.analyze_amplitude`), in the import's worker pool.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from wkmp_ai.api.services import Services, get_services
from wkmp_ai.services.analysis import amplitude_of_span

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


@router.post("/analyze/amplitude")
async def amplitude(request: AmplitudeRequest, services: Annotated[Services, Depends(get_services)]) -> dict[str, Any]:
    result = await amplitude_of_span(
        services.imports,
        services.db,
        services.settings.root_folder,
        request.file_path,
        request.start_time,
        request.end_time,
        request.parameters,
    )
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
