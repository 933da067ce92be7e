"""Remote calls: the allow-list of Python functions other nodes may run, and calls out.

Other nodes run Python code here only through ``SPAWN_REQUEST`` (what ``:rpc.call``,
``:erpc.call`` and ``Node.spawn(node, M, F, A)`` send).  The target ``{M, F}`` is
looked up in an explicit allow-list filled by :func:`expose`; anything else behaves
as an undefined function does on the BEAM (``undef``), so no peer can make this
node run code its author did not expose, whatever the cookie.

``erpc:execute_call/4`` is the one Erlang function tether implements itself: it is
what ``:erpc.call``/``:rpc.call`` spawn, and its exit reason carries the result
(``{Ref, return, Value}``, ``{Ref, throw, V}``, ``{Ref, exit, R}`` or
``{Ref, error, R, Stack}``), exactly as erpc.erl does.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

from .._runtime._types import ANY, Atom, Down, ProcessExit, Ref

if TYPE_CHECKING:
    from .node import Dist

__all__ = ["RpcError", "call", "expose", "exposed", "unexpose"]

F = TypeVar("F", bound=Callable[..., Any])

RETURN: Final = Atom("return")
THROW: Final = Atom("throw")
EXIT: Final = Atom("exit")
ERROR: Final = Atom("error")
UNDEF: Final = Atom("undef")
ERPC: Final = Atom("erpc")
SPAWN_REPLY: Final = Atom("spawn_reply")

_exposed: dict[tuple[str, str], Callable[..., Any]] = {}


def expose(module: str, name: str | None = None) -> Callable[[F], F]:
    """Let other nodes call the decorated function as ``module:name`` (default: its name).

    ``module`` is the atom other nodes name: ``"math_tools"`` for Erlang's
    ``rpc:call(Node, math_tools, add, [1, 2])``, ``"Elixir.MathTools"`` for Elixir's
    ``:rpc.call(node, MathTools, :add, [1, 2])``.  The function may be sync or
    ``async``; its arguments arrive decoded (see ``tether.etf``) and its result is
    sent back the same way.  Returns the function unchanged.
    """
    if not isinstance(module, str) or not module:
        raise TypeError(
            f"expose: module must be a non-empty str (the atom callers use), got {module!r}"
        )

    def register(fn: F) -> F:
        if not callable(fn):
            raise TypeError(f"expose: {fn!r} is not callable")
        fname = name or getattr(fn, "__name__", None)
        if not fname:
            raise TypeError("expose: pass name= for a callable without __name__")
        _exposed[(module, fname)] = fn
        return fn

    return register


def exposed() -> list[tuple[str, str]]:
    """The ``(module, function)`` pairs other nodes may call, sorted."""
    return sorted(_exposed)


# Read-only introspection that every node answers, as ``:erlang`` does (what
# operators run with ``:rpc.call(node, :erlang, :processes, [])``).  Nothing here
# runs code or changes state; ``unexpose`` removes any of them.
def _erlang_builtins() -> None:
    from .._runtime import _api

    expose("erlang", "node")(_api.node)
    expose("erlang", "processes")(_api.Process.list)
    expose("erlang", "registered")(lambda: [Atom(n) for n in _api.Process.registered()])
    expose("erlang", "whereis")(lambda name: _api.Process.whereis(name) or Atom("undefined"))
    expose("erlang", "is_process_alive")(_api.Process.alive)

    def nodes() -> list[Atom]:  # Node.list(): the visible nodes
        from .._runtime import _node as _n

        dist: Dist | None = getattr(_n.NODE, "dist", None)
        return [] if dist is None else dist.nodes("visible")

    expose("erlang", "nodes")(nodes)


def unexpose(module: str, name: str) -> bool:
    """Take ``module:name`` off the allow-list; True if it was on it."""
    return _exposed.pop((module, name), None) is not None


_erlang_builtins()


def _exception_term(e: BaseException) -> Any:
    """A Python exception as an Elixir-style exception struct (a map)."""
    return {
        Atom("__struct__"): Atom("Elixir.Tether.PythonError"),
        Atom("__exception__"): True,
        Atom("type"): type(e).__name__,
        Atom("message"): str(e),
    }


async def _run(fn: Callable[..., Any], args: list[Any]) -> Any:
    result = fn(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


async def _execute_call(ref: Ref, module: Any, function: Any, args: Any) -> None:
    """``erpc:execute_call/4``: run an exposed function, exit with its outcome."""
    from .._runtime._api import exit as tether_exit

    fn = _exposed.get((str(module), str(function)))
    if fn is None or not isinstance(args, list):
        tether_exit((ref, ERROR, UNDEF, [(module, function, args, [])]))
    outcome: Any
    try:
        value = await _run(fn, args)
    except ProcessExit as e:
        outcome = (ref, EXIT, e.reason)
    except Exception as e:
        outcome = (ref, ERROR, _exception_term(e), [])
    else:
        outcome = (ref, RETURN, value)
    tether_exit(outcome)


async def _spawned(fn: Callable[..., Any], *args: Any) -> None:
    await _run(fn, list(args))


async def _undef(module: Any, function: Any, args: Any) -> None:
    from .._runtime._api import exit as tether_exit

    tether_exit((UNDEF, [(module, function, args, [])]))


def spawn_target(
    dist: Dist, module: str, function: str, args: list[Any]
) -> tuple[Callable[..., Any], list[Any]]:
    """What a ``SPAWN_REQUEST`` for ``module:function(args)`` runs here."""
    if module == "erpc" and function == "execute_call" and len(args) == 4:
        return _execute_call, args
    fn = _exposed.get((module, function))
    if fn is None:
        return _undef, [Atom(module), Atom(function), args]
    return _spawned, [fn, *args]


class RpcError(Exception):
    """A remote call failed: ``kind`` is ``"throw"``, ``"exit"`` or ``"error"``.

    ``reason`` is the Erlang reason: e.g. ``kind="error", reason="undef"`` for a
    function that does not exist (or is not exposed), ``(":erpc", "noconnection")``
    when the node cannot be reached, ``"timeout"`` on a timeout.
    """

    def __init__(self, kind: str, reason: Any) -> None:
        super().__init__(kind, reason)
        self.kind = Atom(kind)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason!r}"


async def call(
    node: str,
    module: str,
    function: str,
    args: list[Any] | tuple[Any, ...] = (),
    timeout: float | None = None,
) -> Any:
    """``:erpc.call(node, module, function, args)``: run it there, return its result.

    Works against Erlang/Elixir nodes (any exported function) and tether nodes
    (exposed functions).  Raises :class:`RpcError` (``kind``, ``reason``) when the
    function raises/throws/exits over there, when it does not exist, when the node
    cannot be reached (``("erpc", "noconnection")``) or on ``timeout`` seconds.
    """
    from .._runtime import _node as _n
    from .._runtime._api import Process, make_ref, receive

    node_ = _n.NODE
    p = node_.current
    if p is None:
        raise _n.outside_error("rpc.call")
    dist = getattr(node_, "dist", None)
    for label, v in (("node", node), ("module", module), ("function", function)):
        if not isinstance(v, str):
            raise TypeError(f"rpc.call: {label} must be a str, got {v!r}")
    if not isinstance(args, list | tuple):
        raise TypeError(f"rpc.call: args must be a list or tuple, got {args!r}")
    if dist is None:
        raise RpcError("error", (ERPC, Atom("noconnection")))
    res = make_ref()
    req = dist.spawn_request(
        p,
        node,
        "erpc",
        "execute_call",
        [res, Atom(module), Atom(function), list(args)],
        link=False,
        monitor=True,
    )
    try:
        msg = await receive(
            (SPAWN_REPLY, req, ERROR, ANY), Down(req, ANY, ANY, ANY), timeout=timeout
        )
    except TimeoutError:
        Process.demonitor(req, flush=True)
        raise RpcError("error", Atom("timeout")) from None
    if not isinstance(msg, Down):
        reason = msg[3]
        raise RpcError("error", (ERPC, reason))
    reason = msg.reason
    if type(reason) is tuple and len(reason) >= 3 and reason[0] == res:
        kind = reason[1]
        if kind == RETURN:
            return reason[2]
        raise RpcError(str(kind), reason[2])
    if reason == "noconnection":
        raise RpcError("error", (ERPC, Atom("noconnection")))
    raise RpcError("exit", reason)
