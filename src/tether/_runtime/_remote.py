"""The runtime's one interface to the rest of the world: processes on other nodes.

Design
------
The core (``_node``) owns every table: processes, links, monitors, names.  When a
signal's target lives on another node it calls ``node.dist``, an object that
implements :class:`Remote`; when a signal comes in from another node, the
implementation calls the core's own operations (``Node.deliver``,
``Node.link_signal``, ``Node.receive_exit2``, ``Node.fire_monitor``) and, when a
whole node is lost, :func:`node_down` below.  The core never learns how signals
travel.

Distribution (``tether._dist``) is the implementation.  It registers itself here
when it is imported (:func:`register`); ``tether.run(..., name=...)`` then asks it
to check the options (:func:`check_options`, before anything happens) and to start
(:func:`start`).  So ``tether._runtime`` imports nothing above it, and the import
graph has no cycle (``tests/test_layers.py`` checks both).

Rejected: the core importing ``_dist`` lazily when a node gets a name (what it did:
one circle of five files through ``_dist`` and the GenServer behaviour); an
abstract base class (a ``Protocol`` asks nothing of the implementation but its
methods, and mypy checks the core's calls against it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from ._types import NOCONNECTION, Atom, Pid, Port, Ref

if TYPE_CHECKING:
    import asyncio

    from ._node import Node, Process

__all__ = ["Remote", "check_options", "monitor_node", "node_down", "register", "start"]

logger: Final = logging.getLogger("tether")


class Remote(Protocol):
    """What the core calls for a signal whose other end lives on another node.

    Every method returns at once and never raises for a peer's or a connection's
    fault (a lost connection turns into :func:`node_down`); ``send``,
    ``reg_send``, ``alias_send`` and ``exit2`` raise ``EncodeError`` (a
    ``TypeError``) for a message with no term, in the sender, as a local ``badarg``.

    Flow control: when a connection's output buffer is over its busy limit, a
    sender that is the running process is suspended (``Node.suspend``) until it
    drains, and the call returns ``None``; any other caller gets an asyncio future
    that is done once it drains, to await if it wants to wait.
    """

    def send(self, sender: Pid, to: Pid, msg: Any) -> asyncio.Future[None] | None:
        """``send(pid, msg)`` to a pid of another node."""
        ...

    def reg_send(self, sender: Pid, name: str, node: str, msg: Any) -> asyncio.Future[None] | None:
        """``send({name, node}, msg)``."""
        ...

    def alias_send(self, sender: Pid, alias: Ref, msg: Any) -> asyncio.Future[None] | None:
        """A send to an alias of another node (M-16)."""
        ...

    def exit2(self, sender: Pid, to: Pid | Port, reason: Any) -> asyncio.Future[None] | None:
        """``Process.exit(pid, reason)`` to a pid of another node."""
        ...

    def link(self, p: Process, to: Pid | Port) -> None:
        """``p`` linked itself to ``to`` (the core has recorded its side)."""
        ...

    def unlink(self, p: Process, to: Pid | Port) -> None:
        """``p`` unlinked itself from ``to`` (the core has removed its side)."""
        ...

    def monitor(self, p: Process, target: Pid | Port | tuple[str, str], ref: Ref) -> None:
        """``p`` monitors a pid or a ``(name, node)`` of another node with ``ref``."""
        ...

    def demonitor(self, p: Process, target: Any, obj: Any, ref: Ref) -> None:
        """``p`` dropped (or died with) its monitor ``ref``; ``(target, obj)`` is the
        monitor's entry in ``p.monitors`` (see :func:`monitor_node`)."""
        ...

    def link_exit(self, sender: Pid | Port, to: Pid | Port, reason: Any) -> None:
        """Local process ``sender``, linked to ``to``, died with ``reason`` (L-1)."""
        ...

    def monitor_exit(self, target: Process, ref: Ref, watcher: Pid | Port, reason: Any) -> None:
        """Local process ``target``, monitored by ``watcher`` with ``ref``, died (M-1)."""
        ...

    def spawn_request(
        self,
        p: Process,
        node: str,
        module: str,
        function: str,
        args: list[Any],
        *,
        link: bool,
        monitor: bool,
        reply_ok: bool = False,
    ) -> Ref:
        """``erlang:spawn_request/5`` on ``node``: a ``("spawn_reply", req, ...)``
        message follows."""
        ...

    def nodes(self, kind: str) -> list[Atom]:
        """The connected nodes of a kind: ``"visible"``, ``"hidden"``, ``"connected"``."""
        ...

    def close(self) -> list[asyncio.Task[Any]]:
        """Stop (the node is halting): no more signals; returns tasks to wait for."""
        ...


# -- node-down: the core's half -----------------------------------------------


def monitor_node(target: Any, obj: Any) -> str | None:
    """The node of a monitor entry ``p.monitors[ref] == (target, obj)``, if remote.

    ``target`` is the monitored pid, or ``None`` for a monitor by name whose ``obj``
    is ``(name, node)``; a pid with id 0 stands in while a spawn_request's monitor
    waits for its reply.  ``None`` for a local target.
    """
    if type(target) is Pid:
        return target.node
    if target is None and type(obj) is tuple and len(obj) == 2 and isinstance(obj[1], str):
        return obj[1]
    return None


def node_down(node: Node, name: str) -> None:
    """The connection to node ``name`` is gone: D-1 and D-2 for every local process.

    Every monitor of a process of ``name`` fires ``:noconnection`` (D-2), every link
    to one delivers an exit signal ``:noconnection`` (D-1), and monitors that
    processes of ``name`` held on local ones are dropped.  One scan of the process
    table: links and monitors to other nodes live only in the local processes'
    own tables.

    Invariant kept: the scan finishes whatever one entry holds.  A process whose
    tables raise while being scanned is logged and skipped, so one bad entry can
    never leave the rest of the node with links to a node that is gone.
    """
    dying: list[tuple[Process, Pid | Port]] = []
    for p in list(node.table.values()):
        try:
            if p.monitored_by:
                for ref in [r for r, w in p.monitored_by.items() if w.node == name]:
                    del p.monitored_by[ref]
            if p.monitors:
                gone = [r for r, (t, obj) in p.monitors.items() if monitor_node(t, obj) == name]
                for ref in gone:
                    node.fire_monitor(p, ref, NOCONNECTION)  # D-2
            if p.links:
                for other in [o for o in p.links if o.node == name]:
                    p.links.discard(other)
                    dying.append((p, other))
        except Exception:
            logger.exception("node-down of %s: skipped a bad table entry of %r", name, p.pid)
    for p, other in dying:  # D-1
        if p.alive:  # an earlier noconnection may have ended it already
            try:
                node.link_signal(p, other, NOCONNECTION)
            except Exception:
                logger.exception("node-down of %s: the exit signal to %r failed", name, p.pid)


# -- registration ---------------------------------------------------------------

_check: Callable[..., None] | None = None
_start: Callable[..., Awaitable[Remote]] | None = None


def register(check: Callable[..., None], start_: Callable[..., Awaitable[Remote]]) -> None:
    """Install the distribution: ``check(**options)`` validates ``tether.run``'s
    distribution options (raises ``TypeError``/``ValueError``), ``await
    start_(node, **options)`` makes the node distributed and returns its
    :class:`Remote`."""
    global _check, _start
    _check, _start = check, start_


def _unavailable() -> RuntimeError:
    return RuntimeError(
        "tether.run: name= needs distribution, which is not loaded; import tether (the "
        "package loads it)"
    )


def check_options(**options: Any) -> None:
    """Validate ``tether.run``'s distribution options before anything starts."""
    if _check is None:
        raise _unavailable()
    _check(**options)


async def start(node: Node, **options: Any) -> Remote:
    """Make ``node`` distributed on its (running) loop; the result becomes
    ``node.dist``.  ``tether.run`` runs it to completion before the first process,
    ``tether.open_node`` awaits it."""
    if _start is None:
        raise _unavailable()
    return await _start(node, **options)
