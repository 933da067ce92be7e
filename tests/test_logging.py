"""LOG-1, LOG-2, LOG-7: what is logged when a process dies, and format_exit."""

from __future__ import annotations

import logging

import pytest

import tether
from tether import Down, Process, receive, spawn_monitor
from tether.testing import wait_all_blocked


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="tether")
    return caplog


async def test_log1_a_raising_process_logs_its_pid_and_exception_at_error(
    errors: pytest.LogCaptureFixture,
) -> None:
    async def boom() -> None:
        raise RuntimeError("oops")

    pid, _ref = spawn_monitor(boom)
    await receive(Down)
    records = [r for r in errors.records if r.name == "tether"]
    assert len(records) == 1
    rec = records[0]
    assert rec.levelno == logging.ERROR
    assert rec.getMessage() == f"Process {pid!r} raised an exception\n** (RuntimeError) oops"
    assert rec.exc_info is not None and rec.exc_info[0] is RuntimeError


@pytest.mark.parametrize("how", ["exit1", "exit_signal", "kill", "normal", "shutdown_tuple"])
async def test_log1_exit_signals_and_normal_exits_log_nothing(
    errors: pytest.LogCaptureFixture, how: str
) -> None:
    async def quits() -> None:
        if how == "exit1":
            tether.exit("foo")
        if how == "shutdown_tuple":
            tether.exit(("shutdown", "bye"))
        await Process.sleep(None)

    pid, _ref = spawn_monitor(quits)
    await wait_all_blocked()
    if how == "exit_signal":
        Process.exit(pid, "boom")
    elif how == "kill":
        Process.exit(pid, "kill")
    elif how == "normal":
        Process.exit(pid, "shutdown")
    await receive(Down)
    assert [r for r in errors.records if r.name == "tether"] == []


async def test_log1_a_linked_parent_killed_by_a_crash_is_not_logged(
    errors: pytest.LogCaptureFixture,
) -> None:
    async def crashing_child() -> None:
        raise ValueError("child")

    async def parent() -> None:
        tether.spawn_link(crashing_child)
        await Process.sleep(None)

    pid, _ref = spawn_monitor(parent)
    await receive(Down)
    msgs = [r.getMessage().splitlines()[0] for r in errors.records if r.name == "tether"]
    assert len(msgs) == 1 and msgs[0].endswith("raised an exception")
    assert repr(pid) not in msgs[0]


def test_log7_format_exit_of_atoms_and_tuples() -> None:
    f = tether.format_exit
    assert f("normal") == "normal"
    assert f("shutdown") == "shutdown"
    assert f(("shutdown", "x")) == "shutdown: :x"
    assert f("killed") == "killed"
    assert f("kill") == ":kill"
    assert f("custom") == ":custom"
    assert f(tether.Atom("custom")) == ":custom"
    assert f("noproc").startswith("no process: the process is not alive")
    assert f("timeout") == "time out"
    assert f("noconnection") == "no connection"
    assert f(("nodedown", "a@h")) == "no connection to a@h"
    assert f("calling_self") == "process attempted to call itself"
    assert f(42) == "42"
    assert (
        f(("timeout", ("GenServer.call", "srv", "req", 5)))
        == 'exited in: GenServer.call(:srv, "req", 5)\n    ** (EXIT) time out'
    )


def test_log7_format_exit_of_an_exception_shows_type_message_and_stack() -> None:
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError as e:
        exc = e
    text = tether.format_exit(exc)
    lines = text.splitlines()
    assert lines[0] == "an exception was raised:"
    assert lines[1] == "    ** (ZeroDivisionError) division by zero"
    assert "test_logging.py" in lines[2] and "test_log7_format_exit_of_an_exception" in lines[2]


async def test_log2_the_crash_log_is_written_no_later_than_the_exit_signals_arrive(
    errors: pytest.LogCaptureFixture,
) -> None:
    # LOG-2 allows the log after the linked reaction; tether writes it first, which
    # is one of the orders the BEAM allows.
    Process.flag("trap_exit", True)

    async def boom() -> None:
        raise RuntimeError("late or early")

    pid = tether.spawn_link(boom)
    msg = await receive(tether.Exit)
    assert msg.pid == pid
    assert [r.getMessage().splitlines()[0] for r in errors.records] == [
        f"Process {pid!r} raised an exception"
    ]
