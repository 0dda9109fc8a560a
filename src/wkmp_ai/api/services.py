"""What the routes can reach: built once in the app's lifespan and injected per request."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fastapi import Request

from wkmp_ai.config import Settings
from wkmp_ai.db import Database
from wkmp_ai.ingest.manager import SessionManager
from wkmp_ai.ingest.pipeline import ImportService

__all__ = ["Services", "get_services"]


@dataclass
class Services:
    settings: Settings
    db: Database
    imports: ImportService
    started_monotonic: float = field(default_factory=time.monotonic)

    @property
    def sessions(self) -> SessionManager:
        return self.imports.sessions

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_monotonic


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
