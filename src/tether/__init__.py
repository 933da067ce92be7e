"""tether: Erlang/Elixir (BEAM) processes for Python.

Lightweight processes with pids and mailboxes, selective receive, links, monitors,
exit signals and ``trap_exit``, on an asyncio event loop.  Start with
:func:`tether.run`::

    import tether
    from tether import receive, send, spawn_link

    async def crashy():
        match await receive():
            case "crash":
                1 / 0

    async def main():
        pid = spawn_link(crashy)
        send(pid, "crash")

    tether.run(main)
"""

import logging as _logging

from . import _introspect as _introspect  # the observer's rpc calls (read-only)
from . import etf, global_, peer, pg, rpc
from ._behaviours.agent import Agent
from ._behaviours.application import Application
from ._behaviours.dynamic_supervisor import DynamicSupervisor
from ._behaviours.gen_server import (
    HIBERNATE,
    Continue,
    Error,
    GenServer,
    Ignore,
    NoReply,
    Ok,
    Reply,
    Stop,
)
from ._behaviours.gen_state_machine import (
    EventTimeout,
    GenericTimeout,
    GenStateMachine,
    KeepState,
    KeepStateAndData,
    NextEvent,
    NextState,
    Postpone,
    RepeatState,
    RepeatStateAndData,
    ReplyTo,
    StateTimeout,
    StopAndReply,
)
from ._behaviours.registry import Registry
from ._behaviours.supervisor import Supervisor
from ._behaviours.task import Task, TaskSupervisor
from ._dist.api import Node
from ._dist.node import dist_tls
from ._embed import FromThread, RunningNode, open_node
from ._runtime._api import (
    Process,
    exit,
    make_ref,
    node,
    pid,
    receive,
    run,
    self,
    send,
    spawn,
    spawn_link,
    spawn_monitor,
)
from ._runtime._format import format_exit
from ._runtime._ports import System
from ._runtime._threads import ThreadWorker
from ._runtime._types import (
    ANY,
    Atom,
    CallTimeoutError,
    Down,
    Exit,
    ExitError,
    ExitSignal,
    NoProcError,
    OnStart,
    Pid,
    Port,
    ProcessExit,
    Ref,
    TimerRef,
)
from ._workers import CpuPool

__version__ = "0.1.0"

__all__ = [
    "ANY",
    "HIBERNATE",
    "Agent",
    "Application",
    "Atom",
    "CallTimeoutError",
    "Continue",
    "CpuPool",
    "Down",
    "DynamicSupervisor",
    "Error",
    "EventTimeout",
    "Exit",
    "ExitError",
    "ExitSignal",
    "FromThread",
    "GenServer",
    "GenStateMachine",
    "GenericTimeout",
    "Ignore",
    "KeepState",
    "KeepStateAndData",
    "NextEvent",
    "NextState",
    "NoProcError",
    "NoReply",
    "Node",
    "Ok",
    "OnStart",
    "Pid",
    "Port",
    "Postpone",
    "Process",
    "ProcessExit",
    "Ref",
    "Registry",
    "RepeatState",
    "RepeatStateAndData",
    "Reply",
    "ReplyTo",
    "RunningNode",
    "StateTimeout",
    "Stop",
    "StopAndReply",
    "Supervisor",
    "System",
    "Task",
    "TaskSupervisor",
    "ThreadWorker",
    "TimerRef",
    "dist_tls",
    "etf",
    "exit",
    "format_exit",
    "global_",
    "make_ref",
    "node",
    "open_node",
    "peer",
    "pg",
    "pid",
    "receive",
    "rpc",
    "run",
    "self",
    "send",
    "spawn",
    "spawn_link",
    "spawn_monitor",
]

_logging.getLogger("tether").addHandler(_logging.NullHandler())
# Supervisor (SASL-style) reports are quiet by default, as in Elixir: set
# logging.getLogger("tether.sasl").propagate = True to see them.
_logging.getLogger("tether.sasl").propagate = False
_logging.getLogger("tether.sasl").addHandler(_logging.NullHandler())
