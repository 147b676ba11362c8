"""The code stays ruff clean (the style the project agreed on, checked like a test)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing() -> None:
    """`ruff check` reports no problem in router/, tests/ or bench/."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "router", "tests", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
