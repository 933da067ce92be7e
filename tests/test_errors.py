"""Bad input: clear TypeError/ValueError naming the argument; outside-a-process errors."""

from __future__ import annotations

import pytest

import tether
import tether.testing
from tether import Process, receive, self, send, spawn


def test_runtime_calls_outside_a_process_say_how_to_start_one() -> None:
    outside = (
        r"self\(\) must be called from inside a tether process; "
        r"start one with tether.run\(main\)"
    )
    with pytest.raises(RuntimeError, match=outside):
        tether.self()
    with pytest.raises(RuntimeError, match="send must be called from inside a tether process"):
        send(tether.pid(0, 1, 0), "x")
    with pytest.raises(RuntimeError, match="Process.link must be called"):
        Process.link(tether.pid(0, 1, 0))


def test_value_helpers_need_no_process() -> None:
    assert repr(tether.pid(0, 999, 0)) == "#PID<0.999.0>"
    assert tether.pid("0.21.32") == tether.pid(0, 21, 32)
    assert tether.pid("#PID<0.21.32>") == tether.pid(0, 21, 32)
    assert tether.node() == "nonode@nohost"
    assert repr(tether.node()) == ":nonode@nohost"
    assert repr(tether.Atom("hello world")) == ':"hello world"'
    with pytest.raises(ValueError, match="pid: the id must be >= 0"):
        tether.pid(0, -1, 0)
    with pytest.raises(ValueError, match="is not of the form"):
        tether.pid("nonsense")


def test_pid_and_ref_values_are_hashable_ordered_and_immutable() -> None:
    a, b = tether.pid(0, 5, 0), tether.pid(0, 6, 0)
    assert a < b and a == tether.pid(0, 5, 0) and len({a, tether.pid(0, 5, 0)}) == 1
    with pytest.raises(AttributeError):
        a.id = 3  # type: ignore[misc]
    r = tether.make_ref()
    assert repr(r).startswith("#Reference<0.") and r != tether.make_ref()
    assert repr(tether.Atom("normal")) == ":normal"
    assert tether.Atom("normal") == "normal"


async def test_a_plain_function_passed_to_spawn_is_a_type_error_saying_what_to_do() -> None:
    def plain() -> None:
        pass

    with pytest.raises(TypeError, match="is not an async function; .* define it with 'async def'"):
        spawn(plain)


async def test_mfa_form_spawns_an_attribute_of_a_module_or_object() -> None:
    class Crashy:
        @staticmethod
        async def run(top: tether.Pid, x: int) -> None:
            send(top, ("ran", x))

    spawn(Crashy, "run", [self(), 5])
    assert await receive() == ("ran", 5)
    with pytest.raises(ValueError, match="has no function named 'nope'"):
        spawn(Crashy, "nope", [])


async def test_bad_filters_and_flags_are_named() -> None:
    with pytest.raises(TypeError, match=r"receive: filter #1 \(42\) is not a class"):
        await receive(42)
    with pytest.raises(ValueError, match="Process.flag: unknown flag 'bogus'"):
        Process.flag("bogus", True)
    with pytest.raises(TypeError, match="value for 'trap_exit' must be bool"):
        Process.flag("trap_exit", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="send: dest must be a Pid"):
        send(42, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Process.sleep: seconds must be >= 0"):
        await Process.sleep(-1)


async def test_a_crash_in_one_process_never_takes_down_the_node() -> None:
    async def bad() -> None:
        raise MemoryError("pretend")

    _pid, _ref = tether.spawn_monitor(bad)
    down = await receive(tether.Down)
    assert type(down.reason) is MemoryError
    assert Process.alive(self()) is True


async def test_a_predicate_that_raises_fails_in_the_receiver_not_the_sender() -> None:
    def picky(m: object) -> bool:
        raise KeyError("broken predicate")

    async def receiver(top: tether.Pid) -> None:
        try:
            await receive(picky)
        except KeyError:
            send(top, "receiver saw its own error")

    pid = spawn(receiver, self())
    from tether.testing import wait_all_blocked

    await wait_all_blocked()
    send(pid, "anything")
    assert await receive() == "receiver saw its own error"


def test_run_refuses_nested_nodes_and_bad_main() -> None:
    async def inner() -> None:
        tether.run(inner)

    with pytest.raises(RuntimeError, match="a node is already running"):
        tether.testing.run(inner)

    def plain() -> None:
        pass

    with pytest.raises(TypeError, match="not an async function"):
        tether.run(plain)  # type: ignore[arg-type]


def test_down_and_exit_show_a_string_reason_as_an_atom() -> None:
    ref, pid = tether.Ref(7), tether.pid(0, 5, 0)
    assert repr(tether.Down(ref, tether.Atom("process"), pid, "kaboom")) == (
        f"Down({ref!r}, :process, #PID<0.5.0>, :kaboom)"
    )
    assert repr(tether.Exit(pid, ("shutdown", 1))) == "Exit(#PID<0.5.0>, ('shutdown', 1))"
