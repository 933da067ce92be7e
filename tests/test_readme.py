"""The README's Python code blocks run, and print what they claim."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import tether.testing

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def block(marker: str) -> str:
    """The one README block that contains ``marker``."""
    [found] = [b for b in BLOCKS if marker in b]
    return found


def test_the_tour_runs_and_prints_the_crash_reason() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block("async def crashy"), "README-tour", "exec"), {})
    assert out.getvalue().splitlines()[0] == "it died: an exception was raised:"


def test_the_behaviours_example_runs_and_prints_zero() -> None:
    ns: dict[str, object] = {}
    exec(compile(block("class Counter(GenServer)"), "README-behaviours", "exec"), ns)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tether.testing.run(ns["main"])  # type: ignore[arg-type]
    assert out.getvalue() == "0\n"


def test_the_distribution_example_compiles_and_uses_public_names() -> None:
    # It needs an Elixir node to connect to; tests/distribution runs the same calls
    # against a real one.  Here: it compiles and every name it imports exists.
    src = block("rpc.expose")
    compile(src, "README-distribution", "exec")
    assert "tether.run(main, name=" in src
    for name in ("Atom", "GenServer", "Node", "rpc"):
        assert hasattr(tether, name)


def test_the_asyncio_fragment_is_the_one_the_asyncio_guide_runs() -> None:
    # The README shows three lines of docs/asyncio.md's program, which runs (with
    # its output) in test_doc_blocks; here: they compile in an async function and
    # are that program's lines.
    src = block("tether.open_node()")
    compile(
        "async def _f():\n" + "".join("    " + ln + "\n" for ln in src.splitlines()),
        "README-asyncio",
        "exec",
    )
    guide = (Path(__file__).resolve().parent.parent / "docs" / "asyncio.md").read_text()
    for line in src.splitlines():
        code = line.split("#")[0].strip()
        assert code and code in guide, code
