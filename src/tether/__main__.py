"""The ``tether`` command (also ``python -m tether``).

* ``tether``: the interactive shell, IEx for Python.
* ``tether run FILE.py [ARGS...]``: run the script's ``async def main()`` as the
  first process of a node; the exit code follows its exit reason (0 for
  ``normal``, 1 otherwise).
* ``tether demo``: replay the linking-and-monitoring tutorial (``tether.demo``,
  shipped inside the package).
* ``tether --version``.
* ``--name NAME@HOST`` / ``--sname NAME`` and ``--cookie C`` (before the command)
  make the node distributed, as ``iex --name``: ``tether --sname py``.

With no arguments: the interactive shell (see ``tether.shell``).
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path
from typing import Any

import tether


def _run_file(path: str, args: list[str], dist: dict[str, Any] | None = None) -> int:
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
    try:
        result = tether.run(main, **(dist or {}))
    except tether.ProcessExit as e:
        print(f"** (exit) {tether.format_exit(e.reason)}", file=sys.stderr)
        return 1
    except Exception as e:
        print(f"** (exit) {tether.format_exit(e)}", file=sys.stderr)
        return 1
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
    run = sub.add_parser("run", help="run FILE.py's async def main() as the first process")
    run.add_argument("file")
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
        return _run_file(ns.file, ns.args, dist)
    if ns.cmd == "demo":
        from tether.demo import play

        return play()
    from tether.shell import main as shell

    return shell(**dist)


if __name__ == "__main__":
    sys.exit(main())
