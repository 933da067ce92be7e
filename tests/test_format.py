"""Report formatting: inspect, format_exit and crash_head are total and bounded (LOG-7).

Issue #10 item 7 / issue #11 item 8: a report must never raise, whatever the value,
and strings show as Elixir shows them.
"""

from __future__ import annotations

import logging
import typing
from typing import Any

import pytest

import tether
from tether import Atom, Down, GenServer, Ok, Process, Reply, receive, spawn_monitor
from tether._runtime._format import (
    CHARS,
    DEPTH,
    LIMIT,
    crash_head,
    format_exception,
    format_exit,
    inspect,
    inspect_name,
    inspect_reason,
)


class BrokenStr(Exception):
    def __str__(self) -> str:
        raise ValueError("no str")

    def __repr__(self) -> str:
        raise ValueError("no repr")


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class NotAString:
    def __repr__(self) -> Any:
        return 42


# -- strings, atoms, names ------------------------------------------------------------


def test_a_plain_str_in_data_shows_as_an_elixir_string() -> None:
    assert inspect("/items/7.json") == '"/items/7.json"'
    assert inspect(("fetch", "/items/7.json")) == '("fetch", "/items/7.json")'
    assert inspect({"k": ["a", 1]}) == '{"k": ["a", 1]}'
    assert inspect('say "hi"\n\t\x01') == '"say \\"hi\\"\\n\\t\\x01"'


def test_atoms_show_as_atoms_in_data() -> None:
    assert inspect(Atom("ok")) == ":ok"
    assert inspect(Atom("a b")) == ':"a b"'
    assert inspect((Atom("EXIT"), tether.pid(0, 7, 0), Atom("normal"))) == (
        "(:EXIT, #PID<0.7.0>, :normal)"
    )


def test_a_whole_str_reason_and_the_bare_words_of_a_reason_tuple_show_as_atoms() -> None:
    assert inspect_reason("boom") == ":boom"
    assert inspect_reason("no such file") == ':"no such file"'
    assert inspect_reason(("shutdown", "db_down")) == "(:shutdown, :db_down)"
    assert inspect_reason(("EXIT", "normal")) == "(:EXIT, :normal)"
    # A field that is not a bare word is a string, as Elixir would show the binary.
    assert inspect_reason(("http_error", "/items/7.json")) == '(:http_error, "/items/7.json")'
    assert inspect_reason(("error", Atom("no such file"))) == '(:error, :"no such file")'
    assert format_exit(("shutdown", "lost connection")) == 'shutdown: "lost connection"'
    # Deeper than the reason tuple's own fields, a str is data again.
    assert inspect_reason(("http_error", 404, ["/items/7.json"])) == (
        '(:http_error, 404, ["/items/7.json"])'
    )
    assert inspect_reason(["a"]) == '["a"]'


def test_names_show_a_str_as_an_atom() -> None:
    assert inspect_name("my_server") == ":my_server"
    assert inspect_name("a/b") == ':"a/b"'
    assert inspect_name(GenServer) == "GenServer"
    assert inspect_name(("via", "x")) == '("via", "x")'


def test_records_show_their_reason_as_a_reason_and_the_rest_as_data() -> None:
    ref = tether.make_ref()
    pid = tether.pid(0, 9, 0)
    assert inspect(Down(ref, Atom("process"), pid, "boom")) == (
        f"Down({ref!r}, :process, #PID<0.9.0>, :boom)"
    )
    assert inspect(tether.Exit(pid, ("shutdown", "x"))) == "Exit(#PID<0.9.0>, (:shutdown, :x))"


def test_named_tuples_sets_bytes_and_classes() -> None:
    class Point(typing.NamedTuple):
        x: int
        label: str

    assert inspect(Point(1, "p")) == 'Point(x=1, label="p")'
    assert inspect(Reply("ok", [])) == 'Reply(reply="ok", state=[], action=None)'
    assert inspect((set(), frozenset(), {1}, frozenset({2}))) == (
        "(set(), frozenset(), {1}, frozenset({2}))"
    )
    assert inspect(b"\x00ab") == "b'\\x00ab'"
    assert inspect((1,)) == "(1,)"
    assert inspect(()) == "()"
    assert inspect(GenServer) == "GenServer"


# -- totality -----------------------------------------------------------------------------


def test_cyclic_lists_dicts_and_tuples_show_the_repeat_as_ellipsis() -> None:
    lst: list[Any] = [1]
    lst.append(lst)
    d: dict[str, Any] = {}
    d["me"] = d
    t = ([],)
    t[0].append(t)
    assert inspect(lst) == "[1, [...]]"
    assert inspect(d) == '{"me": {...}}'
    assert inspect(t) == "([(...)],)"
    assert format_exit(lst) == "[1, [...]]"


def test_an_int_over_4300_digits_shows_its_size() -> None:
    assert inspect(10**5000) == "<int of 5001 digits>"
    assert inspect(-(10**5000)) == "<-int of 5001 digits>"
    assert format_exit(("shutdown", 10**5000)) == "shutdown: <int of 5001 digits>"
    assert inspect(10**100) == str(10**100)


def test_an_exception_whose_str_and_repr_raise_still_formats() -> None:
    assert inspect(BrokenStr()) == "<BrokenStr object (repr raised ValueError)>"
    assert inspect(BrokenRepr()) == "<BrokenRepr object (repr raised RuntimeError)>"
    assert inspect(NotAString()) == "<NotAString object (repr raised TypeError)>"
    assert format_exit(BrokenStr()) == (
        "an exception was raised:\n    ** (BrokenStr) <exception str() failed>"
    )
    assert crash_head(BrokenStr())[0] == "** (BrokenStr) <exception str() failed>"
    assert format_exception(BrokenStr()) == "** (BrokenStr) <exception str() failed>"


def test_an_exception_message_with_a_huge_int_is_bounded() -> None:
    assert crash_head(ValueError(10**5000))[0] == "** (ValueError) <exception str() failed>"


def test_nesting_deeper_than_depth_shows_as_ellipsis() -> None:
    deep: list[Any] = []
    cur = deep
    for _ in range(DEPTH + 5):
        nxt: list[Any] = []
        cur.append(nxt)
        cur = nxt
    assert inspect(deep) == "[" * DEPTH + "..." + "]" * DEPTH


def test_collections_show_at_most_limit_items() -> None:
    shown = ", ".join(str(i) for i in range(LIMIT))
    assert inspect(list(range(1000))) == f"[{shown}, ...]"
    assert inspect(tuple(range(1000))) == f"({shown}, ...)"
    assert inspect(dict.fromkeys(range(1000), 0)) == (
        "{" + ", ".join(f"{i}: 0" for i in range(LIMIT)) + ", ...}"
    )


def test_a_huge_term_is_cut_at_chars_and_says_so() -> None:
    huge = ["x" * 10_000] * 1_000_000
    text = inspect(huge)
    assert len(text) == CHARS + len(" (truncated)")
    assert text.endswith('..." (truncated)') or text.endswith(" (truncated)")
    assert text.startswith('["xxxx')


def test_a_wide_and_deep_shared_term_is_walked_only_up_to_the_budget() -> None:
    # 50 references to the same list on each of 20 levels: 50**20 paths.
    level: list[Any] = [0]
    for _ in range(DEPTH):
        level = [level] * LIMIT
    text = inspect(level)
    assert text.endswith(" (truncated)")
    assert len(text) == CHARS + len(" (truncated)")


def test_long_strings_are_cut_at_the_printable_limit() -> None:
    assert inspect("a" * 5000) == '"' + "a" * 4096 + '..."'
    assert inspect_reason("b" * 5000) == ':"' + "b" * 4096 + '..."'


def test_a_str_subclass_and_lone_surrogates_show_safely() -> None:
    class Tag(str):
        def __repr__(self) -> str:
            raise ValueError

    assert inspect(Tag("x")) == '"x"'
    assert inspect("\ud800") == '"\\ud800"'


# -- format_exit, LOG-7 -------------------------------------------------------------


def test_log7_format_exit_spells_out_gen_server_reasons() -> None:
    pid = tether.pid(0, 5, 0)
    assert format_exit(("already_started", pid)) == "already started: #PID<0.5.0>"
    assert format_exit(("bad_return_value", ("sleep", 1))) == 'bad return value: ("sleep", 1)'
    assert format_exit(("bad_call", "x")) == "bad call: :x"
    assert format_exit(("bad_cast", ["x"])) == 'bad cast: ["x"]'
    assert format_exit(("supervisor_data", ("invalid_strategy", "x"))) == (
        'bad supervisor configuration, invalid strategy: "x"'
    )


def test_log7_a_stop_reason_wrapping_a_failed_call_prints_as_elixir_does() -> None:
    try:
        raise RuntimeError("oops")
    except RuntimeError as e:
        exc = e
    pid = tether.pid(0, 5, 0)
    head, exc_info = crash_head((exc, ("GenServer.call", pid, "crash", 5)))
    assert exc_info is None
    lines = head.splitlines()
    assert lines[:3] == [
        '** (stop) exited in: GenServer.call(#PID<0.5.0>, "crash", 5)',
        "    ** (EXIT) an exception was raised:",
        "        ** (RuntimeError) oops",
    ]
    assert lines[3].startswith("            ") and "test_format.py" in lines[3]
    assert crash_head(("calling_self", ("GenServer.call", "srv", "x", 5)))[0] == (
        '** (stop) exited in: GenServer.call(:srv, "x", 5)\n'
        "    ** (EXIT) process attempted to call itself"
    )


def test_log7_failed_to_start_child_names_the_child() -> None:
    reason = ("shutdown", ("failed_to_start_child", "db", ("EXIT", "boom")))
    assert format_exit(reason) == "shutdown: failed to start child: :db\n    ** (EXIT) :boom"


def test_stack_traces_are_bounded() -> None:
    def down(n: int) -> None:
        if n == 0:
            raise RuntimeError("deep")
        down(n - 1)

    try:
        down(60)
    except RuntimeError as e:
        exc = e
    lines = format_exception(exc).splitlines()
    assert lines[0] == "** (RuntimeError) deep"
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == "    ... (42 more frames)"


# -- the report writers use them ------------------------------------------------------------


async def test_log1_a_process_whose_exception_cannot_be_printed_is_still_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")

    async def boom() -> None:
        raise BrokenStr()

    pid, _ref = spawn_monitor(boom)
    down = await receive(Down)
    assert isinstance(down.reason, BrokenStr)
    assert [r.getMessage() for r in caplog.records] == [
        f"Process {pid!r} raised an exception\n** (BrokenStr) <exception str() failed>"
    ]


class Hoarder(GenServer):
    def handle_call(self, request: Any, from_: Any, state: Any, /) -> Any:
        if request == "crash":
            raise BrokenStr()
        return Reply("ok", request)


async def test_log3_a_gen_server_with_a_cyclic_state_and_a_huge_int_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    state: list[Any] = [10**5000, "/items/7.json"]
    state.append(state)
    _, pid = await GenServer.start(Hoarder, state)
    Process.monitor(pid)
    with pytest.raises(tether.ProcessExit):
        await GenServer.call(pid, "crash")
    assert [r.getMessage() for r in caplog.records] == [
        f"GenServer {pid!r} terminating\n"
        "** (BrokenStr) <exception str() failed>\n"
        f'Last message (from {tether.self()!r}): "crash"\n'
        'State: [<int of 5001 digits>, "/items/7.json", [...]]\n'
        f"Client {tether.self()!r} is alive"
    ]


async def test_log5_a_supervisor_survives_a_child_reason_that_cannot_be_printed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether.sasl")

    class Dies(GenServer):
        def handle_cast(self, request: Any, state: Any, /) -> Any:
            cyclic: list[Any] = [10**5000]
            cyclic.append(cyclic)
            tether.exit(cyclic)

    _, sup = await tether.Supervisor.start_link(
        [{"id": "d", "start": (Dies.start_link, (None,)), "restart": "temporary"}]
    )
    [(_, child, _, _)] = await tether.Supervisor.which_children(sup)
    GenServer.cast(child, "die")
    await tether.testing.wait_all_blocked()
    assert Process.alive(sup)
    assert await tether.Supervisor.which_children(sup) == []
    lines = [r.getMessage().splitlines()[:2] for r in caplog.records if r.name == "tether.sasl"]
    assert lines == [
        [
            f"Child :d of Supervisor {sup!r} terminated",
            "** (exit) [<int of 5001 digits>, [...]]",
        ]
    ]


def test_ok_is_still_a_named_tuple_shown_with_its_fields() -> None:
    assert inspect(Ok("s")) == 'Ok(state="s", action=None)'
