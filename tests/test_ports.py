"""Ports: real OS programs as processes (Erlang's open_port, Elixir's Port).

Every test runs real programs (``cat``, ``sh -c``, Python scripts that print
framed packets or ignore SIGTERM).  The message shapes, exit reasons and their
order are those OTP 25 gives for the same programs (tests/conformance has the
live comparison).  Whether a program is gone is read from the OS process table
(``/proc``), waiting in real time with generous margins: a program lives in
the real world, whatever the node's virtual clock says.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import tether
from tether import ANY, Down, Exit, Port, Process, System, receive, send, spawn, spawn_monitor
from tether.testing import wait_all_blocked

from .conftest import mailbox_now

# Programs start in the real world: allow a loaded machine a minute of
# silence before calling a test deadlocked.
pytestmark = pytest.mark.tether(idle_timeout=60)

PY = sys.executable


def py(code: str) -> list[str]:
    """argv for a Python program."""
    return [PY, "-c", textwrap.dedent(code)]


# A program that prints framed packets: a 1-byte, a 2-byte and a 4-byte header
# variant, chosen by its argument, then echoes each packet it reads doubled.
PACKETS = py(
    """
    import sys
    n = int(sys.argv[1])
    out, inp = sys.stdout.buffer, sys.stdin.buffer
    for payload in (b"one", b"", b"three" * 20):
        out.write(len(payload).to_bytes(n, "big") + payload)
    out.flush()
    while True:
        head = inp.read(n)
        if len(head) < n:
            break
        body = inp.read(int.from_bytes(head, "big"))
        out.write((2 * len(body)).to_bytes(n, "big") + body * 2)
        out.flush()
    """
)

# A program that ignores SIGTERM, says so, and waits to be killed.
STUBBORN = py(
    """
    import signal, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("ready", flush=True)
    while True:
        time.sleep(1)
    """
)


def group_alive(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``, from /proc."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state not in ("Z", "X"):
            alive.append(int(entry))
    return alive


def _wait_gone(pgid: int, timeout: float) -> float:
    start = time.monotonic()
    while group_alive(pgid):
        if time.monotonic() - start > timeout:
            raise AssertionError(f"process group {pgid} still alive after {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - start


async def gone(pgid: int, timeout: float = 30.0) -> float:
    """Wait (real time, in a thread) until the program's group is gone; the seconds it took."""
    return await asyncio.to_thread(_wait_gone, pgid, timeout)


# -- message shapes --------------------------------------------------------------


async def test_cat_echoes_a_command_back_as_a_data_message() -> None:
    port = Port.open(["cat"])
    assert Port.command(port, b"hello\n") is True
    assert await receive() == (port, ("data", b"hello\n"))
    Port.command(port, ["a", b"b", bytearray(b"c"), memoryview(b"d"), ["é"]])
    assert await receive() == (port, ("data", "abcdé".encode()))


async def test_line_mode_gives_eol_lines_and_noeol_pieces_as_erts_does() -> None:
    Process.flag("trap_exit", True)
    script = r"printf 'ab\nabcde\nabcdefghij\nabcdefghijk\n\nxyz'"
    port = Port.open(["sh", "-c", script], line=5, exit_status=True)
    got = [await receive() for _ in range(10)]
    assert got == [
        (port, ("data", ("eol", b"ab"))),
        (port, ("data", ("eol", b"abcde"))),
        (port, ("data", ("noeol", b"abcde"))),
        (port, ("data", ("eol", b"fghij"))),
        (port, ("data", ("noeol", b"abcde"))),
        (port, ("data", ("noeol", b"fghij"))),
        (port, ("data", ("eol", b"k"))),
        (port, ("data", ("eol", b""))),
        (port, ("exit_status", 0)),  # erts: the status, then the unfinished line
        (port, ("data", ("noeol", b"xyz"))),
    ]
    assert await receive() == Exit(port, "normal")


async def test_exit_status_comes_before_the_ports_normal_exit() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["sh", "-c", "echo hi; exit 3"], exit_status=True)
    ref = Process.monitor(port)
    assert [await receive() for _ in range(4)] == [
        (port, ("data", b"hi\n")),
        (port, ("exit_status", 3)),
        Exit(port, "normal"),
        Down(ref, "port", port, "normal"),
    ]


async def test_without_exit_status_the_end_of_output_closes_the_port_normally() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["sh", "-c", "echo hi; exit 3"])
    assert [await receive() for _ in range(2)] == [(port, ("data", b"hi\n")), Exit(port, "normal")]


async def test_a_program_ended_by_a_signal_has_exit_status_128_plus_the_signal() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["sh", "-c", "kill -9 $$"], exit_status=True)
    assert await mailbox_now_after(2) == [(port, ("exit_status", 137)), Exit(port, "normal")]
    port = Port.open(["sh", "-c", "kill -15 $$"], exit_status=True)
    assert await mailbox_now_after(2) == [(port, ("exit_status", 143)), Exit(port, "normal")]


async def mailbox_now_after(n: int) -> list[Any]:
    return [await receive() for _ in range(n)]


async def test_exit_status_waits_for_a_program_that_closed_its_output_to_exit() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["sh", "-c", "exec 1>&-; sleep 0.2; exit 4"], exit_status=True)
    assert await mailbox_now_after(2) == [(port, ("exit_status", 4)), Exit(port, "normal")]


@pytest.mark.parametrize("n", [1, 2, 4])
async def test_packet_headers_frame_messages_both_ways(n: int) -> None:
    port = Port.open([*PACKETS, str(n)], packet=n)
    assert await mailbox_now_after(3) == [
        (port, ("data", b"one")),
        (port, ("data", b"")),
        (port, ("data", b"three" * 20)),
    ]
    Port.command(port, b"ab")
    Port.command(port, [b"c", "d"])
    assert await mailbox_now_after(2) == [(port, ("data", b"abab")), (port, ("data", b"cdcd"))]


async def test_packet_2_through_cat_comes_back_as_the_same_messages() -> None:
    port = Port.open(["cat"], packet=2)
    Port.command(port, "hello")
    Port.command(port, ["wor", "ld"])
    big = os.urandom(60000)
    Port.command(port, big)
    assert await mailbox_now_after(3) == [
        (port, ("data", b"hello")),
        (port, ("data", b"world")),
        (port, ("data", big)),
    ]


async def test_an_unfinished_packet_at_the_end_of_output_is_dropped() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["sh", "-c", r"printf '\000\005ab'"], packet=2, exit_status=True)
    assert await mailbox_now_after(2) == [(port, ("exit_status", 0)), Exit(port, "normal")]


async def test_the_eof_option_says_eof_and_keeps_the_port_open() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["sh", "-c", "echo a; exit 2"], eof=True, exit_status=True)
    assert await mailbox_now_after(3) == [
        (port, ("data", b"a\n")),
        (port, ("exit_status", 2)),
        (port, "eof"),
    ]
    assert Port.info(port, "name") == "sh"
    Port.close(port)
    assert await receive() == Exit(port, "normal")


async def test_stderr_to_stdout_sends_the_programs_errors_to_the_port() -> None:
    port = Port.open(["sh", "-c", "echo err 1>&2"], stderr_to_stdout=True)
    assert await receive() == (port, ("data", b"err\n"))


async def test_cd_and_env_reach_the_program(tmp_path: Path) -> None:
    os.environ["TETHER_TEST_UNSET_ME"] = "x"
    try:
        port = Port.open(
            ["sh", "-c", 'echo "$PWD $GREETING ${TETHER_TEST_UNSET_ME:-unset}"'],
            cd=tmp_path,
            env={"GREETING": "hi", "TETHER_TEST_UNSET_ME": None},
        )
    finally:
        del os.environ["TETHER_TEST_UNSET_ME"]
    assert await receive() == (port, ("data", f"{tmp_path} hi unset\n".encode()))


# -- exit reasons -----------------------------------------------------------------


async def test_a_command_too_long_for_its_packet_header_closes_the_port_with_einval() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["cat"], packet=1)
    assert Port.command(port, b"a" * 256) is True
    assert await receive() == Exit(port, "einval")
    assert Port.info(port) is None


async def test_writing_to_a_program_that_closed_its_input_closes_the_port_with_epipe() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["sh", "-c", "exec 0<&-; echo closed; sleep 30"])
    assert await receive() == (port, ("data", b"closed\n"))
    Port.command(port, b"x")
    assert await receive() == Exit(port, "epipe")


async def test_an_exit_signal_closes_a_port_with_its_reason_normal_included() -> None:
    Process.flag("trap_exit", True)
    for reason, expected in (("bye", "bye"), ("kill", "killed"), ("normal", "normal")):
        port = Port.open(["cat"])
        ref = Process.monitor(port)
        Process.exit(port, reason)
        assert await mailbox_now_after(2) == [
            Exit(port, expected),
            Down(ref, "port", port, expected),
        ]
        assert Port.info(port) is None


async def test_a_linked_process_that_crashes_takes_the_port_with_it_but_not_a_normal_one() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["cat"])
    ref = Process.monitor(port)

    async def linker(why: str) -> None:
        Process.link(port)
        tether.exit(why)

    _, mref = spawn_monitor(linker, "normal")
    await receive(Down(mref, ANY, ANY, ANY))
    assert Port.info(port, "connected") == tether.self()
    spawn(linker, "bye")
    assert await mailbox_now_after(2) == [Exit(port, "bye"), Down(ref, "port", port, "bye")]


async def test_the_owners_exit_closes_the_port_with_the_owners_reason_and_ends_the_program() -> (
    None
):
    me = tether.self()

    async def owner(why: str) -> None:
        p = Port.open(["sleep", "1000"])
        send(me, ("port", p, Port.info(p, "os_pid")))
        await receive(lambda m: m == "go")
        tether.exit(why)

    for why in ("boom", "normal"):
        pid = spawn(owner, why)
        _, port, os_pid = await receive(("port", ANY, ANY))
        assert group_alive(os_pid) == [os_pid]
        ref = Process.monitor(port)
        send(pid, "go")
        assert await receive() == Down(ref, "port", port, why)
        await gone(os_pid)


async def test_an_owner_that_unlinked_still_takes_its_port_and_program_along() -> None:
    me = tether.self()

    async def owner() -> None:
        p = Port.open(["sleep", "1000"])
        Process.unlink(p)
        send(me, ("port", p, Port.info(p, "os_pid")))
        await receive(lambda m: m == "go")
        tether.exit("bye")

    pid = spawn(owner)
    _, port, os_pid = await receive(("port", ANY, ANY))
    ref = Process.monitor(port)
    send(pid, "go")
    assert await receive() == Down(ref, "port", port, "bye")
    await gone(os_pid)


async def test_a_crash_of_the_owner_is_the_ports_reason_too() -> None:
    me = tether.self()

    async def owner() -> None:
        p = Port.open(["cat"])
        send(me, ("port", p))
        await receive(lambda m: m == "go")
        raise ValueError("owner broke")

    pid = spawn(owner)
    _, port = await receive(("port", ANY))
    ref = Process.monitor(port)
    send(pid, "go")
    down = await receive()
    assert isinstance(down, Down) and down.ref == ref and down.type == "port"
    assert isinstance(down.reason, ValueError) and str(down.reason) == "owner broke"


# -- the program's end: no orphans ----------------------------------------------------


async def test_port_close_exits_normal_and_terminates_the_program() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["sleep", "1000"])
    os_pid = Port.info(port, "os_pid")
    ref = Process.monitor(port)
    assert Port.close(port) is True
    assert await mailbox_now_after(2) == [Exit(port, "normal"), Down(ref, "port", port, "normal")]
    await gone(os_pid)
    assert Port.list() == []


async def test_a_program_ignoring_sigterm_is_killed_after_kill_timeout() -> None:
    port = Port.open(STUBBORN, kill_timeout=1.0, line=80)
    os_pid = Port.info(port, "os_pid")
    assert await receive() == (port, ("data", ("eol", b"ready")))
    Port.close(port)
    took = await gone(os_pid)
    # SIGTERM came at once and was ignored; only SIGKILL, a second later, ended it.
    assert took >= 0.9


async def test_the_programs_own_children_are_terminated_with_it() -> None:
    port = Port.open(["sh", "-c", "sleep 1000 & sleep 1000 & echo started; wait"])
    os_pid = Port.info(port, "os_pid")
    assert await receive() == (port, ("data", b"started\n"))
    assert len(group_alive(os_pid)) == 3
    Port.close(port)
    await gone(os_pid)


async def test_a_normal_end_of_output_also_ends_a_program_still_running() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["sh", "-c", "exec 1>&-; sleep 1000"])
    os_pid = Port.info(port, "os_pid")
    assert await receive() == Exit(port, "normal")
    await gone(os_pid)


def test_a_stopping_node_terminates_its_ports_programs() -> None:
    seen: list[int] = []

    async def main() -> None:
        p = Port.open(STUBBORN, kill_timeout=0.5)
        seen.append(Port.info(p, "os_pid"))
        await receive()  # ready: now leave with the port open

    tether.testing.run(main, idle_timeout=60)
    _wait_gone(seen[0], 30)


def test_no_program_outlives_its_os_process_even_when_that_is_killed() -> None:
    # A node in another OS process opens a port, prints the program's pid and
    # is SIGKILLed: nothing closes the port, the parent-death signal ends it.
    code = textwrap.dedent(
        """
        import tether
        async def main():
            p = tether.Port.open(["sleep", "1000"])
            print(tether.Port.info(p, "os_pid"), flush=True)
            await tether.Process.sleep(None)
        tether.run(main)
        """
    )
    node = subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert node.stdout is not None
        os_pid = int(node.stdout.readline())
        assert group_alive(os_pid) == [os_pid]
        node.send_signal(signal.SIGKILL)
        node.wait(30)
        _wait_gone(os_pid, 30)
    finally:
        node.kill()
        node.wait()


# -- links, monitors, the port protocol -------------------------------------------


async def test_monitoring_and_linking_a_closed_port_say_noproc() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["cat"])
    Port.close(port)
    assert await receive() == Exit(port, "normal")
    ref = Process.monitor(port)
    assert await receive() == Down(ref, "port", port, "noproc")
    assert Process.link(port) is True
    assert await receive() == Exit(port, "noproc")
    Process.flag("trap_exit", False)
    with pytest.raises(tether.NoProcError):
        Process.link(port)


async def test_process_info_of_a_watcher_lists_its_port_monitor_as_a_port() -> None:
    port = Port.open(["cat"])
    Process.monitor(port)
    assert Process.info(tether.self(), "monitors") == [("port", port)]
    assert Port.info(port, "monitored_by") == [tether.self()]
    assert Port.info(port, "links") == [tether.self()]


async def test_port_connect_moves_the_output_and_links_the_new_owner() -> None:
    me = tether.self()

    async def other() -> None:
        send(me, ("other_got", await receive()))
        await receive(lambda m: m == "never")

    pid = spawn(other)
    port = Port.open(["cat"])
    assert Port.connect(port, pid) is True
    assert Port.info(port, "connected") == pid
    assert sorted(Port.info(port, "links")) == sorted([me, pid])
    Port.command(port, b"to other")
    assert await receive() == ("other_got", (port, ("data", b"to other")))
    dead, ref = spawn_monitor(mailbox_now)
    await receive(Down(ref, ANY, ANY, ANY))
    with pytest.raises(ValueError, match="not a live process"):
        Port.connect(port, dead)
    # Its new owner's exit closes it, as its old owner's would have.
    Process.flag("trap_exit", True)
    Process.exit(pid, "bye")
    assert await receive() == Exit(port, "bye")


async def test_port_messages_command_connect_and_close_as_the_beam_takes_them() -> None:
    Process.flag("trap_exit", True)
    me = tether.self()
    port = Port.open(["cat"])
    send(port, (me, ("command", b"proto")))
    assert await receive() == (port, ("data", b"proto"))
    send(port, (me, ("connect", me)))
    assert await receive() == (port, "connected")
    send(port, (me, "close"))
    # As erts: the port's exit first, then its reply.
    assert await mailbox_now_after(2) == [Exit(port, "normal"), (port, "closed")]
    send(port, (me, "close"))  # a closed port: dropped, as any send to the dead
    assert await mailbox_now(0) == []


async def test_a_port_message_from_another_process_closes_the_port_with_badsig() -> None:
    Process.flag("trap_exit", True)
    port = Port.open(["cat"])

    async def intruder() -> None:
        send(port, (tether.self(), ("command", b"hey")))

    spawn(intruder)
    assert await receive() == Exit(port, "badsig")
    port = Port.open(["cat"])
    send(port, "not a port message")
    assert await receive() == Exit(port, "badsig")


# -- info, list, errors ----------------------------------------------------------------


async def test_port_info_says_what_the_beam_says_and_none_once_closed() -> None:
    me = tether.self()
    port = Port.open(["cat"])
    Port.command(port, b"12345678")
    assert await receive() == (port, ("data", b"12345678"))
    info = Port.info(port)
    assert list(info) == ["name", "links", "id", "connected", "input", "output", "os_pid"]
    assert info["name"] == "cat"
    assert info["links"] == [me]
    assert info["id"] == port.id
    assert info["connected"] == me
    assert (info["input"], info["output"]) == (8, 8)
    assert group_alive(info["os_pid"]) == [info["os_pid"]]
    assert Port.info(port, "queue_size") == 0
    assert Port.list() == [port]
    assert port not in Process.list()
    Port.close(port)
    assert Port.info(port) is None
    assert Port.info(port, "name") is None
    assert Port.list() == []


async def test_a_port_is_a_value_like_a_pid() -> None:
    port = Port.open(["cat"])
    assert repr(port) == f"#Port<0.{port.id}>"
    assert port == Port(port.id) and hash(port) == hash(Port(port.id))
    assert port != tether.self() and port != port.id
    with pytest.raises(AttributeError):
        port.id = 3  # type: ignore[misc]
    import pickle

    assert pickle.loads(pickle.dumps(port)) == port


async def test_closed_ports_refuse_command_close_and_connect_with_valueerror() -> None:
    port = Port.open(["cat"])
    Port.close(port)
    for call in (
        lambda: Port.command(port, b"x"),
        lambda: Port.close(port),
        lambda: Port.connect(port, tether.self()),
    ):
        with pytest.raises(ValueError, match=r"#Port<0\.\d+> is not open"):
            call()


async def test_process_functions_that_take_only_pids_refuse_a_port_clearly() -> None:
    port = Port.open(["cat"])
    with pytest.raises(TypeError, match=r"Process.info: #Port<0\.\d+> is a port.*Port.info"):
        Process.info(port)
    with pytest.raises(TypeError, match="got the port"):
        Process.alive(port)  # type: ignore[arg-type]


async def test_bad_arguments_are_refused_before_anything_starts() -> None:
    for bad, exc, text in (
        ("cat", TypeError, "argv must be a list"),
        ([], TypeError, "non-empty list"),
        (["cat", 3], TypeError, "every item of argv"),
    ):
        with pytest.raises(exc, match=text):
            Port.open(bad)
    for kwargs, exc, text in (
        ({"packet": 3}, ValueError, "packet must be 1, 2, 4"),
        ({"packet": True}, ValueError, "packet must be 1, 2, 4"),
        ({"line": 0}, ValueError, "line must be an int >= 1"),
        ({"line": 5, "packet": 2}, ValueError, "packet or line, not both"),
        ({"exit_status": 1}, TypeError, "exit_status must be True or False"),
        ({"env": {"A": 1}}, TypeError, r"env\['A'\] must be a str or None"),
        ({"env": {"A=B": "x"}}, ValueError, "without '='"),
        ({"kill_timeout": -1}, ValueError, "kill_timeout must be >= 0"),
        ({"max_queue": 0}, ValueError, "max_queue must be an int >= 1"),
        ({"cd": 3}, TypeError, "cd must be a directory path"),
    ):
        with pytest.raises(exc, match=text):
            Port.open(["cat"], **kwargs)
    assert Port.list() == []
    port = Port.open(["cat"])
    with pytest.raises(TypeError, match="data must be bytes"):
        Port.command(port, 42)
    with pytest.raises(TypeError, match="data must be bytes"):
        Port.command(port, [b"a", 42])
    with pytest.raises(TypeError, match="port must be a tether.Port"):
        Port.command(tether.self(), b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown item 'bogus'"):
        Port.info(port, "bogus")
    assert Port.info(port, "output") == 0  # the bad commands wrote nothing
    Port.close(port)


async def test_a_missing_program_is_filenotfounderror_and_nothing_is_opened(
    tmp_path: Path,
) -> None:
    with pytest.raises(FileNotFoundError):
        Port.open(["/nonexistent/program"])
    not_executable = tmp_path / "data.txt"
    not_executable.write_text("#!/bin/sh\n")
    with pytest.raises(PermissionError):
        Port.open([str(not_executable)])
    assert Port.list() == []
    assert Process.info(tether.self(), "links") == []


# -- back-pressure ----------------------------------------------------------------------


async def test_a_flooding_program_cannot_grow_its_owners_mailbox_past_max_queue() -> None:
    me = tether.self()
    port = Port.open(["yes", "y"], line=10, max_queue=50)
    assert await receive() == (port, ("data", ("eol", b"y")))
    # The owner reads nothing more; `yes` writes as fast as it can.  Real time
    # passes (in a thread) so the flood really happens: the bound must hold at
    # every look, and the port must have filled the queue to it and stopped.
    for _ in range(20):
        await asyncio.to_thread(time.sleep, 0.05)
        assert Process.info(me, "message_queue_len") <= 50
    assert Process.info(me, "message_queue_len") == 50
    read = Port.info(port, "input")
    await asyncio.to_thread(time.sleep, 0.5)
    # What the port took from the pipe stays bounded too: `yes` is blocked.
    assert Port.info(port, "input") - read <= 2 * 65536
    # Draining the mailbox lets the output flow again.
    got = await mailbox_now()
    assert len(got) == 50
    assert set(got) == {(port, ("data", ("eol", b"y")))}
    assert await receive() == (port, ("data", ("eol", b"y")))
    Port.close(port)


async def test_a_busy_port_holds_the_writer_until_the_program_reads(tmp_path: Path) -> None:
    me = tether.self()
    # The program reads nothing until a line comes through a FIFO, so 200 kB
    # cannot all go into its input pipe (64 kB): the rest waits in the port.
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    port = Port.open(["sh", "-c", f'read x < "{fifo}"; cat >/dev/null'])

    async def writer() -> None:
        Port.command(port, b"x" * 200_000)
        await Process.sleep(0)  # a step boundary: a busy port holds us here
        send(me, "written")

    pid = spawn(writer)
    await wait_all_blocked()
    assert Process.info(pid, "status") == "suspended"
    assert Port.info(port, "queue_size") > 65536
    await asyncio.to_thread(fifo.write_text, "go\n")
    assert await receive() == "written"
    assert Port.info(port, "output") == 200_000


# -- System.cmd ------------------------------------------------------------------------


async def test_system_cmd_returns_the_output_and_the_exit_status() -> None:
    assert await System.cmd("echo", ["hello"]) == (b"hello\n", 0)
    assert await System.cmd(
        "sh", ["-c", "echo out; echo err 1>&2; exit 7"], stderr_to_stdout=True
    ) == (
        b"out\nerr\n",
        7,
    )
    assert await System.cmd("sort", input="b\na\n") == (b"a\nb\n", 0)
    assert await System.cmd("cat") == (b"", 0)  # its input is closed: it ends


async def test_system_cmd_leaves_a_trapping_callers_mailbox_as_it_was() -> None:
    Process.flag("trap_exit", True)
    assert await System.cmd("true") == (b"", 0)
    assert await mailbox_now(0) == []
    assert Port.list() == []


async def test_system_cmd_of_a_missing_program_raises_filenotfounderror() -> None:
    with pytest.raises(FileNotFoundError):
        await System.cmd("no-such-program-here")
    with pytest.raises(TypeError, match="args must be a list of str"):
        await System.cmd("echo", [1])  # type: ignore[list-item]


def test_system_cmd_timeout_terminates_the_program() -> None:
    # The real clock: the timeout is a real-world time.
    seen: list[Any] = []

    async def main() -> None:
        try:
            await System.cmd("sh", ["-c", "echo $$; exec sleep 1000"], timeout=0.5)
        except TimeoutError as e:
            seen.append(str(e))
        seen.append(Port.list())

    tether.run(main, hog_threshold=None)
    assert "ran for more than 0.5 s; it was terminated" in seen[0]
    assert seen[1] == []
