"""Re-record etf_samples.txt from a real erl: ``python -m tests.distribution.record_etf``."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).parent


def record() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["erlc", "-o", tmp, str(HERE / "etf_samples.erl")], check=True)
        out = subprocess.run(
            ["erl", "-noshell", "-pa", tmp, "-s", "etf_samples", "main"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return out


if __name__ == "__main__":
    (HERE / "etf_samples.txt").write_text(record())
