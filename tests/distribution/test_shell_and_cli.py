"""The shell and ``tether run`` as distributed nodes (``iex --name``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from ..conftest import FORKPTY_AFTER_UVLOOP
from .conftest import COOKIE, Peer, unique

pytestmark = [pytest.mark.timeout(120), FORKPTY_AFTER_UVLOOP]


def test_the_shell_as_a_named_node_pings_elixir(ex: Peer, tmp_path: Path) -> None:
    name = unique("sh")
    env = dict(os.environ, HOME=str(tmp_path), TERM="dumb", PYTHONUNBUFFERED="1")
    p = pexpect.spawn(
        sys.executable,
        ["-m", "tether", "--name", name, "--cookie", COOKIE],
        env=env,
        encoding="utf-8",
        timeout=20,
    )
    try:
        prompt = f"tether({name})1> "
        p.expect_exact(prompt)
        p.sendline(f'await Node.ping("{ex.name}")')
        p.expect_exact(f"tether({name})2> ")
        assert ":pong" in str(p.before)
        p.sendline('Node.list("hidden")')
        p.expect_exact(f"tether({name})3> ")
        assert f':"{ex.name}"' in str(p.before)
        p.sendeof()
        p.expect(pexpect.EOF)
    finally:
        p.close(force=True)


def test_tether_run_with_sname(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(
        "import tether\n\nasync def main():\n    print(tether.node().split('@')[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "tether", "--sname", "runner", "--cookie", "c", "run", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (out.returncode, out.stdout) == (0, "runner\n"), out.stderr


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--cookie", "c"], "--cookie needs --name or --sname"),
        (["--name", "a@h", "--sname", "b"], "give --name or --sname, not both"),
        (["--sname", "b@h"], "--sname takes the part before '@'"),
    ],
)
def test_cli_argument_errors(args: list[str], error: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tether", *args, "run", "x.py"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2 and error in out.stderr
