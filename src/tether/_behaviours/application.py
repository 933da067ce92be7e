"""Application: code and processes that start and stop as one unit (OTP's
``application``, Elixir's ``Application``).

Caller → what happens (as ``application.erl`` and ``application_master.erl`` do it)::

    Application.load(app)                     the class's env, overlaid by the config, is loaded
    Application.start(app, type)              load if needed; every dependency must be started;
                                              a master process calls Cls().start("normal", args)
    Application.ensure_all_started(app, type) the same, dependencies first (same type)
    Application.stop(app)                     master: prep_stop(state), the top process gets
                                              exit "shutdown", then stop(state);
                                              reported "Application app exited: :stopped"
    the top process exits with reason r       master: prep_stop, stop; the app exits with r;
                                              its restart type decides the node's fate
    the node stops (SIGTERM, open_node's end, the controller stops every running
    a permanent app's exit)                   application newest first, as above, unreported

Design
------
The state is the node's (``node_state``): the loaded applications and their
environment, the config data, and which applications are started and running,
so everything goes with the node.  Reading the environment is a plain read of
that table, from any process, as OTP's ``ac_tab``.

Starting and stopping go through one process per node, the *application
controller* (registered as ``application_controller``, as in OTP), started by
the first ``Application.start``.  It serialises them: a second ``start`` of an
application that is starting waits for the first one's result.  It traps exits
and is linked to one *master* process per running application (OTP's
application master and its helper, merged: tether has no group leaders for the
master to serve while the start callback runs).  The master calls the
callbacks, is the parent of the top supervisor (so the supervisor takes its
``shutdown`` as its parent's exit, SU-5), and exits with the reason its top
process exited with, which the controller judges by the restart type:

* ``temporary``: reported, nothing else;
* ``transient``: reported; an exit other than ``normal`` stops the node;
* ``permanent``: reported, and the node stops.

OTP halts the node there; tether stops it gracefully (``stop_node``, that is
``_lifecycle``'s graceful stop), so the remaining applications still run their
``prep_stop`` and ``stop``.  The controller, its masters and their supervision
trees form one link tree whose oldest process is the controller: the graceful
stop sends it ``shutdown`` as if from its parent, and its ``terminate`` stops
the running applications newest first, as ``application_controller:terminate``
does.

Rejected: a controller per application or none at all (the masters as
independent link trees would stop in reverse start order too, but nothing would
serialise concurrent starts, and ``ensure_all_started``'s bookkeeping would be
spread over the callers).  Not done: included applications, start phases,
distributed applications (takeover/failover), ``config_change``, and killing
the processes an application spawned outside its supervision tree (OTP finds
them by group leader, which tether does not have).

Invariant: a name is in at most one of ``_Tables.starting`` and
``_Tables.running``; every name in ``running`` is in ``started``; ``running``
and ``started`` keep start order (a restarted application moves to the end of
``running``); ``running[name]`` is the master's pid, or ``None`` for an
application without a ``start`` callback (a library application).
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import tomllib
import types
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Final

from tether._runtime import _api
from tether._runtime._api import Process, exit, node_state, receive, send, spawn_link, stop_node
from tether._runtime._api import node as node_name
from tether._runtime._api import self as self_pid
from tether._runtime._format import crash_head, format_exit, inspect
from tether._runtime._types import ANY, Atom, Down, Exit, Pid, ProcessExit

from .gen_server import GenServer, NoReply, Ok, Reply, _maybe_await
from .supervisor import _Shown

__all__ = ["Application"]

logger: Final = logging.getLogger("tether")
sasl: Final = logging.getLogger("tether.sasl")

OK: Final = Atom("ok")
ERROR: Final = Atom("error")
INFO: Final = Atom("info")
NORMAL: Final = Atom("normal")
SHUTDOWN: Final = Atom("shutdown")
STOPPED: Final = Atom("stopped")
EXIT: Final = Atom("EXIT")
PERMANENT: Final = Atom("permanent")
TRANSIENT: Final = Atom("transient")
TEMPORARY: Final = Atom("temporary")
RESTART_TYPES: Final = (PERMANENT, TRANSIENT, TEMPORARY)
BAD_RETURN: Final = Atom("bad_return")
ALREADY_STARTED: Final = Atom("already_started")
ALREADY_LOADED: Final = Atom("already_loaded")
NOT_STARTED: Final = Atom("not_started")
NOT_LOADED: Final = Atom("not_loaded")
NOT_RUNNING: Final = Atom("not_running")
RUNNING: Final = Atom("running")
UNKNOWN: Final = Atom("unknown_application")
CIRCULAR: Final = Atom("circular_dependencies")
APPLICATION_TERMINATED: Final = Atom("application_terminated")
APPLICATION_START_FAILURE: Final = Atom("application_start_failure")
CONTROLLER_NAME: Final = "application_controller"

_START: Final = Atom("start_application")
_STOP: Final = Atom("stop_application")
_STARTED: Final = Atom("application_started")
_TERMINATE: Final = Atom("terminate")
_TABLES: Final = "tether.application"  # the node_state key

# Every Application subclass by name, as the code path holds the .app files: a
# name resolves to the class defined last with it (weakly held: a class that
# goes away is forgotten).
_DEFINED: weakref.WeakValueDictionary[str, type[Application]] = weakref.WeakValueDictionary()
_UNSET: Final = object()
_MODULE_PATH: Final = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


# -- the node's tables ---------------------------------------------------------------


@dataclass
class _Starting:
    """An application whose start is under way: its restart type, its master (None
    until spawned) and the callers waiting for the result."""

    type: Atom
    master: Pid | None
    waiters: list[Any]


@dataclass
class _Tables:
    loaded: dict[str, type[Application]] = field(default_factory=dict)  # load order
    env: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Config data (files, persistent puts): laid over an application's env at load.
    conf: dict[str, dict[str, Any]] = field(default_factory=dict)
    started: dict[str, Atom] = field(default_factory=dict)  # name -> restart type
    running: dict[str, Pid | None] = field(default_factory=dict)  # name -> master
    starting: dict[str, _Starting] = field(default_factory=dict)
    controller: Pid | None = None


def _tables(what: str) -> _Tables:
    return node_state(_TABLES, _Tables, what)


# -- names, classes and arguments ----------------------------------------------------


def _snake(name: str) -> str:
    """``MyShop`` -> ``my_shop``, ``HTTPServer`` -> ``http_server`` (Elixir's
    ``Macro.underscore`` of a module name)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _is_app_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, Application) and value is not Application


def _name_of(app: Any, what: str) -> str:
    """An application argument: an Application subclass or its name."""
    if _is_app_class(app):
        return str(app.name)
    if isinstance(app, str) and app:
        return str.__str__(app)
    raise TypeError(
        f"{what}: app must be an Application subclass or an application's name (a "
        f"non-empty str), got {app!r}"
    )


def _check_type(restart_type: Any, what: str) -> Atom:
    if not isinstance(restart_type, str):
        raise TypeError(
            f"{what}: restart_type must be 'permanent', 'transient' or 'temporary', "
            f"got {restart_type!r}"
        )
    if restart_type not in RESTART_TYPES:
        raise ValueError(
            f"{what}: restart_type must be 'permanent', 'transient' or 'temporary', "
            f"got {restart_type!r}"
        )
    return Atom(restart_type)


def _check_key(key: Any, what: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"{what}: key must be a str (Elixir's atom key), got {key!r}")
    return str.__str__(key)


def _find(name: str) -> type[Application] | None:
    """The class named ``name``: one already defined, else one that importing the
    module named ``name`` defines (OTP finds ``name.app`` on the code path)."""
    cls = _DEFINED.get(name)
    if cls is not None or not _MODULE_PATH.match(name):
        return cls
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name is not None and (name == e.name or name.startswith(e.name + ".")):
            return None
        raise
    return _DEFINED.get(name)


def _has_start(cls: type[Application]) -> bool:
    """Whether ``cls`` defines the ``start`` callback (else: a library application,
    OTP's application without a ``mod``)."""
    for klass in cls.__mro__:
        if "start" in klass.__dict__:
            return klass is not Application
    return False


# -- configuration -------------------------------------------------------------------


def _check_config_dict(config: Any, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(config, dict):
        raise TypeError(f"{where}: expected a dict {{app: {{key: value}}}}, got {config!r}")
    out: dict[str, dict[str, Any]] = {}
    for app, env in config.items():
        if not isinstance(app, str) or not app:
            raise TypeError(f"{where}: application names must be non-empty str, got {app!r}")
        if not isinstance(env, dict):
            raise TypeError(f"{where}: the environment of {app!r} must be a dict, got {env!r}")
        for key in env:
            if not isinstance(key, str):
                raise TypeError(f"{where}: keys of {app!r} must be str, got {key!r}")
        out[str.__str__(app)] = dict(env)
    return out


def read_config(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read applications' configuration from a TOML file: ``{app: {key: value}}``.

    A ``pyproject.toml`` holds it in ``[tool.tether.apps.NAME]`` tables; any other
    file (``tether.toml``) in ``[apps.NAME]`` tables, as ruff reads
    ``[tool.ruff]`` or ``ruff.toml``.  Elixir's ``Config.Reader.read!/1``; hand the
    result to :meth:`Application.put_all_env`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not TOML, or its tables are not of that shape.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"Application.read_config: path must be a str or a path, got {path!r}")
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"Application.read_config: {p} is not valid TOML: {e}") from None
    where = "[tool.tether]" if p.name == "pyproject.toml" else "the file"
    table: Any = data.get("tool", {}).get("tether", {}) if p.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ValueError(f"Application.read_config: {p}: {where} must be a table")
    unknown = [k for k in table if k != "apps"]
    if unknown:
        raise ValueError(
            f"Application.read_config: {p}: unknown key {unknown[0]!r} in {where}; "
            f"applications are configured in [{'tool.tether.' if where != 'the file' else ''}"
            "apps.NAME] tables"
        )
    apps = table.get("apps", {})
    try:
        return _check_config_dict(apps, f"Application.read_config: {p}")
    except TypeError as e:
        raise ValueError(str(e)) from None


def _discover_config() -> dict[str, dict[str, Any]]:
    """``./tether.toml``, else ``./pyproject.toml`` if it has ``[tool.tether]``, else
    nothing: where ``tether run`` finds the configuration (``mix run`` reads
    ``config/config.exs``)."""
    here = Path.cwd()
    if (here / "tether.toml").is_file():
        return read_config(here / "tether.toml")
    pyproject = here / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError:
            return {}  # not ours to judge when it has no [tool.tether]
        if isinstance(data.get("tool"), dict) and "tether" in data["tool"]:
            return read_config(pyproject)
    return {}


def _config_option(what: str, config: Any, discover: bool) -> dict[str, dict[str, Any]]:
    if config is None:
        return _discover_config() if discover else {}
    if isinstance(config, dict):
        return _check_config_dict(config, f"{what}: config")
    if isinstance(config, str | os.PathLike):
        return read_config(config)
    raise TypeError(
        f"{what}: config must be a TOML file's path or a dict {{app: {{key: value}}}}, "
        f"got {config!r}"
    )


# -- reports -------------------------------------------------------------------------


def _call_text(call: Any) -> str:
    fn, *args = call
    return f"{fn}({', '.join(inspect(a) for a in args)})"


def _is_start_call(value: Any) -> bool:
    return (
        type(value) is tuple
        and len(value) == 3
        and isinstance(value[0], str)
        and value[0].endswith(".start")
    )


def format_error(reason: Any) -> str:
    """The text of an error that ``start``, ``stop``, ``load`` or ``unload``
    returned, or of an application's exit reason: Elixir's
    ``Application.format_error/1``.  Total: it never raises."""
    try:
        return _format_error(reason)
    except Exception:
        return inspect(reason)


def _format_error(reason: Any) -> str:
    if type(reason) is tuple and len(reason) == 2:
        tag, detail = reason
        if _is_start_call(detail):
            if type(tag) is tuple and len(tag) == 2 and tag[0] == EXIT and tag[1] == NORMAL:
                return format_exit((NORMAL, detail))  # exit("normal") in start
            return f"{_call_text(detail)} returned an error: {format_exit(tag)}"
        if tag == BAD_RETURN and type(detail) is tuple and len(detail) == 2:
            call, value = detail
            if _is_start_call(call):
                if type(value) is tuple and len(value) == 2 and value[0] == EXIT:
                    return format_exit((value[1], call))  # raised or exited in start
                return f"{_call_text(call)} returned a bad value: {inspect(value)}"
        if isinstance(detail, str):
            words = {
                ALREADY_STARTED: "already started application ",
                NOT_STARTED: "not started application ",
                ALREADY_LOADED: "already loaded application ",
                NOT_LOADED: "not loaded application ",
                RUNNING: "cannot unload running application ",
                NOT_RUNNING: "not running application ",
            }
            for word, text in words.items():
                if tag == word:
                    return text + str.__str__(detail)
            if tag == UNKNOWN:
                return (
                    f"unknown application {str.__str__(detail)}: no Application subclass "
                    "has this name, and no module of this name defines one"
                )
    return format_exit(reason)


def _report_exited(name: str, reason: Any, restart_type: Atom) -> None:
    """OTP's ``{application_controller, exit}`` report, as Elixir's Logger prints it
    (at notice; INFO here); ``application``, ``exited`` and ``type`` ride on the record."""
    logger.info(
        "Application %s exited: %s",
        name,
        _Shown(format_error, reason),
        extra={"application": Atom(name), "exited": reason, "type": restart_type},
    )


def _report_started(name: str) -> None:
    """OTP's progress report: SASL, so quiet by default (LOG-5)."""
    sasl.info(
        "Application %s started at %s",
        name,
        _Shown(inspect, node_name()),
        extra={"application": Atom(name), "started_at": node_name()},
    )


# -- the application master ----------------------------------------------------------


def _start_failure(call: tuple[Any, ...], e: BaseException) -> Any:
    if isinstance(e, ProcessExit):
        if isinstance(e.reason, str) and e.reason == NORMAL:
            return ((EXIT, NORMAL), call)
        return (BAD_RETURN, (call, (EXIT, e.reason)))
    return (BAD_RETURN, (call, (EXIT, e)))


def _start_result(call: tuple[Any, ...], result: Any) -> tuple[Atom, Any, Any]:
    """``(OK, pid, state)`` or ``(ERROR, reason, None)`` from what ``start`` returned."""
    if type(result) is tuple and len(result) in (2, 3) and isinstance(result[0], str):
        if result[0] == OK and type(result[1]) is Pid:
            return OK, result[1], result[2] if len(result) == 3 else None
        if result[0] == ERROR and len(result) == 2:
            return ERROR, (result[1], call), None
    return ERROR, (BAD_RETURN, (call, result)), None


async def _master(controller: Pid, name: str, cls: type[Application]) -> None:
    """An application's master: run ``start``, then watch the top process."""
    Process.flag("trap_exit", True)
    Process.put("$ancestors", [controller])
    args = cls.start_args
    call = (f"{cls.__qualname__}.start", NORMAL, args)
    impl = cls()
    try:
        result = await _maybe_await(impl.start(NORMAL, args))
    except (Exception, SystemExit, ProcessExit) as e:
        GenServer.cast(controller, (_STARTED, name, (ERROR, _start_failure(call, e))))
        return
    outcome, top, state = _start_result(call, result)
    if outcome == ERROR:
        GenServer.cast(controller, (_STARTED, name, (ERROR, top)))
        return
    Process.link(top)  # trapping: a dead top process arrives as Exit(top, "noproc")
    GenServer.cast(controller, (_STARTED, name, (OK, self_pid())))
    while True:
        msg = await receive(Exit, (_TERMINATE, ANY))
        if type(msg) is tuple:  # Application.stop: the controller waits for our DOWN
            state = await _prep_stop(name, impl, state)
            Process.exit(top, SHUTDOWN)
            await receive(Exit(top, ANY))
            await _stop(name, impl, state)
            return
        if msg.pid == controller:  # its terminate: the node is stopping
            state = await _prep_stop(name, impl, state)
            Process.exit(top, msg.reason)
            await receive(Exit(top, ANY))
            await _stop(name, impl, state)
            exit(msg.reason)
        if msg.pid == top:  # the application exits with its top process's reason
            state = await _prep_stop(name, impl, state)
            await _stop(name, impl, state)
            exit(msg.reason)
        # EXITs of other processes linked to the master are ignored (loop_it).


async def _prep_stop(name: str, impl: Application, state: Any) -> Any:
    if type(impl).prep_stop is Application.prep_stop:
        return state
    try:
        return await _maybe_await(impl.prep_stop(state))
    except (Exception, SystemExit, ProcessExit) as e:
        _report_callback(name, impl, "prep_stop", e, "stop gets the state start returned")
        return state


async def _stop(name: str, impl: Application, state: Any) -> None:
    try:
        await _maybe_await(impl.stop(state))
    except (Exception, SystemExit, ProcessExit) as e:
        _report_callback(name, impl, "stop", e, "the application stops all the same")


def _report_callback(name: str, impl: Application, fn: str, e: BaseException, then: str) -> None:
    """A failed ``prep_stop`` or ``stop`` (OTP's ``shutdown_error`` report)."""
    reason = e.reason if isinstance(e, ProcessExit) else e
    head, exc_info = crash_head(reason)
    logger.error(
        "Application %s: %s.%s failed; %s\n%s",
        name,
        type(impl).__qualname__,
        fn,
        then,
        head,
        exc_info=exc_info,
    )


# -- the application controller ------------------------------------------------------


class _Controller(GenServer):
    """The node's application controller (see the module docstring)."""

    def init(self, arg: tuple[_Tables, Pid], /) -> Any:
        t, caller = arg
        Process.flag("trap_exit", True)
        # The graceful stop sends "shutdown" as if from the first entry: make it
        # the pid GenServer takes as the parent, even when the caller has a name.
        Process.put("$ancestors", [caller])
        if t.controller is not None and not Process.alive(t.controller):
            # The previous controller died (killed: no terminate) and its masters
            # with it: what it ran is no longer running.
            t.running.clear()
            t.starting.clear()
        t.controller = self_pid()
        return Ok(t)

    async def handle_call(self, request: Any, from_: Any, t: _Tables, /) -> Any:
        if request[0] == _START:
            return self._start_app(request[1], request[2], from_, t)
        return Reply(await self._stop_app(request[1], t), t)

    def _start_app(self, name: str, restart_type: Atom, from_: Any, t: _Tables) -> Any:
        starting = t.starting.get(name)
        if starting is not None:
            starting.waiters.append(from_)
            return NoReply(t)
        cls = t.loaded.get(name)
        if cls is None:
            return Reply((ERROR, (NOT_LOADED, Atom(name))), t)
        if name in t.running:
            return Reply((ERROR, (ALREADY_STARTED, Atom(name))), t)
        for dep in cls.applications:
            if dep not in t.started:
                return Reply((ERROR, (NOT_STARTED, Atom(dep))), t)
        t.starting[name] = _Starting(restart_type, None, [from_])
        for dep in cls.applications:
            if dep not in t.running:  # started, then exited: OTP's {info, ...}
                self._started(name, (INFO, (NOT_RUNNING, Atom(dep))), t)
                return NoReply(t)
        if not _has_start(cls):
            self._started(name, (OK, None), t)
            return NoReply(t)
        t.starting[name].master = spawn_link(_master, self_pid(), name, cls)
        return NoReply(t)

    def handle_cast(self, msg: Any, t: _Tables, /) -> Any:
        _tag, name, result = msg
        if name in t.starting:
            self._started(name, result, t)
        return NoReply(t)

    def _started(self, name: str, result: tuple[Atom, Any], t: _Tables) -> None:
        """``handle_application_started``: answer the callers, then judge a failure
        by the restart type."""
        st = t.starting.pop(name)
        outcome, value = result
        answer = OK if outcome == OK else (ERROR, value)
        for caller in st.waiters:
            GenServer.reply(caller, answer)
        if outcome == OK:
            t.running[name] = value
            t.started[name] = st.type
            _report_started(name)
            return
        if outcome == ERROR:
            _report_exited(name, value, st.type)
        if st.type == TEMPORARY:
            return
        if st.type == TRANSIENT and _exited_normally_in_start(value):
            return
        stop_node((APPLICATION_START_FAILURE, Atom(name), value))

    def handle_info(self, msg: Any, t: _Tables, /) -> Any:
        if isinstance(msg, Exit):
            self._exited(msg.pid, msg.reason, t)
        return NoReply(t)

    def _exited(self, pid: Pid, reason: Any, t: _Tables) -> None:
        """A master exited: the application exited with ``reason``."""
        for starting, st in t.starting.items():
            if st.master == pid:  # died before it answered (killed during start)
                self._started(starting, (ERROR, reason), t)
                return
        name = next((n for n, m in t.running.items() if m == pid), None)
        if name is None:
            return  # a master that Application.stop unlinked
        del t.running[name]
        restart_type = t.started.get(name, TEMPORARY)
        _report_exited(name, reason, restart_type)
        if restart_type == TEMPORARY:
            return
        if restart_type == TRANSIENT and isinstance(reason, str) and reason == NORMAL:
            return
        stop_node((APPLICATION_TERMINATED, Atom(name), reason))

    async def _stop_app(self, name: str, t: _Tables) -> Any:
        """``stop_application``: unlinked first, so its exit is not an app's exit."""
        if name in t.running:
            master = t.running[name]
            if master is not None:
                Process.unlink(master)
                ref = Process.monitor(master)
                send(master, (_TERMINATE, ref))
                await receive(Down(ref, ANY, ANY, ANY))
            del t.running[name]
            restart_type = t.started.pop(name, TEMPORARY)
            _report_exited(name, STOPPED, restart_type)
            return OK
        if name in t.started:
            del t.started[name]
            return OK
        return (ERROR, (NOT_STARTED, Atom(name)))

    async def terminate(self, reason: Any, t: _Tables, /) -> None:
        """Stop every running application, newest first, unreported (OTP's AC
        ``terminate``); the graceful stop's timeout bounds the wait."""
        for name in reversed(list(t.running)):
            master = t.running.pop(name)
            if master is None:
                continue
            ref = Process.monitor(master)
            Process.unlink(master)
            Process.exit(master, SHUTDOWN)
            await receive(Down(ref, ANY, ANY, ANY))


def _exited_normally_in_start(reason: Any) -> bool:
    """``{{'EXIT', normal}, _}``: a transient application whose start exited
    normally does not stop the node."""
    return (
        type(reason) is tuple
        and len(reason) == 2
        and type(reason[0]) is tuple
        and len(reason[0]) == 2
        and reason[0][0] == EXIT
        and reason[0][1] == NORMAL
    )


async def _controller(what: str) -> Pid:
    t = _tables(what)
    pid = t.controller
    if pid is not None and Process.alive(pid):
        return pid
    # Registered, so that two first callers make one controller: the second
    # start finds the name taken, and the table holds the pid the first one set.
    result = await _Controller.start((t, self_pid()), name=CONTROLLER_NAME)
    pid = t.controller
    if pid is None or not Process.alive(pid):
        raise RuntimeError(
            f"{what}: the name {CONTROLLER_NAME!r} is registered by another process, "
            f"and tether's application controller needs it ({result!r})"
        )
    return pid


# -- the public functions (Application.xxx) -----------------------------------------


def _load(t: _Tables, name: str, app: Any) -> Any:
    if name in t.loaded:
        return (ERROR, (ALREADY_LOADED, Atom(name)))
    cls = app if _is_app_class(app) else _find(name)
    if cls is None:
        return (ERROR, (UNKNOWN, Atom(name)))
    merged = {**cls.env, **t.conf.get(name, {})}
    t.env.setdefault(name, {}).update(merged)
    t.loaded[name] = cls
    return OK


def load(app: Any) -> Any:
    """Load an application: its class's ``env``, overlaid by the configuration
    (files, persistent ``put_env``), becomes its environment.

    ``app`` is an Application subclass or a name; a name that no class defined so
    far has is imported as a module, which should define it.  Elixir's
    ``Application.load/1``.

    Returns:
        ``"ok"``, ``("error", ("already_loaded", app))`` or ``("error",
        ("unknown_application", name))``.
    """
    name = _name_of(app, "Application.load")
    return _load(_tables("Application.load"), name, app)


def unload(app: Any) -> Any:
    """Forget a loaded application and its environment: Elixir's ``Application.unload/1``.

    Returns:
        ``"ok"``, ``("error", ("not_loaded", app))`` or ``("error", ("running", app))``.
    """
    name = _name_of(app, "Application.unload")
    t = _tables("Application.unload")
    if name in t.running or name in t.starting:
        return (ERROR, (RUNNING, Atom(name)))
    if name not in t.loaded:
        return (ERROR, (NOT_LOADED, Atom(name)))
    del t.loaded[name]
    t.env.pop(name, None)
    return OK


async def start(app: Any, restart_type: str = "temporary") -> Any:
    """Start an application; load it first if needed: Elixir's ``Application.start/2``.

    Every application it lists in ``applications`` must be started already (see
    :func:`ensure_all_started`).  Its master process calls ``Cls().start("normal",
    start_args)`` and waits for it.  ``restart_type`` says what its exit does:
    ``"temporary"`` (default) only reports it; ``"transient"`` stops the node
    unless the reason is ``normal``; ``"permanent"`` stops the node.  A start
    that fails stops the node too unless the type is ``temporary``.

    Returns:
        ``"ok"`` or ``("error", reason)``: ``("already_started", app)``,
        ``("not_started", dependency)``, ``("unknown_application", name)``, or the
        start's failure: ``(reason, ("Cls.start", "normal", args))`` for
        ``("error", reason)``, ``("bad_return", (call, value))`` for another
        value, ``("bad_return", (call, ("EXIT", reason)))`` when it raised or
        exited.  :func:`format_error` words each.

    Raises:
        TypeError / ValueError: a bad ``app`` or ``restart_type`` (nothing done).
    """
    name = _name_of(app, "Application.start")
    restart = _check_type(restart_type, "Application.start")
    t = _tables("Application.start")
    if name not in t.loaded:
        loaded = _load(t, name, app)
        if loaded != OK:
            return loaded
    controller = await _controller("Application.start")
    return await GenServer.call(controller, (_START, name, restart), None)


async def ensure_started(app: Any, restart_type: str = "temporary") -> Any:
    """:func:`start`, and ``"ok"`` if it was started already: Elixir's
    ``Application.ensure_started/2``."""
    result = await start(app, restart_type)
    if type(result) is tuple and type(result[1]) is tuple and result[1][0] == ALREADY_STARTED:
        return OK
    return result


async def ensure_all_started(app: Any, restart_type: str = "temporary") -> Any:
    """Start ``app`` and, first, every application it depends on that is not
    started, all with ``restart_type``: Elixir's ``Application.ensure_all_started/2``.

    Returns:
        ``("ok", [names started, in start order])``, or ``("error", (name,
        reason))`` for the first that failed, once the ones this call started
        are stopped again (newest first).

    Raises:
        TypeError / ValueError: a bad ``app`` or ``restart_type`` (nothing done).
    """
    _name_of(app, "Application.ensure_all_started")
    restart = _check_type(restart_type, "Application.ensure_all_started")
    started: list[str] = []
    failure = await _ensure(app, restart, started, [])
    if failure is not None:
        for name in reversed(started):
            await stop(name)
        return (ERROR, failure)
    return (OK, [Atom(n) for n in started])


async def _ensure(app: Any, restart: Atom, started: list[str], chain: list[str]) -> Any:
    """``application:ensure_all_started/3``: start; on ``not_started``, start the
    dependency the same way, then try again."""
    name = _name_of(app, "Application.ensure_all_started")
    if name in chain:
        return (Atom(name), (CIRCULAR, [Atom(n) for n in [*chain, name]]))
    while True:
        result = await start(app, restart)
        if result == OK:
            started.append(name)
            return None
        reason = result[1]
        if type(reason) is tuple and len(reason) == 2 and reason[0] == ALREADY_STARTED:
            return None
        if type(reason) is tuple and len(reason) == 2 and reason[0] == NOT_STARTED:
            failure = await _ensure(str(reason[1]), restart, started, [*chain, name])
            if failure is not None:
                return failure
            continue
        return (Atom(name), reason)


async def stop(app: Any) -> Any:
    """Stop an application: its master calls ``prep_stop(state)``, sends its top
    process the exit signal ``shutdown`` and waits for it, then calls
    ``stop(state)``.  Reported as ``Application app exited: :stopped``.  It stays
    loaded.  Its dependents are not stopped (as in OTP).  Elixir's
    ``Application.stop/1``.

    Returns:
        ``"ok"`` or ``("error", ("not_started", app))``.
    """
    name = _name_of(app, "Application.stop")
    t = _tables("Application.stop")
    if name not in t.running and name not in t.started:
        return (ERROR, (NOT_STARTED, Atom(name)))
    controller = await _controller("Application.stop")
    return await GenServer.call(controller, (_STOP, name), None)


def started_applications() -> list[tuple[Atom, str, str]]:
    """``(name, description, vsn)`` of each running application, newest first:
    Elixir's ``Application.started_applications/0``."""
    t = _tables("Application.started_applications")
    return [_describe(t, name) for name in reversed(t.running)]


def loaded_applications() -> list[tuple[Atom, str, str]]:
    """``(name, description, vsn)`` of each loaded application, newest first:
    Elixir's ``Application.loaded_applications/0``."""
    t = _tables("Application.loaded_applications")
    return [_describe(t, name) for name in reversed(t.loaded)]


def _describe(t: _Tables, name: str) -> tuple[Atom, str, str]:
    cls = t.loaded.get(name)
    if cls is None:
        return (Atom(name), "", "")
    return (Atom(name), cls.description, cls.vsn)


def get_env(app: Any, key: str, default: Any = None) -> Any:
    """The value of ``key`` in ``app``'s environment, or ``default``: Elixir's
    ``Application.get_env/3``.  Values are shared, not copied: do not mutate them."""
    name = _name_of(app, "Application.get_env")
    k = _check_key(key, "Application.get_env")
    env = _tables("Application.get_env").env.get(name)
    return default if env is None else env.get(k, default)


def fetch_env(app: Any, key: str) -> Any:
    """``("ok", value)``, or ``"error"`` when ``key`` is not set: Elixir's
    ``Application.fetch_env/2``."""
    name = _name_of(app, "Application.fetch_env")
    k = _check_key(key, "Application.fetch_env")
    env = _tables("Application.fetch_env").env.get(name)
    if env is None or k not in env:
        return ERROR
    return (OK, env[k])


def fetch_env_or_raise(app: Any, key: str) -> Any:
    """The value of ``key`` in ``app``'s environment: Elixir's ``Application.fetch_env!/2``.

    Raises:
        KeyError: ``key`` is not set (the message is Elixir's).
    """
    name = _name_of(app, "Application.fetch_env_or_raise")
    k = _check_key(key, "Application.fetch_env_or_raise")
    t = _tables("Application.fetch_env_or_raise")
    env = t.env.get(name)
    if env is not None and k in env:
        return env[k]
    why = (
        f"because configuration at {k!r} was not set"
        if name in t.loaded
        else "because the application was not loaded nor configured"
    )
    raise KeyError(f"could not fetch application environment {k!r} for application {name!r} {why}")


def put_env(app: Any, key: str, value: Any, *, persistent: bool = False) -> Atom:
    """Set ``key`` in ``app``'s environment; returns ``"ok"``: Elixir's
    ``Application.put_env/4``.

    ``persistent=True`` also keeps it in the configuration, so that loading the
    application (again) does not replace it with the class's default.
    """
    name = _name_of(app, "Application.put_env")
    k = _check_key(key, "Application.put_env")
    _check_persistent(persistent, "Application.put_env")
    t = _tables("Application.put_env")
    t.env.setdefault(name, {})[k] = value
    if persistent:
        t.conf.setdefault(name, {})[k] = value
    return OK


def put_all_env(config: dict[str, dict[str, Any]], *, persistent: bool = False) -> Atom:
    """Set many applications' environment at once: ``{app: {key: value}}`` (what
    :func:`read_config` returns); returns ``"ok"``.  Elixir's
    ``Application.put_all_env/2``."""
    checked = _check_config_dict(config, "Application.put_all_env")
    _check_persistent(persistent, "Application.put_all_env")
    t = _tables("Application.put_all_env")
    for name, env in checked.items():
        t.env.setdefault(name, {}).update(env)
        if persistent:
            t.conf.setdefault(name, {}).update(env)
    return OK


def delete_env(app: Any, key: str, *, persistent: bool = False) -> Atom:
    """Remove ``key`` from ``app``'s environment (``persistent``: from the
    configuration too); returns ``"ok"``.  Elixir's ``Application.delete_env/3``."""
    name = _name_of(app, "Application.delete_env")
    k = _check_key(key, "Application.delete_env")
    _check_persistent(persistent, "Application.delete_env")
    t = _tables("Application.delete_env")
    t.env.get(name, {}).pop(k, None)
    if persistent:
        t.conf.get(name, {}).pop(k, None)
    return OK


def get_all_env(app: Any) -> dict[str, Any]:
    """A copy of ``app``'s whole environment (``{}`` if it has none): Elixir's
    ``Application.get_all_env/1``."""
    name = _name_of(app, "Application.get_all_env")
    return dict(_tables("Application.get_all_env").env.get(name, {}))


def _check_persistent(persistent: Any, what: str) -> None:
    if not isinstance(persistent, bool):
        raise TypeError(f"{what}: persistent must be True or False, got {persistent!r}")


# -- the class -----------------------------------------------------------------------


class _ApiOrCallback:
    """``Application.start`` is the function that starts an application (Elixir's
    ``Application.start/2``) and, on an instance, the callback an application
    defines (``c:start/2``), as Elixir keeps both names.  A subclass that defines
    ``start`` replaces this with its plain method."""

    def __init__(self, api: Callable[..., Any], callback: Callable[..., Any]) -> None:
        self.api = api
        self.callback = callback
        self.__doc__ = api.__doc__

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self.api
        return types.MethodType(self.callback, obj)


def _default_start(self: Application, start_type: Any, args: Any, /) -> Any:  # pragma: no cover
    raise NotImplementedError  # never called: a class without start is a library app


def _default_stop(self: Application, state: Any, /) -> Any:
    """Clean up after the top process has stopped; the result is ignored."""
    return None


class Application:
    """Base class of an application: Elixir's ``use Application`` with the
    ``application/0`` keys of ``mix.exs`` as class options.

    ::

        class Shop(tether.Application, applications=["inventory"], env={"port": 4000}):
            async def start(self, start_type, args):
                return await tether.Supervisor.start_link([Clerk], strategy="one_for_one")

            def stop(self, state):
                ...

        await tether.Application.ensure_all_started("shop")
        tether.Application.get_env("shop", "port")

    Class options (keyword arguments or class attributes):

    * ``name``: the application's name; default the class name in snake case
      (``Shop`` → ``"shop"``).
    * ``applications``: names (or classes) of the applications it needs started
      first; default none.
    * ``env``: the default environment, a dict with str keys; the configuration
      overrides it at load.
    * ``description``, ``vsn``: shown by ``started_applications``; default ``""``.
    * ``start_args``: the ``args`` that ``start`` receives (OTP's ``mod: {M, args}``);
      default ``None``.

    Callbacks (each may be ``async``; they run in the application's master process):

    * ``start(start_type, args)``: start the top supervisor, linked (its
      ``start_link``), and return ``("ok", pid)``, ``("ok", pid, state)`` or
      ``("error", reason)``; ``start_type`` is ``"normal"``.  A class without
      ``start`` is a library application: starting it starts no process.
    * ``prep_stop(state)``: before the top process is stopped; returns the state
      for ``stop``.  Default: returns ``state``.
    * ``stop(state)``: after it has stopped; the result is ignored.  ``state`` is
      what ``start`` returned (``None`` if it returned no state).

    On the class itself, ``Application.start(app)`` and ``Application.stop(app)``
    are the functions that start and stop applications; see docs/application.md.
    """

    name: ClassVar[str] = ""
    applications: ClassVar[tuple[str, ...]] = ()
    env: ClassVar[dict[str, Any]] = {}
    description: ClassVar[str] = ""
    vsn: ClassVar[str] = ""
    start_args: ClassVar[Any] = None

    def __init_subclass__(
        cls,
        *,
        name: Any = _UNSET,
        applications: Any = _UNSET,
        env: Any = _UNSET,
        description: Any = _UNSET,
        vsn: Any = _UNSET,
        start_args: Any = _UNSET,
        **unknown: Any,
    ) -> None:
        """Apply and check the class options (see the class docstring)."""
        what = f"class {cls.__name__}(Application, ...)"
        if unknown:
            raise TypeError(
                f"{what}: unknown option(s) {', '.join(sorted(unknown))}; the options are "
                "name, applications, env, description, vsn and start_args"
            )
        super().__init_subclass__()
        for option, value in (
            ("name", name),
            ("applications", applications),
            ("env", env),
            ("description", description),
            ("vsn", vsn),
            ("start_args", start_args),
        ):
            if value is not _UNSET:
                setattr(cls, option, value)
        if "name" not in cls.__dict__:
            cls.name = _snake(cls.__name__)
        if not isinstance(cls.name, str) or not cls.name:
            raise TypeError(f"{what}: name must be a non-empty str, got {cls.name!r}")
        cls.name = str.__str__(cls.name)
        deps = cls.applications
        if type(deps) not in (list, tuple):
            raise TypeError(
                f"{what}: applications must be a list of application names or classes, got {deps!r}"
            )
        cls.applications = tuple(_name_of(d, f"{what}: applications") for d in deps)
        if not isinstance(cls.env, dict) or not all(isinstance(k, str) for k in cls.env):
            raise TypeError(f"{what}: env must be a dict with str keys, got {cls.env!r}")
        for option in ("description", "vsn"):
            if not isinstance(getattr(cls, option), str):
                raise TypeError(f"{what}: {option} must be a str, got {getattr(cls, option)!r}")
        _DEFINED[cls.name] = cls

    # The functions and callbacks that share a name (see _ApiOrCallback).
    start = _ApiOrCallback(start, _default_start)
    stop = _ApiOrCallback(stop, _default_stop)

    def prep_stop(self, state: Any, /) -> Any:
        """Called before the top process is stopped; returns the state ``stop``
        gets.  Default: ``state``."""
        return state

    load = staticmethod(load)
    unload = staticmethod(unload)
    ensure_started = staticmethod(ensure_started)
    ensure_all_started = staticmethod(ensure_all_started)
    started_applications = staticmethod(started_applications)
    loaded_applications = staticmethod(loaded_applications)
    get_env = staticmethod(get_env)
    fetch_env = staticmethod(fetch_env)
    fetch_env_or_raise = staticmethod(fetch_env_or_raise)
    put_env = staticmethod(put_env)
    put_all_env = staticmethod(put_all_env)
    delete_env = staticmethod(delete_env)
    get_all_env = staticmethod(get_all_env)
    read_config = staticmethod(read_config)
    format_error = staticmethod(format_error)


# -- tether.run(apps=...) / tether.open_node(apps=...) ---------------------------------


def boot(what: str, apps: Any, config: Any) -> Callable[[], Coroutine[Any, Any, None]]:
    """Check ``apps`` and ``config`` and read the configuration (before the node
    starts); return the coroutine function that starts them in the node: the
    configuration is put (persistent), then each application with
    ``ensure_all_started(app, "permanent")``.  A failure exits the calling
    process with ``("application_start_failure", app, reason)``, the reason the
    controller stops the node with."""
    if apps is not None and type(apps) not in (list, tuple):
        raise TypeError(
            f"{what}: apps must be a list of Application subclasses or names, got {apps!r}"
        )
    todo = [] if apps is None else list(apps)
    for app in todo:
        _name_of(app, f"{what}: apps")
    conf = _config_option(what, config, discover=apps is not None)

    async def start_applications() -> None:
        if conf:
            put_all_env(conf, persistent=True)
        for app in todo:
            result = await ensure_all_started(app, PERMANENT)
            if result[0] != OK:
                failed, reason = result[1]
                exit((APPLICATION_START_FAILURE, failed, reason))

    return start_applications


_api.boot_applications = boot
