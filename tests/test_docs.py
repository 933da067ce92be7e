"""The docs that are generated from the code stay in step with it, and cite only published rules."""

from __future__ import annotations

import importlib.util
import re
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


RULE_ID = re.compile(r"\b(?:E|L|M|S|PI|LOG|G|SU|T|A|I|D)-\d+\b")
SECTION = re.compile(r"§(\d+)(?:\.(\d+))?")


def cited_in(paths: list[Path]) -> dict[str, list[str]]:
    """Rule IDs and § sections cited in ``paths``: {citation: [file, ...]}."""
    cited: dict[str, list[str]] = {}
    for path in paths:
        text = path.read_text()
        for m in [*RULE_ID.finditer(text), *SECTION.finditer(text)]:
            cited.setdefault(m.group(0), []).append(path.relative_to(ROOT).as_posix())
    return cited


def published() -> list[Path]:
    return [
        *sorted((ROOT / "src").rglob("*.py")),
        *sorted((ROOT / "docs").glob("*.md")),
        ROOT / "README.md",
    ]


def rules_page() -> tuple[set[str], dict[str, str]]:
    """The rule IDs that docs/rules.md defines (its ### headings), and its sections."""
    text = (ROOT / "docs/rules.md").read_text()
    defined = set(re.findall(r"^### ([A-Z]+-\d+)$", text, flags=re.M))
    sections = dict(re.findall(r"^## (\d+)\. .*?\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S))
    return defined, sections


def test_every_rule_id_cited_in_the_code_and_docs_is_defined_in_the_rules_page() -> None:
    defined, sections = rules_page()
    undefined = {}
    for cite, where in cited_in(published()).items():
        if cite.startswith("§"):
            m = SECTION.fullmatch(cite)
            assert m is not None
            body = sections.get(m.group(1))
            sub = m.group(2)
            ok = body is not None and (
                sub is None
                or f"### {m.group(1)}.{sub} " in body
                or re.search(rf"^{sub}\. ", body, flags=re.M) is not None
            )
        else:
            ok = cite in defined
        if not ok:
            undefined[cite] = sorted(set(where))
    assert undefined == {}


def test_the_rules_page_defines_every_rule_of_the_index_once_and_the_table_rows() -> None:
    text = (ROOT / "docs/rules.md").read_text()
    headings = re.findall(r"^### ([A-Z]+-\d+)$", text, flags=re.M)
    assert len(headings) == len(set(headings))
    spec = importlib.util.spec_from_file_location("idx", ROOT / "scripts/semantics_index.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    indexed = {title.split()[0] for kind, _, title in mod.RULES if kind != "row"}
    assert indexed - set(headings) == set()
    rows = re.findall(r"^\| (\d+) \| ", text, flags=re.M)
    assert rows[:14] == [str(i) for i in range(1, 15)]
    # The shell's rules are stated too, though the index (§1–§9, §11) leaves them out.
    assert {f"I-{i}" for i in range(1, 9)} <= set(headings)


def test_the_docs_cite_the_published_rules_not_the_private_spec() -> None:
    # The rules live in docs/rules.md; SEMANTICS.md is not part of the repository.
    assert [
        p.relative_to(ROOT).as_posix() for p in published() if "SEMANTICS" in p.read_text()
    ] == []


def test_the_api_reference_documents_every_public_name() -> None:
    # A name added to tether.__all__ gets its autodoc entry; a stale one fails the build.
    import tether
    import tether.testing

    api = (ROOT / "docs/api.md").read_text()
    documented = set(re.findall(r"^\.\. auto\w+:: ([\w.]+)$", api, flags=re.M))
    public = {f"tether.{name}" for name in tether.__all__}
    assert public - documented == set()
    assert {"tether.testing", "tether.shell", "tether.demo"} <= documented
