"""Elixir 1.14's ``lib/elixir/test/elixir/process_test.exs``, ported.

One test per ExUnit test (and per doctest of ``doctest Process``), named after it,
with the original test name above it.  ExUnit's ``assert_receive`` waits 100 ms;
here that is 0.1 s of the virtual clock.  Time is in seconds, as everywhere in
tether (Elixir's 10 ms is 0.01).  Tests with no meaning for tether are listed in
tests/elixir_suite/README.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from tether import ANY, Exit, Process, receive, self, spawn, spawn_link
from tether.testing import clock

# ExUnit's default assert_receive / refute_receive timeout (100 ms).
RECEIVE_TIMEOUT = 0.1


async def assert_receive(pattern: Any, timeout: float = RECEIVE_TIMEOUT) -> Any:
    """ExUnit's ``assert_receive``: a message matching ``pattern`` arrives in time."""
    if isinstance(pattern, tuple | Exit):
        return await receive(pattern, timeout=timeout)
    return await receive(lambda m: m == pattern, timeout=timeout)


async def refute_receive(pattern: Any, timeout: float = RECEIVE_TIMEOUT) -> None:
    """ExUnit's ``refute_receive``: no message matching ``pattern`` arrives in time."""
    with pytest.raises(TimeoutError):
        await assert_receive(pattern, timeout)


async def sleeper(seconds: float) -> None:
    await Process.sleep(seconds)


# process_test.exs: test "dictionary"
async def test_dictionary() -> None:
    assert Process.put("foo", "bar") is None
    assert Process.put("foo", "baz") == "bar"

    assert "foo" in Process.get_keys()
    assert "bar" not in Process.get_keys()
    assert "baz" not in Process.get_keys()
    assert Process.get_keys("bar") == []
    assert Process.get_keys("baz") == ["foo"]

    assert Process.get("foo") == "baz"
    assert Process.delete("foo") == "baz"
    assert Process.get("foo") is None


# process_test.exs: test "sleep/1"
async def test_sleep_1() -> None:
    # Elixir returns :ok; tether's Process.sleep returns None (CONTRACT.md).
    assert await Process.sleep(0) is None


# process_test.exs: test "info/2"
async def test_info_2() -> None:
    pid = spawn(sleeper, 1)
    assert Process.info(pid, "priority") == "normal"
    assert Process.info(pid, ["priority"]) == {"priority": "normal"}

    Process.exit(pid, "kill")
    # Erlang's :backtrace item is a text dump; tether's stack item is current_stacktrace.
    assert Process.info(pid, "current_stacktrace") is None
    assert Process.info(pid, ["current_stacktrace", "status"]) is None


# process_test.exs: test "info/2 with registered name"
async def test_info_2_with_registered_name() -> None:
    async def nothing() -> None:
        return None

    pid = spawn(nothing)
    Process.exit(pid, "kill")
    assert Process.info(pid, "registered_name") is None
    assert Process.info(pid, ["registered_name"]) is None

    # The BEAM answers [] for a live unnamed process.  CONTRACT.md pins None in the
    # single-item form; the list form tells unnamed-and-alive from dead.
    assert Process.info(self(), "registered_name") is None
    assert Process.info(self(), ["registered_name"]) == {"registered_name": None}

    Process.register(self(), "ProcessTest")
    assert Process.info(self(), "registered_name") == "ProcessTest"
    assert Process.info(self(), ["registered_name"]) == {"registered_name": "ProcessTest"}


# process_test.exs: test "send_after/3 sends messages once expired"
async def test_send_after_3_sends_messages_once_expired() -> None:
    Process.send_after(self(), "hello", 0.01)
    assert await assert_receive("hello") == "hello"


# process_test.exs: test "send_after/4 with absolute time sends message once expired"
async def test_send_after_4_with_absolute_time_sends_message_once_expired() -> None:
    time = clock() + 0.01  # System.monotonic_time(:millisecond) + 10
    Process.send_after(self(), "hello", time, abs=True)
    assert await assert_receive("hello") == "hello"


# process_test.exs: test "send_after/3 returns a timer reference that can be read or cancelled"
async def test_send_after_3_returns_a_timer_reference_that_can_be_read_or_cancelled() -> None:
    # Elixir answers whole milliseconds (is_integer); tether answers float seconds.
    timer = Process.send_after(self(), "hello", 100)
    await refute_receive("hello", 0)
    assert Process.read_timer(timer) == pytest.approx(100, abs=1e-9)
    assert Process.cancel_timer(timer) == pytest.approx(100, abs=1e-9)

    timer = Process.send_after(self(), "hello", 0)
    assert await assert_receive("hello") == "hello"
    assert Process.read_timer(timer) is False
    assert Process.cancel_timer(timer) is False

    timer = Process.send_after(self(), "hello", 100)
    assert Process.cancel_timer(timer, async_=True) == "ok"
    _, ref, result = await assert_receive(("cancel_timer", timer, ANY))
    assert ref is timer
    assert result == pytest.approx(100, abs=1e-9)


# process_test.exs: test "exit(pid, :normal) does not cause the target process to exit"
async def test_exit_pid_normal_does_not_cause_the_target_process_to_exit() -> None:
    Process.flag("trap_exit", True)

    async def wait_done() -> None:
        await receive(lambda m: m == "done")

    pid = spawn_link(wait_done)

    assert Process.exit(pid, "normal") is True
    await refute_receive(Exit(pid, "normal"))
    assert Process.alive(pid)

    # now exit the process for real so it doesn't hang around
    assert Process.exit(pid, "abnormal") is True
    assert await assert_receive(Exit(pid, "abnormal")) == Exit(pid, "abnormal")
    assert not Process.alive(pid)


# process_test.exs: test "exit(self(), :normal) causes the calling process to exit"
async def test_exit_self_normal_causes_the_calling_process_to_exit() -> None:
    Process.flag("trap_exit", True)

    async def exit_normal() -> None:
        Process.exit(self(), "normal")

    pid = spawn_link(exit_normal)
    assert await assert_receive(Exit(pid, "normal")) == Exit(pid, "normal")
    assert not Process.alive(pid)


# -- doctest Process ---------------------------------------------------------------


# process_test.exs: doctest Process.delete/1 (1)
async def test_doctest_process_delete_1() -> None:
    Process.put("comments", ["comment", "other comment"])
    assert Process.delete("comments") == ["comment", "other comment"]
    assert Process.delete("comments") is None


# process_test.exs: doctest Process.get/2 (2)
async def test_doctest_process_get_2() -> None:
    # Assuming "locale" was not set
    assert Process.get("locale", "pt") == "pt"
    assert Process.put("locale", "fr") is None
    assert Process.get("locale", "pt") == "fr"


# process_test.exs: doctest Process.get_keys/0 (3)
async def test_doctest_process_get_keys_0() -> None:
    # Assuming "locale" was not set
    assert ("locale" in Process.get_keys()) is False
    assert Process.put("locale", "pt") is None
    assert ("locale" in Process.get_keys()) is True


# process_test.exs: doctest Process.put/2 (4)
async def test_doctest_process_put_2() -> None:
    # Assuming "locale" was not set
    assert Process.put("locale", "en") is None
    assert Process.put("locale", "fr") == "en"
