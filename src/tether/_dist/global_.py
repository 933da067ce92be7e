"""Cluster-wide names and locks: Erlang's ``global``, speaking OTP 25's protocol.

Design
------
A port of OTP 25's ``lib/kernel/src/global.erl`` (protocol version 8), process
for process, so that a visible tether node and Erlang/Elixir nodes keep one name
table.  Each node runs:

* ``global_name_server``, a registered process that owns the node's table of
  names and locks (:class:`_Table`, the ETS tables ``global_names``,
  ``global_locks``, ``global_pid_names`` and ``global_pid_ids`` of the original)
  and answers the other nodes' servers.  It speaks gen_server's wire format
  (``{'$gen_call', From, Req}``, ``{'$gen_cast', Msg}``), since Erlang's
  ``global`` reaches it with ``gen_server:cast``/``multi_call``;
* *the locker*, which, when a node comes up, agrees with the other node's locker
  on the lock ``{global, [LockerA, LockerB]}`` and sets it on every node both
  know, so that two clusters exchange their names while nobody registers;
* one *resolver* per node being synchronised, which compares the other node's
  names with this node's and settles each clash: the node whose name is smaller
  calls the clashing name's resolve function on the node of the pid it holds
  (``global:resolve_it/4``, over rpc when that node is another one);
* *the registrar*, which runs this node's registrations one at a time, each
  under the lock ``{global, Registrar}`` set on every known node
  (``trans_all_known``).

The synchronisation of two nodes A and B, as global.erl runs it: both get
``nodeup`` and send each other ``{init_connect, {8, Tag}, Node, {locker, _,
Known, Locker}}``; each server hands the other's locker to its own locker
(``his_the_locker``) and acks; a locker sets the lock on the boss (the greatest
node name), on both nodes and on every node it knows, and tells the other locker
(``lock_set``, through its server); once both hold it each server sends the other
its names (``exchange``), each resolver settles the clashes (``exchange_ops``),
the servers swap their results and the nodes each knows (``resolved``), apply
them, tell the nodes they already knew (``new_nodes``, sent by the locker just
before it deletes the lock), and connect to the nodes the other knew
(``in_sync``).  Every message carries the tags of this one attempt, so a message
of an attempt that was cancelled (a lost connection, a restart) is ignored.

``whereis_name`` and ``registered_names`` read the table directly, as the
original reads ETS: they never wait.  Writes happen only in the server, when a
node's registrar (this one's or another node's) asks for them under the global
lock; a name whose pid dies is removed when the server's monitor fires.

What is left out: ``global_group`` (no groups are configured on a tether node,
so every node is a participant and none a member), high-level tracing,
``register_name_external`` (a ``register_ext`` request is registered as a plain
name), and the application environment (``connect_all`` and
``prevent_overlapping_partitions`` are OTP 25's defaults, ``true``;
``global_multi_name_action`` is ``deny``).

Hidden nodes: ``global`` runs only between visible nodes, as in OTP.  On a hidden
node (tether's default) or a node that is not distributed, the server is started
on first use and the names are this node's alone.

Robustness, where OTP would crash: a message of no known shape is logged at
WARNING and dropped, as global.erl logs unexpected messages; a handler that
raises (a malformed message from a peer) is logged at ERROR and the server goes
on, so no peer can take this node's name service down.

Rejected: writing the server as a GenServer subclass (it must be registered
before the first peer can reach it, at the node's start, before any process
runs, as ``net_kernel`` is); running registrations in the caller's process (every
caller would be a lock requester of its own, contending for the lock with the
others of its node, which the registrar exists to prevent).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import logging
import random
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from .._behaviours.gen_server import GenServer
from .._runtime import _node as _n
from .._runtime._api import (
    Process,
    install_global_names,
    node,
    node_state,
    receive,
    reply_to,
    spawn,
    spawn_link,
)
from .._runtime._api import self as _self
from .._runtime._api import send as _send
from .._runtime._types import ANY, Atom, Down, Pid, Ref
from .._runtime._validate import check_pid
from . import rpc as _rpc
from .etf import EncodeError, Export, Fun, check_term, encode, freeze

__all__ = [
    "del_lock",
    "notify_all_name",
    "random_exit_name",
    "random_notify_name",
    "re_register_name",
    "register_name",
    "registered_names",
    "send",
    "set_lock",
    "sync",
    "trans",
    "unregister_name",
    "whereis_name",
]

logger: Final = logging.getLogger("tether")
# Every message global_name_server and the locker take, at DEBUG.
trace: Final = logging.getLogger("tether.global")

GNS: Final = Atom("global_name_server")
VSN: Final = 8  # the protocol version global.erl of OTP 25 speaks
CALL: Final = Atom("$gen_call")
CAST: Final = Atom("$gen_cast")
GLOBAL: Final = Atom("global")
YES: Final = Atom("yes")
NO: Final = Atom("no")
OK: Final = Atom("ok")
NONE: Final = Atom("none")
NONODE: Final = "nonode@nohost"
LOCKER: Final = Atom("locker")
NO_LONGER_A_PID: Final = Atom("no_longer_a_pid")
INSERT: Final = Atom("insert")
DELETE: Final = Atom("delete")
RESOLVED: Final = Atom("resolved")
EXCHANGE: Final = Atom("exchange")
LOCK_IS_SET: Final = Atom("lock_is_set")
LOCK_SET: Final = Atom("lock_set")
CANCEL: Final = Atom("cancel")
SYNCED: Final = Atom("synced")
NODEDOWN: Final = Atom("nodedown")
NAME_CONFLICT: Final = Atom("global_name_conflict")
_KEY: Final = "tether.global"
_NOREPLY: Final = object()

# The three resolve functions OTP ships, as the terms other nodes know them by.
RANDOM_EXIT: Final = Export("global", "random_exit_name", 3)
RANDOM_NOTIFY: Final = Export("global", "random_notify_name", 3)
NOTIFY_ALL: Final = Export("global", "notify_all_name", 3)

_tags = itertools.count(1)  # erlang:unique_integer([monotonic]), for sync tags


def _key(term: Any) -> Any:
    """The hashable form of a term (names and lock resources are any terms)."""
    return freeze(term)


# -- the table (global.erl's ETS tables) ------------------------------------------


@dataclass
class _Entry:
    name: Any
    pid: Pid
    method: Any  # the resolve function's term (sent to other nodes as it is)
    ref: Ref  # the server's monitor of pid


@dataclass
class _Lock:
    resource: Any
    requester: Any
    holders: list[tuple[Pid, Ref]]  # [{Pid, MonitorRef}], newest first


@dataclass
class _Table:
    """One node's names and locks.

    Invariant: only the server process writes (so the locker and the registrar,
    which run beside it, see each write whole); ``names[k].ref`` is the server's
    monitor of ``names[k].pid``, and ``ref_names``/``pid_names`` index the same
    entries; ``ref_locks`` indexes every holder's monitor of ``locks``.
    """

    server: Pid | None = None
    names: dict[Any, _Entry] = field(default_factory=dict)
    pid_names: dict[Pid, set[Any]] = field(default_factory=dict)
    ref_names: dict[Ref, Any] = field(default_factory=dict)
    locks: dict[Any, _Lock] = field(default_factory=dict)
    ref_locks: dict[Ref, set[Any]] = field(default_factory=dict)
    # Python resolve functions registered here, by the term that stands for them
    # in other nodes' tables.
    resolvers: dict[Any, Callable[..., Any]] = field(default_factory=dict)
    resolver_terms: dict[Any, Any] = field(default_factory=dict)

    def where(self, name: Any) -> Pid | None:
        """global.erl's ``where/1``: a local pid only while it is alive."""
        try:
            entry = self.names.get(_key(name))
        except TypeError:  # an unhashable name is no one's
            return None
        if entry is None:
            return None
        pid = entry.pid
        node_ = _n.NODE
        assert isinstance(node_, _n.Node)
        if pid.node is None:
            return pid if pid in node_.table else None
        # A remote pid whose monitor has fired (it died, or its node went down)
        # is a name the server is about to remove, its DOWN queued: gone already.
        server = node_.table.get(self.server) if self.server is not None else None
        if server is not None and not (server.monitors and entry.ref in server.monitors):
            return None
        return pid

    def can_set_lock(self, lock_id: tuple[Any, Any]) -> list[tuple[Pid, Ref]] | None:
        """The holders when ``lock_id`` may be set (its requester holds it or
        nobody does); ``None`` when another requester holds the resource."""
        resource, requester = lock_id
        lock = self.locks.get(_key(resource))
        if lock is None:
            return []
        if lock.requester == requester:
            return lock.holders
        return None

    def is_lock_set(self, resource: Any) -> bool:
        return _key(resource) in self.locks


def _table(what: str) -> _Table:
    return node_state(_KEY, _Table, what)


# -- resolve functions ----------------------------------------------------------


def _node_of(pid: Pid) -> Atom:
    return Atom(pid.node) if pid.node is not None else node()


def _minmax(p1: Pid, p2: Pid) -> tuple[Pid, Pid]:
    return (p1, p2) if _node_of(p1) < _node_of(p2) else (p2, p1)


def random_exit_name(name: Any, pid1: Pid, pid2: Pid) -> Pid:
    """The default resolve function: keep the pid of the node with the smaller
    name, kill the other (exit reason ``kill``), log the conflict at INFO.

    Erlang's ``global:random_exit_name/3``.  Call it from a process.
    """
    low, high = _minmax(pid1, pid2)
    logger.info("global: Name conflict terminating %r", (name, high))
    Process.exit(high, "kill")
    return low


def random_notify_name(name: Any, pid1: Pid, pid2: Pid) -> Pid:
    """Keep the pid of the node with the smaller name; send the other
    ``("global_name_conflict", name)``.  Erlang's ``global:random_notify_name/3``."""
    low, high = _minmax(pid1, pid2)
    _send(high, (NAME_CONFLICT, name))
    return low


def notify_all_name(name: Any, pid1: Pid, pid2: Pid) -> None:
    """Unregister the name; send each pid ``("global_name_conflict", name,
    other_pid)``.  Erlang's ``global:notify_all_name/3``."""
    _send(pid1, (NAME_CONFLICT, name, pid2))
    _send(pid2, (NAME_CONFLICT, name, pid1))
    return None


_BUILTIN: Final[dict[Any, Callable[..., Any]]] = {
    RANDOM_EXIT: random_exit_name,
    RANDOM_NOTIFY: random_notify_name,
    NOTIFY_ALL: notify_all_name,
}
_BUILTIN_TERMS: Final = {fn: term for term, fn in _BUILTIN.items()}


def _method_term(table: _Table, resolve: Any) -> Any:
    """The term that stands for ``resolve`` in the name tables of every node.

    OTP's three functions are OTP's export funs (``&:global.random_exit_name/3``),
    so an Erlang node that must run them runs its own.  An Erlang fun (an
    ``Export`` or ``Fun`` received from a node) is kept as it is.  Any other
    Python function gets a term of its own (``&:tether_resolver.N/3``), known to
    this node only: it runs when this node settles the clash, or when another
    node asks this one to (``global:resolve_it/4`` over rpc, for a pid of this
    node).
    """
    if isinstance(resolve, Export | Fun):
        return resolve
    term = _BUILTIN_TERMS.get(resolve)
    if term is not None:
        return term
    term = table.resolver_terms.get(resolve)
    if term is None:
        term = Export("tether_resolver", str(len(table.resolvers) + 1), 3)
        table.resolver_terms[resolve] = term
        table.resolvers[term] = resolve
    return term


async def resolve_it(method: Any, name: Any, pid1: Pid, pid2: Pid) -> Any:
    """``global:resolve_it/4``: run a resolve function as ``catch Method(...)``
    does: its pid, ``none``, or ``('EXIT', reason)``.  Other nodes call it over
    rpc for a clash whose pid lives here."""
    fn = _BUILTIN.get(method)
    if fn is None and isinstance(method, Fun):
        # OTP 25's register_name/2 passes a local fun of its own module, ``fun
        # random_exit_name/3`` (the only 3-ary fun global.erl makes): run ours.
        if method.module == "global" and method.arity == 3:
            fn = random_exit_name
    elif fn is None:
        table = node_state(_KEY, _Table, "global:resolve_it")
        fn = table.resolvers.get(method)
    if fn is None:
        # An Erlang fun has no meaning here: as calling an undefined function.
        return (Atom("EXIT"), (Atom("undef"), [(method, [name, pid1, pid2])]))
    try:
        result = fn(name, pid1, pid2)
        if inspect.isawaitable(result):
            result = await result
    except Exception as e:
        return (Atom("EXIT"), e)
    return NONE if result is None else result


_rpc.expose("global", "resolve_it")(resolve_it)


# -- the public API -------------------------------------------------------------


def whereis_name(name: Any) -> Pid | None:
    """The pid registered under ``name`` anywhere in the cluster, or ``None``.

    Reads this node's copy of the table (never waits).  Erlang's
    ``global:whereis_name/1``.
    """
    return _table("global_.whereis_name").where(name)


def registered_names() -> list[Any]:
    """Every globally registered name.  Erlang's ``global:registered_names/0``."""
    table = _table("global_.registered_names")
    return [e.name for e in table.names.values()]


def send(name: Any, msg: Any) -> Pid:
    """Send ``msg`` to the process registered under ``name``; return its pid.

    Erlang's ``global:send/2``.

    Raises:
        ValueError: no process is registered under ``name`` (Erlang exits
            ``{badarg, {Name, Msg}}``).
    """
    pid = _table("global_.send").where(name)
    if pid is None:
        raise ValueError(
            f"global_.send: no process is registered globally as {name!r}; check "
            "global_.whereis_name(name) first"
        )
    _send(pid, msg)
    return pid


def _check_name(name: Any, what: str) -> None:
    check_term(name, what, "name")


def _check_resolve(resolve: Any, what: str) -> None:
    if not (callable(resolve) or isinstance(resolve, Export | Fun)):
        raise TypeError(
            f"{what}: resolve must be a function (name, pid1, pid2) -> pid | None, such "
            f"as tether.global_.random_exit_name, got {resolve!r}"
        )


async def register_name(name: Any, pid: Pid, resolve: Any = random_exit_name) -> Atom:
    """Register ``pid`` under ``name`` on every node of the cluster.

    Returns ``"yes"``, or ``"no"`` when the name is taken or ``pid`` already has
    a global name.  ``resolve(name, pid1, pid2)`` settles a clash when two
    clusters that both hold ``name`` join: it returns the pid to keep, or
    ``None`` to drop the name (default :func:`random_exit_name`).  Waits for the
    cluster-wide lock.  Erlang's ``global:register_name/2,3``.

    Raises:
        TypeError: ``name`` is not an Erlang term, ``pid`` not a pid, or
            ``resolve`` not a function.
    """
    what = "global_.register_name"
    _check_name(name, what)
    check_pid(pid, what)
    _check_resolve(resolve, what)
    table = _ensure_server(what)
    method = _method_term(table, resolve)

    async def register(nodes: list[Atom]) -> Atom:
        if table.where(name) is None and _check_dupname(table, name, pid):
            await _multi_call((Atom("register"), name, pid, method), nodes)
            return YES
        return NO

    result: Atom = await _registrar_call(table, register)
    return result


async def re_register_name(name: Any, pid: Pid, resolve: Any = random_exit_name) -> Atom:
    """Register ``pid`` under ``name`` whether or not the name is taken (it moves
    to ``pid``); returns ``"yes"``.  Erlang's ``global:re_register_name/2,3``.

    Raises:
        TypeError: as :func:`register_name`.
    """
    what = "global_.re_register_name"
    _check_name(name, what)
    check_pid(pid, what)
    _check_resolve(resolve, what)
    table = _ensure_server(what)
    method = _method_term(table, resolve)

    async def register(nodes: list[Atom]) -> Atom:
        await _multi_call((Atom("register"), name, pid, method), nodes)
        return YES

    result: Atom = await _registrar_call(table, register)
    return result


async def unregister_name(name: Any) -> Atom:
    """Remove the global ``name``; returns ``"ok"`` (also when it was not
    registered).  Erlang's ``global:unregister_name/1``."""
    what = "global_.unregister_name"
    table = _ensure_server(what)
    if table.where(name) is None:
        return OK

    async def unregister(nodes: list[Atom]) -> Atom:
        await _multi_call((Atom("unregister"), name), nodes)
        return OK

    result: Atom = await _registrar_call(table, unregister)
    return result


def _check_lock_id(lock_id: Any, what: str) -> None:
    if type(lock_id) is not tuple or len(lock_id) != 2:
        raise TypeError(f"{what}: id must be (resource_id, lock_requester_id), got {lock_id!r}")
    try:
        encode(lock_id)
        hash(_key(lock_id))
    except (EncodeError, TypeError):
        raise TypeError(f"{what}: id must be made of Erlang terms, got {lock_id!r}") from None


def _check_nodes(nodes: Any, what: str) -> list[Atom]:
    if nodes is None:
        return _all_nodes()
    if not isinstance(nodes, list | tuple) or not all(
        isinstance(n, str) and "@" in n for n in nodes
    ):
        raise TypeError(f"{what}: nodes must be a list of node names like 'a@host', got {nodes!r}")
    return [Atom(n) for n in nodes]


def _all_nodes() -> list[Atom]:
    from .._runtime._api import nodes

    return [node(), *nodes()]


async def set_lock(
    lock_id: tuple[Any, Any], nodes: list[str] | None = None, retries: int | None = None
) -> bool:
    """Set the lock ``lock_id = (resource_id, requester_id)`` on ``nodes`` (default:
    this node and every visible node); ``True`` once set, ``False`` when it could
    not be set within ``retries`` retries (``None``: retry for ever, with random
    sleeps that grow to 8 s).  A resource is held by one requester at a time, by
    as many processes of that requester as set it; a holder's death releases
    its hold.  Erlang's ``global:set_lock/1,2,3``.

    Raises:
        TypeError: a bad ``lock_id`` or ``nodes``.
        ValueError: ``retries`` is negative.
    """
    what = "global_.set_lock"
    _check_lock_id(lock_id, what)
    on = _check_nodes(nodes, what)
    if retries is not None and (
        isinstance(retries, bool) or not isinstance(retries, int) or retries < 0
    ):
        raise ValueError(f"{what}: retries must be an int >= 0 or None (forever), got {retries!r}")
    table = _ensure_server(what)
    return await _set_lock(table, lock_id, on, retries)


async def del_lock(lock_id: tuple[Any, Any], nodes: list[str] | None = None) -> bool:
    """Release the caller's hold of ``lock_id`` on ``nodes`` (default: this node
    and every visible node); returns ``True``.  Erlang's ``global:del_lock/1,2``."""
    what = "global_.del_lock"
    _check_lock_id(lock_id, what)
    on = _check_nodes(nodes, what)
    _ensure_server(what)
    return await _del_lock(lock_id, on)


async def trans(
    lock_id: tuple[Any, Any],
    fun: Callable[[], Any],
    nodes: list[str] | None = None,
    retries: int | None = None,
) -> Any:
    """Run ``fun()`` (sync or async) holding ``lock_id`` on ``nodes``; its result,
    or ``"aborted"`` when the lock could not be set.  The lock is released however
    ``fun`` ends.  Erlang's ``global:trans/2,3,4``."""
    what = "global_.trans"
    if not callable(fun):
        raise TypeError(f"{what}: fun must be callable, got {fun!r}")
    if not await set_lock(lock_id, nodes, retries):
        return Atom("aborted")
    on = _check_nodes(nodes, what)
    try:
        result = fun()
        if inspect.isawaitable(result):
            result = await result
        return result
    finally:
        await _del_lock(lock_id, on)


async def sync(nodes: list[str] | None = None) -> Atom:
    """Wait until this node has synchronised its names with ``nodes`` (default:
    every visible node), or they went down; ``"ok"``.  Erlang's
    ``global:sync/0,1``."""
    what = "global_.sync"
    if nodes is None:
        from .._runtime._api import nodes as visible

        on = visible()
    else:
        on = _check_nodes(nodes, what)
    table = _ensure_server(what)
    assert table.server is not None
    result: Atom = await GenServer.call(table.server, (Atom("sync"), on), None)
    return result


def _check_dupname(table: _Table, name: Any, pid: Pid) -> bool:
    names = table.pid_names.get(pid)
    if not names:
        return True
    logger.error(
        "global: %r registered under several names: %r",
        pid,
        [name, *(table.names[k].name for k in names if k in table.names)],
    )
    return False


async def _registrar_call(table: _Table, fun: Callable[[list[Atom]], Awaitable[Any]]) -> Any:
    assert table.server is not None
    outcome = await GenServer.call(table.server, (Atom("registrar"), fun), None)
    if type(outcome) is tuple and len(outcome) == 2 and outcome[0] == "raise":
        raise outcome[1]
    return outcome


# -- locks (set_lock/del_lock, on any process) ------------------------------------


async def _set_lock(
    table: _Table, lock_id: Any, nodes: list[Atom], retries: int | None, times: int = 1
) -> bool:
    while True:
        if not nodes:
            return True
        if await _set_lock_on_nodes(table, lock_id, nodes):
            return True
        if retries == 0:
            return False
        await _random_sleep(times)
        retries = None if retries is None else retries - 1
        times += 1


async def _set_lock_on_nodes(table: _Table, lock_id: Any, nodes: list[Atom]) -> bool:
    if not nodes:
        return True
    # local_lock_check: not worth asking the others when this node already says no.
    if len(nodes) > 1 and node() in nodes and table.can_set_lock(lock_id) is None:
        return False
    replies, _bad = await _multi_call((Atom("set_lock"), lock_id), nodes)
    if all(r is True for _n2, r in replies):
        return True
    if len(replies) > 1:
        granted = [n for n, r in replies if r is True]
        await _multi_call((Atom("del_lock"), lock_id), granted)
    return False


async def _multi_call(request: Any, nodes: list[Atom]) -> tuple[list[tuple[Atom, Any]], list[Atom]]:
    """``gen_server:multi_call(Nodes, global_name_server, Request)``: no timeout."""
    return await GenServer.multi_call(GNS, request, None, nodes=[str(n) for n in nodes])


async def _del_lock(lock_id: Any, nodes: list[Atom]) -> bool:
    await _multi_call((Atom("del_lock"), lock_id), nodes)
    return True


async def _random_sleep(times: int) -> None:
    tmax = 8000 if times > 5 else (1 << times) * 1000 // 8
    await Process.sleep(random.randint(1, tmax) / 1000)


async def _delete_global_lock(lock_id: Any, nodes: list[Atom]) -> None:
    boss = max(nodes)
    await _del_lock(lock_id, [n for n in nodes if n != boss])
    await _del_lock(lock_id, [boss])


# -- distribution, as the server sees it -------------------------------------------


def _dist() -> Any:
    return getattr(_n.NODE, "dist", None)


def _visible(name: str) -> bool:
    d = _dist()
    return d is not None and name in d.nodes("visible")


def _connected(name: str) -> bool:
    d = _dist()
    conn = None if d is None else d.connections.get(name)
    return conn is not None and bool(conn.up)


def _cast(to: str, msg: Any) -> None:
    """``gen_server:cast({global_name_server, Node}, Msg)``: never fails."""
    with contextlib.suppress(Exception):
        _send((GNS, to), (CAST, msg))


def _volatile_send(to: str, msg: Any) -> None:
    """``gns_volatile_send``: ``erlang:_send(To, Msg, [noconnect])``."""
    if _connected(to):
        with contextlib.suppress(Exception):
            _send((GNS, to), msg)


# -- the server --------------------------------------------------------------------


class _Server:
    """global.erl's gen_server callbacks and their state.

    ``known`` maps every node in the cluster this node is synchronised with to its
    protocol version; ``pending`` the nodes being synchronised; ``pd`` holds what
    the original keeps in its process dictionary, per node (``sync_tag_my``,
    ``sync_tag_his``, ``prot_vsn``, ``wait_lock``, ``save_ops``, ``pre_connect``,
    ``lock_id``), cleared by :meth:`reset_node_state`.
    """

    def __init__(self, table: _Table) -> None:
        self.table = table
        self.me = node()
        self.known: dict[Atom, int] = {}
        self.pending: dict[Atom, int] = {}
        self.removing: set[Atom] = set()
        self.synced: list[Atom] = []
        self.resolvers: list[tuple[Atom, int, Pid]] = []
        self.syncers: dict[Ref, Pid] = {}
        self.up: set[Atom] = set()  # visible nodes whose nodeup was handled
        self.pd: dict[tuple[str, Atom], Any] = {}
        self.lost: dict[tuple[Any, Any], tuple[Any, int]] = {}
        self.global_lock_down = False
        self.creation_ext = random.getrandbits(59)
        self.op_ids = itertools.count(1)
        self.the_locker = spawn_link(_locker_main, table)
        self.the_registrar = spawn_link(_registrar_main, table)

    # -- the message loop (gen_server's wire format) ---------------------------

    async def loop(self, d: Any) -> None:
        if d is not None:
            cur = _n.NODE.current
            assert cur is not None
            d.monitor_nodes(cur, True)  # net_kernel:monitor_nodes(true)
        while True:
            msg = await receive()
            try:
                await self.dispatch(msg)
            except Exception:
                logger.exception("global_name_server: a message failed and was dropped")

    async def dispatch(self, msg: Any) -> None:
        if trace.isEnabledFor(logging.DEBUG):
            trace.debug("global_name_server %s <- %r", self.me, msg)
        if type(msg) is tuple and len(msg) == 3 and msg[0] == CALL:
            from_ = msg[1]
            reply = self.handle_call(msg[2], from_)
            if reply is not _NOREPLY:
                with contextlib.suppress(Exception):
                    reply_to(from_, reply)
        elif type(msg) is tuple and len(msg) == 2 and msg[0] == CAST:
            self.handle_cast(msg[1])
        else:
            self.handle_info(msg)

    def get(self, what: str, name: Atom, default: Any = None) -> Any:
        return self.pd.get((what, name), default)

    def put(self, what: str, name: Atom, value: Any) -> None:
        self.pd[(what, name)] = value

    def erase(self, what: str, name: Atom) -> Any:
        return self.pd.pop((what, name), None)

    # -- calls -----------------------------------------------------------------

    def handle_call(self, req: Any, from_: Any) -> Any:
        caller = from_[0] if type(from_) is tuple and len(from_) == 2 else None
        match req:
            case ("registrar", fun) if (
                callable(fun) and type(caller) is Pid and caller.node is None
            ):
                _send(self.the_registrar, (Atom("trans_all_known"), fun, from_))
                return _NOREPLY
            case ("register", name, pid, method) if type(pid) is Pid and type(caller) is Pid:
                self.ins_name(name, pid, method, caller, [])
                return YES
            case ("register_ext", name, pid, method, _reg_node) if (
                type(pid) is Pid and type(caller) is Pid
            ):
                self.ins_name(name, pid, method, caller, [])
                return YES
            case ("unregister", name):
                self.delete_global_name2(name)
                return OK
            case ("set_lock", (resource, requester)) if type(caller) is Pid:
                return self.handle_set_lock((resource, requester), caller)
            case ("del_lock", (resource, requester)) if type(caller) is Pid:
                self.handle_del_lock((resource, requester), caller)
                return True
            case "get_known":
                return self.mk_known_list(0)
            case "get_synced":
                return list(self.synced)
            case ("sync", nodes) if isinstance(nodes, list):
                todo = [n for n in nodes if n != self.me and n not in self.synced]
                pid = spawn(_syncer_main, todo, from_)
                self.syncers[Process.monitor(pid)] = pid
                return _NOREPLY
            case "get_protocol_version":
                return VSN
            case "get_names_ext":
                return []
        logger.warning(
            "The global_name_server received an unexpected message:\nhandle_call(%r, %r, _)",
            req,
            from_,
        )
        return _NOREPLY

    # -- casts -----------------------------------------------------------------

    def handle_cast(self, msg: Any) -> None:
        match msg:
            case ("init_connect", vsn, str() as nd, init_msg):
                self.handle_init_connect(vsn, Atom(nd), init_msg)
            case ("lock_is_set", str() as nd, my_tag, lock_id):
                nd = Atom(nd)
                if self.get("sync_tag_my", nd) == my_tag:
                    self.lock_is_set(nd, lock_id)
                else:
                    self.cancel_locker(nd, my_tag)
            case ("exchange", str() as nd, name_list, _ext, my_tag):
                nd = Atom(nd)
                if self.get("sync_tag_my", nd) == my_tag:
                    self.exchange(nd, name_list)
                else:
                    self.cancel_locker(nd, my_tag)
            case ("exchange_ops", str() as nd, my_tag, ops, resolved):
                nd = Atom(nd)
                if self.get("sync_tag_my", nd) == my_tag:
                    known = self.mk_known_list(self.node_vsn(nd))
                    _cast(
                        nd,
                        (
                            RESOLVED,
                            self.me,
                            resolved,
                            known,
                            Atom("unused"),
                            [],
                            self.get("sync_tag_his", nd),
                        ),
                    )
                    saved = self.get("save_ops", nd)
                    if type(saved) is tuple and saved[0] == RESOLVED:
                        _, his_known, names_ext, his_resolved = saved
                        self.put("save_ops", nd, list(ops))
                        self.resolved(nd, his_resolved, his_known, names_ext)
                    elif saved is None:
                        self.put("save_ops", nd, list(ops))
                else:
                    self.cancel_locker(nd, my_tag)
            case ("resolved", str() as nd, his_resolved, his_known, _unused, names_ext, my_tag):
                nd = Atom(nd)
                if self.get("sync_tag_my", nd) == my_tag:
                    ops = self.get("save_ops", nd)
                    if isinstance(ops, list):
                        self.resolved(nd, his_resolved, his_known, names_ext)
                    elif ops is None:
                        self.put("save_ops", nd, (RESOLVED, his_known, names_ext, his_resolved))
                else:
                    self.cancel_locker(nd, my_tag)
            case ("new_nodes", str() as nd, ops, names_ext, nodes, extra_info):
                self.new_nodes(ops, Atom(nd), names_ext, nodes, extra_info)
            case ("in_sync", str() as nd, _is_known):
                nd = Atom(nd)
                for pid in self.syncers.values():
                    _send(pid, (SYNCED, [nd]))
                if nd not in self.synced:
                    self.synced.insert(0, nd)
                self.pending.pop(nd, None)
                self.cancel_locker(nd, self.get("sync_tag_my", nd))
                self.reset_node_state(nd)
            case ("async_del_name", _, _) | ("async_del_lock", _, _):
                pass
            case ("lock_set", Pid() as pid, _set, _his_known, my_tag):
                if pid.node is not None and self.get("sync_tag_my", Atom(pid.node)) == my_tag:
                    _send(self.the_locker, msg)
            case ("lock_set", Pid(), _set, _his_known):
                _send(self.the_locker, msg)
            case _:
                logger.warning(
                    "The global_name_server received an unexpected message:\nhandle_cast(%r, _)",
                    msg,
                )

    # -- other messages --------------------------------------------------------

    def handle_info(self, msg: Any) -> None:
        match msg:
            case Down(ref, _, _, _):
                if ref in self.syncers:
                    del self.syncers[ref]
                    return
                self.delete_lock(ref)
                self.del_name(ref)
            case ("nodeup", str() as nd):
                nd = Atom(nd)
                if nd != self.me and _visible(nd):  # monitor_nodes: visible nodes only
                    self.up.add(nd)
                    self.handle_nodeup(nd)
            case ("nodedown", str() as nd):
                nd = Atom(nd)
                if nd in self.up:
                    self.up.discard(nd)
                    self.handle_nodedown(nd, "disconnected")
            case ("extra_nodedown", str() as nd):
                nd = Atom(nd)
                for pid in self.syncers.values():
                    _send(pid, (NODEDOWN, nd))
                self.handle_nodedown(nd, "disconnected")
            case ("whereis", name, from_):
                server = self.table.server
                if self.table.is_lock_set(GLOBAL) and server is not None:
                    spawn(_send_again, server, msg)
                else:
                    with contextlib.suppress(Exception):
                        reply_to(from_, self.table.where(name) or Atom("undefined"))
            case ("lost_connection", str() as a, xcre, op_id, str() as b):
                self.lost_connection(Atom(a), xcre, op_id, Atom(b), msg)
            case ("lost_connection_expired", key, op_id):
                if self.lost.get(key, (None, None))[1] == op_id:
                    del self.lost[key]
            case ("remove_connection", str() as nd):
                self.remove_connection(Atom(nd))
            case ("cancel_connect", str() as nd, my_tag):
                nd = Atom(nd)
                if self.get("sync_tag_my", nd) == my_tag:
                    self.cancel_locker(nd, my_tag)
                    self.reset_node_state(nd)
                    self.pending.pop(nd, None)
                    self.restart_connect(nd, my_tag)
            case ("init_connect_ack", str() as nd, his_my_tag, his_his_tag):
                nd = Atom(nd)
                my_my_tag = self.get("sync_tag_my", nd)
                my_his_tag = self.get("sync_tag_his", nd)
                if not (my_my_tag == his_my_tag and my_his_tag == his_his_tag):
                    self.send_cancel_connect_message(nd, his_his_tag)
                    self.restart_connect(nd, my_my_tag)
            case _:
                logger.warning(
                    "The global_name_server received an unexpected message:\nhandle_info(%r, _)",
                    msg,
                )

    # -- connecting to a node ------------------------------------------------------

    def handle_nodeup(self, nd: Atom) -> None:
        if nd in self.known or any(r[0] == nd for r in self.resolvers):
            return
        self.resend_pre_connect(nd)
        my_tag = next(_tags)
        self.put("sync_tag_my", nd, my_tag)
        known = {Atom(n): v for n, v in self.known.items()}
        init = (
            Atom("init_connect"),
            (VSN, my_tag),
            self.me,
            (LOCKER, NO_LONGER_A_PID, known, self.the_locker),
        )
        _cast(nd, init)
        resolver = spawn(_resolver_main, self.table, nd, my_tag)
        self.resolvers.insert(0, (nd, my_tag, resolver))

    def resend_pre_connect(self, nd: Atom) -> None:
        pre = self.erase("pre_connect", nd)
        if pre is not None:
            vsn, init_msg, his_tag = pre
            _send(self.table.server, (CAST, (Atom("init_connect"), (vsn, his_tag), nd, init_msg)))  # type: ignore[arg-type]

    def handle_init_connect(self, vsn: Any, nd: Atom, init_msg: Any) -> None:
        if type(vsn) is tuple and len(vsn) == 2 and isinstance(vsn[0], int):
            his_vsn, his_tag = vsn
            self.init_connect(min(his_vsn, VSN), nd, init_msg, his_tag, his_vsn)
        elif type(vsn) is tuple and len(vsn) > 2 and isinstance(vsn[0], int):
            self.init_connect(VSN, nd, init_msg, vsn[1], vsn[0])
        else:
            logger.info("Illegal global protocol version %r Node: %r", vsn, nd)

    def init_connect(self, vsn: int, nd: Atom, init_msg: Any, his_tag: Any, his_vsn: int) -> None:
        if nd in self.pending:
            if his_vsn < 8:
                d = _dist()
                if d is not None:
                    d.disconnect(nd)
                logger.error(
                    "'global' at node %s got an out of sync connection attempt from old "
                    "version %r node %s. Disconnecting from it.",
                    self.me,
                    his_vsn,
                    nd,
                )
                return
            self.send_cancel_connect_message(nd, his_tag)
            self.restart_connect(nd, self.get("sync_tag_my", nd))
        self.put("prot_vsn", nd, vsn)
        self.put("sync_tag_his", nd, his_tag)
        found = next((r for r in self.resolvers if r[0] == nd), None)
        if found is not None:
            my_tag = found[1]
            if not (type(init_msg) is tuple and len(init_msg) == 4 and type(init_msg[3]) is Pid):
                logger.warning("global: bad init_connect from %s: %r", nd, init_msg)
                return
            his_the_locker = init_msg[3]
            _send(
                self.the_locker,
                (Atom("his_the_locker"), his_the_locker, (vsn, []), his_tag, my_tag),
            )
            if his_vsn >= 8:
                _volatile_send(nd, (Atom("init_connect_ack"), self.me, his_tag, my_tag))
            self.pending[nd] = his_vsn
        else:
            self.put("pre_connect", nd, (vsn, init_msg, his_tag))

    def restart_connect(self, nd: Atom, my_tag: Any) -> None:
        self.cancel_locker(nd, my_tag)
        self.reset_node_state(nd)
        self.pending.pop(nd, None)
        if isinstance(my_tag, int):
            self.handle_nodeup(nd)

    def lock_is_set(self, nd: Atom, lock_id: Any) -> None:
        _cast(nd, (EXCHANGE, self.me, self.get_names(), [], self.get("sync_tag_his", nd)))
        self.put("lock_id", nd, lock_id)
        waiting = self.get("wait_lock", nd)
        if type(waiting) is tuple and waiting[0] == EXCHANGE:
            self.put("wait_lock", nd, LOCK_IS_SET)
            self.exchange(nd, waiting[1])
        elif waiting is None:
            self.put("wait_lock", nd, LOCK_IS_SET)

    def exchange(self, nd: Atom, name_list: Any) -> None:
        waiting = self.erase("wait_lock", nd)
        if waiting == LOCK_IS_SET:
            found = next((r for r in self.resolvers if r[0] == nd), None)
            if found is not None:
                _send(found[2], (Atom("resolve"), name_list, nd))
        elif waiting is None:
            self.put("wait_lock", nd, (EXCHANGE, name_list))

    def resolved(self, nd: Atom, his_resolved: Any, his_known: Any, names_ext: Any) -> None:
        ops = list(self.erase("save_ops", nd)) + list(his_resolved)
        known_before = dict(self.known)
        synced = list(self.synced)
        new_nodes = self.make_node_vsn_list([nd, *his_known])
        his_known_nodes = _node_list(his_known)
        _sync_others(his_known_nodes)
        extra_info = [
            (Atom("vsn"), self.get("prot_vsn", nd)),
            (Atom("lock"), self.get("lock_id", nd)),
        ]
        self.do_ops(ops, self.me, names_ext, extra_info)
        for pid in self.syncers.values():
            _send(pid, (SYNCED, [nd]))
        for cncl in his_known_nodes:
            self.cancel_resolved_locker(cncl, functools.partial(self.cancel_locker, cncl))
        new_nodes_msg = (Atom("new_nodes"), self.me, ops, names_ext, new_nodes, extra_info)
        old_msg = (Atom("new_nodes"), self.me, ops, names_ext, _node_list(new_nodes), extra_info)

        def tell_the_others() -> None:  # run by the locker, just before it unlocks
            for n, v in known_before.items():
                _cast(n, new_nodes_msg if v >= 7 else old_msg)

        self.cancel_resolved_locker(
            nd, functools.partial(self.cancel_locker, nd, fun=tell_the_others)
        )
        added = self.add_to_known(new_nodes)
        _send(self.the_locker, (Atom("add_to_known"), added))
        self.synced = [nd, *synced]

    def cancel_resolved_locker(self, nd: Atom, cancel: Callable[[Any], None]) -> None:
        tag = self.get("sync_tag_my", nd)
        self.pending.pop(nd, None)
        cancel(tag)
        self.reset_node_state(nd)

    def new_nodes(self, ops: Any, conn_node: Atom, names_ext: Any, nodes: Any, extra: Any) -> None:
        added = self.add_to_known(nodes)
        _sync_others(added)
        self.do_ops(ops, conn_node, names_ext, extra)
        _send(self.the_locker, (Atom("add_to_known"), added))

    def cancel_locker(self, nd: Atom, tag: Any, fun: Callable[[], None] | None = None) -> None:
        _send(self.the_locker, (CANCEL, nd, tag, fun))
        self.send_cancel_connect(nd, tag)
        for r in self.resolvers:
            if r[0] == nd and r[1] == tag:
                Process.exit(r[2], "kill")
                self.resolvers.remove(r)
                break

    def send_cancel_connect(self, nd: Atom, my_tag: Any) -> None:
        vsn = self.pending.get(nd)
        if vsn is None or vsn < 8 or self.get("sync_tag_my", nd) != my_tag:
            return
        self.send_cancel_connect_message(nd, self.get("sync_tag_his", nd))

    def send_cancel_connect_message(self, nd: Atom, his_tag: Any) -> None:
        _volatile_send(nd, (Atom("cancel_connect"), self.me, his_tag))

    def reset_node_state(self, nd: Atom) -> None:
        for what in (
            "wait_lock",
            "save_ops",
            "pre_connect",
            "prot_vsn",
            "sync_tag_my",
            "sync_tag_his",
            "lock_id",
        ):
            self.pd.pop((what, nd), None)

    # -- a node goes down (and overlapping partitions) --------------------------

    def handle_nodedown(self, nd: Atom, what: str) -> None:
        self.cancel_locker(nd, self.get("sync_tag_my", nd))
        _send(self.the_locker, (Atom("remove_from_known"), nd))
        self.reset_node_state(nd)
        if what == "remove_connection":
            self.removing.add(nd)
        elif what == "ignore_node" or nd in self.removing:
            self.removing.discard(nd)
        else:
            self.inform_connection_loss(nd)
        self.pending.pop(nd, None)
        self.known.pop(nd, None)
        if nd in self.synced:
            self.synced.remove(nd)

    def inform_connection_loss(self, nd: Atom) -> None:
        """``prevent_overlapping_partitions`` (OTP 25's default): tell every node
        this one knows that it lost ``nd``, so that none stays connected to both
        halves of a partition."""
        msg = (Atom("lost_connection"), self.me, self.creation_ext, next(self.op_ids), nd)
        self.multicast(msg, nd)

    def multicast(self, msg: Any, ignore: Atom) -> None:
        for n, v in [*self.known.items(), *self.pending.items()]:
            if n != ignore and v >= 7:
                _volatile_send(n, msg)

    def lost_connection(self, a: Atom, xcre: Any, op_id: Any, b: Atom, msg: Any) -> None:
        key = (a, b)
        old = self.lost.get(key)
        if old is not None and old[0] == xcre and isinstance(op_id, int) and op_id <= old[1]:
            return
        self.multicast(msg, a)
        self.lost[key] = (xcre, op_id)
        me = self.table.server
        if me is not None:
            Process.send_after(me, (Atom("lost_connection_expired"), key, op_id), 3600)
        rm = a if b == self.me else b
        if not (rm in self.known or rm in self.pending):
            return
        if self.node_vsn(rm) < 7:
            d = _dist()
            if d is not None:
                d.disconnect(rm)
            what = "disconnected old"
        else:
            _volatile_send(rm, (Atom("remove_connection"), self.me))
            what = "requested disconnect from"
        logger.warning(
            "'global' at node %s %s node %s in order to prevent overlapping partitions",
            self.me,
            what,
            rm,
        )
        self.handle_nodedown(rm, "remove_connection")

    def remove_connection(self, nd: Atom) -> None:
        if not (nd in self.known or nd in self.pending):
            return
        d = _dist()
        if d is not None:
            d.disconnect(nd)
        self.handle_nodedown(nd, "remove_connection")
        logger.warning(
            "'global' at node %s disconnected node %s in order to prevent overlapping partitions",
            self.me,
            nd,
        )

    # -- the known nodes --------------------------------------------------------

    def node_vsn(self, nd: Atom) -> int:
        if nd == self.me:
            return VSN
        if nd in self.known:
            return self.known[nd]
        return self.pending.get(nd, 0)

    def mk_known_list(self, vsn: int) -> list[Any]:
        if vsn < 7:
            return list(self.known)
        return [(n, v) for n, v in self.known.items()]

    def make_node_vsn_list(self, nodes: list[Any]) -> list[tuple[Atom, int]]:
        out = []
        for item in nodes:
            if type(item) is tuple and len(item) == 2 and _is_node(item[0]):
                n, v = Atom(item[0]), item[1]
                out.append((n, self.node_vsn(n) if v == 0 else v))
            elif _is_node(item):
                out.append((Atom(item), self.node_vsn(Atom(item))))
        return out

    def add_to_known(self, nodes: Any) -> list[Atom]:
        added: list[Atom] = []
        for item in nodes:
            if type(item) is tuple and len(item) == 2:
                n, v = item
            else:
                n, v = item, 0
            if not (_is_node(n) and isinstance(v, int)):
                continue  # not a node: a peer's malformed list
            n = Atom(n)
            if n == self.me:
                continue
            if n not in self.known:
                added.insert(0, n)
                self.known[n] = v
            elif self.known[n] < 0:
                self.known[n] = v
        return added

    # -- names ----------------------------------------------------------------

    def get_names(self) -> list[tuple[Any, Pid, Any]]:
        return [(e.name, e.pid, e.method) for e in self.table.names.values()]

    def do_ops(self, ops: Any, conn_node: Any, names_ext: Any, extra_info: Any) -> None:
        for op in ops:
            if type(op) is tuple and len(op) == 2 and op[0] == INSERT:
                name, pid, method = op[1]
                if type(pid) is Pid:
                    self.ins_name(name, pid, method, conn_node, extra_info)
        for op in ops:
            if type(op) is tuple and len(op) == 2 and op[0] == DELETE:
                self.delete_global_name2(op[1])

    def ins_name(self, name: Any, pid: Pid, method: Any, from_: Any, extra_info: Any) -> None:
        self.delete_global_name_keep_pid(name)
        self.insert_global_name(name, pid, method, from_, extra_info)

    def insert_global_name(
        self, name: Any, pid: Pid, method: Any, from_: Any, extra_info: Any
    ) -> None:
        t = self.table
        key = _key(name)
        ref = Process.monitor(pid)
        t.names[key] = _Entry(name, pid, method, ref)
        t.pid_names.setdefault(pid, set()).add(key)
        t.ref_names[ref] = key
        if not self.lock_still_set(from_, extra_info):
            self.delete_global_name2(name)

    def lock_still_set(self, pid_or_node: Any, extra_info: Any) -> bool:
        lock = self.table.locks.get(_key(GLOBAL))
        if lock is None:
            return not self.global_lock_down
        if type(pid_or_node) is Pid:
            return any(p == pid_or_node for p, _ in lock.holders)
        info = dict(e for e in extra_info if type(e) is tuple and len(e) == 2)
        held = info.get("lock")
        return (
            type(held) is tuple
            and len(held) == 2
            and held[0] == GLOBAL
            and (lock.requester == held[1])
        )

    def del_name(self, ref: Ref) -> None:
        key = self.table.ref_names.get(ref)
        if key is not None:
            entry = self.table.names.get(key)
            if entry is not None and entry.ref == ref:
                self.delete_global_name2(entry.name)

    def delete_global_name_keep_pid(self, name: Any) -> None:
        entry = self.table.names.get(_key(name))
        if entry is not None:
            self._forget(entry)

    def delete_global_name2(self, name: Any) -> None:
        try:
            entry = self.table.names.pop(_key(name), None)
        except TypeError:
            return
        if entry is not None:
            self._forget(entry)

    def _forget(self, entry: _Entry) -> None:
        t = self.table
        Process.demonitor(entry.ref, flush=True)
        key = _key(entry.name)
        keys = t.pid_names.get(entry.pid)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del t.pid_names[entry.pid]
        t.ref_names.pop(entry.ref, None)

    # -- locks ----------------------------------------------------------------

    def handle_set_lock(self, lock_id: tuple[Any, Any], pid: Pid) -> bool:
        holders = self.table.can_set_lock(lock_id)
        if holders is None:
            return False
        if any(p == pid for p, _ in holders):
            return True
        resource, requester = lock_id
        ref = Process.monitor(pid)
        t = self.table
        t.ref_locks.setdefault(ref, set()).add(_key(resource))
        t.locks[_key(resource)] = _Lock(resource, requester, [(pid, ref), *holders])
        return True

    def handle_del_lock(self, lock_id: tuple[Any, Any], pid: Pid) -> None:
        resource, requester = lock_id
        lock = self.table.locks.get(_key(resource))
        if lock is not None and lock.requester == requester:
            self.remove_lock(lock, pid, False)

    def remove_lock(self, lock: _Lock, pid: Pid, down: bool) -> None:
        t = self.table
        key = _key(lock.resource)
        mine = [(p, r) for p, r in lock.holders if p == pid]
        for _p, ref in mine:
            Process.demonitor(ref, flush=True)
            keys = t.ref_locks.get(ref)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del t.ref_locks[ref]
        rest = [(p, r) for p, r in lock.holders if p != pid]
        if mine and not rest:
            del t.locks[key]
            if lock.resource == GLOBAL:
                self.global_lock_down = down
        else:
            lock.holders = rest

    def delete_lock(self, ref: Ref) -> None:
        """A lock holder died (its monitor fired): it holds nothing any more."""
        for key in list(self.table.ref_locks.get(ref, ())):
            lock = self.table.locks.get(key)
            if lock is None:
                continue
            for p, r in lock.holders:
                if r == ref:
                    self.remove_lock(lock, p, True)
                    break


def _is_node(n: Any) -> bool:
    return isinstance(n, str) and "@" in n


def _node_list(nodes: Any) -> list[Atom]:
    """The node names of a known list (``[Node]`` or ``[{Node, Vsn}]``)."""
    names = [n[0] if type(n) is tuple and n else n for n in nodes]
    return [Atom(n) for n in names if _is_node(n)]


def _sync_others(nodes: list[Atom]) -> None:
    for nd in nodes:
        spawn(_sync_other, nd)


async def _sync_other(nd: Atom) -> None:
    """Connect to ``nd`` (a node the other side knew) and tell its server we are in
    sync; if it cannot be reached, the server hears ``extra_nodedown``."""
    d = _dist()
    cur = _n.NODE.current
    if d is None or cur is None:
        return
    d.monitor_node(cur, nd, True)  # erlang:monitor_node(Node, true): connects
    try:
        await receive((NODEDOWN, nd), timeout=0)
    except TimeoutError:
        _cast(nd, (Atom("in_sync"), node(), True))
        return
    logger.warning("'global' at %s failed to connect to %s", node(), nd)
    _send(GNS, (Atom("extra_nodedown"), nd))


async def _send_again(server: Pid, msg: Any) -> None:
    await _random_sleep(5)
    _send(server, msg)


async def _syncer_main(nodes: list[Atom], from_: Any) -> None:
    """``global:sync``: answer once every node is synchronised or gone."""
    d = _dist()
    cur = _n.NODE.current
    assert cur is not None
    left = list(nodes)
    for nd in left:
        if d is not None:
            d.monitor_node(cur, nd, True)
        else:
            _send(cur.pid, (NODEDOWN, nd))
    while left:
        msg = await receive((NODEDOWN, ANY), (SYNCED, ANY))
        gone = [msg[1]] if msg[0] == NODEDOWN else list(msg[1])
        left = [n for n in left if n not in gone]
    reply_to(from_, OK)


# -- the resolver ---------------------------------------------------------------


async def _resolver_main(table: _Table, nd: Atom, tag: int) -> None:
    msg = await receive(lambda m: type(m) is tuple and len(m) == 3 and m[0] == "resolve")
    ops, res = await _exchange_names(table, list(msg[1]), nd)
    _send(GNS, (CAST, (Atom("exchange_ops"), nd, tag, ops, res)))


async def _exchange_names(
    table: _Table, name_list: list[Any], nd: Atom
) -> tuple[list[Any], list[Any]]:
    """Compare the other node's names with ours; the node with the smaller name
    settles each clash with the resolve function of the name it holds."""
    ops: list[Any] = []
    res: list[Any] = []
    me = node()
    for item in name_list:
        if not (type(item) is tuple and len(item) == 3 and type(item[1]) is Pid):
            continue
        name, pid, method = item
        try:
            entry = table.names.get(_key(name))
        except TypeError:
            continue
        if entry is not None and entry.pid == pid:
            continue
        if entry is not None and me < nd:
            pid2, method2 = entry.pid, entry.method
            outcome = await _resolve_at(_node_of(pid2), method2, name, pid, pid2)
            if outcome == pid:
                ops.insert(0, (INSERT, (name, pid, method)))
            elif outcome == pid2:
                res.insert(0, (INSERT, (name, pid2, method2)))
            elif outcome == NONE:
                op = (DELETE, name)
                ops.insert(0, op)
                res.insert(0, op)
            elif type(outcome) is tuple and len(outcome) == 2 and outcome[0] == "badrpc":
                logger.info(
                    "global: badrpc %r received when conflicting name %r was found",
                    outcome[1],
                    name,
                )
                ops.insert(0, (INSERT, (name, pid, method)))
            else:
                logger.info(
                    "global: Resolve method %r for conflicting name %r returned %r",
                    method,
                    name,
                    outcome,
                )
                op = (DELETE, name)
                ops.insert(0, op)
                res.insert(0, op)
        elif entry is not None:
            continue
        else:
            ops.insert(0, (INSERT, (name, pid, method)))
    return ops, res


async def _resolve_at(where: Atom, method: Any, name: Any, pid1: Pid, pid2: Pid) -> Any:
    """``rpc:call(Node2, global, resolve_it, [Method2, Name, Pid, Pid2])``."""
    if where == node():
        return await resolve_it(method, name, pid1, pid2)
    try:
        return await _rpc.call(where, "global", "resolve_it", [method, name, pid1, pid2])
    except _rpc.RpcError as e:
        return (Atom("badrpc"), e.reason)


# -- the registrar --------------------------------------------------------------


async def _registrar_main(table: _Table) -> None:
    """Runs this node's registrations one at a time, each under ``{global, _self()}``."""
    while True:
        msg = await receive()
        if not (type(msg) is tuple and len(msg) == 3 and msg[0] == "trans_all_known"):
            if not isinstance(msg, Down):
                logger.warning(
                    "The global_name_server registrar process received an unexpected message:\n%r",
                    msg,
                )
            continue
        _, fun, from_ = msg
        try:
            outcome = await _trans_all_known(table, fun)
        except Exception as e:
            outcome = (Atom("raise"), e)
        reply_to(from_, outcome)


async def _get_known(table: _Table) -> list[Atom]:
    assert table.server is not None
    known: list[Atom] = await GenServer.call(table.server, "get_known", None)
    return known


async def _trans_all_known(table: _Table, fun: Callable[[list[Atom]], Awaitable[Any]]) -> Any:
    lock_id = (GLOBAL, _self())
    nodes = await _set_lock_known(table, lock_id)
    try:
        return await fun(nodes)
    finally:
        await _delete_global_lock(lock_id, nodes)


async def _set_lock_known(table: _Table, lock_id: Any) -> list[Atom]:
    times = 0
    while True:
        known = await _get_known(table)
        nodes = [node(), *known]
        boss = max(nodes)
        if await _set_lock_on_nodes(table, lock_id, [boss]):
            # lock_on_known_nodes: set on all, and no node joined meanwhile
            if await _set_lock_on_nodes(table, lock_id, nodes) and not [
                n for n in await _get_known(table) if n not in known
            ]:
                return nodes
            await _del_lock(lock_id, [boss])
        await _random_sleep(times)
        times += 1


# -- the locker -----------------------------------------------------------------


@dataclass
class _Him:
    node: Atom
    locker: Pid
    vsn: int
    my_tag: Any
    his_tag: Any


def _erlang_pid_order(pid: Pid) -> tuple[int, int, str, int]:
    """The BEAM's order of pids: serial, then number, then node, then creation
    (``lists:sort`` of two lockers must give both nodes the same lock id)."""
    return (pid.serial, pid.id, pid.node or node(), pid.creation)


class _Locker:
    """global.erl's ``the_locker``: sets the lock two nodes need to synchronise.

    ``local``/``remote`` are the nodes waiting to be synchronised (on this host /
    elsewhere: this host's first); ``known`` the nodes already in the cluster,
    on which the lock must be set too; ``boss`` the greatest of them and this
    node, whose lock is taken first so that two lockers never deadlock.
    """

    def __init__(self, table: _Table) -> None:
        self.table = table
        self.local: list[_Him] = []
        self.remote: list[_Him] = []
        self.known: list[Atom] = []
        self.boss: Atom = node()
        self.just_synced = False
        self.host = socket.gethostname()

    def update_known(self, add: list[Atom] | None = None, remove: Atom | None = None) -> None:
        if add is not None:
            self.known = [*add, *self.known]
        if remove is not None and remove in self.known:
            self.known.remove(remove)
        self.boss = max([node(), *self.known])

    async def drain_known(self) -> None:
        """``update_locker_known/1``: apply the queued changes of the known nodes."""
        while True:
            try:
                msg = await receive(("add_to_known", ANY), ("remove_from_known", ANY), timeout=0)
            except TimeoutError:
                return
            if msg[0] == "add_to_known":
                self.update_known(add=[Atom(n) for n in msg[1]])
            else:
                self.update_known(remove=Atom(msg[1]))

    async def run(self) -> None:
        self.update_known(add=await _get_known(self.table))
        while True:
            try:
                msg = await receive(timeout=0)
            except TimeoutError:
                if not self.local and not self.remote:
                    wait = None
                elif self.just_synced:
                    wait = 0.0
                elif not self.known:
                    wait = 0.2
                else:
                    wait = min(1.0 + 0.1 * len(self.known), 3.0)
                self.just_synced = False
                try:
                    msg = await receive(timeout=wait)
                except TimeoutError:
                    if not self.table.is_lock_set(GLOBAL):
                        await self.guarded(self.select_node())
                    continue
            await self.guarded(self.message(msg))

    async def guarded(self, step: Awaitable[None]) -> None:
        """Run one step; one that raises (a peer's malformed message) is logged and
        the locker goes on, as the server does."""
        try:
            await step
        except Exception:
            logger.exception("global_name_server locker: a step failed and was dropped")

    async def message(self, msg: Any) -> None:
        if trace.isEnabledFor(logging.DEBUG):
            trace.debug("global locker %s <- %r", node(), msg)
        match msg:
            case ("his_the_locker", Pid() as his, (int() as his_vsn, _), his_tag, my_tag):
                assert his.node is not None
                him = _Him(Atom(his.node), his, his_vsn, my_tag, his_tag)
                if him.node.split("@", 1)[-1] == self.host:
                    self.local.insert(0, him)
                else:
                    self.remote.insert(0, him)
            case ("cancel", nd, tag, None):
                if tag is not None:
                    self.remove_node(nd, tag)
            case ("lock_set", Pid(), False, *_):
                pass
            case ("lock_set", Pid() as pid, True, _his_known, my_tag):
                await self.lock_set_true(pid, my_tag)
            case ("lock_set", Pid() as pid, True, _his_known):
                found = self.find_node_tag(Atom(pid.node or ""))
                if found is not None:
                    await self.lock_set_true(pid, found.my_tag)
                else:
                    self.send_lock_set(False, pid, 5, 0)
            case ("add_to_known", nodes):
                self.update_known(add=[Atom(n) for n in nodes])
            case ("remove_from_known", nd):
                self.update_known(remove=Atom(nd))
            case Down():
                pass
            case _:
                logger.warning(
                    "The global_name_server locker process received an unexpected message:\n%r",
                    msg,
                )

    async def lock_set_true(self, pid: Pid, my_tag: Any) -> None:
        """The other locker holds the lock and asks us to: take it too."""
        nd = Atom(pid.node or "")
        him = self.find_node_tag(nd)
        if him is None or him.my_tag != my_tag:
            self.send_lock_set(False, pid, 5, 0)
            return
        lock_id = self.lock_id(pid)
        is_set = await self.lock_nodes_safely(lock_id, [])
        self.send_lock_set(is_set, pid, him.vsn, him.his_tag)
        known2 = [node(), *self.known]
        if is_set:
            _send(GNS, (CAST, (LOCK_IS_SET, nd, my_tag, lock_id)))
            await self.wait_cancel_lock(nd, lock_id, my_tag, known2)
            self.just_synced = True
            self.remove_node(nd, my_tag)
        else:
            self.just_synced = False

    def lock_id(self, his_locker: Pid) -> tuple[Atom, list[Pid]]:
        return (GLOBAL, sorted([_self(), his_locker], key=_erlang_pid_order))

    async def select_node(self) -> None:
        use_remote = not self.local
        others = self.remote if use_remote else self.local
        others = [h for h in others if h.node not in self.known]
        if use_remote:
            self.remote = others
        else:
            self.local = others
        if not others:
            return
        him = random.choice(others)
        lock_id = self.lock_id(him.locker)
        if await self.lock_nodes_safely(lock_id, [him.node]):
            known1 = [node(), him.node, *self.known]
            self.send_lock_set(True, him.locker, him.vsn, him.his_tag)
            await self.lock_is_set(him, him.my_tag, known1, lock_id)

    def send_lock_set(self, is_set: bool, his_locker: Pid, vsn: int, his_tag: Any) -> None:
        known = list(self.known)
        if vsn < 8:
            msg: tuple[Any, ...] = (LOCK_SET, _self(), is_set, known)
        else:
            msg = (LOCK_SET, _self(), is_set, known, his_tag)
        if vsn < 6:
            with contextlib.suppress(Exception):
                _send(his_locker, msg)
        elif his_locker.node is not None:
            _cast(his_locker.node, msg)

    async def lock_nodes_safely(self, lock_id: Any, extra: list[Atom]) -> bool:
        first = [n for n in [self.boss] if n != NONODE]
        if first != [node()] and self.table.can_set_lock(lock_id) is None:
            return False
        if not await _set_lock(self.table, lock_id, first, 0):
            return False
        await self.drain_known()
        second = [n for n in [node(), *extra] if n not in first and n != NONODE]
        if not await _set_lock(self.table, lock_id, second, 0):
            await _del_lock(lock_id, first)
            return False
        if not await _set_lock(self.table, lock_id, [n for n in self.known if n not in first], 0):
            await _del_lock(lock_id, first + second)
            return False
        return True

    async def lock_is_set(self, him: _Him, my_tag: Any, known1: list[Atom], lock_id: Any) -> None:
        """Wait for the other locker's answer (or a cancel) while holding the lock."""
        nd = him.node

        def ours(m: Any) -> bool:
            if type(m) is not tuple or not m:
                return False
            if m[0] == LOCK_SET and len(m) in (4, 5) and type(m[1]) is Pid:
                return m[1].node == nd
            return m[0] == CANCEL and len(m) == 4 and m[1] == nd and m[2] == my_tag

        while True:
            m = await receive(ours)
            if m[0] == CANCEL:
                _call_fun(m[3])
                await _delete_global_lock(lock_id, known1)
                self.remove_node(nd, my_tag)
                return
            if len(m) == 5 and m[4] != my_tag:
                continue  # an answer of an earlier attempt
            if m[2] is True:
                _send(GNS, (CAST, (LOCK_IS_SET, nd, my_tag, lock_id)))
                await self.wait_cancel_lock(nd, lock_id, my_tag, known1)
                self.just_synced = True
                self.local = [h for h in self.local if h is not him]
                self.remote = [h for h in self.remote if h is not him]
                return
            await _delete_global_lock(lock_id, known1)  # rejected
            return

    async def wait_cancel_lock(
        self, nd: Atom, lock_id: Any, my_tag: Any, known: list[Atom]
    ) -> None:
        m = await receive((CANCEL, nd, my_tag, ANY))
        _call_fun(m[3])
        await _delete_global_lock(lock_id, known)

    def find_node_tag(self, nd: Atom) -> _Him | None:
        for h in (*self.local, *self.remote):
            if h.node == nd:
                return h
        return None

    def remove_node(self, nd: Any, tag: Any) -> None:
        for lst in (self.local, self.remote):
            for h in lst:
                if h.node == nd and h.my_tag == tag:
                    lst.remove(h)
                    break


def _call_fun(fun: Any) -> None:
    if callable(fun):
        fun()


async def _locker_main(table: _Table) -> None:
    await _Locker(table).run()


# -- starting ---------------------------------------------------------------------


async def _server_main(table: _Table, dist: Any) -> None:
    await _Server(table).loop(dist)


def start_server(n: _n.Node, dist: Any) -> Pid:
    """Start ``global_name_server`` on node ``n`` now, registered before any process
    runs: what a visible node does when it becomes distributed (``dist`` is its
    distribution, not yet ``n.dist``), so that the first peer to connect finds it.
    Returns its pid."""
    table = n.ext.get(_KEY)
    if not isinstance(table, _Table):
        table = n.ext[_KEY] = _Table()
    pid, _ = n.spawn(None, _server_main, (table, dist), what="global_name_server")
    n.register(n.table[pid], GNS)
    table.server = pid
    return pid


def _ensure_server(what: str) -> _Table:
    """This node's table, with its server started if it is not running (a hidden or
    local node starts it on first use; a restart begins with an empty table)."""
    table = _table(what)
    if table.server is None or not Process.alive(table.server):
        if table.server is not None:
            fresh = _Table(resolvers=table.resolvers, resolver_terms=table.resolver_terms)
            table.__dict__.update(fresh.__dict__)
        holder = Process.whereis(GNS)
        if holder is not None:
            table.server = holder
            return table
        pid = spawn(_server_main, table, _dist())
        Process.register(pid, GNS)
        table.server = pid
    return table


install_global_names(sys.modules[__name__])
