"""The web pages: ``/`` (the import wizard) and ``/import-progress`` (one import,
live). Plain HTML with JavaScript modules under ``wkmp_ai/web``; they use the same JSON API and SSE
stream as any client.
"""

from __future__ import annotations

import html
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from wkmp_ai.api.services import Services, get_services

router = APIRouter(include_in_schema=False)
WEB = resources.files("wkmp_ai.web")


def _page(services: Services, name: str) -> HTMLResponse:
    text = WEB.joinpath(name).read_text(encoding="utf-8")
    ui = services.settings.ui_origins[0] if services.settings.ui_origins else "http://localhost:5720"
    page = text.replace("{{ROOT}}", html.escape(str(services.settings.root_folder))).replace(
        "{{UI_URL}}", html.escape(ui)
    )
    return HTMLResponse(
        page,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
        },
    )


@router.get("/")
def index(services: Annotated[Services, Depends(get_services)]) -> HTMLResponse:
    return _page(services, "wizard.html")


@router.get("/import-progress")
def import_progress(services: Annotated[Services, Depends(get_services)]) -> HTMLResponse:
    return _page(services, "progress.html")
