"""Supervisor: start children, watch them, restart them by strategy (SU-1 … SU-8).

Caller → what happens::

    Supervisor.start_link(children, strategy=...)   start each child in order
    MySup.start_link(arg)                            MySup().init(arg) -> Supervisor.init_spec(...)
    a child exits                                    restart per strategy and restart type
    more than max_restarts in max_seconds            stop children, exit "shutdown"
    Supervisor.stop / parent exit                    stop children in reverse start order

Child specs are dicts, as in Elixir: ``{"id": ..., "start": (fun, args), "restart":
"permanent" | "transient" | "temporary", "shutdown": "brutal_kill" | seconds |
"infinity", "type": "worker" | "supervisor", "modules": [...]}``.  ``start`` calls
``fun(*args)`` (plain or async) which must return ``("ok", pid)`` with the pid
linked to the caller, ``"ignore"``, or ``("error", reason)``.  A GenServer or
Supervisor subclass ``Cls``, or ``(Cls, arg)``, stands for ``Cls.child_spec(arg)``.

Built on GenServer and the public runtime API only.  A supervisor traps exits
(SU-6); EXITs from processes that are neither children nor its parent are
ignored.  Supervisor reports (child terminated, max intensity) are SASL-style and
go to the logger ``"tether.sasl"``, which does not propagate by default, as
Elixir prints them only with ``handle_sasl_reports: true`` (LOG-5).

Restart intensity (SU-3) follows ``supervisor.erl``'s ``add_restart``: each
restart appends ``now`` in whole seconds of loop time, stamps older than ``now -
max_seconds`` are dropped, and more than ``max_restarts`` stamps stop the
supervisor with ``"shutdown"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from tether._runtime._api import Process, receive, send
from tether._runtime._api import self as self_pid
from tether._runtime._format import describe_callable, inspect, inspect_name, inspect_reason
from tether._runtime._types import ANY, Atom, Down, Exit, Pid

from .gen_server import GenServer, Ignore, NoReply, Ok, Reply, Stop, _is_quiet, _maybe_await

__all__ = ["Supervisor"]

sasl: Final = logging.getLogger("tether.sasl")

OK: Final = Atom("ok")
ERROR: Final = Atom("error")
IGNORE: Final = Atom("ignore")
UNDEFINED: Final = Atom("undefined")
RESTARTING: Final = Atom("restarting")
SHUTDOWN: Final = Atom("shutdown")
STRATEGIES: Final = ("one_for_one", "one_for_all", "rest_for_one")
RESTARTS: Final = ("permanent", "transient", "temporary")


@dataclass(frozen=True)
class SupervisorSpec:
    """What ``Supervisor.init`` returns: the children and the flags."""

    children: list[Any]
    strategy: str = "one_for_one"
    max_restarts: int = 3
    max_seconds: float = 5
    auto_shutdown: str = "never"


@dataclass
class _Child:
    id: Any
    start: tuple[Any, tuple[Any, ...]]
    restart: str
    shutdown: Any
    type: str
    modules: list[Any]
    pid: Pid | Atom = UNDEFINED
    significant: bool = False


def normalize_spec(spec: Any) -> _Child:
    """Turn a child spec (dict, class, or ``(class, arg)``) into a child record.

    Raises ``ValueError`` with the BEAM's error term as ``args[0]``:
    ``"missing_id"``, ``"missing_start"``, ``("invalid_mfa", x)``,
    ``("invalid_restart_type", x)``, ``("invalid_shutdown", x)``,
    ``("invalid_child_type", x)``.
    """
    if isinstance(spec, type) and hasattr(spec, "child_spec"):
        spec = getattr(spec, "child_spec")(None)  # noqa: B009
    elif type(spec) is tuple and len(spec) == 2 and isinstance(spec[0], type):
        spec = getattr(spec[0], "child_spec")(spec[1])  # noqa: B009
    if not isinstance(spec, dict):
        raise ValueError(("invalid_child_spec", spec))
    if "id" not in spec:
        raise ValueError(Atom("missing_id"))
    if "start" not in spec:
        raise ValueError(Atom("missing_start"))
    start = spec["start"]
    if not (type(start) is tuple and len(start) == 2 and callable(start[0])):
        raise ValueError((Atom("invalid_mfa"), start))
    restart = spec.get("restart", "permanent")
    if restart not in RESTARTS:
        raise ValueError((Atom("invalid_restart_type"), restart))
    ctype = spec.get("type", "worker")
    if ctype not in ("worker", "supervisor"):
        raise ValueError((Atom("invalid_child_type"), ctype))
    shutdown = spec.get("shutdown", 5.0 if ctype == "worker" else "infinity")
    if not (
        shutdown in ("brutal_kill", "infinity")
        or (isinstance(shutdown, int | float) and not isinstance(shutdown, bool) and shutdown >= 0)
    ):
        raise ValueError((Atom("invalid_shutdown"), shutdown))
    modules = spec.get("modules", [start[0]])
    significant = spec.get("significant", False)
    if not isinstance(significant, bool) or (significant and restart == "permanent"):
        # SU-9: only transient or temporary children can be significant.
        raise ValueError((Atom("invalid_significant"), significant))
    child = _Child(spec["id"], (start[0], tuple(start[1])), restart, shutdown, ctype, modules)
    child.significant = significant
    return child


async def _start_child(child: _Child) -> Any:
    fun, args = child.start
    try:
        result = await _maybe_await(fun(*args))
    except Exception as e:
        return (ERROR, e)
    if result == IGNORE:
        return IGNORE
    if (
        type(result) is tuple
        and len(result) == 2
        and result[0] == OK
        and isinstance(result[1], Pid)
    ):
        # LOG-5: each child start, at INFO (quiet by default, as SASL reports are).
        sasl.info(
            "Child %s of Supervisor %r started\nPid: %r\nStart Call: %s",
            inspect_name(child.id),
            self_pid(),
            result[1],
            describe_callable(fun),
        )
        return result
    if type(result) is tuple and len(result) == 2 and result[0] == ERROR:
        return result
    return (ERROR, ("bad_return", result))


async def _shutdown(child: _Child) -> Any:
    """Stop one child as ``supervisor.erl``'s ``shutdown/2`` does (SU-5); its reason."""
    pid = child.pid
    if not isinstance(pid, Pid):
        return None
    mon = Process.monitor(pid)
    Process.unlink(pid)
    # Already dead?  Then its EXIT is queued and the DOWN says noproc.
    try:
        early = await receive(Exit(pid, ANY), timeout=0)
    except TimeoutError:
        early = None
    if early is not None:
        await receive(Down(mon, ANY, ANY, ANY))
        return early.reason
    if child.shutdown == "brutal_kill":
        Process.exit(pid, "kill")
        return (await receive(Down(mon, ANY, ANY, ANY))).reason
    Process.exit(pid, "shutdown")
    wait = None if child.shutdown == "infinity" else child.shutdown
    try:
        return (await receive(Down(mon, ANY, ANY, ANY), timeout=wait)).reason
    except TimeoutError:
        Process.exit(pid, "kill")
        return (await receive(Down(mon, ANY, ANY, ANY))).reason


def _report_child(sup: Pid, child: _Child, reason: Any, context: str) -> None:
    """LOG-5 "Child … terminated" (permanent: always; others: abnormal only)."""
    if child.restart != "permanent" and _is_quiet(reason):
        return
    sasl.error(
        "Child %s of Supervisor %r %s\n** (exit) %s\nPid: %r\nStart Call: %s\nRestart: %s\n"
        "Shutdown: %s\nType: %s",
        inspect_name(child.id),
        sup,
        context,
        inspect_reason(reason),
        child.pid,
        describe_callable(child.start[0]),
        child.restart,
        child.shutdown,
        child.type,
    )


@dataclass
class _SupState:
    strategy: str
    max_restarts: int
    max_seconds: float
    children: list[_Child] = field(default_factory=list)  # in start order
    restarts: list[int] = field(default_factory=list)
    auto_shutdown: str = "never"


class Supervisor:
    """Elixir's ``Supervisor``.

    ``await Supervisor.start_link(children, strategy="one_for_one")`` starts a
    supervisor with those children; or subclass it, define ``init(self, arg)``
    returning ``Supervisor.init_spec(children, ...)``, and ``await MySup.start_link(arg)``.

    Flags: ``strategy`` (``"one_for_one"`` default, ``"one_for_all"``,
    ``"rest_for_one"``), ``max_restarts`` (default 3), ``max_seconds`` (default 5),
    ``auto_shutdown`` (``"never"`` default, ``"any_significant"``,
    ``"all_significant"``: stop once any or all children with ``"significant":
    True`` — transient or temporary — have ended for good; SU-9).
    """

    restart: ClassVar[str] = "permanent"

    def init(self, arg: Any) -> Any:
        """Return ``Supervisor.init_spec(children, **flags)`` (or ``"ignore"``)."""
        raise NotImplementedError("a Supervisor subclass must define init(self, arg)")

    @staticmethod
    def init_spec(
        children: list[Any],
        *,
        strategy: str = "one_for_one",
        max_restarts: int = 3,
        max_seconds: float = 5,
        auto_shutdown: str = "never",
    ) -> SupervisorSpec:
        """Elixir's ``Supervisor.init/2`` (``init`` is the callback's name here): the
        children and flags, with Elixir's defaults (SU-3)."""
        if strategy not in STRATEGIES:
            raise ValueError(f"Supervisor: strategy must be one of {STRATEGIES}, got {strategy!r}")
        if isinstance(max_restarts, bool) or not isinstance(max_restarts, int) or max_restarts < 0:
            raise ValueError(f"Supervisor: max_restarts must be an int >= 0, got {max_restarts!r}")
        if not isinstance(max_seconds, int | float) or max_seconds <= 0:
            raise ValueError(f"Supervisor: max_seconds must be > 0, got {max_seconds!r}")
        if auto_shutdown not in ("never", "any_significant", "all_significant"):
            raise ValueError(
                "Supervisor: auto_shutdown must be 'never', 'any_significant' or "
                f"'all_significant', got {auto_shutdown!r}"
            )
        return SupervisorSpec(list(children), strategy, max_restarts, max_seconds, auto_shutdown)

    @classmethod
    async def start_link(cls, arg: Any = None, *, name: Any = None, **flags: Any) -> Any:
        """Start a supervisor linked to the caller: ``("ok", pid)`` or
        ``("error", reason)``, e.g. ``("error", ("shutdown", ("failed_to_start_child",
        id, reason)))`` (SU-4).  On ``Supervisor`` itself ``arg`` is the children."""
        return await _SupervisorServer.start_link((cls, arg, flags), name=name)

    @classmethod
    async def start(cls, arg: Any = None, *, name: Any = None, **flags: Any) -> Any:
        """Like :meth:`start_link`, without the link."""
        return await _SupervisorServer.start((cls, arg, flags), name=name)

    @classmethod
    def child_spec(cls, arg: Any = None) -> dict[str, Any]:
        """A supervisor child: type ``"supervisor"``, shutdown ``"infinity"``."""
        return {
            "id": cls,
            "start": (cls.start_link, (arg,)),
            "restart": cls.restart,
            "shutdown": "infinity",
            "type": "supervisor",
        }

    @staticmethod
    def child_spec_of(spec: Any, **overrides: Any) -> dict[str, Any]:
        """Elixir's ``Supervisor.child_spec/2``: a spec with ``overrides`` applied."""
        if isinstance(spec, type) and hasattr(spec, "child_spec"):
            spec = getattr(spec, "child_spec")(None)  # noqa: B009
        elif type(spec) is tuple and len(spec) == 2 and isinstance(spec[0], type):
            spec = getattr(spec[0], "child_spec")(spec[1])  # noqa: B009
        return {**spec, **overrides}

    # -- management API ------------------------------------------------------

    @staticmethod
    async def which_children(sup: Any) -> list[tuple[Any, Any, str, list[Any]]]:
        """``[(id, pid | "undefined" | "restarting", type, modules)]``, newest first."""
        return await GenServer.call(sup, "which_children", None)  # type: ignore[no-any-return]

    @staticmethod
    async def count_children(sup: Any) -> dict[str, int]:
        """``{"specs": n, "active": n, "supervisors": n, "workers": n}``."""
        return await GenServer.call(sup, "count_children", None)  # type: ignore[no-any-return]

    @staticmethod
    async def start_child(sup: Any, spec: Any) -> Any:
        """Add and start a child: ``("ok", pid)``, ``("error", ("already_started",
        pid))``, ``("error", "already_present")``, ``("error", reason)``."""
        return await GenServer.call(sup, ("start_child", spec), None)

    @staticmethod
    async def terminate_child(sup: Any, child_id: Any) -> Any:
        """Stop a child, keep its spec: ``"ok"`` or ``("error", "not_found")``."""
        return await GenServer.call(sup, ("terminate_child", child_id), None)

    @staticmethod
    async def restart_child(sup: Any, child_id: Any) -> Any:
        """Start a stopped child again: ``("ok", pid)`` or ``("error", "running" |
        "restarting" | "not_found")``."""
        return await GenServer.call(sup, ("restart_child", child_id), None)

    @staticmethod
    async def delete_child(sup: Any, child_id: Any) -> Any:
        """Remove a stopped child's spec: ``"ok"`` or ``("error", "running" |
        "restarting" | "not_found")``."""
        return await GenServer.call(sup, ("delete_child", child_id), None)

    @staticmethod
    async def stop(sup: Any, reason: Any = "normal", timeout: float | None = None) -> Atom:
        """Stop the supervisor and its children (reverse start order)."""
        return await GenServer.stop(sup, reason, timeout)


class _SupervisorServer(GenServer):
    async def init(self, arg: Any) -> Any:
        cls, user_arg, flags = arg
        Process.flag("trap_exit", True)
        if cls is Supervisor:
            spec = Supervisor.init_spec(user_arg or [], **flags)
        else:
            spec = await _maybe_await(cls().init(user_arg))
            if spec == IGNORE:
                return Ignore()
        st = _SupState(spec.strategy, spec.max_restarts, spec.max_seconds)
        st.auto_shutdown = spec.auto_shutdown
        seen: set[Any] = set()
        records = []
        for s in spec.children:
            try:
                child = normalize_spec(s)
            except ValueError as e:
                return Stop((Atom("start_spec"), e.args[0]))
            if child.id in seen:
                return Stop((Atom("start_spec"), (Atom("duplicate_child_name"), child.id)))
            seen.add(child.id)
            records.append(child)
        for child in records:
            result = await _start_child(child)
            if result == IGNORE:
                st.children.append(child)  # SU-4: kept as undefined
                continue
            if result[0] == ERROR:
                await _stop_all(st)
                return Stop((SHUTDOWN, (Atom("failed_to_start_child"), child.id, result[1])))
            child.pid = result[1]
            st.children.append(child)
        return Ok(st)

    async def handle_call(self, request: Any, from_: Any, st: _SupState) -> Any:
        match request:
            case "which_children":
                return Reply(
                    [(c.id, c.pid, Atom(c.type), c.modules) for c in reversed(st.children)], st
                )
            case "count_children":
                active = sum(1 for c in st.children if isinstance(c.pid, Pid))
                sups = sum(1 for c in st.children if c.type == "supervisor")
                return Reply(
                    {
                        "specs": len(st.children),
                        "active": active,
                        "supervisors": sups,
                        "workers": len(st.children) - sups,
                    },
                    st,
                )
            case ("start_child", spec):
                return Reply(await self._start_new(st, spec), st)
            case ("terminate_child", cid):
                child = _find(st, cid)
                if child is None:
                    return Reply((ERROR, Atom("not_found")), st)
                await _shutdown(child)
                child.pid = UNDEFINED
                if child.restart == "temporary":
                    st.children.remove(child)
                return Reply(OK, st)
            case ("restart_child", cid):
                child = _find(st, cid)
                refused = _not_stopped(child)
                if refused is not None:
                    return Reply(refused, st)
                assert child is not None
                result = await _start_child(child)
                if result != IGNORE and result[0] == OK:
                    child.pid = result[1]
                return Reply(result, st)
            case ("delete_child", cid):
                child = _find(st, cid)
                refused = _not_stopped(child)
                if refused is not None:
                    return Reply(refused, st)
                assert child is not None
                st.children.remove(child)
                return Reply(OK, st)
        return Reply((ERROR, ("unknown_call", request)), st)

    async def _start_new(self, st: _SupState, spec: Any) -> Any:
        try:
            child = normalize_spec(spec)
        except ValueError as e:
            return (ERROR, e.args[0])
        existing = _find(st, child.id)
        if existing is not None:
            if isinstance(existing.pid, Pid):
                return (ERROR, (Atom("already_started"), existing.pid))
            return (ERROR, Atom("already_present"))
        result = await _start_child(child)
        if result == IGNORE:
            if child.restart != "temporary":
                st.children.append(child)
            return (OK, UNDEFINED)
        if result[0] == OK:
            child.pid = result[1]
            st.children.append(child)
        return result

    async def handle_info(self, msg: Any, st: _SupState) -> Any:
        match msg:
            case Exit(pid, reason):
                child = next((c for c in st.children if c.pid == pid), None)
                if child is None:
                    return NoReply(st)  # SU-6: not a child, not the parent
                return await self._child_exited(st, child, reason)
            case ("$restart", cid):
                child = _find(st, cid)
                if child is not None and child.pid == RESTARTING:
                    return await self._restart(st, child)
                return NoReply(st)
        sasl.error("Supervisor received unexpected message: %s", inspect(msg))
        return NoReply(st)

    async def _child_exited(self, st: _SupState, child: _Child, reason: Any) -> Any:
        me = self_pid()
        _report_child(me, child, reason, "terminated")
        child.pid = UNDEFINED
        if child.restart == "temporary":
            st.children.remove(child)
            return await self._maybe_auto_shutdown(st, child)
        if child.restart == "transient" and _is_quiet(reason):
            return await self._maybe_auto_shutdown(st, child)
        return await self._restart(st, child)

    async def _maybe_auto_shutdown(self, st: _SupState, child: _Child) -> Any:
        """SU-9: a significant child that ended for good may stop the supervisor."""
        if not child.significant or st.auto_shutdown == "never":
            return NoReply(st)
        if st.auto_shutdown == "all_significant" and any(
            c.significant and isinstance(c.pid, Pid) for c in st.children
        ):
            return NoReply(st)
        await _stop_all(st)
        return Stop(SHUTDOWN, st)

    async def _restart(self, st: _SupState, child: _Child) -> Any:
        if not _add_restart(st):
            sasl.error(
                "Child %s of Supervisor %r caused shutdown\n"
                "** (exit) :reached_max_restart_intensity",
                inspect_name(child.id),
                self_pid(),
            )
            await _stop_all(st)
            return Stop(SHUTDOWN, st)
        idx = st.children.index(child)
        if st.strategy == "one_for_one":
            group = [child]
        elif st.strategy == "one_for_all":
            group = list(st.children)
        else:
            group = st.children[idx:]
        # SU-1: survivors stop in reverse start order, then all restart in order.
        for other in reversed(group):
            if other is not child and isinstance(other.pid, Pid):
                await _shutdown(other)
                other.pid = UNDEFINED
        for other in group:
            if other is not child and other.restart == "temporary":
                st.children.remove(other)  # a temporary bystander is not restarted
        for other in [c for c in group if c in st.children]:
            result = await _start_child(other)
            if result == IGNORE:
                other.pid = UNDEFINED
            elif result[0] == OK:
                other.pid = result[1]
            else:
                # Try again through the mailbox; it counts toward the intensity.
                other.pid = RESTARTING
                send(self_pid(), ("$restart", other.id))
        return NoReply(st)

    async def terminate(self, reason: Any, st: _SupState) -> Any:
        await _stop_all(st)


def _find(st: _SupState, cid: Any) -> _Child | None:
    return next((c for c in st.children if c.id == cid), None)


def _not_stopped(child: _Child | None) -> Any:
    """Why restart_child/delete_child refuse ``child``, or None if it is stopped."""
    if child is None:
        return (ERROR, Atom("not_found"))
    if isinstance(child.pid, Pid):
        return (ERROR, Atom("running"))
    if child.pid == RESTARTING:
        return (ERROR, RESTARTING)
    return None


def _add_restart(st: Any) -> bool:
    """Record a restart; false when it makes more than max_restarts in max_seconds."""
    now = int(asyncio.get_running_loop().time())
    threshold = now - st.max_seconds
    st.restarts = [now, *(r for r in st.restarts if r >= threshold)]
    return bool(len(st.restarts) <= st.max_restarts)


async def _stop_all(st: _SupState) -> None:
    for child in reversed(st.children):
        if isinstance(child.pid, Pid):
            with contextlib.suppress(Exception):
                await _shutdown(child)
            child.pid = UNDEFINED
