"""The README's Python code blocks run, and print what they claim."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import tether.testing

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_the_tour_runs_and_prints_the_crash_reason() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(BLOCKS[0], "README-tour", "exec"), {})
    assert out.getvalue().splitlines()[0] == "it died: an exception was raised:"


def test_the_behaviours_example_runs_and_prints_zero() -> None:
    ns: dict[str, object] = {}
    exec(compile(BLOCKS[1], "README-behaviours", "exec"), ns)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tether.testing.run(ns["main"])  # type: ignore[arg-type]
    assert out.getvalue() == "0\n"


def test_the_distribution_example_compiles_and_uses_public_names() -> None:
    # It needs an Elixir node to connect to; tests/distribution runs the same calls
    # against a real one.  Here: it compiles and every name it imports exists.
    src = BLOCKS[2]
    compile(src, "README-distribution", "exec")
    assert "tether.run(main, name=" in src
    for name in ("Atom", "GenServer", "Node", "rpc"):
        assert hasattr(tether, name)
