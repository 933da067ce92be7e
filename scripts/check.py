"""Every check the project runs, in one command (the README's test command, and CI's).

ruff format --check, ruff check, mypy --strict on src/, then the whole pytest suite.
Extra arguments go to pytest.  Exits non-zero when any check fails.
"""

from __future__ import annotations

import subprocess
import sys


def main(argv: list[str]) -> int:
    steps = [
        ["ruff", "format", "--check", "src", "tests", "examples", "scripts", "bench"],
        ["ruff", "check", "src", "tests", "examples", "scripts", "bench"],
        ["mypy"],
        ["pytest", *argv],
    ]
    for cmd in steps:
        print("$", " ".join(cmd), flush=True)
        rc = subprocess.run([sys.executable, "-m", *cmd], check=False).returncode
        if rc != 0:
            print(f"check failed: {' '.join(cmd)} (exit {rc})", flush=True)
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
