"""DynamicSupervisor: children started on demand, one_for_one only (SU-10).

Caller → what happens (as Elixir 1.14's ``dynamic_supervisor.ex`` does it)::

    DynamicSupervisor.start_link(max_children=...)   start empty
    MyDynSup.start_link(arg)                         MyDynSup().init(arg) -> init_spec(...)
    DynamicSupervisor.start_child(sup, spec)         spec checked here, started there
    a child exits                                    restarted per its restart type
    more than max_restarts in max_seconds            stop children, exit "shutdown"
    DynamicSupervisor.stop / parent exit             stop all children at once

Design
------
Shares child specs, start results, shutdown and restart intensity with
``Supervisor``.  Children live in a dict keyed by pid, in start order; ids are not
kept (``which_children`` shows ``"undefined"``).  As in Elixir:

* ``start_child`` validates the spec in the *caller* (so a bad spec is an error even
  for a supervisor that does not exist) and the server only starts it.
* ``extra_arguments`` are prepended to the child's start arguments at each start.
* A restart that fails keeps the child under its old pid, marked ``"restarting"``;
  a ``("$gen_restart", pid)`` message to itself tries again once the mailbox has
  been served.  Each try counts toward the intensity, and a restarting child counts
  toward ``max_children``; ``terminate_child`` with the old pid removes it.
* Children are stopped all at once, each within its own shutdown time, so their
  order is not defined.

Invariant: every key of ``_DynState.children`` is a started child's pid; its value's
``pid`` is that key while it runs, or ``"restarting"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from tether._runtime._api import Process
from tether._runtime._api import self as self_pid
from tether._runtime._types import Atom, Exit, OnStart, Pid, ProcessExit
from tether._runtime._validate import check_int, check_pid, check_timeout

from .gen_server import GenServer, Ignore, NoReply, Ok, Reply, Stop, _is_quiet, _maybe_await
from .supervisor import (
    ERROR,
    IGNORE,
    OK,
    RESTART_TAG,
    RESTARTING,
    SHUTDOWN,
    UNDEFINED,
    _check_child,
    _check_name,
    _check_seconds,
    _check_sup,
    _Child,
    _child_spec_arg,
    _is,
    _report,
    _report_unexpected,
    _SpecFailed,
    _subclass_overrides,
    _try_again,
    _valid_intensity,
    _valid_period,
    add_restart,
    call_start,
    terminate_children,
)

__all__ = ["DynamicSupervisor"]

MAX_CHILDREN: Final = Atom("max_children")
_FLAG_ARGS: Final = ("strategy", "max_restarts", "max_seconds", "max_children", "extra_arguments")


def _no_limit(value: Any) -> bool:
    return value is None or _is(value, "infinity")


def _flags_arg(what: str, options: dict[str, Any]) -> dict[str, Any]:
    """Check flags given as arguments (raising), and build Elixir's flags map."""
    unknown = [k for k in options if k not in _FLAG_ARGS]
    if unknown:
        raise TypeError(
            f"{what}: unknown option {unknown[0]!r}; the options are name, {', '.join(_FLAG_ARGS)}"
        )
    strategy = options.get("strategy", "one_for_one")
    if not _is(strategy, "one_for_one"):
        raise ValueError(
            f"{what}: a DynamicSupervisor's only strategy is 'one_for_one', got {strategy!r}; "
            "use Supervisor for one_for_all or rest_for_one"
        )
    max_restarts = check_int(options.get("max_restarts", 3), what, "max_restarts")
    max_seconds = options.get("max_seconds", 5)
    _check_seconds(what, "max_seconds", max_seconds)
    max_children = check_int(
        options.get("max_children", "infinity"), what, "max_children", allow=_no_limit
    )
    extra = options.get("extra_arguments", [])
    if type(extra) not in (list, tuple):
        raise TypeError(f"{what}: extra_arguments must be a list, got {extra!r}")
    return {
        "strategy": Atom("one_for_one"),
        "intensity": max_restarts,
        "period": max_seconds,
        "max_children": Atom("infinity") if _no_limit(max_children) else max_children,
        "extra_arguments": list(extra),
    }


def _check_flags(flags: dict[str, Any]) -> dict[str, Any] | tuple[Any, Any]:
    """Elixir's ``init/2`` on an ``init`` callback's flags: the flags with its defaults
    (intensity 1, period 5), or the error term for ``("supervisor_data", err)``."""
    merged = {
        "strategy": "one_for_one",
        "intensity": 1,
        "period": 5,
        "max_children": "infinity",
        "extra_arguments": [],
        **flags,
    }
    if not _is(merged["strategy"], "one_for_one"):
        return (Atom("invalid_strategy"), merged["strategy"])
    if not _valid_intensity(merged["intensity"]):
        return (Atom("invalid_intensity"), merged["intensity"])
    if not _valid_period(merged["period"]):
        return (Atom("invalid_period"), merged["period"])
    limit = merged["max_children"]
    if not (_no_limit(limit) or (type(limit) is int and limit >= 0)):
        return (Atom("invalid_max_children"), limit)
    if type(merged["extra_arguments"]) not in (list, tuple):
        return (Atom("invalid_extra_arguments"), merged["extra_arguments"])
    return merged


class DynamicSupervisor:
    """Elixir's ``DynamicSupervisor``: ``start_link``, ``start_child``,
    ``terminate_child``, ``which_children``, ``count_children``, ``stop``,
    ``child_spec``; subclass it and define ``init(self, arg)`` returning
    ``DynamicSupervisor.init_spec(...)`` for a module-based one.

    Flags: ``strategy`` (only ``"one_for_one"``), ``max_restarts`` (3),
    ``max_seconds`` (5), ``max_children`` (``"infinity"``; ``None`` too),
    ``extra_arguments`` (``[]``).  Class keywords ``id``, ``start``, ``restart``,
    ``shutdown`` override a subclass's child spec, as ``use DynamicSupervisor, ...``.
    """

    _child_spec_overrides: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **overrides: Any) -> None:
        super().__init_subclass__()
        _subclass_overrides(cls, "DynamicSupervisor", overrides)

    def init(self, arg: Any, /) -> Any:
        """The callback of a module-based dynamic supervisor.

        Returns ``DynamicSupervisor.init_spec(**flags)``, i.e. ``("ok", flags)``
        (missing keys take Elixir's defaults; invalid ones make ``start_link``
        return ``("error", ("supervisor_data", err))``), or ``"ignore"``.
        """
        raise NotImplementedError("a DynamicSupervisor subclass must define init(self, arg)")

    @staticmethod
    def init_spec(
        *,
        strategy: str = "one_for_one",
        max_restarts: int = 3,
        max_seconds: float = 5,
        max_children: int | str | None = "infinity",
        extra_arguments: list[Any] | None = None,
    ) -> tuple[Atom, dict[str, Any]]:
        """Elixir's ``DynamicSupervisor.init/1``: ``("ok", {"strategy": "one_for_one",
        "intensity": 3, "period": 5, "max_children": "infinity", "extra_arguments":
        []})`` with the given values.

        Raises:
            TypeError / ValueError: a flag of the wrong kind or value.
        """
        options = {
            "strategy": strategy,
            "max_restarts": max_restarts,
            "max_seconds": max_seconds,
            "max_children": max_children,
            "extra_arguments": [] if extra_arguments is None else extra_arguments,
        }
        return (OK, _flags_arg("DynamicSupervisor.init_spec", options))

    @classmethod
    async def start_link(cls, arg: Any = None, *, name: Any = None, **options: Any) -> OnStart:
        """Elixir's ``DynamicSupervisor.start_link/1,3``: start a dynamic supervisor
        linked to the caller.

        On ``DynamicSupervisor`` itself the options are keyword arguments
        (``strategy``, ``max_restarts``, ``max_seconds``, ``max_children``,
        ``extra_arguments``) or a dict in ``arg`` (what ``child_spec`` passes), checked
        here; on a subclass ``arg`` goes to ``init``.  ``name``: a str,
        ``("global", name)`` or ``("via", registry, key)``.

        Returns ``("ok", pid)``, ``"ignore"``, or ``("error", reason)``:
        ``("already_started", pid)``, ``("supervisor_data", err)``, ``("bad_return",
        (Class, "init", value))``.

        Raises:
            TypeError / ValueError: a bad option or name (nothing is started).
        """
        return await cls._start(arg, name, options, link=True)

    @classmethod
    async def start(cls, arg: Any = None, *, name: Any = None, **options: Any) -> OnStart:
        """Like :meth:`start_link`, without the link."""
        return await cls._start(arg, name, options, link=False)

    @classmethod
    async def _start(cls, arg: Any, name: Any, options: dict[str, Any], link: bool) -> Any:
        what = f"{cls.__qualname__}.start_link" if link else f"{cls.__qualname__}.start"
        if cls is DynamicSupervisor:
            if arg is not None:
                if not isinstance(arg, dict):
                    raise TypeError(f"{what}: arg must be a dict of options or None, got {arg!r}")
                options = {**arg, **options}
                name = options.pop("name", name)
            _check_name(what, name)
            init_arg: Any = (None, (OK, _flags_arg(what, options)), name)
        else:
            _check_name(what, name)
            if options:
                raise TypeError(
                    f"{what}: options such as {next(iter(options))!r} belong in "
                    f"{cls.__qualname__}.init's DynamicSupervisor.init_spec(...)"
                )
            init_arg = (cls, arg, name)
        server = _DynServer.start_link if link else _DynServer.start
        return await server(init_arg, name=name)

    @classmethod
    def child_spec(cls, arg: Any = None, /) -> dict[str, Any]:
        """Elixir's ``DynamicSupervisor.child_spec/1``: a child spec to put a dynamic
        supervisor in a supervision tree.

        On ``DynamicSupervisor`` itself ``arg`` is a dict of ``start_link`` options,
        so ``(DynamicSupervisor, {"name": "jobs", "max_children": 10})`` is a child;
        the id is the name (or ``DynamicSupervisor``).  On a subclass it is what
        ``use DynamicSupervisor`` generates: ``{"id": Cls, "start": (Cls.start_link,
        (arg,)), "type": "supervisor"}`` with the class keyword overrides applied.

        Raises:
            TypeError: on ``DynamicSupervisor``, ``arg`` is neither None nor a dict.
        """
        if cls is not DynamicSupervisor:
            return {
                "id": cls,
                "start": (cls.start_link, (arg,)),
                "type": "supervisor",
                **cls._child_spec_overrides,
            }
        if arg is not None and not isinstance(arg, dict):
            raise TypeError(
                f"DynamicSupervisor.child_spec: options must be a dict or None, got {arg!r}"
            )
        options = dict(arg or {})
        name = options.get("name")
        if isinstance(name, tuple) and len(name) in (2, 3):
            cid: Any = name[-1]  # ("global", name) or ("via", registry, key): the key
        else:
            cid = DynamicSupervisor if name is None else name
        return {
            "id": cid,
            "start": (DynamicSupervisor.start_link, (options,)),
            "type": "supervisor",
        }

    @staticmethod
    async def start_child(sup: Any, spec: Any) -> Any:
        """Elixir's ``DynamicSupervisor.start_child/2``: start a child under ``sup`` (SU-10).

        The spec is checked here first: an invalid one gives ``("error", err)``
        (``("invalid_child_spec", spec)``, ``("invalid_mfa", x)``, ...) without
        asking the supervisor; a ``child_spec`` that raises gives ``("error",
        exception)``.  Then ``("ok", pid)``, ``("ok", pid, info)``, ``"ignore"``,
        ``("error", reason)`` from the start function (a raised exception or
        ``tether.exit(x)`` included), or ``("error", "max_children")``.
        """
        what = "DynamicSupervisor.start_child"
        _check_sup(what, sup)
        converted = _child_spec_arg(spec)
        if isinstance(converted, _SpecFailed):
            return (ERROR, converted.error)
        child = _check_child(converted, None, dynamic=True)
        if not isinstance(child, _Child):
            return child
        return await GenServer.call(sup, ("start_child", child), None)

    @staticmethod
    async def terminate_child(sup: Any, pid: Pid) -> Any:
        """Elixir's ``DynamicSupervisor.terminate_child/2``: stop the child ``pid`` (a
        restarting child by its old pid): ``"ok"`` or ``("error", "not_found")``.

        Raises:
            TypeError: ``pid`` is not a ``tether.Pid`` or ``sup`` not a reference.
        """
        _check_sup("DynamicSupervisor.terminate_child", sup)
        check_pid(pid, "DynamicSupervisor.terminate_child")
        return await GenServer.call(sup, ("terminate_child", pid), None)

    @staticmethod
    async def which_children(sup: Any) -> list[tuple[Any, Any, Atom, Any]]:
        """Elixir's ``DynamicSupervisor.which_children/1``: ``[("undefined", pid |
        "restarting", type, modules)]`` for every child, in start order."""
        _check_sup("DynamicSupervisor.which_children", sup)
        return await GenServer.call(sup, "which_children", None)  # type: ignore[no-any-return]

    @staticmethod
    async def count_children(sup: Any) -> dict[str, int]:
        """Elixir's ``DynamicSupervisor.count_children/1``: ``{"specs": n, "active": n,
        "supervisors": n, "workers": n}``; restarting children count in all but
        ``active``."""
        _check_sup("DynamicSupervisor.count_children", sup)
        return await GenServer.call(sup, "count_children", None)  # type: ignore[no-any-return]

    @staticmethod
    async def stop(sup: Any, reason: Any = "normal", timeout: float | None = None) -> Atom:
        """Elixir's ``DynamicSupervisor.stop/3``: stop the supervisor and all its
        children; ``"ok"``.  Exits as ``GenServer.stop`` does.

        Raises:
            TypeError / ValueError: a bad ``sup`` or ``timeout`` (nothing is sent).
        """
        _check_sup("DynamicSupervisor.stop", sup)
        check_timeout(timeout, "DynamicSupervisor.stop")
        return await GenServer.stop(sup, reason, timeout)


@dataclass
class _DynState:
    name: Any
    intensity: int
    period: float
    max_children: int | None
    extra_arguments: list[Any]
    children: dict[Pid, _Child] = field(default_factory=dict)  # start order
    restarts: list[int] = field(default_factory=list)


class _DynServer(GenServer):
    async def init(self, arg: Any) -> Any:
        cls, user_arg, name = arg
        Process.flag("trap_exit", True)
        if cls is None:
            result = user_arg
        else:
            try:
                result = await _maybe_await(cls().init(user_arg))
            except ProcessExit as e:
                return Stop(e.reason)
        if _is(result, "ignore"):
            return Ignore()
        if not (
            isinstance(result, tuple)
            and len(result) == 2
            and _is(result[0], "ok")
            and isinstance(result[1], dict)
        ):
            return Stop((Atom("bad_return"), (cls or DynamicSupervisor, Atom("init"), result)))
        flags = _check_flags(result[1])
        if not isinstance(flags, dict):
            return Stop((Atom("supervisor_data"), flags))
        limit = flags["max_children"]
        return Ok(
            _DynState(
                name if name is not None else self_pid(),
                flags["intensity"],
                flags["period"],
                None if _no_limit(limit) else limit,
                list(flags["extra_arguments"]),
            )
        )

    async def handle_call(self, request: Any, from_: Any, st: _DynState) -> Any:
        match request:
            case ("start_child", _Child() as child):
                if st.max_children is not None and len(st.children) >= st.max_children:
                    return Reply((ERROR, MAX_CHILDREN), st)
                return Reply(await self._start_child(st, child), st)
            case ("terminate_child", Pid() as pid):
                found = st.children.pop(pid, None)
                if found is None:
                    return Reply((ERROR, Atom("not_found")), st)
                await terminate_children([_shown(found)], st.name)
                return Reply(OK, st)
            case "which_children":
                return Reply(
                    [(UNDEFINED, c.pid, Atom(c.type), c.modules) for c in st.children.values()],
                    st,
                )
            case "count_children":
                sups = sum(1 for c in st.children.values() if c.type == "supervisor")
                running = sum(1 for c in st.children.values() if c.pid != RESTARTING)
                n = len(st.children)
                return Reply(
                    {"specs": n, "active": running, "supervisors": sups, "workers": n - sups}, st
                )
        return Reply((ERROR, (Atom("unknown_call"), request)), st)

    async def _start_child(self, st: _DynState, child: _Child) -> Any:
        """Start ``child`` (extra arguments first) and keep it under its new pid."""
        fun, args = child.start
        result = await call_start(fun, (*st.extra_arguments, *args))
        if result == IGNORE:
            return IGNORE
        if result[0] == OK:
            child.pid = result[1]
            st.children[result[1]] = child
        return result

    async def handle_info(self, msg: Any, st: _DynState) -> Any:
        if type(msg) is Exit:
            child = st.children.get(msg.pid)
            if child is None or child.pid == RESTARTING:
                return NoReply(st)  # SU-6: not a child
            return await self._child_exited(st, msg.pid, child, msg.reason)
        if type(msg) is tuple and len(msg) == 2 and _is(msg[0], RESTART_TAG):
            child = st.children.get(msg[1])
            if child is not None and child.pid == RESTARTING:
                return await self._restart(st, msg[1], child)
            return NoReply(st)
        _report_unexpected("DynamicSupervisor", msg)
        return NoReply(st)

    async def _child_exited(self, st: _DynState, pid: Pid, child: _Child, reason: Any) -> Any:
        """``maybe_restart_child`` (SU-2 for dynamic children)."""
        if child.restart == "permanent":
            _report(st.name, _shown(child), reason, "terminated")
            return await self._restart(st, pid, child)
        if _is_quiet(reason):
            del st.children[pid]
            return NoReply(st)
        _report(st.name, _shown(child), reason, "terminated")
        if child.restart == "transient":
            return await self._restart(st, pid, child)
        del st.children[pid]
        return NoReply(st)

    async def _restart(self, st: _DynState, key: Pid, child: _Child) -> Any:
        """Count the restart and start the child again; a failed start keeps it under
        ``key`` as ``"restarting"`` and tries again through the mailbox."""
        if not add_restart(st):
            _report(
                st.name,
                _shown(child),
                Atom("reached_max_restart_intensity"),
                "caused shutdown",
                key,
            )
            del st.children[key]
            return Stop(SHUTDOWN, st)
        fun, args = child.start
        result = await call_start(fun, (*st.extra_arguments, *args))
        if result == IGNORE:
            del st.children[key]
        elif result[0] == OK:
            del st.children[key]
            child.pid = result[1]
            st.children[result[1]] = child
        else:
            _report(st.name, _shown(child), result[1], "failed to start", RESTARTING)
            child.pid = RESTARTING
            st.children[key] = child
            await _try_again(key)
        return NoReply(st)

    async def terminate(self, reason: Any, st: _DynState) -> Any:
        children = list(st.children.values())
        st.children.clear()
        await terminate_children([_shown(c) for c in children], st.name)

    def format_status(self, status: dict[str, Any]) -> dict[str, Any]:
        """The state ``GenServer.get_status`` (and the observer) shows: the flags,
        the restart stamps in the current period and the children's pids."""
        st = status["state"]
        if not isinstance(st, _DynState):
            return status
        return {
            "state": {
                "name": st.name,
                "strategy": Atom("one_for_one"),
                "intensity": st.intensity,
                "period": st.period,
                "max_children": st.max_children,
                "restarts": list(st.restarts),
                "children": list(st.children),
            }
        }


def _shown(child: _Child) -> _Child:
    """The child as its reports show it: a dynamic child's id is ``"undefined"``."""
    return _Child(
        UNDEFINED,
        child.start,
        child.restart,
        child.shutdown,
        child.type,
        child.modules,
        child.significant,
        child.pid,
    )
