"""DynamicSupervisor: children started on demand, one_for_one only (SU-10).

Shares child specs, starting, shutdown and restart intensity with ``Supervisor``.
``extra_arguments`` are prepended to each child's start arguments;
``which_children`` ids are always ``"undefined"``; ``terminate_child`` takes a pid.
Children are shut down when the supervisor stops; their order is not defined
(tether stops them newest first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from tether._runtime._api import Process
from tether._runtime._api import self as self_pid
from tether._runtime._types import Atom, Exit, Pid

from .gen_server import GenServer, NoReply, Ok, Reply, Stop, _is_quiet
from .supervisor import (
    ERROR,
    IGNORE,
    OK,
    SHUTDOWN,
    UNDEFINED,
    _add_restart,
    _Child,
    _report_child,
    _shutdown,
    _start_child,
    normalize_spec,
    sasl,
)

__all__ = ["DynamicSupervisor"]

MAX_CHILDREN: Final = Atom("max_children")


@dataclass
class _DynState:
    max_restarts: int
    max_seconds: float
    max_children: int | None
    extra_arguments: list[Any]
    children: dict[Pid, _Child] = field(default_factory=dict)  # insertion = start order
    restarts: list[int] = field(default_factory=list)


class DynamicSupervisor:
    """Elixir's ``DynamicSupervisor``: ``start_link``, ``start_child``,
    ``terminate_child``, ``which_children``, ``count_children``, ``stop``.

    Flags: ``max_restarts`` (3), ``max_seconds`` (5), ``max_children`` (``None``:
    no limit), ``extra_arguments`` (``[]``).
    """

    def __init__(self) -> None:
        raise TypeError("DynamicSupervisor is a namespace; start one with start_link")

    @staticmethod
    async def start_link(
        *,
        name: Any = None,
        max_restarts: int = 3,
        max_seconds: float = 5,
        max_children: int | None = None,
        extra_arguments: list[Any] | None = None,
    ) -> Any:
        """Start a dynamic supervisor linked to the caller: ``("ok", pid)``."""
        flags = (max_restarts, max_seconds, max_children, list(extra_arguments or []))
        return await _DynServer.start_link(flags, name=name)

    @staticmethod
    async def start(*, name: Any = None, **flags: Any) -> Any:
        """Like :meth:`start_link`, without the link."""
        f = (
            flags.get("max_restarts", 3),
            flags.get("max_seconds", 5),
            flags.get("max_children"),
            list(flags.get("extra_arguments") or []),
        )
        return await _DynServer.start(f, name=name)

    @staticmethod
    async def start_child(sup: Any, spec: Any) -> Any:
        """``("ok", pid)``, ``"ignore"``, ``("error", reason)`` or ``("error",
        "max_children")``."""
        return await GenServer.call(sup, ("start_child", spec), None)

    @staticmethod
    async def terminate_child(sup: Any, pid: Pid) -> Any:
        """Stop the child ``pid``: ``"ok"`` or ``("error", "not_found")``."""
        return await GenServer.call(sup, ("terminate_child", pid), None)

    @staticmethod
    async def which_children(sup: Any) -> list[tuple[Any, Any, str, list[Any]]]:
        """``[("undefined", pid, type, modules)]`` for every child."""
        return await GenServer.call(sup, "which_children", None)  # type: ignore[no-any-return]

    @staticmethod
    async def count_children(sup: Any) -> dict[str, int]:
        """``{"specs": n, "active": n, "supervisors": n, "workers": n}``."""
        return await GenServer.call(sup, "count_children", None)  # type: ignore[no-any-return]

    @staticmethod
    async def stop(sup: Any, reason: Any = "normal", timeout: float | None = None) -> Atom:
        """Stop the supervisor and all its children."""
        return await GenServer.stop(sup, reason, timeout)


class _DynServer(GenServer):
    def init(self, arg: Any) -> Any:
        max_restarts, max_seconds, max_children, extra = arg
        Process.flag("trap_exit", True)
        return Ok(_DynState(max_restarts, max_seconds, max_children, extra))

    async def handle_call(self, request: Any, from_: Any, st: _DynState) -> Any:
        match request:
            case ("start_child", spec):
                if st.max_children is not None and len(st.children) >= st.max_children:
                    return Reply((ERROR, MAX_CHILDREN), st)
                try:
                    child = normalize_spec(spec)
                except ValueError as e:
                    return Reply((ERROR, e.args[0]), st)
                fun, args = child.start
                child.start = (fun, (*st.extra_arguments, *args))
                result = await _start_child(child)
                if result != IGNORE and result[0] == OK:
                    child.pid = result[1]
                    st.children[result[1]] = child
                return Reply(result, st)
            case ("terminate_child", pid):
                found = st.children.pop(pid, None) if isinstance(pid, Pid) else None
                if found is None:
                    return Reply((ERROR, Atom("not_found")), st)
                await _shutdown(found)
                return Reply(OK, st)
            case "which_children":
                return Reply(
                    [(UNDEFINED, pid, Atom(c.type), c.modules) for pid, c in st.children.items()],
                    st,
                )
            case "count_children":
                sups = sum(1 for c in st.children.values() if c.type == "supervisor")
                n = len(st.children)
                return Reply(
                    {"specs": n, "active": n, "supervisors": sups, "workers": n - sups}, st
                )
        return Reply((ERROR, ("unknown_call", request)), st)

    async def handle_info(self, msg: Any, st: _DynState) -> Any:
        match msg:
            case Exit(pid, reason) if pid in st.children:
                child = st.children.pop(pid)
                _report_child(self_pid(), child, reason, "terminated")
                if child.restart == "temporary" or (
                    child.restart == "transient" and _is_quiet(reason)
                ):
                    return NoReply(st)
                if not _add_restart(st):
                    sasl.error(
                        "DynamicSupervisor %r caused shutdown\n"
                        "** (exit) :reached_max_restart_intensity",
                        self_pid(),
                    )
                    await self.terminate(SHUTDOWN, st)
                    return Stop(SHUTDOWN, st)
                result = await _start_child(child)
                if result != IGNORE and result[0] == OK:
                    child.pid = result[1]
                    st.children[result[1]] = child
                return NoReply(st)
            case Exit():
                return NoReply(st)
        return NoReply(st)

    async def terminate(self, reason: Any, st: _DynState) -> Any:
        for pid in reversed(list(st.children)):
            child = st.children.pop(pid)
            await _shutdown(child)
