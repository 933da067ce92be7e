"""The callback module of the gen_server_SUITE port, and what its peers run.

``Suite`` is gen_server_SUITE.erl's own gen_server callbacks, ``OcServer`` is
``oc_server.erl``, ``DummyVia`` is ``dummy_via.erl``; the ``@rpc.expose``
functions are what the remote cases call on peer nodes.  It holds no tests: it is
kept light (no pytest) because every peer node of the remote cases imports it.
"""

from __future__ import annotations

from typing import Any

import tether
from tether import (
    Continue,
    Error,
    GenServer,
    Ignore,
    NoReply,
    Ok,
    Pid,
    Process,
    Reply,
    Stop,
    rpc,
    self,
    send,
)

MODULE = "gen_server_SUITE"


class DummyVia:
    """``dummy_via.erl``: a minimal via registry (register_name, unregister_name,
    whereis_name, send); ``reset()`` forgets every name."""

    names: dict[Any, Pid] = {}  # noqa: RUF012 - the module's one table

    @classmethod
    def reset(cls) -> None:
        cls.names = {}

    @classmethod
    def register_name(cls, name: Any, pid: Pid) -> str:
        if cls.whereis_name(name) is not None:
            return "no"
        cls.names[name] = pid
        return "yes"

    @classmethod
    def unregister_name(cls, name: Any) -> str:
        cls.names.pop(name, None)
        return "ok"

    @classmethod
    def whereis_name(cls, name: Any) -> Pid | None:
        pid = cls.names.get(name)
        return pid if pid is not None and Process.alive(pid) else None

    @classmethod
    def send(cls, name: Any, msg: Any) -> Any:
        pid = cls.whereis_name(name)
        if pid is None:
            raise ValueError(f"DummyVia.send: {name!r} is not registered (badarg)")
        return send(pid, msg)


def _secs(ms: int) -> float:
    return ms / 1000


class Suite(GenServer):
    """The tested gen_server behaviour, at the end of gen_server_SUITE.erl."""

    async def init(self, arg: Any, /) -> Any:
        me = self()
        match arg:
            case []:
                return Ok([])
            case "ignore":
                return Ignore()
            case ("error", reason):
                return Error(reason)
            case "stop":
                return Stop("stopped")
            case "hibernate":
                return Ok([], tether.HIBERNATE)
            case "sleep":
                await Process.sleep(1)
                return Ok([])
            case ("continue", pid):
                send(me, ("after_continue", pid))
                return Ok([], Continue(("message", pid)))
            case ("state", state):
                return Ok(state)
            case ("ets", init_result):
                # ets:new(?MODULE, [named_table]) fails while an earlier server
                # still holds it; a registered name is released the same way.
                Process.register(me, MODULE)
                match init_result:
                    case ("return", value):
                        return value
                    case ("crash", "error", reason):
                        raise RuntimeError(reason)
                    case ("crash", "exit", reason):
                        tether.exit(reason)
                    case ("wait", ms, value):
                        await Process.sleep(_secs(ms))
                        return value
        raise AssertionError(f"no init clause for {arg!r}")

    async def handle_call(self, request: Any, from_: Any, state: Any, /) -> Any:
        me = self()
        match request:
            case "started_p":
                return Reply("ok", state)
            case "ping":
                return Reply("pong", state)
            case ("delayed_answer", ms):
                return NoReply(("reply_to", from_, state), _secs(ms))
            case ("call_within", ms):
                return Reply("ok", "call_within", _secs(ms))
            case "next_call" if state == "call_within":
                return Reply("ok", [])
            case "next_call":
                return Reply(False, state)
            case "badreturn":
                return "badreturn"
            case "hibernate":
                return Reply(True, [], tether.HIBERNATE)
            case "stop":
                return Stop("stopped", state, reply="ok")
            case "crash":
                tether.exit("crashed")
            case "exit_shutdown":
                tether.exit("shutdown")
            case "stop_shutdown":
                return Stop("shutdown", state)
            case "shutdown_reason":
                tether.exit(("shutdown", "reason"))
            case ("call_undef_fun", mod, fun):
                getattr(mod, fun)()
                return Reply("ok", state)
            case ("continue_reply", pid):
                send(me, ("after_continue", pid))
                return Reply("ok", state, Continue(("message", pid)))
            case ("continue_noreply", pid):
                send(me, ("after_continue", pid))
                return NoReply(state, Continue(("message", pid, from_)))
            case "stop_shutdown_reason":
                return Stop(("shutdown", "stop_reason"), state)
            case ("block", ms):  # stands for erlang:suspend_process/1 (multicall_remote)
                await Process.sleep(_secs(ms))
                return Reply("ok", state)
        raise AssertionError(f"no handle_call clause for {request!r}")

    def handle_cast(self, request: Any, state: Any, /) -> Any:
        me = self()
        match request:
            case (Pid() as frm, "handle_cast"):
                send(frm, (me, "handled_cast"))
                return NoReply(state)
            case (Pid() as frm, "delayed_cast", ms):
                return NoReply(("delayed_cast", frm), _secs(ms))
            case ("call_undef_fun", mod, fun):
                getattr(mod, fun)()
                return NoReply(state)
            case ("continue_noreply", pid):
                send(me, ("after_continue", pid))
                return NoReply(state, Continue(("message", pid)))
            case (Pid() as frm, "stop"):
                return Stop((frm, "stopped"), state)
        raise AssertionError(f"no handle_cast clause for {request!r}")

    def handle_info(self, msg: Any, state: Any, /) -> Any:
        me = self()
        match msg, state:
            case "timeout", ("reply_to", frm, inner):
                GenServer.reply(frm, "delayed")
                return NoReply(inner)
            case "timeout", "call_within":
                return NoReply([])
            case "timeout", ("delayed_cast", frm):
                send(frm, (me, "delayed"))
                return NoReply([])
            case "timeout", ("delayed_info", frm):
                send(frm, (me, "delayed_info"))
                return NoReply([])
            case ("call_undef_fun", mod, fun), _:
                getattr(mod, fun)()
                return NoReply(state)
            case (Pid() as frm, "handle_info"), _:
                send(frm, (me, "handled_info"))
                return NoReply([])
            case (Pid() as frm, "delayed_info", ms), _:
                return NoReply(("delayed_info", frm), _secs(ms))
            case (Pid() as frm, "stop"), _:
                return Stop((frm, "stopped_info"), state)
            case ("after_continue", pid), _:
                send(pid, (me, "after_continue"))
                send(pid, (me, "ack"))
                return NoReply(state)
            case ("continue_noreply", pid), _:
                send(me, ("after_continue", pid))
                return NoReply(state, Continue(("message", pid)))
            case ("continue_continue", pid), _:
                return NoReply(state, Continue(("continue", pid)))
            case "continue_stop", _:
                return NoReply(state, Continue("stop"))
        return NoReply(state)

    def handle_continue(self, arg: Any, state: Any, /) -> Any:
        me = self()
        match arg:
            case ("continue", pid):
                send(pid, (me, "before_continue"))
                send(me, ("after_continue", pid))
                return NoReply(state, Continue(("message", pid)))
            case "stop":
                return Stop("normal", state)
            case ("message", pid):
                send(pid, (me, "continue"))
                return NoReply(state)
            case ("message", pid, frm):
                send(pid, (me, "continue"))
                GenServer.reply(frm, "ok")
                return NoReply(state)
        raise AssertionError(f"no handle_continue clause for {arg!r}")

    def terminate(self, reason: Any, state: Any, /) -> Any:
        me = self()
        match reason, state:
            case (Pid() as frm, "stopped"), _:
                send(frm, (me, "stopped"))
            case (Pid() as frm, "stopped_info"), _:
                send(frm, (me, "stopped_info"))
            case _, "crash_terminate":
                tether.exit(("crash", "terminate"))
            case _, ("undef_in_terminate", (mod, fun)):
                getattr(mod, fun)()
        return "ok"


class OcServer(GenServer):
    """``oc_server.erl``: a server that defines only ``init`` (the undef_* cases).

    In tether a missing callback is the GenServer base class's default, as in
    Elixir's ``use GenServer`` (G-14, LOG-6); Erlang's ``undef`` has no analogue.
    """

    def init(self, arg: Any, /) -> Any:
        if arg == "continue":
            return Ok([], Continue("go"))
        return Ok([])


@rpc.expose(MODULE, "start")
async def remote_start(name: Any) -> Any:
    """``rpc:call(Node, gen_server, start, [{local, Name} | ..., ?MODULE, [], []])``."""
    return await GenServer.start(Suite, [], name=name)


@rpc.expose(MODULE, "is_process_alive")
def remote_alive(pid: Pid) -> bool:
    return Process.alive(pid)


@rpc.expose(MODULE, "whereis")
def remote_whereis(name: str) -> Any:
    return Process.whereis(name)


@rpc.expose(MODULE, "multicall_srv_ctrlr")
async def multicall_srv_ctrlr(tester: Pid, name: str) -> None:
    _ok, srv = await GenServer.start_link(Suite, [], name=name)
    send(tester, (self(), srv))
    await Process.sleep(None)
