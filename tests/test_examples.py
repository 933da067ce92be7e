"""The runnable examples print their transcripts.

Two homes: ``tether.demo`` (the article *Elixir Processes: Linking and Monitoring*,
one module per interaction, shipped in the package so ``tether demo`` plays it from
an installed wheel) and ``examples/`` (one file per supervisor strategy, and more).
Each runs in a fresh node on the virtual clock; its output must equal the transcript
committed beside it (``NAME.out``), with references and file paths normalised.
examples/application runs as a command, ``tether run --app shop``, and its
transcript is ``run.out``.  Regenerate a transcript with ``python
tests/test_examples.py NAME`` (``application`` for that one).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tether.demo
import tether.testing

EXAMPLES = Path(__file__).parent.parent / "examples"
DEMO = Path(tether.demo.__file__).parent
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_"))


def normalize(text: str) -> str:
    text = re.sub(r"#Reference<[\d.]+>", "#Reference<…>", text)
    return re.sub(r"^(\s+)\S*?([^/\s]+\.py):(\d+): ", r"\1\2:\3: ", text, flags=re.M)


def transcript(name: str) -> Path:
    return (DEMO if name in tether.demo.NAMES else EXAMPLES) / f"{name}.out"


def run_example(name: str) -> str:
    out = io.StringIO()
    if name in tether.demo.NAMES:
        mod = importlib.import_module(f"tether.demo.{name}")
        with contextlib.redirect_stdout(out):
            tether.testing.run(mod.main)
        return normalize(out.getvalue())
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        with contextlib.redirect_stdout(out):
            tether.testing.run(mod.main)
        return normalize(out.getvalue())
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.mark.parametrize("name", [*tether.demo.NAMES, *NAMES])
def test_example_prints_its_transcript(name: str) -> None:
    assert run_example(name) == transcript(name).read_text()


APPLICATION = EXAMPLES / "application"


def run_application_example() -> tuple[str, int]:
    """``tether run --app shop`` in examples/application (its tether.toml is the
    configuration): stdout and stderr as one stream, and the exit status."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "tether", "run", "--app", "shop"],
        cwd=APPLICATION,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        check=False,
    )
    return out.stdout, out.returncode


def test_tether_run_app_starts_the_example_application_and_prints_its_transcript() -> None:
    text, status = run_application_example()
    assert text == (APPLICATION / "run.out").read_text()
    assert status == 1  # the permanent shop application exited: the node stopped


def test_every_interaction_of_the_article_and_every_strategy_has_an_example() -> None:
    # The demo plays every module of tether.demo that has a transcript, in order.
    shipped = sorted(p.stem for p in DEMO.glob("a*.py"))
    assert list(tether.demo.NAMES) == shipped and len(shipped) == 8
    assert sorted(p.stem for p in DEMO.glob("*.out")) == shipped
    assert [n for n in NAMES if n.startswith("sup_")] == [
        "sup_one_for_all",
        "sup_one_for_one",
        "sup_rest_for_one",
    ]


if __name__ == "__main__":
    for n in sys.argv[1:] or [*tether.demo.NAMES, *NAMES, "application"]:
        if n == "application":
            (APPLICATION / "run.out").write_text(run_application_example()[0])
        else:
            transcript(n).write_text(run_example(n))
        print("wrote", n)
