"""HTTP layer: FastAPI routers, security middleware and the app factory. Routes stay thin."""

from wkmp_ai.api.app import create_app

__all__ = ["create_app"]
