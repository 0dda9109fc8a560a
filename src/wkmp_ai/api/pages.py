"""The web pages : ``/`` (start an import) and ``/import-progress`` (follow one).

One small static page does both; it talks to the same JSON API and SSE stream as any client.
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


def _page(services: Services) -> HTMLResponse:
    text = WEB.joinpath("index.html").read_text(encoding="utf-8")
    page = text.replace("{{ROOT}}", html.escape(str(services.settings.root_folder)))
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
    return _page(services)


@router.get("/import-progress")
def import_progress(services: Annotated[Services, Depends(get_services)]) -> HTMLResponse:
    return _page(services)
