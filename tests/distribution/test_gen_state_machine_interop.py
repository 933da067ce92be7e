"""GenStateMachine across nodes: a tether machine called by Elixir's :gen_statem,
and an Elixir :gen_statem called by tether (the same $gen_call protocol)."""

from __future__ import annotations

from typing import Any

import pytest

import tether
from tether import (
    Atom,
    GenStateMachine,
    KeepStateAndData,
    NextState,
    Postpone,
    ReplyTo,
)

from .conftest import Peer, ev, ev_arg, run_node

pytestmark = pytest.mark.timeout(120)


def me() -> str:
    return f':"{tether.node()}"'


class Turnstile(GenStateMachine):
    """Locked until a coin; a push while locked waits (postponed) for the coin."""

    def init(self, arg: Any) -> Any:
        return NextState("locked", 0)

    def handle_event(self, event_type: Any, content: Any, state: Any, data: Any) -> Any:
        match event_type, content, state:
            case "cast", "coin", "locked":
                return NextState("unlocked", data + 1)
            case ("call", _), "push", "locked":
                return KeepStateAndData(Postpone())
            case ("call", from_), "push", "unlocked":
                return NextState("locked", data, ReplyTo(from_, ("passed", data)))
            case ("call", from_), "state", _:
                return KeepStateAndData(ReplyTo(from_, state))
        return KeepStateAndData()


def test_a_tether_machine_is_called_and_cast_to_by_elixir_gen_statem(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        ok, pid = await Turnstile.start_link(name="turnstile")
        state = await ev(ex, f":gen_statem.call({{:turnstile, {me()}}}, :state)")
        # the push waits (postponed) in the Elixir node until the coin comes
        await ev_arg(
            ex,
            "me = self(); spawn(fn -> send(me, {:pushed, :gen_statem.call(arg, :push)}) end); :ok",
            pid,
        )
        cast = await ev_arg(ex, ":gen_statem.cast(arg, :coin)", pid)
        pushed = await ev(ex, "receive do {:pushed, r} -> r after 5000 -> :none end")
        after = await GenStateMachine.call(pid, "state")
        return ok, state, cast, pushed, after

    assert run_node(main) == ("ok", "locked", "ok", ("passed", 1), "locked")


def test_an_elixir_gen_statem_is_called_and_cast_to_by_tether(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        await ev(
            ex,
            "defmodule Light do @behaviour :gen_statem; "
            "def callback_mode, do: :handle_event_function; "
            "def init(n), do: {:ok, :off, n}; "
            "def handle_event(:cast, :flip, :off, n), do: {:next_state, :on, n + 1}; "
            "def handle_event(:cast, :flip, :on, n), do: {:next_state, :off, n}; "
            "def handle_event({:call, from}, :get, s, n), "
            "do: {:keep_state_and_data, [{:reply, from, {s, n}}]} end; "
            "{:ok, pid} = :gen_statem.start({:local, :light}, Light, 0, []); pid",
        )
        remote = ("light", ex.name)
        cast = GenStateMachine.cast(remote, Atom("flip"))
        got = await GenStateMachine.call(remote, Atom("get"), 5)
        return cast, got

    assert run_node(main) == ("ok", ("on", 1))
