"""The docs that are generated from the code stay in step with it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_semantics_index_is_up_to_date_and_every_rule_has_a_test() -> None:
    spec = importlib.util.spec_from_file_location("idx", ROOT / "scripts/semantics_index.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    text = mod.render()
    assert "**no test**" not in text
    assert (ROOT / "docs/semantics.md").read_text() == text
