"""Supervisor: start children, watch them, restart them by strategy (SU-1 … SU-9).

Caller → what happens (as ``supervisor.erl`` documents it)::

    Supervisor.start_link(children, strategy=...)   start each child in order
    MySup.start_link(arg)                            MySup().init(arg) -> Supervisor.init_spec(...)
    a child exits                                    restart per strategy and restart type
    more than max_restarts in max_seconds            stop children, exit "shutdown"
    Supervisor.stop / parent exit                    stop children in reverse start order

Child specs are dicts, as in Elixir: ``{"id": ..., "start": (fun, args), "restart":
"permanent" | "transient" | "temporary", "shutdown": "brutal_kill" | seconds |
"infinity", "type": "worker" | "supervisor", "modules": [...] | "dynamic",
"significant": bool}``.  ``start`` calls ``fun(*args)`` (plain or async) in the
supervisor, which must return ``("ok", pid)`` or ``("ok", pid, info)`` with the pid
linked to the caller, ``"ignore"``, or ``("error", reason)``; any other value ``x``
counts as ``("error", x)``, and so does a raised exception or ``tether.exit(x)``
(then the reason is the exception or ``x``).  A class ``Cls`` with a ``child_spec``,
or ``(Cls, arg)``, stands for ``Cls.child_spec(arg)``; Erlang's six-tuple ``(id,
start, restart, shutdown, type, modules)`` is accepted too.

Design
------
Built on GenServer and the public runtime API only.  A supervisor traps exits
(SU-6); EXITs from processes that are neither children nor its parent are ignored.
The code follows ``supervisor.erl`` (OTP 25) function for function where the
behaviour is observable:

* ``init`` validates the flags (``("supervisor_data", ...)``), then every spec
  (``("start_spec", ...)``), then starts the children in order (SU-4).
* A restart that fails does not stop the supervisor: the child is marked
  ``"restarting"`` and a ``("$gen_restart", id)`` message to itself tries again
  once the mailbox has been served (OTP's ``try_again_restart``), so a stop request
  or ``terminate_child`` can still get in.  Every try counts toward the intensity,
  so a child that can never start ends the supervisor with ``"shutdown"``.  With
  one_for_all / rest_for_one, the children after the one that failed stay
  ``"undefined"`` until the retry starts them.
* Restart intensity (SU-3) is ``add_restart``: each restart appends ``now`` in whole
  seconds of loop time, stamps older than ``now - max_seconds`` are dropped, and
  more than ``max_restarts`` stamps stop the supervisor with ``"shutdown"``.

Invariant: ``_SupState.children`` is in start order and holds at most one child per
id; a child's ``pid`` is a live child's ``Pid``, ``"undefined"`` (stopped, or
``ignore``) or ``"restarting"`` (a retry is pending).  Temporary children are removed
as soon as they stop.

Reports (child terminated, failed to start, shut down abnormally, max intensity) are
SASL-style and go to the logger ``"tether.sasl"``, which does not propagate by
default, as Elixir prints them only with ``handle_sasl_reports: true`` (LOG-5).  A
report's values are formatted by ``tether._runtime._format`` only when a handler
emits the record, so an exit reason that cannot be printed (a cyclic list, a huge
int, a broken ``__repr__``) never reaches the supervisor's own code path.
"""

from __future__ import annotations

import asyncio
import logging
import math
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from tether._runtime._api import Process, receive, send
from tether._runtime._api import self as self_pid
from tether._runtime._format import (
    describe_callable,
    format_exit,
    inspect,
    inspect_name,
    inspect_reason,
)
from tether._runtime._types import (
    ANY,
    Atom,
    Down,
    Exit,
    ExitSignal,
    OnStart,
    Pid,
    ProcessExit,
    Ref,
)
from tether._runtime._validate import check_int, check_timeout, is_number

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
TYPES: Final = ("worker", "supervisor")
AUTO_SHUTDOWNS: Final = ("never", "any_significant", "all_significant")
SPEC_KEYS: Final = ("id", "start", "restart", "shutdown", "type", "modules", "significant")
OVERRIDE_KEYS: Final = ("id", "start", "restart", "shutdown")
RESTART_TAG: Final = Atom("$gen_restart")


# -- child specs -----------------------------------------------------------------


@dataclass
class _Child:
    """A validated child spec and the child's current state."""

    id: Any
    start: tuple[Any, tuple[Any, ...]]
    restart: str
    shutdown: Any
    type: str
    modules: Any
    significant: bool = False
    pid: Pid | Atom = UNDEFINED

    def spec(self) -> dict[str, Any]:
        """The full child spec, defaults filled in (``supervisor:get_childspec/2``)."""
        return {
            "id": self.id,
            "start": (self.start[0], list(self.start[1])),
            "restart": self.restart,
            "shutdown": self.shutdown,
            "type": self.type,
            "modules": self.modules,
            "significant": self.significant,
        }


class _SpecError(Exception):
    """A child spec the BEAM would refuse; ``args[0]`` is its error term."""


def _is(value: Any, word: str) -> bool:
    """``value`` is the atom ``word`` (a str), without calling a user ``__eq__``."""
    return isinstance(value, str) and str.__eq__(value, word)


def _is_one_of(value: Any, words: tuple[str, ...]) -> bool:
    return isinstance(value, str) and any(str.__eq__(value, w) for w in words)


def _has_child_spec(value: Any) -> bool:
    return isinstance(value, type) and callable(getattr(value, "child_spec", None))


def _to_spec(child: Any, what: str | None = None) -> Any:
    """Elixir's ``Supervisor.child_spec(child, [])``: a class → ``Cls.child_spec(None)``,
    ``(Cls, arg)`` → ``Cls.child_spec(arg)``, Erlang's six-tuple → a dict, a dict as is.

    With ``what`` (a public function's name) anything else is a ``TypeError``;
    without, it is returned unchanged for the spec check to refuse
    (``("invalid_child_spec", x)``, as ``supervisor.erl`` does).
    """
    if isinstance(child, dict):
        return child
    if _has_child_spec(child):
        return child.child_spec(None)
    if type(child) is tuple and len(child) == 2 and _has_child_spec(child[0]):
        return child[0].child_spec(child[1])
    if type(child) is tuple and len(child) == 6:
        cid, start, restart, shutdown, ctype, modules = child
        return {
            "id": cid,
            "start": start,
            "restart": restart,
            "shutdown": shutdown,
            "type": ctype,
            "modules": modules,
        }
    if what is None:
        return child
    if isinstance(child, type) or (type(child) is tuple and len(child) == 2):
        cls = child if isinstance(child, type) else child[0]
        raise TypeError(
            f"{what}: {cls!r} was given as a child to a supervisor but it does not "
            "implement child_spec(arg); define it, or give a child spec dict"
        )
    raise TypeError(
        f"{what}: supervisors expect each child to be one of: a child spec dict "
        '({"id": ..., "start": (fun, args)}), a class with child_spec(arg), '
        f"(Class, arg), or an Erlang six-tuple; got {child!r}"
    )


def _valid_start(start: Any) -> bool:
    """``(fun, args)`` with ``args`` a list or tuple: Erlang's ``{M, F, A}``."""
    return (
        type(start) is tuple
        and len(start) == 2
        and callable(start[0])
        and type(start[1]) in (list, tuple)
    )


def _valid_shutdown(shutdown: Any, dynamic: bool) -> bool:
    if _is_one_of(shutdown, ("brutal_kill", "infinity")):
        return True
    if not is_number(shutdown) or shutdown != shutdown:
        return False
    # DynamicSupervisor (Elixir 1.14) refuses 0; supervisor.erl accepts it.
    return bool(shutdown > 0) if dynamic else bool(shutdown >= 0)


def _valid_module(module: Any) -> bool:
    return isinstance(module, str | type | types.ModuleType) or callable(module)


def _default_modules(fun: Any) -> list[Any]:
    """Erlang's default ``[M]``: the class of a bound ``Cls.start_link``, else ``fun``."""
    owner = getattr(fun, "__self__", None)
    return [owner] if isinstance(owner, type) else [fun]


def check_childspec(spec: Any, auto_shutdown: str | None, dynamic: bool = False) -> _Child:
    """Validate one child spec (already a dict, or anything else) into a ``_Child``.

    Raises ``_SpecError`` with the BEAM's error term, in ``supervisor.erl``'s order:
    ``("invalid_child_spec", x)``, ``"missing_id"``, ``"missing_start"``,
    ``("invalid_mfa", start)``, ``("invalid_restart_type", x)``, ``("bad_combination",
    [...])`` / ``("invalid_significant", x)``, ``("invalid_child_type", x)``,
    ``("invalid_shutdown", x)``, ``("invalid_modules", x)`` / ``("invalid_module", m)``.
    ``dynamic`` applies DynamicSupervisor's checks instead (Elixir 1.14
    ``validate_child``): a spec without ``id`` or ``start`` is
    ``("invalid_child_spec", spec)``, ``significant`` is ignored, shutdown 0 is
    refused and any bad module is ``("invalid_modules", modules)``.
    """
    if not isinstance(spec, dict):
        raise _SpecError((Atom("invalid_child_spec"), spec))
    if dynamic and ("id" not in spec or "start" not in spec):
        raise _SpecError((Atom("invalid_child_spec"), spec))
    if "id" not in spec:
        raise _SpecError(Atom("missing_id"))
    if "start" not in spec:
        raise _SpecError(Atom("missing_start"))
    start = spec["start"]
    if not _valid_start(start):
        raise _SpecError((Atom("invalid_mfa"), start))
    restart = spec.get("restart", "permanent")
    if not _is_one_of(restart, RESTARTS):
        raise _SpecError((Atom("invalid_restart_type"), restart))
    significant = False if dynamic else spec.get("significant", False)
    if significant is True and auto_shutdown is not None and _is(auto_shutdown, "never"):
        # SU-9: significant children need an automatic shutdown mode.
        raise _SpecError(
            (Atom("bad_combination"), [("auto_shutdown", Atom("never")), ("significant", True)])
        )
    if significant is True and _is(restart, "permanent"):
        raise _SpecError(
            (Atom("bad_combination"), [("restart", Atom("permanent")), ("significant", True)])
        )
    if not isinstance(significant, bool):
        raise _SpecError((Atom("invalid_significant"), significant))
    ctype = spec.get("type", "worker")
    if not _is_one_of(ctype, TYPES):
        raise _SpecError((Atom("invalid_child_type"), ctype))
    shutdown = spec.get("shutdown", 5 if _is(ctype, "worker") else "infinity")
    if not _valid_shutdown(shutdown, dynamic):
        raise _SpecError((Atom("invalid_shutdown"), shutdown))
    modules = spec.get("modules", _default_modules(start[0]))
    if not _is(modules, "dynamic"):
        if type(modules) not in (list, tuple):
            raise _SpecError((Atom("invalid_modules"), modules))
        for m in modules:
            if not _valid_module(m):
                raise _SpecError(
                    (Atom("invalid_modules"), modules) if dynamic else (Atom("invalid_module"), m)
                )
    return _Child(
        spec["id"],
        (start[0], tuple(start[1])),
        str(restart),
        shutdown,
        str(ctype),
        modules,
        significant,
    )


def _check_child(spec: Any, auto_shutdown: str | None, dynamic: bool = False) -> _Child | Any:
    """``check_childspec``, with any exception a user's spec raises as the error."""
    try:
        return check_childspec(spec, auto_shutdown, dynamic)
    except _SpecError as e:
        return (ERROR, e.args[0])
    except Exception as e:  # a dict subclass whose lookups raise, ...
        return (ERROR, e)


@dataclass(frozen=True)
class _SpecFailed:
    error: BaseException


def _child_spec_arg(spec: Any) -> Any:
    """A public ``start_child``'s spec turned into a dict in the caller, as Elixir's
    ``Supervisor.child_spec(spec, [])`` is.  An exception from a ``child_spec`` comes
    back as ``_SpecFailed``, for ``("error", exception)``: a bad spec never raises."""
    try:
        return _to_spec(spec)
    except Exception as e:
        return _SpecFailed(e)


def _check_overrides(what: str, overrides: dict[str, Any]) -> None:
    """Validate ``use Supervisor``-style overrides: class keywords (SU-8)."""
    for key, value in overrides.items():
        if key not in OVERRIDE_KEYS:
            raise TypeError(
                f"{what}: unknown class keyword {key!r}; the child spec overrides are "
                "id, start, restart and shutdown"
            )
        if key == "restart" and not _is_one_of(value, RESTARTS):
            raise ValueError(
                f"{what}: restart must be 'permanent', 'transient' or 'temporary', got {value!r}"
            )
        if key == "shutdown" and not _valid_shutdown(value, dynamic=False):
            raise ValueError(
                f"{what}: shutdown must be 'brutal_kill', 'infinity' or a number of "
                f"seconds >= 0, got {value!r}"
            )
        if key == "start" and not _valid_start(value):
            raise TypeError(
                f"{what}: start must be (fun, args) with args a list or tuple, got {value!r}"
            )


def _subclass_overrides(cls: type, base: str, kwargs: dict[str, Any]) -> None:
    """``class S(Supervisor, restart="transient")``: Elixir's ``use Supervisor,
    restart: :transient``.  Stored on the class, inherited as class attributes are."""
    _check_overrides(f"class {cls.__qualname__}({base}, ...)", kwargs)
    inherited = getattr(cls, "_child_spec_overrides", {})
    cls._child_spec_overrides = {**inherited, **kwargs}  # type: ignore[attr-defined]


# -- flags -------------------------------------------------------------------------


def _valid_intensity(value: Any) -> bool:
    return type(value) is int and value >= 0


def _valid_period(value: Any) -> bool:
    # Seconds; floats are allowed in tether (the BEAM takes whole seconds).
    return is_number(value) and 0 < value < math.inf


def _check_flags(flags: Any) -> dict[str, Any] | tuple[Any, Any]:
    """``supervisor.erl``'s ``check_flags``: the flags as a dict with Erlang's defaults
    (intensity 1, period 5), or the error term for ``("supervisor_data", err)``.
    Unknown keys are ignored, as the BEAM does."""
    if type(flags) is tuple and len(flags) == 3:
        flags = {"strategy": flags[0], "intensity": flags[1], "period": flags[2]}
    if not isinstance(flags, dict):
        return (Atom("invalid_type"), flags)
    merged = {
        "strategy": "one_for_one",
        "intensity": 1,
        "period": 5,
        "auto_shutdown": "never",
        **flags,
    }
    if not _is_one_of(merged["strategy"], STRATEGIES):
        return (Atom("invalid_strategy"), merged["strategy"])
    if not _valid_intensity(merged["intensity"]):
        return (Atom("invalid_intensity"), merged["intensity"])
    if not _valid_period(merged["period"]):
        return (Atom("invalid_period"), merged["period"])
    if not _is_one_of(merged["auto_shutdown"], AUTO_SHUTDOWNS):
        return (Atom("invalid_auto_shutdown"), merged["auto_shutdown"])
    return merged


def _check_word(what: str, arg: str, value: Any, words: tuple[str, ...]) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{what}: {arg} must be one of {words}, got {value!r}")
    if value not in words:
        raise ValueError(f"{what}: {arg} must be one of {words}, got {value!r}")


def _check_seconds(what: str, arg: str, value: Any) -> None:
    if not is_number(value):
        raise TypeError(f"{what}: {arg} must be a number of seconds > 0, got {value!r}")
    if not _valid_period(value):
        raise ValueError(f"{what}: {arg} must be a finite number of seconds > 0, got {value!r}")


def _check_sup(what: str, sup: Any) -> None:
    """A supervisor reference: a pid, a name, ``(name, node)`` or a via tuple."""
    if type(sup) is Pid or (isinstance(sup, str) and sup):
        return
    if type(sup) is tuple and len(sup) == 2 and isinstance(sup[0], str) and isinstance(sup[1], str):
        return  # (name, node), and ("global", name) with a str name
    if type(sup) is tuple and len(sup) == 2 and _is(sup[0], "global"):
        return
    if type(sup) is tuple and len(sup) == 3 and _is(sup[0], "via"):
        return
    raise TypeError(
        f"{what}: supervisor must be a tether.Pid, a registered name, (name, node), "
        f"('global', name) or ('via', registry, key), got {sup!r}"
    )


def _check_name(what: str, name: Any) -> None:
    """``name=``: None, a non-empty str, ``("global", name)``, or ``("via",
    registry, key)``."""
    if name is None or (isinstance(name, str) and name):
        return
    if type(name) is tuple and len(name) == 2 and _is(name[0], "global"):
        return
    if (
        type(name) is tuple
        and len(name) == 3
        and _is(name[0], "via")
        and callable(getattr(name[1], "whereis_name", None))
        and callable(getattr(name[1], "register_name", None))
    ):
        return
    raise ValueError(
        f"{what}: expected name= to be one of: None, a non-empty str, ('global', name), or "
        f"('via', registry, key) with a registry that has whereis_name and register_name; "
        f"got {name!r}"
    )


# -- starting and stopping children ------------------------------------------------


def _start_result(result: Any) -> Any:
    """``do_start_child_i``: ``("ok", pid)``, ``("ok", pid, info)``, ``"ignore"`` or
    ``("error", reason)``; any other value ``x`` is ``("error", x)``."""
    if _is(result, "ignore"):
        return IGNORE
    if isinstance(result, tuple) and result and _is(result[0], "ok"):
        if len(result) == 2 and type(result[1]) is Pid:
            return (OK, result[1])
        if len(result) == 3 and type(result[1]) is Pid:
            return (OK, result[1], result[2])
    if isinstance(result, tuple) and len(result) == 2 and _is(result[0], "error"):
        return (ERROR, result[1])
    return (ERROR, result)


async def call_start(fun: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Run a start function in the supervisor and normalize its result (SU-4).

    ``tether.exit(x)`` gives ``("error", x)`` and a raised exception ``e`` gives
    ``("error", e)`` (the BEAM's ``catch``): the supervisor never dies of a start
    function.  Only what unwinds a killed supervisor passes through.
    """
    try:
        return _start_result(await _maybe_await(fun(*args)))
    except ProcessExit as e:
        return (ERROR, e.reason)
    except (ExitSignal, GeneratorExit, asyncio.CancelledError):
        raise  # the supervisor itself is dying
    except BaseException as e:  # sys.exit() in a start function too
        return (ERROR, e)


def _shutdown_ok(child: _Child, reason: Any) -> bool:
    """Whether a child stopped by its supervisor ended as expected (``shutdown/1``)."""
    if _is(reason, "killed") and child.shutdown == "brutal_kill":
        return True
    if _is(reason, "shutdown"):
        return True
    if child.restart == "permanent":
        return False
    return _is_quiet(reason)


async def terminate_children(children: list[_Child], sup: Any) -> None:
    """Stop ``children`` at once and wait until all are gone (SU-5).

    Each child is monitored and unlinked; one whose EXIT is already queued is dead
    (its EXIT holds the real reason).  The others get ``"shutdown"`` (or ``"kill"``
    for ``"brutal_kill"``) and are killed when their own shutdown time runs out, so
    a slow child never makes another wait longer than its own timeout.  Reasons
    other than the expected ones are reported as ``shut down abnormally``.
    """
    loop = asyncio.get_running_loop()
    waiting: dict[Ref, _Child] = {}
    # Kill times, each with the children to kill then: one entry per distinct
    # shutdown value (as Elixir's one timer per value), so that stopping many
    # children costs O(children), not O(children²).
    kill_at: dict[float, list[Ref]] = {}
    start = loop.time()
    for n, child in enumerate(children, 1):
        pid = child.pid
        if type(pid) is not Pid:
            continue
        await _share_time(n)
        mon = Process.monitor(pid)
        Process.unlink(pid)
        early = await _poll(Exit(pid, ANY))
        if early is not None:
            await receive(Down(mon, ANY, ANY, ANY))
            if not _shutdown_ok(child, early.reason):
                _report(sup, child, early.reason, "shut down abnormally", pid)
            continue
        if child.shutdown == "brutal_kill":
            Process.exit(pid, "kill")
        else:
            Process.exit(pid, "shutdown")
            if is_number(child.shutdown) and child.shutdown < math.inf:
                kill_at.setdefault(start + child.shutdown, []).append(mon)
        waiting[mon] = child
    while waiting:
        timeout = max(0.0, min(kill_at) - loop.time()) if kill_at else None
        try:
            if len(waiting) == 1:
                (only,) = waiting
                down = await receive(Down(only, ANY, ANY, ANY), timeout=timeout)
            else:
                down = await receive(
                    lambda m: type(m) is Down and m.ref in waiting, timeout=timeout
                )
        except TimeoutError:
            now = loop.time()
            for when in [t for t in kill_at if t <= now]:
                for mon in kill_at.pop(when):
                    if mon in waiting:  # not gone yet: its time is up
                        Process.exit(waiting[mon].pid, "kill")  # type: ignore[arg-type]
            continue
        child = waiting.pop(down.ref)
        if not _shutdown_ok(child, down.reason):
            _report(sup, child, down.reason, "shut down abnormally", down.pid)
        await _share_time(len(waiting))


async def _share_time(n: int) -> None:
    """Yield to the other processes once every 256 children: a child that is not
    trapping exits dies at once and its DOWN is already queued, so stopping thousands
    of them would otherwise never wait and would hold the scheduler (the BEAM
    preempts a supervisor there)."""
    if n and n % 256 == 0:
        await Process.sleep(0)


async def _poll(pattern: Any) -> Any:
    """Take one queued message matching ``pattern``, or None."""
    try:
        return await receive(pattern, timeout=0)
    except TimeoutError:
        return None


def add_restart(st: Any) -> bool:
    """Record a restart; false when it makes more than max_restarts in max_seconds
    (``supervisor.erl``'s ``add_restart``, SU-3)."""
    now = int(asyncio.get_running_loop().time())
    threshold = now - st.period
    st.restarts = [now, *(r for r in st.restarts if r >= threshold)]
    return bool(len(st.restarts) <= st.intensity)


# -- reports (LOG-5) ----------------------------------------------------------------


class _Shown:
    """A report value, formatted by ``tether._runtime._format`` only when a handler
    emits the record.  Formatting never raises out of here, so a value that cannot be
    printed costs a placeholder, never the supervisor."""

    __slots__ = ("fn", "value")

    def __init__(self, fn: Callable[[Any], str], value: Any) -> None:
        self.fn = fn
        self.value = value

    def __str__(self) -> str:
        try:
            return self.fn(self.value)
        except Exception:
            return f"#<unprintable {type(self.value).__qualname__}>"

    __repr__ = __str__


def _start_call(start: tuple[Any, tuple[Any, ...]]) -> str:
    fun, args = start
    return f"{describe_callable(fun)}({', '.join(inspect(a) for a in args)})"


def _exit_text(reason: Any) -> str:
    return format_exit(reason) if isinstance(reason, BaseException) else inspect_reason(reason)


def _report(sup: Any, child: _Child, reason: Any, context: str, pid: Any = None) -> None:
    """LOG-5 ``Child … of Supervisor …`` report at ERROR on ``tether.sasl``."""
    sasl.error(
        "Child %s of Supervisor %s %s\n** (exit) %s\nPid: %s\nStart Call: %s\nRestart: %s\n"
        "Shutdown: %s\nType: %s",
        _Shown(inspect_name, child.id),
        _Shown(inspect_name, sup),
        context,
        _Shown(_exit_text, reason),
        _Shown(inspect, child.pid if pid is None else pid),
        _Shown(_start_call, child.start),
        child.restart,
        _Shown(inspect, child.shutdown),
        child.type,
    )


def _report_started(sup: Any, child: _Child) -> None:
    """LOG-5 progress report: each child start, at INFO."""
    sasl.info(
        "Child %s of Supervisor %s started\nPid: %s\nStart Call: %s",
        _Shown(inspect_name, child.id),
        _Shown(inspect_name, sup),
        child.pid,
        _Shown(_start_call, child.start),
    )


def _report_unexpected(who: str, msg: Any) -> None:
    sasl.error("%s received unexpected message: %s", who, _Shown(inspect, msg))


# -- the public API -------------------------------------------------------------------


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

    Class keywords override the child spec that ``child_spec`` builds, as Elixir's
    ``use Supervisor, restart: :transient`` does: ``class Sup(Supervisor,
    restart="transient", shutdown=10, id="sup", start=(fun, args))``.
    """

    _child_spec_overrides: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **overrides: Any) -> None:
        super().__init_subclass__()
        _subclass_overrides(cls, "Supervisor", overrides)

    def init(self, arg: Any, /) -> Any:
        """The callback of a module-based supervisor.

        Returns ``Supervisor.init_spec(children, **flags)``, i.e. ``("ok", (flags,
        children))`` with ``flags`` a dict (Erlang's map: ``strategy``,
        ``intensity``, ``period``, ``auto_shutdown``; missing keys take Erlang's
        defaults, unknown keys are ignored) or ``(strategy, intensity, period)``;
        or ``"ignore"``.  Anything else makes ``start_link`` return ``("error",
        ("bad_return", (Class, "init", value)))``.
        """
        raise NotImplementedError("a Supervisor subclass must define init(self, arg)")

    @staticmethod
    def init_spec(
        children: list[Any],
        *,
        strategy: str = "one_for_one",
        max_restarts: int = 3,
        max_seconds: float = 5,
        auto_shutdown: str | None = None,
    ) -> tuple[Atom, tuple[dict[str, Any], list[Any]]]:
        """Elixir's ``Supervisor.init/2`` (``init`` is the callback's name here).

        Returns ``("ok", ({"strategy": ..., "intensity": max_restarts, "period":
        max_seconds[, "auto_shutdown": ...]}, children))`` with each class or
        ``(Cls, arg)`` child turned into its child spec dict.

        Raises:
            TypeError / ValueError: a flag or a child of the wrong shape.
        """
        return _init_spec(
            "Supervisor.init_spec", children, strategy, max_restarts, max_seconds, auto_shutdown
        )

    @classmethod
    async def start_link(cls, arg: Any = None, *, name: Any = None, **flags: Any) -> OnStart:
        """Start a supervisor linked to the caller: Elixir's ``Supervisor.start_link``.

        On ``Supervisor`` itself ``arg`` is the list of children and ``flags`` are
        those of :meth:`init_spec`, checked here; on a subclass, ``arg`` goes to
        ``init``.  ``name``: a str, ``("global", name)`` or ``("via", registry, key)``.

        Returns ``("ok", pid)``, ``"ignore"`` or ``("error", reason)``, e.g.
        ``("error", ("shutdown", ("failed_to_start_child", id, reason)))`` (SU-4),
        ``("error", ("start_spec", err))``, ``("error", ("supervisor_data", err))``,
        ``("error", ("bad_return", (Class, "init", value)))``,
        ``("error", ("already_started", pid))``.

        Raises:
            TypeError / ValueError: a bad flag, child shape or name (nothing started).
        """
        return await cls._start(arg, name, flags, link=True)

    @classmethod
    async def start(cls, arg: Any = None, *, name: Any = None, **flags: Any) -> OnStart:
        """Like :meth:`start_link`, without the link: Elixir's ``GenServer.start/3``
        for a supervisor (``supervisor:start/3`` does not exist; tether keeps it)."""
        return await cls._start(arg, name, flags, link=False)

    @classmethod
    async def _start(cls, arg: Any, name: Any, flags: dict[str, Any], link: bool) -> Any:
        what = f"{cls.__qualname__}.start_link" if link else f"{cls.__qualname__}.start"
        _check_name(what, name)
        if cls is Supervisor:
            unknown = [k for k in flags if k not in _FLAG_ARGS]
            if unknown:
                raise TypeError(
                    f"{what}: unknown option {unknown[0]!r}; the options are name, "
                    f"{', '.join(_FLAG_ARGS)}"
                )
            children = [] if arg is None else arg
            if type(children) not in (list, tuple):
                raise TypeError(f"{what}: children must be a list, got {children!r}")
            init: Any = _init_spec(what, list(children), **flags)
            init_arg: Any = (None, init, name)
        else:
            if flags:
                raise TypeError(
                    f"{what}: flags such as {next(iter(flags))!r} belong in "
                    f"{cls.__qualname__}.init's Supervisor.init_spec(...)"
                )
            init_arg = (cls, arg, name)
        server = _SupervisorServer.start_link if link else _SupervisorServer.start
        return await server(init_arg, name=name)

    @classmethod
    def child_spec(cls, arg: Any = None, /) -> dict[str, Any]:
        """The child spec ``use Supervisor`` generates: ``{"id": Cls, "start":
        (Cls.start_link, (arg,)), "type": "supervisor"}`` with the class keyword
        overrides applied (a supervisor's shutdown defaults to ``"infinity"``)."""
        return {
            "id": cls,
            "start": (cls.start_link, (arg,)),
            "type": "supervisor",
            **cls._child_spec_overrides,
        }

    @staticmethod
    def child_spec_of(child: Any, **overrides: Any) -> dict[str, Any]:
        """Elixir's ``Supervisor.child_spec/2``: ``child``'s spec with ``overrides``
        (``id``, ``start``, ``restart``, ``shutdown``, ``type``, ``modules``,
        ``significant``) applied.

        Raises:
            TypeError: ``child`` is not a spec dict, a class with ``child_spec``,
                ``(Class, arg)`` or a six-tuple.
            ValueError: an override key that is not a child spec key.
        """
        what = "Supervisor.child_spec_of"
        for key in overrides:
            if key not in SPEC_KEYS:
                raise ValueError(
                    f"{what}: unknown key {key!r} in child specification override; "
                    f"the keys are {', '.join(SPEC_KEYS)}"
                )
        spec = _to_spec(child, what)
        if not isinstance(spec, dict):
            raise TypeError(f"{what}: child_spec(arg) of {child!r} returned {spec!r}, not a dict")
        return {**spec, **overrides}

    @staticmethod
    def check_childspecs(children: list[Any], auto_shutdown: str | None = None) -> Any:
        """Erlang's ``supervisor:check_childspecs/1,2``: ``"ok"`` or ``("error", err)``
        with the error ``start_link`` would give inside ``("start_spec", err)``.

        Raises:
            TypeError / ValueError: ``children`` is not a list, or ``auto_shutdown``
                is not None or a mode.
        """
        what = "Supervisor.check_childspecs"
        if type(children) is not list:  # a lone spec (a tuple too) is the mistake to catch
            raise TypeError(f"{what}: children must be a list, got {children!r}")
        if auto_shutdown is not None:
            _check_word(what, "auto_shutdown", auto_shutdown, AUTO_SHUTDOWNS)
        error = _check_startspec(list(children), auto_shutdown)
        return OK if isinstance(error, list) else (ERROR, error)

    # -- management API ------------------------------------------------------

    @staticmethod
    async def which_children(sup: Any) -> list[tuple[Any, Any, Atom, Any]]:
        """Elixir's ``Supervisor.which_children/1``: ``[(id, pid | "undefined" |
        "restarting", type, modules)]``, newest first.  Exits ``noproc`` (as a
        ``GenServer.call``) when ``sup`` is not alive."""
        _check_sup("Supervisor.which_children", sup)
        return await GenServer.call(sup, "which_children", None)  # type: ignore[no-any-return]

    @staticmethod
    async def count_children(sup: Any) -> dict[str, int]:
        """Elixir's ``Supervisor.count_children/1``: ``{"specs": n, "active": n,
        "supervisors": n, "workers": n}``; active children are the running ones."""
        _check_sup("Supervisor.count_children", sup)
        return await GenServer.call(sup, "count_children", None)  # type: ignore[no-any-return]

    @staticmethod
    async def start_child(sup: Any, spec: Any) -> Any:
        """Elixir's ``Supervisor.start_child/2``: add a child spec, start the child (SU-7).

        Returns ``("ok", pid)`` or ``("ok", pid, info)``; ``("ok", "undefined")``
        when the start function returned ``"ignore"`` (a temporary child is then
        not kept); ``("error", ("already_started", pid))``; ``("error",
        "already_present")``; ``("error", err)`` for an invalid spec
        (``"missing_id"``, ``("invalid_mfa", x)``, ...); ``("error", (reason,
        spec))`` when the start function failed, ``spec`` being the full child spec.
        A spec whose ``child_spec`` raises gives ``("error", exception)``.  The
        supervisor is never harmed by a bad spec.
        """
        _check_sup("Supervisor.start_child", sup)
        child = _child_spec_arg(spec)
        if isinstance(child, _SpecFailed):
            return (ERROR, child.error)
        return await GenServer.call(sup, ("start_child", child), None)

    @staticmethod
    async def terminate_child(sup: Any, child_id: Any) -> Any:
        """Elixir's ``Supervisor.terminate_child/2``: stop a child, keep its spec (a
        temporary child's is dropped): ``"ok"`` or ``("error", "not_found")``."""
        _check_sup("Supervisor.terminate_child", sup)
        return await GenServer.call(sup, ("terminate_child", child_id), None)

    @staticmethod
    async def restart_child(sup: Any, child_id: Any) -> Any:
        """Elixir's ``Supervisor.restart_child/2``: start a stopped child again:
        ``("ok", pid)``, ``("ok", pid, info)``,
        ``("ok", "undefined")``, ``("error", reason)`` from its start function, or
        ``("error", "running" | "restarting" | "not_found")``."""
        _check_sup("Supervisor.restart_child", sup)
        return await GenServer.call(sup, ("restart_child", child_id), None)

    @staticmethod
    async def delete_child(sup: Any, child_id: Any) -> Any:
        """Elixir's ``Supervisor.delete_child/2``: remove a stopped child's spec:
        ``"ok"`` or ``("error", "running" | "restarting" | "not_found")``."""
        _check_sup("Supervisor.delete_child", sup)
        return await GenServer.call(sup, ("delete_child", child_id), None)

    @staticmethod
    async def get_childspec(sup: Any, child_id: Any) -> Any:
        """Erlang's ``supervisor:get_childspec/2``: ``("ok", spec)`` with every key
        filled in, or ``("error", "not_found")``."""
        _check_sup("Supervisor.get_childspec", sup)
        return await GenServer.call(sup, ("get_childspec", child_id), None)

    @staticmethod
    async def stop(sup: Any, reason: Any = "normal", timeout: float | None = None) -> Atom:
        """Elixir's ``Supervisor.stop/3``: stop the supervisor and its children
        (reverse start order); ``"ok"``.  Exits as ``GenServer.stop`` does
        (``noproc``, ``timeout``).

        Raises:
            TypeError / ValueError: a bad ``sup`` or ``timeout`` (nothing is sent).
        """
        _check_sup("Supervisor.stop", sup)
        check_timeout(timeout, "Supervisor.stop")
        return await GenServer.stop(sup, reason, timeout)


_FLAG_ARGS: Final = ("strategy", "max_restarts", "max_seconds", "auto_shutdown")


def _init_spec(
    what: str,
    children: Any,
    strategy: Any = "one_for_one",
    max_restarts: Any = 3,
    max_seconds: Any = 5,
    auto_shutdown: Any = None,
) -> tuple[Atom, tuple[dict[str, Any], list[Any]]]:
    """``Supervisor.init_spec`` for the public function ``what``."""
    flags = _flags_arg(what, strategy, max_restarts, max_seconds, auto_shutdown)
    if type(children) not in (list, tuple):
        raise TypeError(f"{what}: children must be a list, got {children!r}")
    # An Erlang six-tuple stays as it is, as Elixir's init/2 leaves it.
    specs = [c if type(c) is tuple and len(c) == 6 else _to_spec(c, what) for c in children]
    return (OK, (flags, specs))


def _flags_arg(
    what: str, strategy: Any, max_restarts: Any, max_seconds: Any, auto_shutdown: Any
) -> dict[str, Any]:
    """Check flags given as arguments (raising), and build Elixir's flags map."""
    _check_word(what, "strategy", strategy, STRATEGIES)
    check_int(max_restarts, what, "max_restarts")
    _check_seconds(what, "max_seconds", max_seconds)
    flags = {"strategy": Atom(strategy), "intensity": max_restarts, "period": max_seconds}
    if auto_shutdown is not None:
        _check_word(what, "auto_shutdown", auto_shutdown, AUTO_SHUTDOWNS)
        flags["auto_shutdown"] = Atom(auto_shutdown)
    return flags


def _check_startspec(children: list[Any], auto_shutdown: str | None) -> list[_Child] | Any:
    """``check_startspec``: the validated children in order, or the first error term."""
    records: list[_Child] = []
    seen: set[Any] = set()  # hashable ids; an unhashable one is compared one by one
    for spec in children:
        try:
            child = check_childspec(_to_spec(spec), auto_shutdown)
        except _SpecError as e:
            return e.args[0]
        except Exception as e:
            return e
        try:
            duplicate = child.id in seen
            seen.add(child.id)
        except Exception:  # unhashable (or a broken __hash__/__eq__)
            duplicate = any(_same_id(c.id, child.id) for c in records)
        if duplicate:
            return (Atom("duplicate_child_name"), child.id)
        records.append(child)
    return records


def _same_id(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return a is b


# -- the supervisor process -------------------------------------------------------------


@dataclass
class _SupState:
    name: Any
    strategy: str
    intensity: int
    period: float
    auto_shutdown: str
    children: list[_Child] = field(default_factory=list)  # in start order
    restarts: list[int] = field(default_factory=list)


class _SupervisorServer(GenServer):
    async def init(self, arg: Any) -> Any:
        cls, user_arg, name = arg
        Process.flag("trap_exit", True)
        if cls is None:
            result = user_arg  # Supervisor.start_link: init_spec already ran in the caller
        else:
            try:
                result = await _maybe_await(cls().init(user_arg))
            except ProcessExit as e:
                return Stop(e.reason)  # exit(r) in init: ("error", r), as gen_server's catch
        if _is(result, "ignore"):
            return Ignore()
        if not (
            isinstance(result, tuple)
            and len(result) == 2
            and _is(result[0], "ok")
            and isinstance(result[1], tuple)
            and len(result[1]) == 2
            and type(result[1][1]) in (list, tuple)
        ):
            return Stop((Atom("bad_return"), (cls or Supervisor, Atom("init"), result)))
        flags = _check_flags(result[1][0])
        if not isinstance(flags, dict):
            return Stop((Atom("supervisor_data"), flags))
        st = _SupState(
            name if name is not None else self_pid(),
            str(flags["strategy"]),
            flags["intensity"],
            flags["period"],
            str(flags["auto_shutdown"]),
        )
        children = _check_startspec(list(result[1][1]), st.auto_shutdown)
        if not isinstance(children, list):
            return Stop((Atom("start_spec"), children))
        for child in children:  # SU-4: in order; a failure stops the started ones
            started = await self._start_child(st, child)
            if _is(started, "ignore"):
                if child.restart != "temporary":  # a temporary child is dropped
                    st.children.append(child)
            elif started[0] == OK:
                st.children.append(child)
            else:
                _report(st.name, child, started[1], "failed to start")
                await _stop_all(st)
                return Stop((SHUTDOWN, (Atom("failed_to_start_child"), child.id, started[1])))
        return Ok(st)

    async def _start_child(self, st: _SupState, child: _Child) -> Any:
        """``do_start_child``: start ``child``, set its pid on success."""
        result = await call_start(*child.start)
        if result == IGNORE:
            child.pid = UNDEFINED
        elif result[0] == OK:
            child.pid = result[1]
            _report_started(st.name, child)
        return result

    async def handle_call(self, request: Any, from_: Any, st: _SupState) -> Any:
        match request:
            case "which_children":
                return Reply(
                    [(c.id, c.pid, Atom(c.type), c.modules) for c in reversed(st.children)], st
                )
            case "count_children":
                active = sum(1 for c in st.children if type(c.pid) is Pid and Process.alive(c.pid))
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
                await terminate_children([child], st.name)
                _del_child(st, child)
                return Reply(OK, st)
            case ("restart_child", cid):
                child = _find(st, cid)
                refused = _not_stopped(child)
                if refused is not None:
                    return Reply(refused, st)
                assert child is not None
                result = await self._start_child(st, child)
                return Reply((OK, UNDEFINED) if result == IGNORE else result, st)
            case ("delete_child", cid):
                child = _find(st, cid)
                refused = _not_stopped(child)
                if refused is not None:
                    return Reply(refused, st)
                assert child is not None
                st.children.remove(child)
                return Reply(OK, st)
            case ("get_childspec", cid):
                child = _find(st, cid)
                if child is None:
                    return Reply((ERROR, Atom("not_found")), st)
                return Reply((OK, child.spec()), st)
        return Reply((ERROR, (Atom("unknown_call"), request)), st)

    async def _start_new(self, st: _SupState, spec: Any) -> Any:
        """``handle_start_child``: validate, refuse a known id, start, keep."""
        child = _check_child(spec, st.auto_shutdown)
        if not isinstance(child, _Child):
            return child
        existing = _find(st, child.id)
        if existing is not None:
            if type(existing.pid) is Pid:
                return (ERROR, (Atom("already_started"), existing.pid))
            return (ERROR, Atom("already_present"))
        result = await self._start_child(st, child)
        if result == IGNORE:
            if child.restart != "temporary":
                st.children.append(child)
            return (OK, UNDEFINED)
        if result[0] == OK:
            st.children.append(child)
            return result
        return (ERROR, (result[1], child.spec()))

    async def handle_info(self, msg: Any, st: _SupState) -> Any:
        if type(msg) is Exit:
            child = next((c for c in st.children if c.pid == msg.pid), None)
            if child is None:
                return NoReply(st)  # SU-6: neither a child nor the parent
            return await self._child_exited(st, child, msg.reason)
        if type(msg) is tuple and len(msg) == 2 and _is(msg[0], RESTART_TAG):
            child = _find(st, msg[1])
            if child is not None and child.pid == RESTARTING:
                return await self._restart(st, child)
            return NoReply(st)
        _report_unexpected("Supervisor", msg)
        return NoReply(st)

    async def _child_exited(self, st: _SupState, child: _Child, reason: Any) -> Any:
        """``do_restart`` (SU-2)."""
        if child.restart == "permanent":
            _report(st.name, child, reason, "terminated")
            return await self._restart(st, child)
        if _is_quiet(reason):
            _del_child(st, child)
            return await self._auto_shutdown(st, child)
        _report(st.name, child, reason, "terminated")
        if child.restart == "transient":
            return await self._restart(st, child)
        _del_child(st, child)
        return await self._auto_shutdown(st, child)

    async def _auto_shutdown(self, st: _SupState, child: _Child) -> Any:
        """SU-9: a significant child that ended for good may stop the supervisor."""
        if st.auto_shutdown == "never" or not child.significant:
            return NoReply(st)
        if st.auto_shutdown == "all_significant" and any(
            c.significant and c.pid != UNDEFINED for c in st.children
        ):
            return NoReply(st)
        return Stop(SHUTDOWN, st)

    async def _restart(self, st: _SupState, child: _Child) -> Any:
        """``restart/2``: count the restart, then restart by strategy; a failed start
        marks the child ``"restarting"`` and tries again through the mailbox."""
        if not add_restart(st):
            _report(st.name, child, Atom("reached_max_restart_intensity"), "caused shutdown")
            _del_child(st, child)
            return Stop(SHUTDOWN, st)
        if st.strategy == "one_for_one":
            result = await self._start_child(st, child)
            if result != IGNORE and result[0] == ERROR:
                child.pid = RESTARTING
                _report(st.name, child, result[1], "failed to start")
                await _try_again(child.id)
            return NoReply(st)
        idx = st.children.index(child)
        group = st.children if st.strategy == "one_for_all" else st.children[idx:]
        # SU-1: the others stop in reverse start order (a temporary one is dropped),
        # then the group restarts in start order until one fails.
        child.pid = UNDEFINED
        for other in reversed(list(group)):
            if other is not child:
                await terminate_children([other], st.name)
                _del_child(st, other)
        group = st.children if st.strategy == "one_for_all" else st.children[idx:]
        for other in list(group):
            result = await self._start_child(st, other)
            if result == IGNORE:
                if other.restart == "temporary":
                    st.children.remove(other)
            elif result[0] == ERROR:
                _report(st.name, other, result[1], "failed to start")
                other.pid = RESTARTING  # those after it stay "undefined"
                await _try_again(other.id)
                break
        return NoReply(st)

    async def terminate(self, reason: Any, st: _SupState) -> Any:
        await _stop_all(st)

    def format_status(self, status: dict[str, Any]) -> dict[str, Any]:
        """The state ``GenServer.get_status`` (and the observer) shows: the flags,
        the restart stamps in the current period (whole seconds of loop time, as
        ``add_restart`` counts them) and the children, oldest first."""
        st = status["state"]
        if not isinstance(st, _SupState):
            return status
        return {
            "state": {
                "name": st.name,
                "strategy": Atom(st.strategy),
                "intensity": st.intensity,
                "period": st.period,
                "auto_shutdown": Atom(st.auto_shutdown),
                "restarts": list(st.restarts),
                "children": [(c.id, c.pid) for c in st.children],
            }
        }


async def _try_again(key: Any) -> None:
    """OTP's ``try_again_restart``: retry through the mailbox, so that requests that
    came meanwhile (a stop, ``terminate_child``) are served first.  The BEAM would
    preempt a supervisor that keeps failing; here it yields once to every other
    runnable process first, so a child that can never start does not starve them
    while its restarts count up to the intensity limit."""
    await Process.sleep(0)
    send(self_pid(), (RESTART_TAG, key))


def _find(st: _SupState, cid: Any) -> _Child | None:
    return next((c for c in st.children if _same_id(c.id, cid)), None)


def _del_child(st: _SupState, child: _Child) -> None:
    """``del_child``: a temporary child's spec goes, the others become undefined."""
    if child.restart == "temporary":
        st.children.remove(child)
    else:
        child.pid = UNDEFINED


def _not_stopped(child: _Child | None) -> Any:
    """Why restart_child/delete_child refuse ``child``, or None if it is stopped."""
    if child is None:
        return (ERROR, Atom("not_found"))
    if child.pid == RESTARTING:
        return (ERROR, RESTARTING)
    if type(child.pid) is Pid:
        return (ERROR, Atom("running"))
    return None


async def _stop_all(st: _SupState) -> None:
    """``terminate_children``: every child, one at a time, in reverse start order."""
    for n, child in enumerate(reversed(list(st.children)), 1):
        await terminate_children([child], st.name)
        _del_child(st, child)
        await _share_time(n)
