"""The public distribution API: ``tether.Node`` (Elixir's ``Node`` module), and how
a node becomes distributed.

Thin, validating wrappers over :class:`tether._dist.node.Dist`; see that module
for the design.  Importing this module registers distribution with the runtime
(``tether._runtime._remote.register``): ``tether.run(..., name=...)`` then checks
its options with :func:`check_options` and starts it with :func:`start`.
"""

from __future__ import annotations

import builtins
import contextlib
import os
from typing import Any, Final, cast

from .._runtime import _node as _n
from .._runtime import _remote
from .._runtime._api import is_alive, receive, reply_to
from .._runtime._types import ANY, Atom, Pid
from . import global_
from .node import ERROR, OK, SPAWN_REPLY_ATOM, Dist, check_cookie, full_name, read_cookie

__all__ = ["Node"]

_KINDS: Final = ("visible", "hidden", "connected", "this", "known")
PONG: Final = Atom("pong")
PANG: Final = Atom("pang")
YES: Final = Atom("yes")
GEN_CALL: Final = Atom("$gen_call")
IS_AUTH: Final = Atom("is_auth")


def _dist(what: str) -> Dist | None:
    node = _n.NODE
    if not isinstance(node, _n.Node):
        raise _n.outside_error(what)
    return cast(Dist | None, node.dist)


def _check_node(value: Any, what: str) -> str:
    if not isinstance(value, str) or "@" not in value:
        raise TypeError(f"{what}: node must be a node name like 'name@host', got {value!r}")
    return value


def check_options(
    *,
    name: Any,
    cookie: Any,
    hidden: Any,
    net_ticktime: float,
    tls: Any,
    binaries: Any,
    busy_limit: int,
    input_limit: int | None,
) -> None:
    """Check ``tether.run``'s distribution options (the runtime checked the rest)."""
    full_name(name)
    if cookie is not None:
        check_cookie(cookie, "cookie")
    elif os.environ.get("TETHER_COOKIE"):
        check_cookie(os.environ["TETHER_COOKIE"], "TETHER_COOKIE")
    if tls is not None and not (
        type(tls) is tuple and len(tls) == 2 and all(hasattr(c, "wrap_socket") for c in tls)
    ):
        raise TypeError(
            f"tether.run: tls must be tether.dist_tls(...) (two ssl contexts), got {tls!r}"
        )


async def start(node: _n.Node, **options: Any) -> Dist:
    """Make ``node`` distributed: listen, register with epmd, take the name, and
    start the ``net_kernel`` process (and, on a visible node,
    ``global_name_server``).  Runs before the node's first process."""
    dist = Dist(
        node,
        options["name"],
        read_cookie(options["cookie"]),
        hidden=options["hidden"],
        net_ticktime=options["net_ticktime"],
        tls=options["tls"],
        binaries=options["binaries"],
        busy_limit=options["busy_limit"],
        input_limit=options["input_limit"],
    )
    await dist.start()
    pid, _ = node.spawn(None, net_kernel, (), what="net_kernel")
    node.register(node.table[pid], "net_kernel")
    if not options["hidden"]:
        # A visible node answers the global protocol from its first connection, as
        # kernel's global_name_server does; a hidden one takes no part (started
        # on first use, for this node's names alone).
        global_.start_server(node, dist)
    return dist


async def net_kernel() -> None:
    """The ``net_kernel`` registered process: answers ``Node.ping`` (``{is_auth, Node}``)."""
    while True:
        msg = await receive()
        if type(msg) is tuple and len(msg) == 3 and msg[0] == GEN_CALL:
            req = msg[2]
            if type(req) is tuple and len(req) == 2 and req[0] == IS_AUTH:
                with contextlib.suppress(TypeError, ValueError):
                    reply_to(msg[1], YES)


class Node:
    """Elixir's ``Node``: this node's name and its connections to others."""

    def __init__(self) -> None:
        raise TypeError("tether.Node is a namespace; call Node.connect(...) etc.")

    @staticmethod
    def self() -> Atom:
        """This node's name (``:"nonode@nohost"`` when not distributed)."""
        from .._runtime._api import node

        return node()

    @staticmethod
    def alive() -> bool:
        """True when this node is distributed (started with ``name=``): ``Node.alive?/0``."""
        return is_alive()

    @staticmethod
    async def connect(node: str) -> bool:
        """Connect to ``node`` (handshake, cookie); True when connected.

        False when it cannot be reached or refuses (a wrong cookie), or when this
        node is not distributed.
        """
        d = _dist("Node.connect")
        _check_node(node, "Node.connect")
        if d is None:
            return False
        return await d.connect(node)

    @staticmethod
    def disconnect(node: str) -> bool:
        """Drop the connection to ``node``; links and monitors to it get
        ``noconnection`` (D-1, D-2).  False if there was none."""
        d = _dist("Node.disconnect")
        _check_node(node, "Node.disconnect")
        return False if d is None else d.disconnect(node)

    @staticmethod
    def list(kind: str | builtins.list[str] = "visible") -> builtins.list[Atom]:
        """Connected nodes: ``"visible"`` (default), ``"hidden"``, ``"connected"``
        (both), ``"this"``, or a list of those, as Elixir's ``Node.list/1``."""
        kinds = [kind] if isinstance(kind, str) else kind
        if not isinstance(kinds, builtins.list) or any(k not in _KINDS for k in kinds):
            raise ValueError(
                f"Node.list: kind must be one of {', '.join(_KINDS)} (or a list), got {kind!r}"
            )
        d = _dist("Node.list")
        out: builtins.list[Atom] = []
        for k in kinds:
            if k == "this":
                out.append(Node.self())
            elif d is not None:
                out.extend(d.nodes("connected" if k == "known" else k))
        return out

    @staticmethod
    def monitor(node: str, flag: bool) -> bool:
        """With ``True``, the caller gets ``("nodedown", node)`` when the connection
        to ``node`` goes (once per call, D-4); connects if needed.  ``False``
        removes one such monitor.  Returns True."""
        p = _n.NODE.current
        if p is None:
            raise _n.outside_error("Node.monitor")
        _check_node(node, "Node.monitor")
        if not isinstance(flag, bool):
            raise TypeError(f"Node.monitor: flag must be bool, got {flag!r}")
        d = getattr(_n.NODE, "dist", None)
        if d is None:
            if flag:
                _n.NODE.deliver(p, (Atom("nodedown"), Atom(node)))  # type: ignore[union-attr]
            return True
        d.monitor_node(p, node, flag)
        return True

    @staticmethod
    def monitor_nodes(flag: bool) -> bool:
        """``:net_kernel.monitor_nodes(flag)``: with ``True`` the caller gets
        ``("nodeup", node)`` and ``("nodedown", node)`` for every connection that
        comes up or goes down, until ``monitor_nodes(False)`` (one subscription
        per ``True``, as Erlang counts them).  Returns True."""
        p = _n.NODE.current
        if p is None:
            raise _n.outside_error("Node.monitor_nodes")
        if not isinstance(flag, bool):
            raise TypeError(f"Node.monitor_nodes: flag must be bool, got {flag!r}")
        d = getattr(_n.NODE, "dist", None)
        if d is not None:
            d.monitor_nodes(p, flag)
        return True

    @staticmethod
    async def ping(node: str) -> Atom:
        """``"pong"`` if ``node`` answers (connects first), else ``"pang"``."""
        # net_adm:ping's way: a gen call of {is_auth, node()} to net_kernel there.
        from .._behaviours.gen_server import GenServer
        from .._runtime._types import ProcessExit

        d = _dist("Node.ping")
        _check_node(node, "Node.ping")
        if d is None or not await d.connect(node):
            return PANG
        try:
            answer = await GenServer.call(("net_kernel", node), (IS_AUTH, Node.self()), timeout=10)
        except ProcessExit:
            return PANG
        return PONG if answer == YES else PANG

    @staticmethod
    async def spawn(
        node: str, module: str, function: str, args: Any = (), *, link: bool = False
    ) -> Pid:
        """``Node.spawn(node, module, function, args)``: start a process over there.

        On a tether node the target must be exposed (``tether.rpc.expose``); an
        unknown one starts and exits with ``undef``, as on the BEAM.  With
        ``link=True`` the new process is linked to the caller (``Node.spawn_link``).
        If ``node`` cannot be reached the result is a pid that is already gone:
        a link gives ``noconnection``.
        """
        p = _n.NODE.current
        if p is None:
            raise _n.outside_error("Node.spawn")
        _check_node(node, "Node.spawn")
        for label, v in (("module", module), ("function", function)):
            if not isinstance(v, str):
                raise TypeError(f"Node.spawn: {label} must be a str, got {v!r}")
        d = getattr(_n.NODE, "dist", None)
        if d is None:
            raise RuntimeError(
                "Node.spawn: this node is not distributed; start it with tether.run(..., name=...)"
            )
        req = d.spawn_request(
            p, node, module, function, list(args), link=link, monitor=False, reply_ok=True
        )
        msg = await receive((SPAWN_REPLY_ATOM, req, ANY, ANY))
        if msg[2] == OK:
            pid: Pid = msg[3]
            return pid
        assert msg[2] == ERROR
        gone = Pid(0, 0, Atom(node))
        if link:
            from .._runtime._api import Process

            Process.link(gone)  # a link to an unreachable node: noconnection
        return gone

    @staticmethod
    async def spawn_link(node: str, module: str, function: str, args: Any = ()) -> Pid:
        """``Node.spawn_link/4``: :meth:`spawn` with ``link=True``."""
        return await Node.spawn(node, module, function, args, link=True)


_remote.register(check_options, start)
