"""The HTTP edge: Litestar app, controllers, roles, problem+json errors."""

from .app import create_app

__all__ = ["create_app"]
