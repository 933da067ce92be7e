"""Where the observer's data comes from: this node, a tether node, or a BEAM node.

Design
------
One interface, three answers, all called from inside a tether process (an rpc
needs one):

* :class:`LocalSource` calls :mod:`tether._introspect` directly;
* :class:`TetherSource` calls the same functions on another tether node through
  ``tether_observer:*`` (which every tether node exposes, read-only);
* :class:`BeamSource` asks an Erlang/Elixir node the standard questions any
  BEAM answers over distribution: ``erlang:processes/0``,
  ``erlang:process_info/2``, ``erlang:memory/0``, ``erlang:statistics/1``,
  ``application:which_applications/0``, ``supervisor:which_children/1``,
  ``sys:get_status/2``..., and turns the answers into the shapes of
  :mod:`tether._introspect`.  Nothing is loaded or switched on over there: a
  figure the BEAM keeps no counter for (messages, spawns, the longest step) is
  ``None``.  Per-process questions go in one call for all processes, through
  ``lists:zipwith`` with the exported fun ``erlang:process_info/2``.

:func:`connect` tells the kind of a remote node by asking ``tether_observer``
first.
"""

from __future__ import annotations

from typing import Any, Final

from .. import _introspect as intro
from .._dist.etf import Export
from .._dist.rpc import RpcError, call
from .._runtime._format import inspect, inspect_name
from .._runtime._types import Atom, Pid


class Source:
    """What the observer asks (every method runs inside a tether process)."""

    kind = "tether"
    node = ""

    async def overview(self) -> dict[str, Any]:
        raise NotImplementedError

    async def processes(self, sort: str = "reductions", limit: int = 2000) -> dict[str, Any]:
        raise NotImplementedError

    async def process(self, pid: Pid) -> dict[str, Any] | None:
        raise NotImplementedError

    async def tree(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def graph(self, pid: Pid) -> dict[str, Any] | None:
        raise NotImplementedError

    async def logs(self, since: int) -> dict[str, Any]:
        raise NotImplementedError

    async def exit_process(self, pid: Pid, reason: str) -> bool:
        raise NotImplementedError

    async def send_message(self, pid: Pid, message: str) -> bool:
        raise NotImplementedError


class LocalSource(Source):
    """This node."""

    def __init__(self) -> None:
        from .._runtime._api import node

        self.node = str(node())

    async def overview(self) -> dict[str, Any]:
        # Acting on its own node is the observer's owner's call (actions=...),
        # not allow_actions', which is for observers elsewhere.
        return {**intro.overview(), "actions": True}

    async def processes(self, sort: str = "reductions", limit: int = 2000) -> dict[str, Any]:
        return await intro.processes(limit, sort)

    async def process(self, pid: Pid) -> dict[str, Any] | None:
        return await intro.process(pid)

    async def tree(self) -> list[dict[str, Any]]:
        return await intro.tree()

    async def graph(self, pid: Pid) -> dict[str, Any] | None:
        return intro.graph(pid)

    async def logs(self, since: int) -> dict[str, Any]:
        return intro.logs(since)

    async def exit_process(self, pid: Pid, reason: str) -> bool:
        return intro.exit_process(pid, reason)

    async def send_message(self, pid: Pid, message: str) -> bool:
        return intro.send_message(pid, message)


_TIMEOUT: Final = 5.0


class TetherSource(Source):
    """Another tether node, through its ``tether_observer`` rpc functions."""

    def __init__(self, node: str) -> None:
        self.node = node

    async def _call(self, fn: str, *args: Any) -> Any:
        return await call(self.node, intro.MODULE, fn, list(args), timeout=_TIMEOUT)

    async def overview(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("overview")
        return result

    async def processes(self, sort: str = "reductions", limit: int = 2000) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("processes", limit, sort)
        return result

    async def process(self, pid: Pid) -> dict[str, Any] | None:
        result: dict[str, Any] | None = await self._call("process", pid)
        return result

    async def tree(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("tree")
        return result

    async def graph(self, pid: Pid) -> dict[str, Any] | None:
        result: dict[str, Any] | None = await self._call("graph", pid)
        return result

    async def logs(self, since: int) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("logs", since)
        return result

    async def exit_process(self, pid: Pid, reason: str) -> bool:
        return bool(await self._call("exit_process", pid, reason))

    async def send_message(self, pid: Pid, message: str) -> bool:
        return bool(await self._call("send_message", pid, message))


# -- the BEAM ----------------------------------------------------------------------------

_A = Atom
_UNDEFINED: Final = _A("undefined")
_ROW_ITEMS: Final = [
    _A(i)
    for i in (
        "registered_name",
        "current_function",
        "status",
        "message_queue_len",
        "memory",
        "reductions",
        "links",
        "monitors",
    )
]
_PAGE_ITEMS: Final = [
    _A(i)
    for i in (
        "registered_name",
        "status",
        "initial_call",
        "current_function",
        "message_queue_len",
        "links",
        "monitors",
        "monitored_by",
        "trap_exit",
        "memory",
        "reductions",
        "heap_size",
        "total_heap_size",
        "stack_size",
        "priority",
        "group_leader",
        "current_stacktrace",
        "dictionary",
        "messages",
    )
]
_SUPERVISOR_CALLS: Final = {
    ("supervisor", 1),
    ("Elixir.DynamicSupervisor", 1),
    ("Elixir.Task.Supervisor", 1),
}


def _text(value: Any) -> str:
    """An Erlang string (a list of code points, or a binary) as ``str``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list) and all(isinstance(c, int) for c in value):
        return "".join(map(chr, value))
    return inspect(value)


def _mfa(value: Any) -> str:
    if type(value) is tuple and len(value) == 3:
        mod, fn, arity = value
        mod = str(mod)
        if mod.startswith("Elixir."):
            mod = mod[len("Elixir.") :]
        return f"{mod}.{fn}/{arity}"
    return inspect(value)


def _props(items: Any) -> dict[str, Any]:
    """A proplist (``[{key, value}]``) as a dict with str keys."""
    out: dict[str, Any] = {}
    if isinstance(items, list):
        for item in items:
            if type(item) is tuple and len(item) == 2:
                out[str(item[0])] = item[1]
    return out


class BeamSource(Source):
    """An Erlang or Elixir node, through the calls every BEAM answers."""

    kind = "beam"

    def __init__(self, node: str) -> None:
        self.node = node
        self.system: str | None = None
        self.schedulers = 1
        self.sup_flags: dict[Pid, dict[str, Any]] = {}

    async def _call(self, module: str, fn: str, *args: Any, timeout: float = _TIMEOUT) -> Any:
        return await call(self.node, module, fn, list(args), timeout=timeout)

    async def _try(self, module: str, fn: str, *args: Any, timeout: float = _TIMEOUT) -> Any:
        try:
            return await self._call(module, fn, *args, timeout=timeout)
        except RpcError:
            return None

    async def overview(self) -> dict[str, Any]:
        if self.system is None:
            otp = _text(await self._call("erlang", "system_info", _A("otp_release")))
            elixir = await self._try("Elixir.System", "version")
            self.system = f"Erlang/OTP {otp}" + (f", Elixir {_text(elixir)}" if elixir else "")
            self.schedulers = int(
                await self._call("erlang", "system_info", _A("schedulers_online"))
            )
        runtime = await self._call("erlang", "statistics", _A("runtime"))
        wall = await self._call("erlang", "statistics", _A("wall_clock"))
        reductions = await self._call("erlang", "statistics", _A("reductions"))
        memory = _props(await self._call("erlang", "memory"))
        return {
            "node": self.node,
            "kind": "beam",
            "system": self.system,
            "clock": wall[0] / 1000,
            "uptime": wall[0] / 1000,
            "processes": int(await self._call("erlang", "system_info", _A("process_count"))),
            "run_queue": int(await self._call("erlang", "statistics", _A("run_queue"))),
            "spawns": None,
            "messages": None,
            "reductions": int(reductions[0]),
            # CPU seconds over the schedulers: utilisation is its rate of change.
            "busy": runtime[0] / 1000 / self.schedulers,
            "memory": {k: int(v) for k, v in memory.items()},
            "longest_step": None,
            "longest_step_ever": None,
            "connections": await self._connections(),
            "actions": True,
        }

    async def _connections(self) -> list[dict[str, Any]]:
        ctrls = await self._try("erlang", "system_info", _A("dist_ctrl")) or []
        hidden = {str(n) for n in await self._try("erlang", "nodes", _A("hidden")) or []}
        out = []
        for name, ctrl in ctrls:
            sent = received = buffered = None
            if not isinstance(ctrl, Pid):  # a port (TCP); TLS distribution uses a process
                stats: dict[str, Any] = {}
                for item in ("output", "input", "queue_size"):
                    answer = await self._try("erlang", "port_info", ctrl, _A(item))
                    if type(answer) is tuple and len(answer) == 2:
                        stats[item] = answer[1]
                sent, received = stats.get("output"), stats.get("input")
                buffered = stats.get("queue_size")
            out.append(
                {
                    "node": str(name),
                    "up": True,
                    "hidden": str(name) in hidden,
                    "sent": sent,
                    "received": received,
                    "buffer": buffered,
                    "pending": 0,
                }
            )
        return out

    async def _infos(self, pids: list[Pid], items: list[Atom]) -> list[Any]:
        """``process_info(Pid, Items)`` for every pid, in one call."""
        fun = Export("erlang", "process_info", 2)
        result: list[Any] = await self._call("lists", "zipwith", fun, pids, [items] * len(pids))
        return result

    async def _initial_calls(self, pids: list[Pid]) -> list[Any]:
        fun = Export("proc_lib", "translate_initial_call", 1)
        result: list[Any] = await self._call("lists", "map", fun, pids)
        return result

    async def processes(self, sort: str = "reductions", limit: int = 2000) -> dict[str, Any]:
        pids: list[Pid] = await self._call("erlang", "processes")
        infos = await self._infos(pids, _ROW_ITEMS)
        calls = await self._initial_calls(pids)
        rows: list[dict[str, Any]] = []
        for pid, info, ic in zip(pids, infos, calls, strict=False):
            if not isinstance(info, list):
                continue  # dead meanwhile: undefined
            d = _props(info)
            name = d.get("registered_name")
            rows.append(
                {
                    "pid": pid,
                    "name": str(name) if isinstance(name, str) and name else None,
                    "initial_call": _mfa(ic),
                    "current": _mfa(d.get("current_function")),
                    "status": str(d.get("status")),
                    "message_queue_len": int(d.get("message_queue_len") or 0),
                    "memory": int(d.get("memory") or 0),
                    "reductions": int(d.get("reductions") or 0),
                    "received": None,
                    "links": len(d.get("links") or []),
                    "monitors": len(d.get("monitors") or []),
                }
            )
        if sort == "pid":
            rows.sort(key=lambda r: (r["pid"].serial, r["pid"].id))
        else:
            key = sort if sort != "received" else "reductions"
            rows.sort(key=lambda r: r[key] or 0, reverse=True)
        return {"total": len(rows), "rows": rows[:limit]}

    async def process(self, pid: Pid) -> dict[str, Any] | None:
        info = await self._try("erlang", "process_info", pid, _PAGE_ITEMS)
        if not isinstance(info, list):
            return None
        d = _props(info)
        queued = d.pop("messages", []) or []
        dictionary = _props(d.pop("dictionary", []))
        stack = d.pop("current_stacktrace", []) or []
        shown = {}
        for key, value in d.items():
            if key in ("initial_call", "current_function"):
                shown[key] = _mfa(value)
            elif key == "registered_name":
                shown[key] = inspect(value if value else None)
            else:
                shown[key] = inspect(value)
        page: dict[str, Any] = {
            "pid": pid,
            "info": shown,
            "links": [p for p in d.get("links") or [] if isinstance(p, Pid)],
            "monitors": [
                m[1] for m in d.get("monitors") or [] if type(m) is tuple and isinstance(m[1], Pid)
            ],
            "monitored_by": [p for p in d.get("monitored_by") or [] if isinstance(p, Pid)],
            "stack": [_frame(f) for f in stack],
            "messages": [inspect(m) for m in queued[:20]],
            "message_count": len(queued),
            "dictionary": [(inspect(k), inspect(v)) for k, v in dictionary.items()],
            "state": None,
            "kind": "process",
        }
        if "$initial_call" in dictionary:  # a proc_lib process: it may answer sys
            ic = dictionary["$initial_call"]
            page["kind"] = "supervisor" if _is_sup_call(ic) else "server"
            status = await self._try("sys", "get_status", pid, 1000, timeout=3.0)
            if status is not None:
                page["state"] = inspect(_beam_state(status))
        return page

    async def tree(self) -> list[dict[str, Any]]:
        """Applications (their top supervisors) first, then supervisors started
        outside any application (``Supervisor.start_link`` from a script)."""
        visited: set[Pid] = set()
        out: list[dict[str, Any]] = []
        apps = await self._try("application", "which_applications") or []
        for app in apps:
            name = app[0]
            master = await self._try("application_controller", "get_master", name)
            if not isinstance(master, Pid):
                continue
            top = await self._try("application_master", "get_child", master)
            entry: dict[str, Any] = {
                "pid": master,
                "id": str(name),
                "name": str(name),
                "type": "application",
                "status": "running",
                "children": [],
            }
            if type(top) is tuple and isinstance(top[0], Pid):
                sub = await self._sup_node(top[0], _A(str(top[1])), visited)
                entry["children"].append(sub)
            out.append(entry)
        pids: list[Pid] = await self._call("erlang", "processes")
        calls = await self._initial_calls(pids)
        loose = [p for p, ic in zip(pids, calls, strict=False) if _is_sup_call(ic)]
        loose.sort(key=lambda p: (p.serial, p.id))  # parents are older than children
        for pid in loose:
            if pid not in visited:
                out.append(await self._sup_node(pid, _A("root"), visited))
        return out

    async def _sup_node(self, pid: Pid, child_id: Any, visited: set[Pid]) -> dict[str, Any]:
        visited.add(pid)
        entry: dict[str, Any] = {
            "pid": pid,
            "id": inspect_name(child_id) if child_id != "root" else "root",
            "name": None,
            "type": "supervisor",
            "status": "running",
            "children": [],
        }
        entry.update(await self._sup_flags(pid))
        children = await self._try("supervisor", "which_children", pid) or []
        for cid, child, ctype, _mods in children[::-1]:  # oldest first
            if isinstance(child, Pid) and str(ctype) == "supervisor" and child not in visited:
                entry["children"].append(await self._sup_node(child, cid, visited))
                continue
            entry["children"].append(
                {
                    "pid": child if isinstance(child, Pid) else None,
                    "id": inspect_name(cid),
                    "name": None,
                    "type": str(ctype),
                    "status": "running" if isinstance(child, Pid) else str(child),
                    "children": [],
                }
            )
        return entry

    async def _sup_flags(self, pid: Pid) -> dict[str, Any]:
        """Strategy, intensity, period and restarts, from the supervisor's state
        (``sys:get_state``): supervisor.erl's ``#state{}`` record, or Elixir's
        ``%DynamicSupervisor{}``."""
        state = await self._try("sys", "get_state", pid, 1000, timeout=3.0)
        if type(state) is tuple and len(state) >= 10 and state[0] == "state":
            return {
                "strategy": str(state[2]),
                "intensity": state[5],
                "period": state[6],
                "restarts": len(state[7]) if isinstance(state[7], list) else 0,
            }
        if isinstance(state, dict):
            d = {str(k): v for k, v in state.items()}
            return {
                "strategy": str(d.get("strategy")),
                "intensity": d.get("max_restarts"),
                "period": d.get("max_seconds"),
                "restarts": len(d["restarts"]) if isinstance(d.get("restarts"), list) else 0,
            }
        return {}

    async def graph(self, pid: Pid) -> dict[str, Any] | None:
        info = await self._try(
            "erlang", "process_info", pid, [_A("links"), _A("monitors"), _A("monitored_by")]
        )
        if not isinstance(info, list):
            return None
        d = _props(info)
        edges: list[dict[str, Any]] = []
        near: list[Pid] = [pid]
        for other in d.get("links") or []:
            if isinstance(other, Pid):
                edges.append({"from": pid, "to": other, "kind": "link"})
                near.append(other)
        for mon in d.get("monitors") or []:
            if type(mon) is tuple and isinstance(mon[1], Pid):
                edges.append({"from": pid, "to": mon[1], "kind": "monitor"})
                near.append(mon[1])
        for watcher in d.get("monitored_by") or []:
            if isinstance(watcher, Pid):
                edges.append({"from": watcher, "to": pid, "kind": "monitor"})
                near.append(watcher)
        seen = list(dict.fromkeys(near))
        names = await self._infos(seen, [_A("registered_name")])
        calls = await self._initial_calls(seen)
        nodes = []
        for q, info_q, ic in zip(seen, names, calls, strict=False):
            name = _props(info_q).get("registered_name") if isinstance(info_q, list) else None
            label = str(name) if name else (_mfa(ic) if isinstance(info_q, list) else "(dead)")
            nodes.append({"pid": q, "label": label})
        return {"center": pid, "nodes": nodes, "edges": edges}

    async def logs(self, since: int) -> dict[str, Any]:
        # The BEAM keeps no log a peer can read without installing a handler there;
        # the observer reports what it sees itself (exits, restarts: see _model).
        return {"next": since, "entries": []}

    async def exit_process(self, pid: Pid, reason: str) -> bool:
        return bool(await self._call("erlang", "exit", pid, intro.parse_term(reason)))

    async def send_message(self, pid: Pid, message: str) -> bool:
        await self._call("erlang", "send", pid, intro.parse_term(message))
        return True


def _frame(f: Any) -> str:
    if type(f) is tuple and len(f) == 4:
        mod, fn, arity, loc = f
        where = _props(loc)
        file, line = where.get("file"), where.get("line")
        at = f" ({_text(file)}:{line})" if file is not None else ""
        return f"{_mfa((mod, fn, arity if isinstance(arity, int) else len(arity)))}{at}"
    return inspect(f)


def _is_sup_call(ic: Any) -> bool:
    if type(ic) is not tuple or len(ic) != 3:
        return False
    mod, _fn, arity = ic
    return (str(mod), arity) in _SUPERVISOR_CALLS


def _beam_state(status: Any) -> Any:
    """The State item of ``sys:get_status``'s answer (the whole answer if none)."""
    try:
        for section in status[3][4]:
            if type(section) is tuple and section[0] == "data":
                for key, value in section[1]:
                    if _text(key) == "State":
                        return value
    except (TypeError, IndexError, ValueError):
        pass
    return status


async def connect(node: str) -> Source:
    """The source for ``node``: a tether node if it answers ``tether_observer``,
    else a BEAM node.  Raises ``ConnectionError`` if it cannot be reached."""
    from .._dist.api import Node

    if not await Node.connect(node):
        raise ConnectionError(
            f"tether observer: cannot connect to {node} (is it running, with this cookie?)"
        )
    try:
        await call(node, intro.MODULE, "overview", [], timeout=_TIMEOUT)
    except RpcError:
        return BeamSource(node)
    return TetherSource(node)
