"""Process start-up shared by the commands: a Redis to talk to and a secret to sign with."""

from __future__ import annotations

import os
import secrets
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

from .settings import Settings
from .store.server import shared_server

__all__ = ["ensure_secret", "sigterm_exits", "with_store"]


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


@contextmanager
def with_store(settings: Settings, *, announce: bool = True) -> Iterator[Settings]:
    """`settings` with a Redis URL for the block: REDIS_URL if set, else the data
    directory's one embedded Valkey (used if running, started and later stopped if not)."""
    with sigterm_exits():
        if settings.redis_url:
            yield settings
            return
        with shared_server(Path(settings.data) / "valkey", announce=announce) as url:
            yield msgspec.structs.replace(settings, redis_url=url)


@contextmanager
def sigterm_exits() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the `finally` that stops children and the store
    runs; left at its default, SIGTERM ends the process on the spot and orphans them.
    (uvicorn and RQ catch SIGTERM while they run, then hand it on to this handler.)"""
    try:
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    except ValueError:  # not the main thread: the caller owns signals
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
