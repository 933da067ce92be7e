"""Agent: state behind a process, read and changed with functions (A-1).

An Agent is a GenServer whose requests carry the function to run on the state:
``("get", fun)``, ``("update", fun)``, ``("get_and_update", fun)``, so a timeout
exits with ``("timeout", ("GenServer.call", agent, ("get", fun), timeout))`` exactly
as Elixir wraps it.  Functions may be plain or ``async``.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from tether._runtime._api import Process
from tether._runtime._types import Atom, OnStart

from .gen_server import Error, GenServer, NoReply, Ok, Reply, _maybe_await

__all__ = ["Agent"]

OK = Atom("ok")


def _initial_call(fun: Any) -> tuple[str, str, int]:
    """``(module, qualname, arity)`` of ``fun``, as ``Process.info(pid, "initial_call")``."""
    code = getattr(fun, "__code__", None)
    return (
        str(getattr(fun, "__module__", None) or "?"),
        str(getattr(fun, "__qualname__", None) or type(fun).__qualname__),
        code.co_argcount if isinstance(code, types.CodeType) else 0,
    )


def _check_fun(fun: Any, what: str) -> None:
    if not callable(fun):
        raise TypeError(f"{what}: fun must be a function (plain or async), got {fun!r}")


class _AgentServer(GenServer):
    async def init(self, fun: Any, /) -> Any:
        # Elixir's Agent.Server.init: the process's $initial_call is the function's.
        Process.put("$initial_call", _initial_call(fun))
        try:
            return Ok(await _maybe_await(fun()))
        except Exception as e:  # a failing init fun gives ("error", exception)
            return Error(e)

    async def handle_call(self, request: Any, from_: Any, state: Any, /) -> Any:
        match request:
            case ("get", fun):
                return Reply(await _maybe_await(fun(state)), state)
            case ("update", fun):
                return Reply(OK, await _maybe_await(fun(state)))
            case ("get_and_update", fun):
                value, new_state = await _maybe_await(fun(state))
                return Reply(value, new_state)
        return await super().handle_call(request, from_, state)

    async def handle_cast(self, request: Any, state: Any, /) -> Any:
        match request:
            case ("cast", fun):
                return NoReply(await _maybe_await(fun(state)))
        return await super().handle_cast(request, state)


class Agent:
    """Elixir's ``Agent``: ``start_link``, ``get``, ``update``, ``get_and_update``,
    ``cast``, ``stop``.  Calls wait up to ``timeout`` seconds (default 5)."""

    def __init__(self) -> None:
        raise TypeError("Agent is a namespace of functions; start one with Agent.start_link")

    @classmethod
    def child_spec(cls, arg: Any, /) -> dict[str, Any]:
        """A child spec that starts an agent: Elixir's ``Agent.child_spec/1``.

        ``(Agent, fun)`` in a supervisor's children list (Elixir's ``{Agent,
        fun}``) starts ``Agent.start_link(fun)``.  A subclass that defines its own
        ``start_link(arg)`` gets ``{"id": Sub, "start": (Sub.start_link, (arg,))}``,
        as ``use Agent`` generates; adjust it with ``Supervisor.child_spec_of``.

        Raises:
            TypeError: ``arg`` is not a function, for ``Agent`` itself.
        """
        if cls is Agent and not callable(arg):
            raise TypeError(
                f"Agent.child_spec: arg must be the function that makes the state, got {arg!r}"
            )
        return {"id": cls, "start": (cls.start_link, (arg,))}

    @staticmethod
    async def start_link(
        fun: Callable[[], Any], *, name: Any = None, timeout: float | None = None
    ) -> OnStart:
        """Start an agent linked to the caller with state ``fun()``: ``("ok", pid)``."""
        _check_fun(fun, "Agent.start_link")
        return await _AgentServer.start_link(fun, name=name, timeout=timeout)

    @staticmethod
    async def start(
        fun: Callable[[], Any], *, name: Any = None, timeout: float | None = None
    ) -> OnStart:
        """Like :meth:`start_link`, without the link."""
        _check_fun(fun, "Agent.start")
        return await _AgentServer.start(fun, name=name, timeout=timeout)

    @staticmethod
    async def get(agent: Any, fun: Callable[[Any], Any], timeout: float | None = 5.0) -> Any:
        """Return ``fun(state)``."""
        _check_fun(fun, "Agent.get")
        return await GenServer.call(agent, ("get", fun), timeout)

    @staticmethod
    async def update(agent: Any, fun: Callable[[Any], Any], timeout: float | None = 5.0) -> Atom:
        """Replace the state with ``fun(state)``; returns ``"ok"``."""
        _check_fun(fun, "Agent.update")
        return await GenServer.call(agent, ("update", fun), timeout)  # type: ignore[no-any-return]

    @staticmethod
    async def get_and_update(
        agent: Any, fun: Callable[[Any], Any], timeout: float | None = 5.0
    ) -> Any:
        """``fun(state)`` returns ``(value, new_state)``: keep ``new_state``, return ``value``."""
        _check_fun(fun, "Agent.get_and_update")
        return await GenServer.call(agent, ("get_and_update", fun), timeout)

    @staticmethod
    def cast(agent: Any, fun: Callable[[Any], Any]) -> Atom:
        """Replace the state with ``fun(state)`` without waiting; returns ``"ok"``."""
        _check_fun(fun, "Agent.cast")
        return GenServer.cast(agent, ("cast", fun))

    @staticmethod
    async def stop(agent: Any, reason: Any = "normal", timeout: float | None = None) -> Atom:
        """Stop the agent synchronously; returns ``"ok"``."""
        return await GenServer.stop(agent, reason, timeout)
