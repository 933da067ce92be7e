"""The ``tether`` command (also ``python -m tether``).

* ``tether``: the interactive shell, IEx for Python.
* ``tether run FILE.py [ARGS...]``: run the script's ``async def main()`` as the
  first process of a node; the exit code follows its exit reason (0 for
  ``normal``, 1 otherwise).
* ``tether run --app MODULE[:CLASS] [--config FILE] [FILE.py [ARGS...]]``: start
  the application that MODULE defines (and those it depends on) as
  ``permanent``, then run FILE's ``main``, or without FILE run until the node
  is stopped: ``mix run`` and ``mix run --no-halt``.  The configuration comes
  from ``--config``, else ``./tether.toml``, else ``./pyproject.toml``'s
  ``[tool.tether]``.  A permanent application's exit stops the node (exit code 1).
* ``tether demo``: replay the linking-and-monitoring tutorial (``tether.demo``,
  shipped inside the package).
* ``tether --version``.
* ``--name NAME@HOST`` / ``--sname NAME`` and ``--cookie C`` (before the command)
  make the node distributed, as ``iex --name``: ``tether --sname py``.

With no arguments: the interactive shell (see ``tether.shell``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import runpy
import sys
from pathlib import Path
from typing import Any

import tether


def _find_app(spec: str) -> type[tether.Application] | str:
    """``MODULE`` (the one Application subclass it defines) or ``MODULE:CLASS``;
    a str says what is wrong."""
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        return f"cannot import {module_name}: {e}"
    if class_name:
        cls = getattr(module, class_name, None)
        if not (
            isinstance(cls, type)
            and issubclass(cls, tether.Application)
            and cls is not tether.Application
        ):
            return f"{module_name}.{class_name} is not an Application subclass"
        return cls
    found = [
        v
        for v in vars(module).values()
        if isinstance(v, type)
        and issubclass(v, tether.Application)
        and v.__module__ == module.__name__
    ]
    if len(found) != 1:
        names = ", ".join(f"{module_name}:{c.__name__}" for c in found)
        return (
            f"{module_name} defines {len(found)} Application subclasses; name one: {names}"
            if found
            else f"{module_name} defines no Application subclass"
        )
    return found[0]


def _run_file(
    path: str | None,
    args: list[str],
    dist: dict[str, Any] | None = None,
    apps: list[str] | None = None,
    config: str | None = None,
) -> int:
    opts: dict[str, Any] = dict(dist or {})
    if apps:
        sys.path.insert(0, os.getcwd())  # as python -m: modules from here
        classes = []
        for spec in apps:
            found = _find_app(spec)
            if isinstance(found, str):
                print(f"tether run: --app {spec}: {found}", file=sys.stderr)
                return 2
            classes.append(found)
        opts["apps"] = classes
    if config is not None:
        opts["config"] = config
    main = None
    if path is not None:
        file = Path(path)
        if not file.is_file():
            print(f"tether run: no such file: {path}", file=sys.stderr)
            return 2
        sys.argv = [str(file), *args]
        sys.path.insert(0, str(file.resolve().parent))
        namespace = runpy.run_path(str(file), run_name="__tether_main__")
        main = namespace.get("main")
        if main is None:
            print(f"tether run: {path} defines no main(); define async def main()", file=sys.stderr)
            return 2
    # The node's notices (an application's exit) show, as mix run shows Logger's,
    # unless the program configured logging itself.
    tlog = logging.getLogger("tether")
    quiet = not logging.getLogger().handlers and tlog.level == logging.NOTSET
    if quiet:
        tlog.setLevel(logging.INFO)
    try:
        result = tether.run(main, **opts)
    except tether.ProcessExit as e:
        print(f"** (exit) {tether.format_exit(e.reason)}", file=sys.stderr)
        return 1
    except Exception as e:
        print(f"** (exit) {tether.format_exit(e)}", file=sys.stderr)
        return 1
    finally:
        if quiet:
            tlog.setLevel(logging.NOTSET)
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tether`` command."""
    parser = argparse.ArgumentParser(prog="tether", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"tether {tether.__version__}")
    parser.add_argument("--name", help="distributed node name, e.g. py@127.0.0.1 (iex --name)")
    parser.add_argument("--sname", help="short node name, e.g. py (iex --sname)")
    parser.add_argument(
        "--cookie", help="the distribution cookie (default: TETHER_COOKIE, ~/.erlang.cookie)"
    )
    sub = parser.add_subparsers(dest="cmd")
    run = sub.add_parser(
        "run",
        help="run FILE.py's async def main() as the first process, after starting the "
        "--app applications",
    )
    run.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="MODULE[:CLASS]",
        help="start this module's Application (and its dependencies) first; repeatable",
    )
    run.add_argument(
        "--config",
        metavar="FILE",
        help="TOML configuration ([apps.NAME] tables); default ./tether.toml, else "
        "./pyproject.toml's [tool.tether]",
    )
    run.add_argument("file", nargs="?")
    run.add_argument("args", nargs=argparse.REMAINDER)
    sub.add_parser("demo", help="replay the linking-and-monitoring tutorial")
    ns = parser.parse_args(argv)
    if ns.name and ns.sname:
        parser.error("give --name or --sname, not both")
    name = ns.name or ns.sname
    if ns.sname and "@" in ns.sname:
        parser.error("--sname takes the part before '@' (the host is this machine's)")
    if ns.cookie and not name:
        parser.error("--cookie needs --name or --sname")
    dist = {"name": name, "cookie": ns.cookie} if name else {}
    if ns.cmd == "run":
        if ns.file is None and not ns.app:
            parser.error("tether run: give FILE.py, --app MODULE, or both")
        return _run_file(ns.file, ns.args, dist, ns.app, ns.config)
    if ns.cmd == "demo":
        from tether.demo import play

        return play()
    from tether.shell import main as shell

    return shell(**dist)


if __name__ == "__main__":
    sys.exit(main())
