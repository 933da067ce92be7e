"""Process groups: Erlang's ``pg``, speaking OTP 25's protocol between nodes.

Design
------
A port of OTP 25's ``lib/kernel/src/pg.erl``.  A *scope* is a GenServer
registered under the scope's name on each node that starts it; the scopes of one
name on every visible node form one set of groups.  A scope knows only its own
node's members first hand (it monitors them), and keeps a copy of every other
node's: it learns them from that node's scope and forgets them when that scope
(or its node) goes down.  The messages, as pg.erl sends them:

* ``{discover, Peer}`` to ``{Scope, Node}`` of every visible node, when the scope
  starts and on each ``nodeup``; the answer is a cast ``{sync, Peer, Groups}``
  with the peer's local members, and the peer is monitored (a peer that was not
  known yet is sent ``discover`` back);
* ``{join, Peer, Group, PidOrPids}`` and ``{leave, Peer, PidOrPids, Groups}``
  to every known peer scope, when local members join, leave or die.

``get_members`` and the other readers read the node's table directly (the
original reads the scope's ETS table): they never wait.  Only the scope process
writes it; the table goes with the scope (a reader of a scope that is not
running sees no groups).

Visible nodes only, as in OTP: a hidden node (tether's default) discovers no
peers, so its groups are its own.  Where pg.erl crashes on a message it does not
know (``error(badarg)``), a scope here logs it at WARNING and goes on, so no
peer can take a scope down.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Final

from .._behaviours.gen_server import GenServer, NoReply, Ok, Reply
from .._runtime import _node as _n
from .._runtime._api import Process, node_state, receive, send
from .._runtime._api import self as _self
from .._runtime._types import Atom, Down, Pid, Ref
from .etf import check_term, freeze

__all__ = [
    "child_spec",
    "demonitor",
    "get_local_members",
    "get_members",
    "join",
    "leave",
    "monitor",
    "monitor_scope",
    "start",
    "start_link",
    "which_groups",
    "which_local_groups",
]

logger: Final = logging.getLogger("tether")

DEFAULT: Final = "pg"
OK: Final = Atom("ok")
NOT_JOINED: Final = Atom("not_joined")
JOIN: Final = Atom("join")
LEAVE: Final = Atom("leave")
DISCOVER: Final = Atom("discover")
SYNC: Final = Atom("sync")
_KEY: Final = "tether.pg"


@dataclass
class _Groups:
    """One scope's table: ``{group: (group, all members, local members)}``.

    Invariant: only the scope process ``owner`` writes it; each member list is
    in pg.erl's order (a joining pid goes first, a leaving pid's first
    occurrence is removed), and a group with no member is not in the table.
    """

    owner: Pid
    rows: dict[Any, tuple[Any, list[Pid], list[Pid]]] = field(default_factory=dict)


def _scopes() -> dict[str, _Groups]:
    return node_state(_KEY, dict, "pg")


def _table(scope: str) -> _Groups | None:
    """The running scope's table, or ``None`` (as a missing ETS table)."""
    groups = _scopes().get(scope)
    if groups is None or groups.owner not in _n.NODE.table:  # type: ignore[union-attr]
        return None
    return groups


# -- checks ---------------------------------------------------------------------


def _check_scope(scope: Any, what: str) -> str:
    if not isinstance(scope, str) or not scope:
        raise TypeError(f"{what}: scope must be a non-empty str (a scope's name), got {scope!r}")
    return scope


def _check_group(group: Any, what: str) -> None:
    check_term(group, what, "group")


def _check_local(pids: Any, what: str) -> None:
    """pg.erl's ``ensure_local``: a local pid or a list of them."""
    items = pids if isinstance(pids, list) else [pids]
    if not isinstance(pids, list) and type(pids) is not Pid:
        raise TypeError(f"{what}: pids must be a pid or a list of pids, got {pids!r}")
    for p in items:
        if type(p) is not Pid:
            raise TypeError(f"{what}: pids must be a pid or a list of pids, got {p!r}")
        if p.node is not None:
            raise ValueError(
                f"{what}: {p!r} is a pid of another node; only local processes join or "
                "leave (ask a process of that node to), as pg's {nolocal, Pid}"
            )


# -- the API --------------------------------------------------------------------


async def start_link(scope: str = DEFAULT) -> Any:
    """Start the scope ``scope`` (registered under that name), linked to the caller.

    Returns ``("ok", pid)``, or ``("error", ("already_started", pid))``.  Erlang's
    ``pg:start_link/0,1``.
    """
    _check_scope(scope, "pg.start_link")
    return await _Scope.start_link(scope, name=scope)


async def start(scope: str = DEFAULT) -> Any:
    """Like :func:`start_link`, without the link.  Erlang's ``pg:start/1``."""
    _check_scope(scope, "pg.start")
    return await _Scope.start(scope, name=scope)


def child_spec(scope: str = DEFAULT) -> dict[str, Any]:
    """A child spec that starts the scope under a supervisor (id: the scope)."""
    _check_scope(scope, "pg.child_spec")
    return {"id": scope, "start": (start_link, (scope,)), "type": "worker"}


async def join(group: Any, pids: Pid | list[Pid], *, scope: str = DEFAULT) -> Atom:
    """Add the local process ``pids`` (a pid or a list; a pid may join a group more
    than once) to ``group``; returns ``"ok"``.  Erlang's ``pg:join/2,3``.

    Raises:
        TypeError: a bad ``group``, ``pids`` or ``scope``.
        ValueError: a pid of another node.
        tether.ProcessExit: the scope is not running (``noproc``, as a call).
    """
    what = "pg.join"
    _check_scope(scope, what)
    _check_group(group, what)
    _check_local(pids, what)
    result: Atom = await GenServer.call(scope, (Atom("join_local"), group, pids), None)
    return result


async def leave(group: Any, pids: Pid | list[Pid], *, scope: str = DEFAULT) -> Atom:
    """Remove ``pids`` from ``group`` (one membership each); ``"ok"``, or
    ``"not_joined"`` when none of them was a member.  Erlang's ``pg:leave/2,3``.

    Raises:
        TypeError / ValueError: as :func:`join`.
    """
    what = "pg.leave"
    _check_scope(scope, what)
    _check_group(group, what)
    _check_local(pids, what)
    result: Atom = await GenServer.call(scope, (Atom("leave_local"), group, pids), None)
    return result


async def monitor_scope(*, scope: str = DEFAULT) -> tuple[Ref, dict[Any, list[Pid]]]:
    """Watch every group of the scope: returns ``(ref, {group: members})``; then
    the caller gets ``(ref, "join", group, pids)`` and ``(ref, "leave", group,
    pids)`` for every change, until :func:`demonitor`.  Erlang's
    ``pg:monitor_scope/0,1``."""
    _check_scope(scope, "pg.monitor_scope")
    result: tuple[Ref, dict[Any, list[Pid]]] = await GenServer.call(scope, Atom("monitor"), None)
    return result


async def monitor(group: Any, *, scope: str = DEFAULT) -> tuple[Ref, list[Pid]]:
    """Watch one group: returns ``(ref, members)``, then ``(ref, "join"|"leave",
    group, pids)`` messages for it.  Erlang's ``pg:monitor/1,2``."""
    _check_scope(scope, "pg.monitor")
    _check_group(group, "pg.monitor")
    result: tuple[Ref, list[Pid]] = await GenServer.call(scope, (Atom("monitor"), group), None)
    return result


async def demonitor(ref: Ref, *, scope: str = DEFAULT) -> Atom | bool:
    """Stop a :func:`monitor` or :func:`monitor_scope`; ``"ok"`` (its queued
    notifications are flushed), or ``False`` for an unknown ref.  Erlang's
    ``pg:demonitor/1,2``."""
    _check_scope(scope, "pg.demonitor")
    if not isinstance(ref, Ref):
        raise TypeError(f"pg.demonitor: ref must be a tether.Ref, got {ref!r}")
    if await GenServer.call(scope, (Atom("demonitor"), ref), None) != OK:
        return False
    while True:
        try:
            await receive(
                lambda m: (
                    type(m) is tuple and len(m) == 4 and m[0] == ref and m[1] in (JOIN, LEAVE)
                ),
                timeout=0,
            )
        except TimeoutError:
            return OK


def get_members(group: Any, *, scope: str = DEFAULT) -> list[Pid]:
    """Every member of ``group`` on every node, newest first (``[]`` when there
    is none or the scope is not running).  Never waits.  Erlang's
    ``pg:get_members/1,2``."""
    _check_scope(scope, "pg.get_members")
    return _row(group, scope, 1)


def get_local_members(group: Any, *, scope: str = DEFAULT) -> list[Pid]:
    """The members of ``group`` on this node.  Erlang's ``pg:get_local_members/1,2``."""
    _check_scope(scope, "pg.get_local_members")
    return _row(group, scope, 2)


def _row(group: Any, scope: str, item: int) -> list[Pid]:
    table = _table(scope)
    if table is None:
        return []
    try:
        row = table.rows.get(freeze(group))
    except TypeError:
        return []
    return [] if row is None else list(row[item])


def which_groups(*, scope: str = DEFAULT) -> list[Any]:
    """Every group with a member anywhere.  Erlang's ``pg:which_groups/0,1``.

    Raises:
        ValueError: the scope is not running (Erlang: ``badarg``).
    """
    _check_scope(scope, "pg.which_groups")
    return [row[0] for row in _running(scope, "pg.which_groups").rows.values()]


def which_local_groups(*, scope: str = DEFAULT) -> list[Any]:
    """The groups with a member on this node.  Erlang's
    ``pg:which_local_groups/0,1``.

    Raises:
        ValueError: the scope is not running.
    """
    _check_scope(scope, "pg.which_local_groups")
    rows = _running(scope, "pg.which_local_groups").rows.values()
    return [row[0] for row in rows if row[2]]


def _running(scope: str, what: str) -> _Groups:
    table = _table(scope)
    if table is None:
        raise ValueError(f"{what}: no scope {scope!r} is running; start it with pg.start_link")
    return table


# -- the scope process ------------------------------------------------------------


@dataclass
class _State:
    scope: str
    table: _Groups
    # local member pid -> (its monitor, the groups it joined, once per join)
    local: dict[Pid, tuple[Ref, list[Any]]] = field(default_factory=dict)
    # peer scope pid -> (its monitor, {group key: (group, its members)})
    remote: dict[Pid, tuple[Ref, dict[Any, tuple[Any, list[Pid]]]]] = field(default_factory=dict)
    scope_monitors: dict[Ref, Pid] = field(default_factory=dict)
    group_monitors: dict[Ref, tuple[Pid, Any]] = field(default_factory=dict)
    monitored_groups: dict[Any, list[tuple[Pid, Ref]]] = field(default_factory=dict)


def _dist() -> Any:
    return getattr(_n.NODE, "dist", None)


def _visible() -> list[Atom]:
    d = _dist()
    return [] if d is None else list(d.nodes("visible"))


def _noconnect_send(dest: Pid, msg: Any) -> None:
    """``erlang:send(Dest, Msg, [noconnect])``: a peer whose node is gone is skipped."""
    d = _dist()
    if dest.node is not None and (d is None or dest.node not in d.nodes("connected")):
        return
    with contextlib.suppress(Exception):
        send(dest, msg)


def _as_list(pids: Pid | list[Pid]) -> list[Pid]:
    return list(pids) if isinstance(pids, list) else [pids]


class _Scope(GenServer):
    """pg.erl's gen_server callbacks."""

    def init(self, scope: str, /) -> Any:
        d = _dist()
        cur = _n.NODE.current
        if d is not None and cur is not None:
            d.monitor_nodes(cur, True)  # net_kernel:monitor_nodes(true)
        for nd in _visible():
            with contextlib.suppress(Exception):
                send((scope, nd), (DISCOVER, _self()))
        table = _Groups(_self())
        _scopes()[scope] = table
        return Ok(_State(scope, table))

    def terminate(self, reason: Any, state: Any, /) -> Any:
        scopes = _scopes()
        if scopes.get(state.scope) is state.table:
            del scopes[state.scope]
        return None

    # -- calls -------------------------------------------------------------------

    def handle_call(self, request: Any, from_: Any, s: _State, /) -> Any:
        match request:
            case ("join_local", group, pids):
                for pid in _as_list(pids):
                    _join_local(s, pid, group)
                _update(s, group, pids, [], local=True)
                _broadcast(s, (JOIN, _self(), group, pids))
                return Reply(OK, s)
            case ("leave_local", group, pids):
                left = [p for p in _as_list(pids) if _leave_local(s, p, group)]
                if not left:
                    return Reply(NOT_JOINED, s)
                _update(s, group, [], pids, local=True)
                _broadcast(s, (LEAVE, _self(), pids, [group]))
                return Reply(OK, s)
            case "monitor":
                ref = Process.monitor(from_[0])
                s.scope_monitors[ref] = from_[0]
                groups = {row[0]: list(row[1]) for row in s.table.rows.values()}
                return Reply((ref, groups), s)
            case ("monitor", group):
                pid = from_[0]
                row = s.table.rows.get(freeze(group))
                ref = Process.monitor(pid)
                s.monitored_groups.setdefault(freeze(group), []).insert(0, (pid, ref))
                s.group_monitors[ref] = (pid, group)
                return Reply((ref, [] if row is None else list(row[1])), s)
            case ("demonitor", Ref() as ref):
                if ref in s.scope_monitors:
                    del s.scope_monitors[ref]
                    Process.demonitor(ref)
                    return Reply(OK, s)
                if ref in s.group_monitors:
                    pid, group = s.group_monitors.pop(ref)
                    Process.demonitor(ref)
                    _demonitor_group(s, (pid, ref), group)
                    return Reply(OK, s)
                return Reply(False, s)
        logger.warning("pg scope %s: unexpected call %r from %r", s.scope, request, from_)
        return Reply(Atom("badarg"), s)

    # -- casts -------------------------------------------------------------------

    def handle_cast(self, request: Any, s: _State, /) -> Any:
        match request:
            case ("sync", Pid() as peer, list() as groups):
                _handle_sync(s, peer, groups)
            case _:
                logger.warning("pg scope %s: unexpected cast %r", s.scope, request)
        return NoReply(s)

    # -- other messages ----------------------------------------------------------

    def handle_info(self, msg: Any, s: _State, /) -> Any:
        match msg:
            case ("join", Pid() as peer, group, pids):
                entry = s.remote.get(peer)
                if entry is not None:
                    _update(s, group, pids, [], local=False)
                    _remote_join(entry[1], group, _as_list(pids))
            case ("leave", Pid() as peer, pids, list() as groups):
                entry = s.remote.get(peer)
                if entry is not None:
                    for group in groups:
                        _update(s, group, [], pids, local=False)
                    _remote_leave(entry[1], _as_list(pids), groups)
            case ("discover", Pid() as peer):
                with contextlib.suppress(Exception):
                    GenServer.cast(peer, (SYNC, _self(), _all_local_pids(s)))
                if peer not in s.remote:
                    ref = Process.monitor(peer)
                    _noconnect_send(peer, (DISCOVER, _self()))
                    s.remote[peer] = (ref, {})
            case Down(ref, _, Pid() as pid, _) if pid.node is None:
                member = s.local.get(pid)
                if member is None or member[0] != ref:
                    _drop_monitor(s, ref)
                else:
                    del s.local[pid]
                    for group in member[1]:
                        _update(s, group, [], pid, local=True)
                    _broadcast(s, (LEAVE, _self(), pid, member[1]))
            case Down(ref, _, Pid() as pid, _):
                entry2 = s.remote.get(pid)
                if entry2 is not None and entry2[0] == ref:
                    del s.remote[pid]
                    for group, pids in entry2[1].values():
                        _update(s, group, [], pids, local=False)
                else:
                    _drop_monitor(s, ref)
            case Down(ref, _, _, _):
                _drop_monitor(s, ref)
            case ("nodedown", _):
                pass
            case ("nodeup", str() as nd):
                if nd != _n.NODE.name and nd in _visible():
                    with contextlib.suppress(Exception):
                        send((s.scope, nd), (DISCOVER, _self()))
            case _:
                logger.warning("pg scope %s: unexpected message %r", s.scope, msg)
        return NoReply(s)


def _broadcast(s: _State, msg: Any) -> None:
    for peer in list(s.remote):
        _noconnect_send(peer, msg)


def _join_local(s: _State, pid: Pid, group: Any) -> None:
    entry = s.local.get(pid)
    if entry is None:
        s.local[pid] = (Process.monitor(pid), [group])
    else:
        entry[1].insert(0, group)


def _leave_local(s: _State, pid: Pid, group: Any) -> bool:
    """Drop one membership of ``pid`` in ``group``; whether it had one."""
    entry = s.local.get(pid)
    if entry is None:
        return False
    key = freeze(group)
    for i, g in enumerate(entry[1]):
        if freeze(g) == key:
            del entry[1][i]
            if not entry[1]:
                Process.demonitor(entry[0])
                del s.local[pid]
            return True
    return False


def _update(s: _State, group: Any, joined: Any, left: Any, *, local: bool) -> None:
    """The table's row of ``group`` after ``joined`` join or ``left`` leave (each a
    pid or a list, in pg.erl's order), and the notifications of its monitors."""
    key = freeze(group)
    row = s.table.rows.get(key)
    if joined != []:
        new = _as_list(joined)
        if row is None:
            s.table.rows[key] = (group, list(new), list(new) if local else [])
        else:
            s.table.rows[key] = (row[0], new + row[1], (new + row[2]) if local else row[2])
        _notify(s, JOIN, group, new)
        return
    gone = _as_list(left)
    if row is None:
        return
    everyone, mine = list(row[1]), list(row[2])
    for pid in gone:
        if pid in everyone:
            everyone.remove(pid)
        if local and pid in mine:
            mine.remove(pid)
    if not everyone and not mine:
        del s.table.rows[key]
    else:
        s.table.rows[key] = (row[0], everyone, mine)
    _notify(s, LEAVE, group, gone)


def _notify(s: _State, action: Atom, group: Any, pids: list[Pid]) -> None:
    for ref, pid in s.scope_monitors.items():
        _noconnect_send(pid, (ref, action, group, pids))
    for pid, ref in s.monitored_groups.get(freeze(group), ()):
        _noconnect_send(pid, (ref, action, group, pids))


def _remote_join(groups: dict[Any, tuple[Any, list[Pid]]], group: Any, pids: list[Pid]) -> None:
    key = freeze(group)
    old = groups.get(key)
    groups[key] = (group, pids + (old[1] if old else []))


def _remote_leave(
    groups: dict[Any, tuple[Any, list[Pid]]], pids: list[Pid], left: list[Any]
) -> None:
    for group in left:
        key = freeze(group)
        old = groups.get(key)
        if old is None:
            continue
        rest = list(old[1])
        for p in pids:  # one membership each (Erlang's --)
            if p in rest:
                rest.remove(p)
        if rest:
            groups[key] = (old[0], rest)
        else:
            del groups[key]


def _handle_sync(s: _State, peer: Pid, groups: list[Any]) -> None:
    """A peer scope's local members, all of them: replace what we had of it."""
    entry = s.remote.get(peer)
    ref = Process.monitor(peer) if entry is None else entry[0]
    old = {} if entry is None else dict(entry[1])
    new: dict[Any, tuple[Any, list[Pid]]] = {}
    for item in groups:
        if not (type(item) is tuple and len(item) == 2 and isinstance(item[1], list)):
            continue
        group, pids = item
        key = freeze(group)
        new[key] = (group, list(pids))
        was = old.pop(key, None)
        if was is None:
            _update(s, group, list(pids), [], local=False)
        elif was[1] != list(pids):
            row = s.table.rows.get(key)
            if row is not None:
                everyone = list(row[1])
                for p in was[1]:
                    if p in everyone:
                        everyone.remove(p)
                s.table.rows[key] = (row[0], list(pids) + everyone, row[2])
    for group, pids in old.values():
        _update(s, group, [], pids, local=False)
    s.remote[peer] = (ref, new)


def _all_local_pids(s: _State) -> list[tuple[Any, list[Pid]]]:
    groups: dict[Any, tuple[Any, list[Pid]]] = {}
    for pid, (_ref, joined) in s.local.items():
        for group in joined:
            key = freeze(group)
            old = groups.get(key)
            groups[key] = (group, [pid, *(old[1] if old else [])])
    return [(g, pids) for g, pids in groups.values()]


def _drop_monitor(s: _State, ref: Ref) -> None:
    if s.scope_monitors.pop(ref, None) is not None:
        return
    entry = s.group_monitors.pop(ref, None)
    if entry is not None:
        _demonitor_group(s, (entry[0], ref), entry[1])


def _demonitor_group(s: _State, tag: tuple[Pid, Ref], group: Any) -> None:
    key = freeze(group)
    tags = s.monitored_groups.get(key)
    if tags is None:
        return
    if tag in tags:
        tags.remove(tag)
    if not tags:
        del s.monitored_groups[key]
