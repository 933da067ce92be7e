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
* ``tether observer [--connect NODE --cookie C]``: the web observer of this
  node, or of another node, tether's or an Erlang/Elixir one (prints its URL);
  ``tether top [--connect NODE]``: the same in the terminal (docs/observer.md).
* ``tether --version``: the version and the core that runs (``native``: the C
  core; ``python``: the pure-Python core, forced with ``TETHER_CORE=python``).
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
from tether._runtime import _core


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


def _observer_name(target: str) -> str:
    """A hidden node's name for observing ``target``, on the same kind of host
    (a long name for a dotted host or an address, else a short one)."""
    import os

    return f"tether_observer_{os.getpid()}@{target.partition('@')[2]}"


def _observe(ns: argparse.Namespace, name: str | None, cookie: str | None) -> int:
    target = ns.connect
    if target is not None and "@" not in target:
        print(f"tether {ns.cmd}: --connect takes a node name like name@host", file=sys.stderr)
        return 2
    if ns.interval <= 0:
        print(f"tether {ns.cmd}: --interval must be > 0 seconds", file=sys.stderr)
        return 2
    if target is not None and name is None:
        name = _observer_name(target)
    dist: dict[str, Any] = {"name": name, "cookie": cookie} if name else {}
    try:
        import tether.observer as observer
    except ImportError as e:  # pragma: no cover - the extra is installed in tests
        print(f"tether {ns.cmd}: {e}; install tether[observer]", file=sys.stderr)
        return 2

    if ns.cmd == "top":
        from tether.observer._top import top_main

        return int(tether.run(top_main, target, ns.interval, ns.sort, ns.view, ns.once, **dist))

    async def serve() -> int:
        try:
            url = await observer.start(
                port=ns.port,
                host=ns.host,
                node=target,
                actions=not ns.read_only,
                interval=ns.interval,
            )
        except (RuntimeError, ValueError) as e:
            print(e, file=sys.stderr)
            return 1
        print(f"tether observer: {url}", flush=True)
        if ns.open:
            import webbrowser

            webbrowser.open(url)
        await tether.Process.sleep(None)
        return 0

    try:
        return int(tether.run(serve, **dist))
    except KeyboardInterrupt:
        return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tether`` command."""
    parser = argparse.ArgumentParser(prog="tether", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--version",
        action="version",
        version=f"tether {tether.__version__} ({_core.NAME} core)",
    )
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
    obs = sub.add_parser("observer", help="the web observer of a node (needs tether[observer])")
    top = sub.add_parser("top", help="the observer in the terminal (needs tether[observer])")
    for p in (obs, top):
        p.add_argument("--connect", metavar="NODE", help="observe NODE (tether, Erlang or Elixir)")
        p.add_argument("--cookie", dest="sub_cookie", help="the cookie of NODE")
        p.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    obs.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    obs.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    obs.add_argument("--read-only", action="store_true", help="no exit/send buttons")
    obs.add_argument("--open", action="store_true", help="open the page in a browser")
    top.add_argument(
        "--sort", default="reductions", choices=["reductions", "memory", "message_queue_len"]
    )
    top.add_argument("--view", default="processes", choices=["processes", "tree", "log"])
    top.add_argument("--once", action="store_true", help="print one screen and exit")
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
    if ns.cmd in ("observer", "top"):
        return _observe(ns, name, ns.sub_cookie or ns.cookie)
    from tether.shell import main as shell

    return shell(**dist)


if __name__ == "__main__":
    sys.exit(main())
