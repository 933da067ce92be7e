"""Process: get_keys, absolute and asynchronous timers, and the process flags (E-7).

The BEAM's answers these follow were checked on OTP 25 / Elixir 1.14 with
``elixir -e`` (see tests/elixir_suite/README.md for the ported process_test.exs).
"""

from __future__ import annotations

import pytest

from tether import Process, TimerRef, receive, self, send, spawn
from tether.testing import clock, wait_all_blocked

from .conftest import mailbox_now


async def wait_forever() -> None:
    await Process.sleep(None)


async def test_get_keys_with_a_value_compares_exactly_as_erlang_does() -> None:
    # elixir -e: Process.put(:a, 1); Process.put(:b, 1.0); Process.put(:c, 1);
    # Process.get_keys(1) -> [:a, :c]
    Process.put("a", 1)
    Process.put("b", 1.0)
    Process.put("c", 1)
    Process.put("d", True)
    assert Process.get_keys(1) == ["a", "c"]
    assert Process.get_keys(1.0) == ["b"]
    assert Process.get_keys() == ["a", "b", "c", "d"]
    assert Process.get_keys("missing") == []


async def test_get_keys_of_an_empty_dictionary_is_an_empty_list() -> None:
    assert Process.get_keys() == []
    assert Process.get_keys(None) == []


async def test_an_absolute_timer_in_the_past_fires_at_once() -> None:
    start = clock()
    Process.send_after(self(), "late", start - 5, abs=True)
    assert await receive(timeout=0.001) == "late"
    assert clock() == start


async def test_an_absolute_timer_fires_at_its_point_on_the_node_clock() -> None:
    start = clock()
    timer = Process.send_after(self(), "tick", start + 2.5, abs=True)
    assert Process.read_timer(timer) == pytest.approx(2.5, abs=1e-9)
    assert await receive() == "tick"
    assert clock() == pytest.approx(start + 2.5, abs=1e-9)


async def test_send_after_checks_abs_and_seconds_before_starting_a_timer() -> None:
    with pytest.raises(TypeError, match="Process.send_after: abs must be True or False, got 1"):
        Process.send_after(self(), "x", 1, abs=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="with abs=True, seconds must be a finite point"):
        Process.send_after(self(), "x", float("nan"), abs=True)
    with pytest.raises(ValueError, match="with abs=True, seconds must be a finite point"):
        Process.send_after(self(), "x", float("inf"), abs=True)
    with pytest.raises(ValueError, match="Process.send_after: seconds must be >= 0"):
        Process.send_after(self(), "x", -1)
    await Process.sleep(10)
    assert await mailbox_now() == []


async def test_cancel_timer_without_info_returns_ok() -> None:
    # elixir -e: Process.cancel_timer(t, info: false) -> :ok
    timer = Process.send_after(self(), "x", 100)
    assert Process.cancel_timer(timer, info=False) == "ok"
    assert Process.read_timer(timer) is False
    await Process.sleep(200)
    assert await mailbox_now() == []


async def test_async_cancel_timer_without_info_sends_nothing() -> None:
    timer = Process.send_after(self(), "x", 100)
    assert Process.cancel_timer(timer, async_=True, info=False) == "ok"
    await Process.sleep(200)
    assert await mailbox_now() == []


async def test_async_cancel_of_a_cancelled_timer_answers_false() -> None:
    # elixir -e: a second async cancel gets {:cancel_timer, ref, false}
    timer = Process.send_after(self(), "x", 100)
    assert Process.cancel_timer(timer, async_=True) == "ok"
    assert Process.cancel_timer(timer, async_=True) == "ok"
    first, second = await mailbox_now()
    assert first[0] == "cancel_timer" and first[1] is timer
    assert first[2] == pytest.approx(100, abs=1e-9)
    assert second == ("cancel_timer", timer, False)
    assert Process.cancel_timer(timer) is False


async def test_cancel_timer_checks_its_options_before_cancelling() -> None:
    timer = Process.send_after(self(), "x", 100)
    with pytest.raises(TypeError, match="Process.cancel_timer: async_ must be True or False"):
        Process.cancel_timer(timer, async_="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Process.cancel_timer: info must be True or False"):
        Process.cancel_timer(timer, info=None)  # type: ignore[arg-type]
    assert Process.read_timer(timer) == pytest.approx(100, abs=1e-9)
    assert isinstance(timer, TimerRef)


async def test_e7_each_flag_returns_its_old_value() -> None:
    # elixir -e: Process.flag(:priority, :high) -> :normal; then -> :high; same shape
    # for :message_queue_data (:on_heap) and :sensitive (false).
    assert Process.flag("priority", "high") == "normal"
    assert Process.flag("priority", "low") == "high"
    assert Process.flag("message_queue_data", "off_heap") == "on_heap"
    assert Process.flag("message_queue_data", "on_heap") == "off_heap"
    assert Process.flag("sensitive", True) is False
    assert Process.flag("sensitive", False) is True
    assert Process.flag("trap_exit", True) is False
    assert Process.info(self(), ["priority", "message_queue_data", "trap_exit"]) == {
        "priority": "low",
        "message_queue_data": "on_heap",
        "trap_exit": True,
    }


async def test_the_advisory_flags_are_per_process() -> None:
    other = spawn(wait_forever)
    Process.flag("priority", "max")
    assert Process.info(self(), "priority") == "max"
    assert Process.info(other, "priority") == "normal"
    assert Process.info(other, "message_queue_data") == "on_heap"


async def test_a_sensitive_process_shows_no_messages_and_no_dictionary() -> None:
    # elixir -e: after Process.flag(:sensitive, true), process_info shows
    # messages: [], message_queue_len: 0, dictionary: [].
    me = self()

    async def secretive() -> None:
        Process.put("password", "hunter2")
        Process.flag("sensitive", True)
        send(me, "ready")
        await Process.sleep(None)

    pid = spawn(secretive)
    assert await receive() == "ready"
    send(pid, "a secret message")
    await wait_all_blocked()
    assert Process.info(pid, ["messages", "message_queue_len", "dictionary"]) == {
        "messages": [],
        "message_queue_len": 0,
        "dictionary": {},
    }
    assert Process.info(pid)["dictionary"] == {}  # type: ignore[index]


async def test_unknown_and_inapplicable_flags_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="Process.flag: unknown flag 'bogus'; the flags are"):
        Process.flag("bogus", 1)
    with pytest.raises(
        ValueError,
        match=r"flag 'min_heap_size' does not apply in tether \(Python manages memory\)",
    ):
        Process.flag("min_heap_size", 1000)
    with pytest.raises(ValueError, match="Process.flag: unknown flag 42"):
        Process.flag(42, True)  # type: ignore[arg-type]


async def test_a_flag_value_it_does_not_take_is_refused_and_changes_nothing() -> None:
    # elixir -e: Process.flag(:priority, :bogus) -> ArgumentError (2nd argument).
    with pytest.raises(ValueError, match="value for 'priority' must be one of 'low', 'normal'"):
        Process.flag("priority", "urgent")
    with pytest.raises(TypeError, match="value for 'sensitive' must be bool, got 1"):
        Process.flag("sensitive", 1)
    assert Process.info(self(), ["priority"]) == {"priority": "normal"}
