"""Sphinx configuration of tether's documentation site.

Build it (the test command does, with warnings as errors, into build/docs):

    uv run --group docs python -m sphinx -W --keep-going -E -b html docs build/docs

Why Sphinx, with MyST for the Markdown pages and Furo as the theme, rather than
MkDocs with mkdocstrings (the two options of issue #11):

* Upkeep.  MkDocs 1.x has had no release since 1.6.1 (August 2024); its maintainer
  is rewriting it as an incompatible 2.0 without a plugin system, so mkdocstrings
  and Material would not run on it, and Material for MkDocs announced maintenance
  mode (fixes only) while its authors build a successor (Zensical, 0.1 in
  2026-11).  Sphinx (9.2, 2026-10; 8.2+ on Python 3.11), myst-parser (5.2,
  2026-11) and Furo (2025.12) are released regularly and are what CPython-adjacent
  projects (trio, attrs, pytest) build with.
* The docstrings are reStructuredText (``literal``, :func:`tether.run`,
  ``Args:`` sections): autodoc reads them as written, napoleon reads the Google-style
  sections; mkdocstrings would need them rewritten.
* Warnings as errors cover what must fail CI: an autodoc directive naming a name
  that no longer exists, a docstring that is not valid reStructuredText, a Markdown
  link to a page or to a heading anchor that does not exist (``rules.md#e-99``).

Every ``docs/*.md`` page is part of the site: ``index.md`` lists the pages in
reading order, and a page it does not list yet is added at the end of the table of
contents ("More guides", below), so a new guide is in the build (and under the link
checks) from the commit that adds it.  Listing it in ``index.md`` puts it in place.

Writing a page: every ```` ```python ```` block runs in the test suite
(``tests/test_doc_blocks.py`` says how).  A fragment that cannot run gets
``<!-- not run: why -->`` on the line before its fence; ``<!-- output -->`` before a
```` ```text ```` block right after a python block makes the test compare that block's
output with it.  Link pages as ``[text](rules.md#e-5)``: a link to a missing page or
heading fails the build.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

# The API reference is the reference core's: with the native core, send, receive
# and the spawns are C functions whose docstrings only point to the pure-Python
# functions (tether._runtime._api), which carry the documentation.
os.environ.setdefault("TETHER_CORE", "python")

import tether  # after the core is chosen

HERE = Path(__file__).resolve().parent

project = "tether"
author = "the tether authors"
copyright = "2026, the tether authors"
release = tether.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
# shell-session.cast is an asciinema recording, not a page.
exclude_patterns = ["_build"]

# Headings get GitHub's anchors (## Selective receive -> #selective-receive), so one
# link works both on the site and when the Markdown is read on a forge; rules.md's
# rule headings (### E-5) become #e-5.
myst_heading_anchors = 4

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "furo"
html_title = f"tether {release}"


def _append_unlisted_pages(app: Any, docname: str, source: list[str]) -> None:
    """Give index.md a last toctree with every page its own toctrees do not list.

    (A ``*`` glob in index.md would do the same until every page is listed, and then
    warn that it matches nothing, which -W turns into an error.)
    """
    if docname != "index":
        return
    listed: set[str] = set()
    for block in re.findall(r"```\{toctree\}\n(.*?)```", source[0], flags=re.S):
        listed.update(line.strip() for line in block.splitlines() if line.strip()[:1] not in ":")
    pages = sorted(p.stem for p in HERE.glob("*.md") if p.stem not in listed | {"index"})
    if pages:
        entries = "\n".join(pages)
        source[0] += f"\n```{{toctree}}\n:caption: More guides\n:maxdepth: 1\n\n{entries}\n```\n"


def setup(app: Any) -> None:
    app.connect("source-read", _append_unlisted_pages)
