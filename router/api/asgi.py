"""Entry point for the ASGI server: the app built from the environment."""

from __future__ import annotations

from litestar import Litestar

from ..settings import Settings
from .app import create_app


def create() -> Litestar:
    return create_app(Settings.from_env())
