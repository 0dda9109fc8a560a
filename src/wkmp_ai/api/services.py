"""What the routes can reach: built once in the app's lifespan and injected per request."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fastapi import Request

from wkmp_ai.config import Settings
from wkmp_ai.db import Database
from wkmp_ai.ingest.manager import SessionManager
from wkmp_ai.ingest.pipeline import ImportService
from wkmp_ai.services.browse import FolderCounter
from wkmp_ai.services.service_status import ServiceStatus

__all__ = ["Services", "get_services"]


@dataclass
class Services:
    settings: Settings
    db: Database
    imports: ImportService
    started_monotonic: float = field(default_factory=time.monotonic)
    _folder_counter: FolderCounter | None = None
    _service_status: ServiceStatus | None = None

    @property
    def folder_counter(self) -> FolderCounter:
        """The folder browser's counts, kept a minute; its thread starts on first use."""
        if self._folder_counter is None:
            self._folder_counter = FolderCounter()
        return self._folder_counter

    @property
    def service_status(self) -> ServiceStatus:
        if self._service_status is None:
            self._service_status = ServiceStatus(self.settings)
        return self._service_status

    def close(self) -> None:
        if self._folder_counter is not None:
            self._folder_counter.close()

    @property
    def sessions(self) -> SessionManager:
        return self.imports.sessions

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_monotonic


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
