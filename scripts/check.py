"""Every check the project runs, in one command (the README's test command, and CI's).

ruff format --check, ruff check, mypy --strict on src/, pyright (strict, configured in
pyproject.toml) on src/, examples/, tests/typing/ and the docs' python blocks, the docs
site (Sphinx, with warnings as errors, into build/docs), then the whole pytest suite.
Extra arguments go to pytest.  Exits non-zero when any check fails.

It needs every dependency group: run it as
``uv run --frozen --all-groups python scripts/check.py``.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC_BLOCKS = ROOT / "build" / "doc_blocks"


# Rules that flag what checking a page as one scope creates, not the page's code: each
# program on a page defines its own main (a redeclaration), which the test runner
# calls (so pyright sees it unused), and a page's variables are this function's
# locals.  A Registry guard is called with keyword arguments named after pattern
# variables, which no Callable type describes, so a guard lambda's parameters stay
# unknown.
_DOC_PRAGMA = (
    "# pyright: reportRedeclaration=false, reportUnusedFunction=false, "
    "reportUnusedClass=false, reportUnusedVariable=false, reportUnknownLambdaType=false"
)


def write_doc_blocks() -> None:
    """Write the docs' python blocks as modules for pyright, into build/doc_blocks/.

    The blocks are read as tests/test_doc_blocks.py reads them (the same function),
    and the ones it runs are checked.  A page's blocks share one namespace and may
    ``await`` at the top level, so a page becomes the body of one ``async def``, each
    line at its line number in the page (``build/doc_blocks/docs/tasks.md.py:42`` is
    line 42 of docs/tasks.md); its imports move to the end of the module, once each
    (programs on one page import the same names again).
    """
    spec = importlib.util.spec_from_file_location(
        "doc_blocks", ROOT / "tests" / "test_doc_blocks.py"
    )
    assert spec is not None and spec.loader is not None
    reader = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = reader  # its dataclass looks its module up there
    spec.loader.exec_module(reader)
    shutil.rmtree(DOC_BLOCKS, ignore_errors=True)
    for page in reader.PAGES:
        blocks = [b for b in reader.blocks(page) if b.lang == "python" and b.marker != "not run"]
        if not blocks:
            continue
        lines = [""] * (page.read_text().count("\n") + 1)
        lines[0] = "async def _page() -> None:"
        imports: dict[str, None] = {}
        for block in blocks:
            code = block.code.splitlines()
            flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            tree = compile(block.code, str(page), "exec", flags=flags)
            for node in tree.body:
                if isinstance(node, ast.Import | ast.ImportFrom):
                    for alias in node.names:  # one name per statement: no name twice
                        one = ast.Import([alias]) if isinstance(node, ast.Import) else None
                        if isinstance(node, ast.ImportFrom):
                            one = ast.ImportFrom(node.module, [alias], node.level)
                        assert one is not None
                        imports[ast.unparse(one)] = None
                    assert node.end_lineno is not None
                    for n in range(node.lineno - 1, node.end_lineno):
                        code[n] = ""
            for i, line in enumerate(code):
                lines[block.line + i] = f"    {line}" if line.strip() else ""
        out = DOC_BLOCKS / f"{page.relative_to(ROOT)}.py"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join([*lines, *imports, _DOC_PRAGMA]) + "\n")


def main(argv: list[str]) -> int:
    # Not all of docs/: ruff would also format the Python blocks inside the Markdown.
    code = ["src", "tests", "examples", "scripts", "bench", "docs/conf.py"]
    steps = [
        ["ruff", "format", "--check", *code],
        ["ruff", "check", *code],
        ["mypy"],
        ["pyright", "src", "examples", "tests/typing", str(DOC_BLOCKS.relative_to(ROOT))],
        # -E: read every page again, so a warning of an unchanged page still fails.
        ["sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html", "docs", "build/docs"],
        ["pytest", *argv],
    ]
    # pyright's wrapper would otherwise ask PyPI for its latest version on every run.
    env = {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}
    for cmd in steps:
        if cmd[0] == "pyright":
            write_doc_blocks()
        print("$", " ".join(cmd), flush=True)
        rc = subprocess.run([sys.executable, "-m", *cmd], cwd=ROOT, env=env, check=False).returncode
        if rc != 0:
            print(f"check failed: {' '.join(cmd)} (exit {rc})", flush=True)
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
