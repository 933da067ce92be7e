"""The distribution examples run as their docs say and print their transcripts
(examples/distribution/NAME.out); docs/distribution.md walks through them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import need

pytestmark = pytest.mark.timeout(300)

DIR = Path(__file__).parent.parent.parent / "examples" / "distribution"


def _env(epmd_port: int) -> dict[str, str]:
    return {**os.environ, "ERL_EPMD_PORT": str(epmd_port), "TETHER_COOKIE": "example-cookie"}


def test_node_pool_example(epmd_port: int) -> None:
    out = subprocess.run(
        [sys.executable, str(DIR / "node_pool.py")],
        env=_env(epmd_port),
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    assert out.stdout == (DIR / "node_pool.out").read_text()
    assert "peer node(s), one per core" in out.stderr


def test_join_elixir_example(epmd_port: int) -> None:
    elixir = need("elixir")
    env = _env(epmd_port)
    ex = subprocess.Popen(
        [elixir, "--name", "ex@127.0.0.1", "--cookie", "demo", str(DIR / "cluster.exs")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert ex.stdout is not None
        assert ex.stdout.readline() == "ex is up\n"
        out = subprocess.run(
            [sys.executable, str(DIR / "join_elixir.py"), "ex@127.0.0.1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert out.stdout == (DIR / "join_elixir.out").read_text()
        assert ex.wait(timeout=30) == 0
        assert ex.stdout.read() == "python main exited: :normal\n"
    finally:
        ex.kill()
        ex.wait()
