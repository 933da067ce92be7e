"""Every check the project runs, in one command (the README's test command, and CI's).

ruff format --check, ruff check, mypy --strict on src/, the docs site (Sphinx, with
warnings as errors, into build/docs), then the whole pytest suite.  Extra arguments
go to pytest.  Exits non-zero when any check fails.

It needs every dependency group: run it as
``uv run --frozen --all-groups python scripts/check.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    # Not all of docs/: ruff would also format the Python blocks inside the Markdown.
    code = ["src", "tests", "examples", "scripts", "bench", "docs/conf.py"]
    steps = [
        ["ruff", "format", "--check", *code],
        ["ruff", "check", *code],
        ["mypy"],
        # -E: read every page again, so a warning of an unchanged page still fails.
        ["sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html", "docs", "build/docs"],
        ["pytest", *argv],
    ]
    for cmd in steps:
        print("$", " ".join(cmd), flush=True)
        rc = subprocess.run([sys.executable, "-m", *cmd], cwd=ROOT, check=False).returncode
        if rc != 0:
            print(f"check failed: {' '.join(cmd)} (exit {rc})", flush=True)
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
