"""The observer: see a live node, tether's or the BEAM's, in a browser or a terminal.

Erlang's ``:observer`` and Phoenix LiveDashboard for tether, built on the node's
own introspection calls (:mod:`tether._introspect`, answered by every tether
node) and on the standard calls every BEAM answers, so it watches this node, a
tether node elsewhere, or a real Erlang/Elixir node alike.

* ``await tether.observer.start(port=0)`` from inside a process: a web page on
  loopback, live (pushed every second): node overview with charts, the process
  table, process pages, the supervision tree, links and monitors, the log.
  Returns the URL to open (it carries the access token).
* ``tether observer [--connect NODE --cookie C]`` runs one from the shell;
  ``tether top`` shows the same data in the terminal.
* :func:`allow_actions` on a node lets observers on other nodes exit its
  processes and send them messages (reading is always allowed to a node with
  the cookie, acting is not).

Needs the ``observer`` extra (``pip install tether[observer]``: aiohttp, rich)
for the web page and ``tether top``; :func:`allow_actions` and the rpc calls a
node answers need nothing.  See ``docs/observer.md``.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

from .._introspect import actions_allowed, allow_actions
from .._runtime._api import Process, make_ref, receive, spawn
from .._runtime._api import self as self_pid
from .._runtime._types import ANY, Down, Pid
from .._runtime._validate import check_bool, check_seconds

__all__ = ["actions_allowed", "allow_actions", "start", "stop", "whereis"]

_NAME = "tether_observer"


def _check_port(port: Any) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(
            f"tether.observer.start: port must be an int from 0 to 65535 (0: any free "
            f"port), got {port!r}"
        )
    return port


async def start(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    node: str | None = None,
    actions: bool = True,
    token: str | None = None,
    interval: float = 1.0,
) -> str:
    """Start the web observer as a process of this node; return its URL.

    Call from inside a process (from an embedded node: ``await
    running.run(tether.observer.start)``).  The observer is a process of its
    own, registered as ``"tether_observer"``, not linked to the caller: it runs
    until :func:`stop` or until the node stops.

    Args:
        port: TCP port (``0``: a free one; the URL says which).
        host: the address to listen on; loopback by default.  Anyone who can
            reach it and has the URL's token can read the node (and act on it
            with ``actions``).
        node: observe another node (``"name@host"``, a tether or an
            Erlang/Elixir node, reached with this node's cookie) instead of
            this one; this node must be distributed.
        actions: show the buttons that exit a process and send it a message
            (each asks for confirmation).  ``False``: read-only.
        token: the access token (default: a random one).
        interval: seconds between two samples.

    Returns:
        The URL, ``http://127.0.0.1:PORT/?token=...``.

    Raises:
        RuntimeError: an observer already runs on this node, or it could not
            start (the port is taken, ``node`` cannot be reached).
        ValueError, TypeError: a bad argument.
        ImportError: the ``observer`` extra is not installed.
    """
    what = "tether.observer.start"
    _check_port(port)
    if not isinstance(host, str) or not host:
        raise TypeError(f"{what}: host must be a non-empty str, got {host!r}")
    if node is not None and (not isinstance(node, str) or "@" not in node):
        raise TypeError(f"{what}: node must be a node name like 'name@host', got {node!r}")
    check_bool(actions, what, "actions")
    if token is not None and (not isinstance(token, str) or len(token) < 8):
        raise ValueError(f"{what}: token must be a str of at least 8 characters, got {token!r}")
    interval = check_seconds(interval, what, "interval")
    if interval <= 0:
        raise ValueError(f"{what}: interval must be > 0 seconds, got {interval!r}")
    # aiohttp's import takes a good part of a second: in a thread, not in a step.
    web = await asyncio.to_thread(importlib.import_module, "tether.observer._web")

    if Process.whereis(_NAME) is not None:
        raise RuntimeError(f"{what}: an observer already runs on this node; stop() it first")
    tag = make_ref()
    pid = spawn(web.observer_main, self_pid(), tag, host, port, node, actions, token, interval)
    mon = Process.monitor(pid)
    msg = await receive((tag, ANY), Down(mon, ANY, ANY, ANY))
    Process.demonitor(mon, flush=True)
    if isinstance(msg, Down):
        raise RuntimeError(f"{what}: the observer died while starting: {msg.reason!r}")
    result = msg[1]
    if result[0] != "ok":
        raise RuntimeError(f"{what}: {result[1]}")
    return str(result[1])


def whereis() -> Pid | None:
    """The pid of this node's observer, or ``None``."""
    return Process.whereis(_NAME)


async def stop(timeout: float | None = 5.0) -> bool:
    """Stop this node's observer (its pages see the connection close); ``True``
    if one was running.  Killed if it has not stopped within ``timeout``."""
    from .._runtime._api import send
    from .._runtime._validate import check_timeout

    wait = check_timeout(timeout, "tether.observer.stop")
    pid = Process.whereis(_NAME)
    if pid is None:
        return False
    mon = Process.monitor(pid)
    send(pid, "stop")
    try:
        await receive(Down(mon, ANY, ANY, ANY), timeout=wait)
    except TimeoutError:
        Process.exit(pid, "kill")
        await receive(Down(mon, ANY, ANY, ANY))
    return True
