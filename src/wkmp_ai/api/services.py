"""What the routes can reach: built once in the app's lifespan and injected per request."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from wkmp_ai.config import Settings
from wkmp_ai.db import Database
from wkmp_ai.ingest.manager import SessionManager

__all__ = ["Services", "get_services"]


@dataclass
class Services:
    settings: Settings
    db: Database
    sessions: SessionManager
    started_monotonic: float = field(default_factory=time.monotonic)
    # Later parts register their long-lived objects here (session manager, clients, pools).
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_monotonic


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
