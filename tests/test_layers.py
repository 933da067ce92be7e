"""The layers of the package, read from the source (issue #12 item 8).

Every ``import`` of every module under ``src/tether`` is read with ``ast``
(top-level and inside functions alike), and three rules are checked:

* ``tether._runtime`` imports nothing of tether outside itself (not even for
  type checking): the core knows the rest of the world only through
  ``_runtime._remote``;
* ``tether._behaviours`` never imports ``tether._dist``, and of the runtime uses
  only its public API (``_api``, ``_types``, ``_format``, ``_validate``);
* the imports that run (those outside ``if TYPE_CHECKING:``) have no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tether

SRC = Path(tether.__file__).parent
RUNTIME_PUBLIC = {
    "tether._runtime._api",
    "tether._runtime._types",
    "tether._runtime._format",
    "tether._runtime._validate",
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _target(name: str) -> str:
    """The module ``name`` refers to (``pkg.mod.attr`` -> ``pkg.mod``)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(module: str) -> list[tuple[str, bool]]:
    """``(imported module, runs at import or call time)`` for each tether import."""
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names = [f"{prefix}.{a.name}" for a in node.names]
        for name in names:
            if name.split(".")[0] == "tether":
                target = _target(name)
                if target != module:
                    out.append((target, id(node) not in type_only))
    return out


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_runtime_imports_nothing_above_it() -> None:
    bad = [
        (m, t)
        for m in MODULES
        if _under(m, "tether._runtime")
        for t, _runs in _imports(m)
        if not _under(t, "tether._runtime")
    ]
    assert bad == []


def test_behaviours_use_the_public_runtime_api_and_never_distribution() -> None:
    bad = [
        (m, t)
        for m in MODULES
        if _under(m, "tether._behaviours")
        for t, _runs in _imports(m)
        if not (_under(t, "tether._behaviours") or t in RUNTIME_PUBLIC)
    ]
    assert bad == []


def test_the_imports_that_run_have_no_cycle() -> None:
    graph = {m: {t for t, runs in _imports(m) if runs and t != "tether"} for m in MODULES}
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(m: str, path: list[str]) -> None:
        if m in path:
            cycles.append([*path[path.index(m) :], m])
            return
        if m in done:
            return
        for t in sorted(graph[m]):
            visit(t, [*path, m])
        done.add(m)

    for m in sorted(graph):
        visit(m, [])
    assert cycles == []


def test_the_checks_see_the_imports_they_judge() -> None:
    """The reader is not blind: it finds imports at every level and resolves them."""
    api = dict(_imports("tether._dist.api"))
    assert api["tether._runtime._remote"] is True  # top level, relative
    assert api["tether._dist.node"] is True
    node = _imports("tether._runtime._node")
    assert ("tether._runtime._remote", False) in node  # under TYPE_CHECKING
    gen = {t for t, _ in _imports("tether._behaviours.gen_server")}
    assert "tether._runtime._api" in gen  # absolute
