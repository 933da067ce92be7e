"""The node's introspection calls: what the observer asks a tether node, here or remote.

Design
------
The observer is just another client of these functions (Ergo's and
``observer_cli``'s way), so it can watch this node from inside (``tether
observer`` on a node, ``tether.observer.start()``) or from another node, over
distribution: every function here is exposed read-only to other nodes as
``tether_observer:NAME`` (:func:`tether.rpc.expose`), as Erlang answers
``erlang:processes/0`` and ``erlang:process_info/2``.  The two that change
something, :func:`exit_process` and :func:`send_message`, are exposed only after
:func:`allow_actions` on this node: a peer with the cookie cannot kill or send
here unless the node's author said so.

Every result is made of terms that cross the wire unchanged (str-keyed dicts,
lists, tuples, ints, floats, ``Pid``, ``Atom``); the values of processes
(messages, states, dictionary entries) are rendered here with
:func:`tether._runtime._format.inspect`, bounded, so any Python object can be
shown and none has to be encoded.

All functions run inside a process (an rpc runs in one; the local observer runs
them through its bridge).  Reading the process table costs O(processes); the
expensive fields (current function, memory) are computed for at most ``limit``
rows, and the work yields to other processes every few hundred rows, so a large
node is sampled without a hog.

This module imports nothing outside tether: the observer's web server and
terminal UI (``tether[observer]``) live in :mod:`tether.observer`.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import sys
import time
from collections import deque
from typing import Any, Final

from ._behaviours.gen_server import GenServer
from ._dist import rpc as _rpc
from ._runtime import _node as _n
from ._runtime._api import Process
from ._runtime._format import inspect, inspect_name, inspect_reason
from ._runtime._types import Atom, Pid, ProcessExit

MODULE: Final = "tether_observer"
# Processes whose state GenServer.get_status can ask for (their loops answer sys).
_SYS_LOOPS: Final = {
    ("tether._behaviours.gen_server", "_server_main"),
    ("tether._behaviours.gen_state_machine", "_machine_main"),
}
_SUPERVISORS: Final = {
    ("tether._behaviours.supervisor", "_SupervisorServer"),
    ("tether._behaviours.dynamic_supervisor", "_DynServer"),
}
_SORT_KEYS: Final = ("reductions", "received", "message_queue_len", "memory", "pid")
_YIELD_EVERY: Final = 256


def _node() -> _n.Node:
    node = _n.NODE
    if not isinstance(node, _n.Node):
        raise _n.outside_error("tether_observer")
    return node


_T0: Final = time.monotonic()  # for uptime: when tether was imported


# -- the node ------------------------------------------------------------------------


def overview() -> dict[str, Any]:
    """Node-wide figures: counts, cumulative counters (rates are their
    differences over time), memory, the hog signal and the connections.

    Cumulative: ``spawns``, ``messages`` (delivered), ``reductions`` (steps),
    ``busy`` (seconds the scheduler ran steps) against ``clock`` (seconds, the
    node's monotonic clock).  ``longest_step``: the longest step the watchdog saw
    end in the last minute, ``{"seconds", "pid"}`` (or ``None``); steps shorter
    than its sampling period (25-50 ms) are not seen.
    """
    import platform

    node = _node()
    capture_logs()
    wd = node.watchdog
    now = time.monotonic()
    longest = None
    if wd is not None:
        recent = [s for s in list(wd.long_steps) if s[0] >= now - 60]
        if recent:
            _when, ran, pid = max(recent, key=lambda s: s[1])
            longest = {"seconds": ran, "pid": pid}
    return {
        "node": str(node.name),
        "kind": "tether",
        "system": f"tether, Python {platform.python_version()}",
        "clock": now,
        "uptime": now - _T0,
        "processes": len(node.table),
        "run_queue": len(node.runq),
        "spawns": node.spawns,
        "messages": node.delivered(),
        "reductions": node.reductions(),
        "busy": node.busy,
        "memory": {"total": _rss()},
        "longest_step": longest,
        "longest_step_ever": wd.longest if wd is not None else 0.0,
        "connections": _connections(node),
        "actions": actions_allowed(),
    }


def _rss() -> int:
    """Resident memory of this OS process, in bytes."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _connections(node: _n.Node) -> list[dict[str, Any]]:
    """Each distribution connection: up, hidden, bytes sent/received (from the
    kernel's TCP counters, Linux; None elsewhere), the write buffer and the frames
    waiting for the handshake."""
    # The distribution's own connection table (tether._dist.node.Dist): the
    # observer reads what the core's Remote interface does not carry.
    dist: Any = node.dist
    if dist is None:
        return []
    out = []
    for name, conn in list(dist.connections.items()):
        sent = received = None
        buffered = 0
        writer = conn.writer
        if writer is not None:
            transport = writer.transport
            buffered = transport.get_write_buffer_size()
            sock = transport.get_extra_info("socket")
            sent, received = _tcp_bytes(sock)
        out.append(
            {
                "node": str(name),
                "up": bool(conn.up),
                "hidden": bool(conn.hidden),
                "sent": sent,
                "received": received,
                "buffer": buffered,
                "pending": len(conn.pending),
            }
        )
    return out


# struct tcp_info (linux/tcp.h): tcpi_bytes_acked and tcpi_bytes_received are the
# two u64 after the two u64 pacing rates, at byte 120.
_TCP_INFO_BYTES: Final = struct.Struct("=QQ")
_TCP_INFO_OFFSET: Final = 120


def _tcp_bytes(sock: Any) -> tuple[int | None, int | None]:
    tcp_info = getattr(socket, "TCP_INFO", None)
    if sock is None or tcp_info is None:
        return None, None
    try:
        raw = sock.getsockopt(socket.IPPROTO_TCP, tcp_info, 256)
    except (OSError, ValueError):
        return None, None
    if len(raw) < _TCP_INFO_OFFSET + _TCP_INFO_BYTES.size:
        return None, None
    acked, received = _TCP_INFO_BYTES.unpack_from(raw, _TCP_INFO_OFFSET)
    return int(acked), int(received)


# -- processes -------------------------------------------------------------------------


def _status(node: _n.Node, p: _n.Process) -> str:
    if node.current is p:
        return "running"
    if p.state == _n.RUNNABLE:
        return "runnable"
    if p.state == _n.SUSPENDED:
        return "suspended"
    return "waiting"


def _initial_call(p: _n.Process) -> str:
    return _n.initial_call_name(p)


async def processes(limit: int = 2000, sort: str = "reductions") -> dict[str, Any]:
    """The process table: one row per live process, the ``limit`` first by
    ``sort`` (``reductions``, ``received``, ``message_queue_len``, ``memory``,
    ``pid``), largest first (``pid``: oldest first).

    A row: ``pid``, ``name``, ``initial_call``, ``current`` (module.function:line
    of the innermost frame outside tether), ``status``, ``message_queue_len``,
    ``memory`` (bytes, approximate), ``reductions``, ``received``, ``links``,
    ``monitors`` (counts).
    """
    from ._runtime._api import _memory

    if sort not in _SORT_KEYS:
        raise ValueError(f"tether_observer.processes: sort must be one of {_SORT_KEYS}")
    node = _node()
    procs = list(node.table.values())
    if sort == "pid":
        procs.sort(key=lambda p: p.pid.id)
    elif sort == "memory":
        procs.sort(key=_memory, reverse=True)
    elif sort == "message_queue_len":
        procs.sort(key=lambda p: len(p.mailbox) if p.mailbox is not None else 0, reverse=True)
    else:
        attr = "reductions" if sort == "reductions" else "received"
        procs.sort(key=lambda p: getattr(p, attr), reverse=True)
    rows = []
    for i, p in enumerate(procs[:limit]):
        if i and not i % _YIELD_EVERY:
            await Process.sleep(0)
            if p.state == _n.DEAD:
                continue
        frames = _n.current_frames(p)
        if frames:
            f = frames[0]
            current = f"{f.f_globals.get('__name__', '?')}.{f.f_code.co_qualname}:{f.f_lineno}"
        else:
            current = ""
        rows.append(
            {
                "pid": p.pid,
                "name": p.name,
                "initial_call": _initial_call(p),
                "current": current,
                "status": _status(node, p),
                "message_queue_len": len(p.mailbox) if p.mailbox is not None else 0,
                "memory": _memory(p),
                "reductions": int(p.reductions),
                "received": int(p.received),
                "links": len(p.links) if p.links else 0,
                "monitors": len(p.monitors) if p.monitors else 0,
            }
        )
    return {"total": len(procs), "rows": rows}


async def process(pid: Pid, messages: int = 20) -> dict[str, Any] | None:
    """One process's page: every ``Process.info`` item (rendered), the current
    stack, the first ``messages`` queued messages, the dictionary, and, for a
    process whose loop answers ``sys`` (GenServer, Supervisor, Agent,
    GenStateMachine...), its state through ``format_status``.  ``None`` when the
    process is dead.
    """
    info = Process.info(pid, list(_INFO_ITEMS))
    if info is None:
        return None
    node = _node()
    p = node.table.get(pid)
    queued = info.pop("messages")
    dictionary = info.pop("dictionary")
    stack = info.pop("current_stacktrace")
    page: dict[str, Any] = {
        "pid": pid,
        "info": {k: _show(k, v) for k, v in info.items()},
        "links": list(info["links"]),
        "monitors": [obj for _kind, obj in info["monitors"] if isinstance(obj, Pid)],
        "monitored_by": list(info["monitored_by"]),
        "stack": [f"{mod}.{fn} ({file}:{line})" for mod, fn, file, line in stack],
        "messages": [inspect(m) for m in queued[:messages]],
        "message_count": len(queued),
        "dictionary": [(inspect(k), inspect(v)) for k, v in dictionary.items()],
        "state": None,
        "kind": "process",
    }
    if p is not None:
        ic = (
            getattr(p.initial_call, "__module__", None),
            getattr(p.initial_call, "__qualname__", None),
        )
        if ic in _SYS_LOOPS:
            page["kind"] = "supervisor" if _is_supervisor(p) else "server"
            page["state"] = await _state_of(pid)
    return page


_INFO_ITEMS: Final = (
    "registered_name",
    "status",
    "initial_call",
    "current_function",
    "current_stacktrace",
    "message_queue_len",
    "messages",
    "links",
    "monitors",
    "monitored_by",
    "trap_exit",
    "memory",
    "reductions",
    "messages_received",
    "priority",
    "message_queue_data",
    "dictionary",
)


def _show(key: str, value: Any) -> str:
    if key == "registered_name":
        return inspect_name(value) if value is not None else "nil"
    if key == "initial_call" or key == "current_function":
        mod, fn, n = value
        return f"{mod}.{fn}/{n}" if key == "initial_call" else f"{mod}.{fn}:{n}"
    return inspect(value)


async def _state_of(pid: Pid) -> str | None:
    """``GenServer.get_status``'s State item, rendered; None if it does not answer
    within a second (a server busy in a long callback)."""
    try:
        status = await GenServer.get_status(pid, timeout=1.0)
    except ProcessExit:
        return None
    try:
        value = dict(status[3][4][2][1])["State"]
    except (TypeError, ValueError, IndexError, KeyError):
        return inspect(status)
    if isinstance(value, str) and value.endswith(".format_status failed"):
        return value  # the failure text, not a state
    return inspect(value)


def _is_supervisor(p: _n.Process) -> bool:
    d = p.dictionary
    ic = d.get("$initial_call") if d else None
    return type(ic) is tuple and len(ic) >= 2 and (ic[0], ic[1]) in _SUPERVISORS


# -- the supervision tree ----------------------------------------------------------------


async def tree() -> list[dict[str, Any]]:
    """The supervision trees of this node, roots first: each supervisor whose
    parent is not a supervisor.  A node: ``pid``, ``id`` (rendered child id),
    ``name``, ``type`` (``"supervisor"``/``"worker"``), and for supervisors
    ``strategy``, ``intensity``, ``period``, ``restarts`` (in the current
    period) and ``children``.  A child that is not running has ``pid`` None and
    ``status`` ``"undefined"`` or ``"restarting"``.
    """
    node = _node()
    sups = [p for p in node.table.values() if _is_supervisor(p)]
    sup_pids = {p.pid for p in sups}
    sup_names = {p.name for p in sups if p.name is not None}
    roots = []
    for p in sups:
        ancestors = p.dictionary.get("$ancestors", []) if p.dictionary else []
        parent = ancestors[0] if ancestors else None
        if parent in sup_pids or parent in sup_names:
            continue
        roots.append(p.pid)
    out = []
    for pid in roots:
        node_ = await _sup_node(pid, "root", 0)
        if node_ is not None:
            out.append(node_)
    return out


_MAX_DEPTH: Final = 32


async def _sup_node(pid: Pid, child_id: Any, depth: int) -> dict[str, Any] | None:
    name = Process.info(pid, "registered_name")
    entry: dict[str, Any] = {
        "pid": pid,
        "id": child_id if child_id == "root" else inspect_name(child_id),
        "name": name,
        "type": "supervisor",
        "status": "running",
        "children": [],
    }
    state = None
    try:
        status = await GenServer.get_status(pid, timeout=1.0)
        state = dict(status[3][4][2][1])["State"]
        children = await _which_children(pid)
    except (ProcessExit, TypeError, ValueError, IndexError, KeyError):
        return None if depth == 0 else entry
    if isinstance(state, dict):
        for key in ("strategy", "intensity", "period"):
            entry[key] = state.get(key)
        entry["restarts"] = len(state.get("restarts", ()))
    for cid, cpid, ctype, _mods in reversed(children):  # oldest first
        if isinstance(cpid, Pid) and ctype == "supervisor" and depth < _MAX_DEPTH:
            sub = await _sup_node(cpid, cid, depth + 1)
            if sub is not None:
                entry["children"].append(sub)
                continue
        entry["children"].append(
            {
                "pid": cpid if isinstance(cpid, Pid) else None,
                "id": inspect_name(cid),
                "name": Process.info(cpid, "registered_name") if isinstance(cpid, Pid) else None,
                "type": str(ctype),
                "status": "running" if isinstance(cpid, Pid) else str(cpid),
                "children": [],
            }
        )
    return entry


async def _which_children(pid: Pid) -> list[Any]:
    """``Supervisor.which_children`` with a time limit (a busy supervisor)."""
    result: list[Any] = await GenServer.call(pid, "which_children", 1.0)
    return result


# -- links and monitors around one process -------------------------------------------------


def graph(pid: Pid) -> dict[str, Any] | None:
    """The links and monitors of ``pid`` and of each process next to it:
    ``{"center": pid, "nodes": [{"pid", "label"}], "edges": [{"from", "to",
    "kind"}]}``, ``kind`` being ``"link"`` or ``"monitor"`` (from the watcher to
    the watched).  ``None`` when ``pid`` is dead."""
    info = Process.info(pid, ["links", "monitors", "monitored_by"])
    if info is None:
        return None
    edges: list[dict[str, Any]] = []
    near: list[Pid] = [pid]
    for other in info["links"]:
        edges.append({"from": pid, "to": other, "kind": "link"})
        near.append(other)
    for _kind, obj in info["monitors"]:
        if isinstance(obj, Pid):
            edges.append({"from": pid, "to": obj, "kind": "monitor"})
            near.append(obj)
    for watcher in info["monitored_by"]:
        if isinstance(watcher, Pid):
            edges.append({"from": watcher, "to": pid, "kind": "monitor"})
            near.append(watcher)
    seen: list[Pid] = []
    for q in near:
        if q not in seen:
            seen.append(q)
    return {"center": pid, "nodes": [{"pid": q, "label": _label(q)} for q in seen], "edges": edges}


def _label(pid: Pid) -> str:
    if pid.node is not None:
        return f"{pid!r} on {pid.node}"
    p = _node().table.get(pid)
    if p is None:
        return f"{pid!r} (dead)"
    return p.name or _initial_call(p)


# -- the log --------------------------------------------------------------------------------


class _Capture(logging.Handler):
    """Keeps the last ``size`` records of the ``tether`` loggers (crash and
    supervisor reports) as text, for the observer's live log."""

    def __init__(self, size: int = 1000) -> None:
        super().__init__(logging.WARNING)
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)
        self.seq = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception as e:  # a report's text that cannot be made
            text = f"(unprintable log record: {inspect_reason(e)})"
        if record.exc_info and record.exc_info[1] is not None and "\n** (" not in text:
            text += "\n" + inspect_reason(record.exc_info[1])
        self.seq += 1
        pid = getattr(record, "tether_pid", None)
        self.entries.append(
            {
                "seq": self.seq,
                "time": record.created,
                "level": record.levelname.lower(),
                "logger": record.name,
                "pid": pid if isinstance(pid, Pid) else None,
                "text": text,
            }
        )


_capture: _Capture | None = None
_LOGGERS: Final = ("tether", "tether.sasl")


def capture_logs() -> None:
    """Start keeping the crash and supervisor reports (from now on; idempotent)."""
    global _capture
    if _capture is None:
        _capture = _Capture()
        for name in _LOGGERS:
            logging.getLogger(name).addHandler(_capture)


def stop_capturing_logs() -> None:
    global _capture
    if _capture is not None:
        for name in _LOGGERS:
            logging.getLogger(name).removeHandler(_capture)
        _capture = None


def logs(since: int = 0) -> dict[str, Any]:
    """The reports kept since the observer first asked, after sequence number
    ``since``: ``{"next": n, "entries": [{"seq", "time", "level", "logger",
    "pid", "text"}]}`` (pass ``next`` as ``since`` to get only what is new)."""
    capture_logs()
    assert _capture is not None
    entries = [e for e in list(_capture.entries) if e["seq"] > since]
    return {"next": _capture.seq, "entries": entries}


# -- actions (opt-in) ------------------------------------------------------------------------

_ACTIONS: Final = ("exit_process", "send_message")


def parse_term(text: str) -> Any:
    """A term typed in the observer: a Python literal (``"text"``, ``42``,
    ``("shutdown", "x")``), or else a bare word, as an atom (``kill``)."""
    import ast

    if not isinstance(text, str) or not text.strip():
        raise ValueError("parse_term: give a Python literal or a bare word")
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        word = text.strip()
        if word.replace("_", "a").isalnum():
            return Atom(word)
        raise ValueError(
            f"parse_term: {text!r} is neither a Python literal nor a bare word (an atom)"
        ) from None


def exit_process(pid: Pid, reason_text: str) -> bool:
    """``Process.exit(pid, reason)`` with ``reason`` parsed by :func:`parse_term`."""
    reason = parse_term(reason_text)
    if not isinstance(pid, Pid):
        raise TypeError(f"tether_observer.exit_process: pid must be a Pid, got {pid!r}")
    return Process.exit(pid, reason)


def send_message(pid: Pid, message_text: str) -> bool:
    """``send(pid, message)`` with ``message`` parsed by :func:`parse_term`."""
    from ._runtime._api import send

    message = parse_term(message_text)
    if not isinstance(pid, Pid):
        raise TypeError(f"tether_observer.send_message: pid must be a Pid, got {pid!r}")
    send(pid, message)
    return True


def allow_actions(enabled: bool = True) -> None:
    """Let observers on other nodes exit processes and send messages here
    (``tether_observer:exit_process/2``, ``send_message/2``); ``False`` takes it
    back.  Off by default: reading is open to a node with the cookie, acting is
    not."""
    if not isinstance(enabled, bool):
        raise TypeError(f"allow_actions: enabled must be a bool, got {enabled!r}")
    for name in _ACTIONS:
        if enabled:
            _rpc.expose(MODULE, name)(globals()[name])
        else:
            _rpc.unexpose(MODULE, name)


def actions_allowed() -> bool:
    """Whether :func:`allow_actions` is on."""
    return (MODULE, "exit_process") in _rpc.exposed()


for _fn in (overview, processes, process, tree, graph, logs):
    _rpc.expose(MODULE)(_fn)

__all__ = [
    "MODULE",
    "allow_actions",
    "capture_logs",
    "exit_process",
    "graph",
    "logs",
    "overview",
    "parse_term",
    "process",
    "processes",
    "send_message",
    "tree",
]
