"""The FastAPI application factory.

``create_app(settings)`` builds the app; its lifespan opens the database (creating the schema and
default parameters) and closes it on shutdown. Routers are listed in one place, below.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from wkmp_ai import __version__
from wkmp_ai.api import (
    analyze,
    editor,
    events,
    external,
    folders,
    health,
    history,
    imports,
    pages,
    parameter_schema,
    parameters,
)
from wkmp_ai.api.responses import plain
from wkmp_ai.api.security import SecurityMiddleware
from wkmp_ai.api.services import Services
from wkmp_ai.config import Settings
from wkmp_ai.db import open_database
from wkmp_ai.errors import WkmpError, http_body, http_status
from wkmp_ai.ingest.pipeline import ImportService

__all__ = ["create_app"]

ROUTERS = [health.router, parameters.router, analyze.router, imports.router, events.router, pages.router]
ROUTERS.append(editor.router)  # the segment editor: /files…, /segment-editor
ROUTERS += [folders.router, external.router, history.router, parameter_schema.router]  # the import wizard's


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = open_database(settings.db_path, host=settings.host, port=settings.port)
        import_service = ImportService(settings, db)
        app.state.services = Services(settings=settings, db=db, imports=import_service)
        try:
            yield
        finally:
            await import_service.close()  # cancels a running import at the next file boundary
            app.state.services.close()  # the folder browser's counting thread
            db.close()

    app = FastAPI(
        title="wkmp-ai",
        summary="WKMP Audio Ingest service",
        version=__version__,
        license_info={"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        lifespan=lifespan,
    )
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("wkmp_ai", "web")]), name="static")
    app.add_middleware(
        SecurityMiddleware,
        allowed_hosts=settings.hosts_allowed(),
        cors_origins=settings.ui_origins,
    )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return JSONResponse({"error": "Not Found", "path": request.url.path}, status_code=404)
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"location": ".".join(str(part) for part in err.get("loc", ())), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        message = "; ".join(f"{p['location']}: {p['message']}" for p in problems)
        body = {"error": "invalid_request", "message": message, "errors": problems}
        return JSONResponse(plain(body), status_code=400)

    @app.exception_handler(WkmpError)
    async def our_error(request: Request, exc: WkmpError) -> JSONResponse:
        """The one translation of our errors into HTTP: status by kind and code, one body shape."""
        return JSONResponse(plain(http_body(exc)), status_code=http_status(exc))

    return app
