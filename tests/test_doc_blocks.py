"""Every Python block in the docs (docs/*.md, README.md) runs, and prints what the page shows.

How a page's ```` ```python ```` blocks run: in page order, in one namespace per page
(a later block may use what an earlier one defined), stdout captured.

* A block that calls ``tether.run(...)`` is a whole program: it runs as written,
  except that ``tether.run`` is ``tether.testing.run`` for the occasion (a fresh node
  on the virtual clock: no real waiting, the same pids every time).
* A block that defines ``async def main()`` and does not run it (with ``tether.run``
  or ``asyncio.run``): it is defined, then ``main`` runs as the first process of a
  fresh node (``tether.testing.run``).
* A block that calls ``asyncio.run(...)`` (a program with its own event loop, which
  may embed a node with ``tether.open_node``) runs as written, on the real clock.
* A block with a top-level ``await`` (a shell-like session) runs inside a process
  of a fresh node.
* Any other block is executed as it is.

Markers, on the line just before a block's opening fence (HTML comments, invisible
when the page is shown):

* ``<!-- not run: REASON -->`` before a python block that is a fragment or needs
  what the suite cannot give it here (an Elixir node, a file it names); the reason
  is required and is shown in the failure list when missing.
* ``<!-- output -->`` before a ```` ```text ```` block that follows a python block:
  that block's stdout must be exactly this text.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import tether
import tether.testing

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md"])
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.M | re.S)
MARKER = re.compile(r"<!--\s*(not run|output)\s*(?::\s*(.*?))?\s*-->\s*\Z", re.S)


@dataclass
class Block:
    page: str
    line: int
    lang: str
    code: str
    marker: str | None  # "not run" or "output"
    reason: str


def blocks(path: Path) -> list[Block]:
    text = path.read_text()
    found = []
    for m in FENCE.finditer(text):
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        mk = MARKER.search(before)
        found.append(
            Block(
                page=path.relative_to(ROOT).as_posix(),
                line=text.count("\n", 0, m.start()) + 1,
                lang=m.group(1).strip(),
                code=m.group(2),
                marker=mk.group(1) if mk else None,
                reason=(mk.group(2) or "").strip() if mk else "",
            )
        )
    return found


def python_pages() -> list[str]:
    """The pages with at least one python block to run."""
    return [
        p.relative_to(ROOT).as_posix()
        for p in PAGES
        if any(b.lang == "python" and b.marker != "not run" for b in blocks(p))
    ]


def _run_testing(main: Callable[..., Coroutine[Any, Any, Any]], *args: Any, **kw: Any) -> Any:
    return tether.testing.run(main, *args, **kw)


def run_block(block: Block, ns: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    """Run one block in ``ns`` as the module docstring says; return its stdout."""
    code = compile(
        block.code,
        f"{block.page}:{block.line}",
        "exec",
        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        dont_inherit=True,
    )
    out = io.StringIO()
    with monkeypatch.context() as mp, contextlib.redirect_stdout(out):
        mp.setattr(tether, "run", _run_testing)
        if code.co_flags & inspect.CO_COROUTINE:

            async def session() -> None:
                await eval(code, ns)

            tether.testing.run(session)
        else:
            exec(code, ns)
            if (
                re.search(r"^async def main\(", block.code, re.M)
                and "tether.run(" not in block.code
                and "asyncio.run(" not in block.code
            ):
                tether.testing.run(ns["main"])
    return out.getvalue()


@pytest.mark.parametrize("page", python_pages())
def test_every_python_block_of_the_page_runs_and_prints_what_the_page_shows(
    page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns: dict[str, Any] = {"__name__": "__docs__"}
    page_blocks = blocks(ROOT / page)
    for i, block in enumerate(page_blocks):
        if block.lang != "python" or block.marker == "not run":
            continue
        out = run_block(block, ns, monkeypatch)
        nxt = page_blocks[i + 1] if i + 1 < len(page_blocks) else None
        if nxt is not None and nxt.marker == "output":
            assert out == nxt.code, f"{page}:{block.line} printed something else"


def test_every_marker_is_well_formed() -> None:
    # A "not run" block says why; an output block is text, right after a python block.
    problems = []
    for path in PAGES:
        page_blocks = blocks(path)
        for i, b in enumerate(page_blocks):
            where = f"{b.page}:{b.line}"
            if b.marker == "not run" and (b.lang != "python" or len(b.reason.split()) < 3):
                problems.append(f"{where}: 'not run' needs a python block and a reason")
            if b.marker == "output" and (
                b.lang != "text" or i == 0 or page_blocks[i - 1].lang != "python"
            ):
                problems.append(f"{where}: an output block is text after a python block")
    assert problems == []


def test_the_tutorial_shows_the_output_of_every_program() -> None:
    tutorial = blocks(ROOT / "docs/tutorial.md")
    programs = [i for i, b in enumerate(tutorial) if b.lang == "python"]
    assert len(programs) == 8
    for i in programs:
        assert tutorial[i].marker is None, tutorial[i].line
        assert "tether.run(main)" in tutorial[i].code, tutorial[i].line
        assert tutorial[i + 1].marker == "output", tutorial[i].line


def test_a_block_that_fails_fails_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    # The runner itself: an exception in a block, or a block left waiting, is reported.
    ns: dict[str, Any] = {}
    crash = Block("x.md", 1, "python", "1 / 0\n", None, "")
    with pytest.raises(ZeroDivisionError):
        run_block(crash, ns, monkeypatch)
    stuck = Block("x.md", 2, "python", "await tether.receive()\n", None, "")
    ns["tether"] = tether
    with pytest.raises(tether.testing.DeadlockError):
        run_block(stuck, ns, monkeypatch)
    program = Block(
        "x.md",
        3,
        "python",
        "import tether\nasync def main():\n    print(tether.self())\ntether.run(main)\n",
        None,
        "",
    )
    assert re.fullmatch(r"#PID<0\.\d+\.0>\n", run_block(program, ns, monkeypatch))


def test_an_asyncio_run_program_runs_once_on_its_own_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # Its main is not also run as a process: it prints once, with no node around it.
    program = Block(
        "x.md",
        1,
        "python",
        "import asyncio\nimport tether\nasync def main():\n"
        "    async with tether.open_node() as node:\n        print(node.name)\n"
        "asyncio.run(main())\n",
        None,
        "",
    )
    assert run_block(program, {}, monkeypatch) == "nonode@nohost\n"
