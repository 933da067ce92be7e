"""The article, walked by the runnable files in examples/: each prints its transcript.

Each example runs in a fresh node on the virtual clock; its output must equal the
transcript committed beside it (``NAME.out``), with references and file paths
normalised.  Regenerate a transcript with ``python tests/test_examples.py NAME``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import sys
from pathlib import Path

import pytest

import tether.testing

EXAMPLES = Path(__file__).parent.parent / "examples"
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_"))


def normalize(text: str) -> str:
    text = re.sub(r"#Reference<[\d.]+>", "#Reference<…>", text)
    return re.sub(r"^(\s+)\S*?([^/\s]+\.py):(\d+): ", r"\1\2:\3: ", text, flags=re.M)


def run_example(name: str) -> str:
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            tether.testing.run(mod.main)
        return normalize(out.getvalue())
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.mark.parametrize("name", NAMES)
def test_example_prints_its_transcript(name: str) -> None:
    assert run_example(name) == (EXAMPLES / f"{name}.out").read_text()


def test_every_interaction_of_the_article_and_every_strategy_has_an_example() -> None:
    assert len([n for n in NAMES if n.startswith("a")]) == 8
    assert [n for n in NAMES if n.startswith("sup_")] == [
        "sup_one_for_all",
        "sup_one_for_one",
        "sup_rest_for_one",
    ]


if __name__ == "__main__":
    for n in sys.argv[1:] or NAMES:
        (EXAMPLES / f"{n}.out").write_text(run_example(n))
        print("wrote", n)
