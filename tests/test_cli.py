"""The tether command: run FILE, demo, --version."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tether.__main__ import main


def test_run_file_exit_code_follows_main_exit_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = tmp_path / "ok.py"
    ok.write_text("async def main():\n    print('hi from', __name__)\n")
    assert main(["run", str(ok)]) == 0
    assert capsys.readouterr().out == "hi from __tether_main__\n"
    bad = tmp_path / "bad.py"
    bad.write_text("import tether\nasync def main():\n    tether.exit('boom')\n")
    assert main(["run", str(bad)]) == 1
    assert capsys.readouterr().err == "** (exit) :boom\n"
    assert main(["run", str(tmp_path / "missing.py")]) == 2


def test_version_and_demo_run_as_a_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tether", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout == "tether 0.1.0\n"
    demo = subprocess.run(
        [sys.executable, "-m", "tether", "demo"], capture_output=True, text=True, check=True
    )
    assert "shell process exited with reason: killed" in demo.stdout
    assert demo.stdout.count("# a") == 8
