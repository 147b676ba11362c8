"""Process start-up shared by the commands: a Redis to talk to and a secret to sign with."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import msgspec

from .settings import Settings
from .store.server import EmbeddedValkey

__all__ = ["ensure_redis", "ensure_secret"]


def ensure_secret(settings: Settings) -> Settings:
    """FOLLOWSUN_SECRET, or one kept in the data directory so tokens survive restarts."""
    if settings.secret:
        return settings
    path = Path(settings.data) / "secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return msgspec.structs.replace(settings, secret=path.read_text().strip())


def ensure_redis(settings: Settings) -> tuple[Settings, EmbeddedValkey | None]:
    """REDIS_URL if set; otherwise start the embedded Valkey with its data under FOLLOWSUN_DATA."""
    if settings.redis_url:
        return settings, None
    server = EmbeddedValkey(Path(settings.data) / "valkey")
    url = server.start()
    return msgspec.structs.replace(settings, redis_url=url), server
