"""A real `followsun serve` process on a key prefix of its own, with the repository's
schedules loaded, for browser tests (the way tests/test_console_browser.py starts one)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis as redis_sync
from conftest import ROOT, SCHEDULES, SECRET
from test_console_browser import Server, _free_port


@contextmanager
def running_server(redis_url: str, logs: Path, name: str) -> Iterator[Server]:
    """Start the server, wait for /healthz, and on the way out stop it and drop its keys."""
    prefix = f"test-{name}-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "FOLLOWSUN_KEY_PREFIX": prefix,
        "FOLLOWSUN_SCHEDULES": str(SCHEDULES),
        "FOLLOWSUN_SECRET": SECRET,
    }
    loaded = subprocess.run(
        [sys.executable, "-m", "router.cli", "schedules", "load"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with (logs / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "router.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (logs / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server never answered /healthz"
            time.sleep(0.1)
        yield Server(base, prefix, redis_url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        client = redis_sync.Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{prefix}:*", count=1000))
        keys += list(client.scan_iter(f"rq:*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
