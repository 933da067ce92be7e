"""S-1 … S-11: signal ordering, the mailbox, receive, sending."""

from __future__ import annotations

import pytest

import tether
from tether import ANY, Down, Exit, Process, receive, self, send, spawn, spawn_monitor
from tether.testing import clock, wait_all_blocked

from .conftest import mailbox_now, wait_forever


async def test_s1_messages_from_one_sender_arrive_in_send_order() -> None:
    async def sender(top: tether.Pid) -> None:
        for i in range(1000):
            send(top, ("n", i))

    spawn(sender, self())
    got = [(await receive(("n", ANY)))[1] for _ in range(1000)]
    assert got == list(range(1000))


async def test_s2_messages_sent_before_an_exit_signal_are_delivered_first() -> None:
    Process.flag("trap_exit", True)

    async def sender(top: tether.Pid) -> None:
        send(top, "m1")
        send(top, "m2")
        Process.exit(top, "bye")
        send(top, "m3")

    pid = spawn(sender, self())
    assert await mailbox_now(timeout=1) == ["m1", "m2", Exit(pid, "bye"), "m3"]


async def test_s2_messages_sent_after_a_fatal_exit_signal_are_never_seen() -> None:
    async def victim(top: tether.Pid) -> None:
        got = []
        while True:
            got.append(await receive())
            send(top, ("saw", got[-1]))

    async def sender(v: tether.Pid) -> None:
        send(v, "before")
        Process.exit(v, "kill")
        send(v, "after")

    top = self()
    v, ref = spawn_monitor(victim, top)
    spawn(sender, v)
    assert await receive(Down) == Down(ref, "process", v, "killed")
    assert await mailbox_now() == []


async def test_s3_down_and_exit_come_after_every_message_of_the_dying_process() -> None:
    Process.flag("trap_exit", True)

    async def chatty(top: tether.Pid) -> None:
        for i in range(5):
            send(top, i)
        raise RuntimeError("done talking")

    pid = tether.spawn_link(chatty, self())
    ref = Process.monitor(pid)
    msgs = await mailbox_now(timeout=1)
    assert msgs[:5] == [0, 1, 2, 3, 4]
    assert {type(m) for m in msgs[5:]} == {Exit, Down}
    assert ref == next(m for m in msgs if isinstance(m, Down)).ref


async def test_s4_link_then_exit_from_one_sender_link_is_in_place_first() -> None:
    Process.flag("trap_exit", True)

    async def linker(top: tether.Pid) -> None:
        Process.link(top)
        raise RuntimeError("linked then died")

    pid = spawn(linker, self())
    msg = await receive()
    assert isinstance(msg, Exit) and msg.pid == pid


async def test_s5_selective_receive_takes_first_match_and_keeps_the_rest_in_order() -> None:
    for m in ["a", ("x", 1), "b", ("x", 2), 3, ("y", 0)]:
        send(self(), m)
    assert await receive(("x", ANY)) == ("x", 1)
    assert await receive(int) == 3
    assert await receive(lambda m: m == "b") == "b"
    assert await mailbox_now() == ["a", ("x", 2), ("y", 0)]


async def test_s6_timeout_zero_polls_and_raises_timeout_error() -> None:
    send(self(), "other")
    with pytest.raises(TimeoutError):
        await receive(int, timeout=0)
    assert await receive(timeout=0) == "other"


async def test_s6_receive_waits_at_least_the_timeout_on_the_virtual_clock() -> None:
    t0 = clock()
    with pytest.raises(TimeoutError):
        await receive(timeout=2.5)
    assert clock() - t0 == pytest.approx(2.5)


async def test_s6_invalid_timeouts_raise() -> None:
    with pytest.raises(ValueError, match="receive: timeout must be >= 0"):
        await receive(timeout=-1)
    with pytest.raises(TypeError, match="receive: timeout must be a number of seconds"):
        await receive(timeout="5")  # type: ignore[arg-type]


async def test_s7_send_returns_the_message_and_drops_to_dead_pids() -> None:
    assert send(tether.pid(0, 999_999, 0), "hello") == "hello"
    assert send(("nobody", "nonode@nohost"), "hi") == "hi"


async def test_s7_send_to_an_unregistered_name_raises_value_error() -> None:
    with pytest.raises(ValueError, match="send: no process is registered as 'nobody'"):
        send("nobody", "hi")


async def test_s7_send_to_a_registered_name_and_to_name_node() -> None:
    Process.register(self(), "me")
    send("me", 1)
    send(("me", tether.node()), 2)
    assert await mailbox_now() == [1, 2]


async def test_s8_a_dead_process_mailbox_is_gone() -> None:
    pid = spawn(wait_forever)
    send(pid, "lost")
    assert Process.info(pid, "messages") == ["lost"]
    Process.exit(pid, "kill")
    assert Process.info(pid, "messages") is None


async def test_s9_alive_is_false_right_after_kill() -> None:
    for _ in range(100):
        pid = spawn(wait_forever)
        Process.exit(pid, "kill")
        assert Process.alive(pid) is False


async def test_s10_info_sees_messages_sent_before_the_call() -> None:
    pid = spawn(wait_forever)
    send(pid, "a")
    send(pid, "b")
    assert Process.info(pid, ["messages", "message_queue_len"]) == {
        "messages": ["a", "b"],
        "message_queue_len": 2,
    }


async def test_s11_send_to_self_and_exit_self_keep_order() -> None:
    Process.flag("trap_exit", True)
    send(self(), "first")
    Process.exit(self(), "custom")
    send(self(), "last")
    assert await mailbox_now() == ["first", Exit(self(), "custom"), "last"]


def _indexed() -> bool:
    p = tether._runtime._node.NODE.current  # type: ignore[union-attr]
    assert p is not None and p.mailbox is not None
    return bool(p.mailbox.indexed())


async def test_tuple_pattern_receive_behind_many_queued_messages_uses_the_index() -> None:
    for i in range(10_000):
        send(self(), ("noise", i))
    ref = tether.make_ref()
    tether.make_ref()  # the receive marker is this one's now
    send(self(), (ref, "reply"))
    assert await receive((ref, ANY)) == (ref, "reply")
    assert _indexed()
    assert await receive(("noise", ANY)) == ("noise", 0)
    assert Process.info(self(), "message_queue_len") == 9_999


async def test_s5_a_receive_for_the_ref_made_last_looks_only_after_the_marker() -> None:
    # The receive marker: make_ref() then a receive tagged with that ref skips
    # the 10,000 messages queued before it, without the index.
    for i in range(10_000):
        send(self(), ("noise", i))
    for i in range(3):
        ref = tether.make_ref()
        send(self(), ("late", i))
        send(self(), (ref, i))
        assert await receive((ref, ANY)) == (ref, i)
    assert not _indexed()
    assert Process.info(self(), "message_queue_len") == 10_003
    assert await receive(("late", ANY)) == ("late", 0)


async def test_s5_the_marker_trusts_refs_to_be_unique_as_the_beams_does() -> None:
    # A ref built by hand equal to the next one made, queued before the
    # make_ref(): the marked receive does not see it; any other receive does.
    from tether._runtime._types import Ref

    for i in range(20):
        send(self(), ("noise", i))
    forged = Ref(tether.make_ref().n + 1)
    send(self(), (forged, "early"))
    ref = tether.make_ref()
    assert ref == forged and ref is not forged
    send(self(), (ref, "late"))
    assert await receive((ref, ANY)) == (ref, "late")
    with pytest.raises(TimeoutError):  # the marker holds until the next make_ref()
        await receive((ref, ANY), timeout=0)
    assert await receive((forged, ANY), timeout=0) == (forged, "early")  # not the marker's ref


async def _do_receive_opt(recipient: tether.Pid, disturber: object, inner: bool) -> str:
    ref = tether.make_ref()
    send(recipient, (ref, "msg"))
    await disturber()  # type: ignore[operator]
    try:
        await receive((ref, ANY), timeout=0)
    except TimeoutError:
        assert inner, "the expected message was not there"
        return "expected"
    return "ok"


async def test_s5_receive_opt_exception_an_abandoned_inner_marker_hides_nothing() -> None:
    # receive_SUITE receive_opt_exception: an inner make_ref() overwrites the
    # marker and raises before its receive; the outer receive finds its message.
    # (Behind 20 messages, so the marker is what the receives would use.)
    for i in range(20):
        send(self(), ("noise", i))

    class Aborted(Exception):
        pass

    async def throw() -> None:
        raise Aborted

    async def recurse() -> None:
        with pytest.raises(Aborted):
            await _do_receive_opt(self(), throw, False)

    assert await _do_receive_opt(self(), recurse, False) == "ok"
    got = await receive((ANY, "msg"))  # the inner one's message, never taken
    assert got[1] == "msg"
    assert Process.info(self(), "message_queue_len") == 20


async def test_s5_receive_opt_recursion_an_inner_marker_does_not_hide_the_outer_message() -> None:
    # receive_SUITE receive_opt_recursion: the inner make_ref()'s message goes to
    # another process, so its receive times out; then the outer one finds its own.
    for i in range(20):
        send(self(), ("noise", i))

    async def noop() -> None:
        pass

    async def recurse() -> None:
        black_hole = spawn(noop)
        assert await _do_receive_opt(black_hole, noop, True) == "expected"

    assert await _do_receive_opt(self(), recurse, False) == "ok"
    assert Process.info(self(), "message_queue_len") == 20


async def test_a_tagged_receive_compares_its_key_with_eq_behind_a_long_queue() -> None:
    # S-5: receive((key, ANY)) takes the first message whose first item == key,
    # on both cores (the native core skips __eq__ only where `is` implies ==):
    # a NaN is not equal to itself, an equal Ref that is another object matches,
    # and an equal str or int made at run time matches.
    from tether._runtime._types import Ref

    nan = float("nan")
    ref, twin = Ref(987_654), Ref(987_654)
    word = "".join(["ta", "g"])
    for i in range(200):
        send(self(), ("noise", i))
    for msg in [(nan, 1), (twin, 2), (ref, 3), ("tag", 4), (10**30, 5)]:
        send(self(), msg)
    assert twin is not ref and twin == ref
    with pytest.raises(TimeoutError):
        await receive((nan, ANY), timeout=0)
    assert await receive((ref, ANY)) == (twin, 2)
    assert await receive((twin, ANY)) == (ref, 3)
    assert await receive((word, ANY)) == ("tag", 4)
    assert await receive((int("1" + "0" * 30), ANY)) == (10**30, 5)
    assert Process.info(self(), "message_queue_len") == 201


async def test_send_after_delivers_and_cancel_timer_reports_time_left() -> None:
    t = Process.send_after(self(), "tick", 3)
    t2 = Process.send_after(self(), "never", 5)
    assert Process.cancel_timer(t2) == pytest.approx(5)
    assert await receive() == "tick"
    assert clock() == pytest.approx(3)
    assert Process.cancel_timer(t) is False
    assert Process.cancel_timer(t2) is False
    await Process.sleep(10)
    assert await mailbox_now() == []


async def test_send_after_to_a_pid_is_cancelled_when_that_process_dies() -> None:
    pid = spawn(wait_forever)
    t = Process.send_after(pid, "x", 1)
    Process.exit(pid, "kill")
    assert Process.read_timer(t) is False
    node = tether._runtime._node.NODE
    assert isinstance(node, tether._runtime._node.Node) and node.timers == {}


async def test_send_after_to_a_name_resolves_at_fire_time() -> None:
    Process.send_after("later", "hi", 1)
    Process.register(self(), "later")
    assert await receive() == "hi"


async def test_a_blocked_receive_checks_each_arrival_once_and_never_rescans() -> None:
    calls = 0

    def wanted(m: object) -> bool:
        nonlocal calls
        calls += 1
        return m == "match"

    async def waiter(top: tether.Pid) -> None:
        send(top, ("got", await receive(wanted)))

    pid = spawn(waiter, self())
    await wait_all_blocked()
    for i in range(1000):
        send(pid, i)
    assert calls == 1000  # one test per arriving message, nothing rescanned
    send(pid, "match")
    assert await receive(("got", ANY)) == ("got", "match")
    assert calls == 1001


async def test_s5_a_tagged_receive_takes_the_first_match_of_the_queue_and_keeps_the_rest() -> None:
    # The native core takes receive((key, ANY, ...)) in C when messages are queued.
    me = self()
    for m in ["x", ("b", 1), ("a", 1), ("a", 2, 3), ("a", 2), ("b", 2)]:
        send(me, m)
    assert await receive(("a", ANY)) == ("a", 1)
    assert await receive(("a", ANY, ANY)) == ("a", 2, 3)
    assert await receive(("a", ANY), timeout=None) == ("a", 2)
    assert await mailbox_now() == ["x", ("b", 1), ("b", 2)]


async def test_s5_a_tagged_receive_with_no_match_queued_waits_for_one() -> None:
    send(self(), ("other", 0))

    async def later(top: tether.Pid) -> None:
        send(top, ("other", 1))
        send(top, ("want", 2))

    spawn(later, self())
    assert await receive(("want", ANY)) == ("want", 2)
    assert await mailbox_now() == [("other", 0), ("other", 1)]


async def test_a_tagged_receive_compares_with_eq_and_an_eq_that_raises_reaches_the_receiver() -> (
    None
):
    class Key:
        def __init__(self, n: int) -> None:
            self.n = n

        def __eq__(self, other: object) -> bool:
            if self.n < 0:
                raise ValueError("bad key")
            return isinstance(other, Key) and other.n == self.n

        def __hash__(self) -> int:
            return 0

    send(self(), (Key(1), "one"))
    send(self(), (Key(2), "two"))
    got = await receive((Key(2), ANY))  # an equal key, not the same object
    assert got[1] == "two"
    send(self(), (Key(-1), "bad"))
    with pytest.raises(ValueError, match="bad key"):
        await receive((Key(5), ANY))
    assert [m[1] for m in await mailbox_now()] == ["one", "bad"]


async def test_quick_tagged_receives_count_once_each_found_or_not() -> None:
    # _receive counts a receive that finds the mailbox non-empty (the fairness
    # yield every 256th); the native core's C path counts the same.
    node = tether._runtime._node.NODE
    assert node is not None
    for i in range(3):
        send(self(), ("t", i))
    before = node.quick_receives
    for i in range(3):
        assert await receive(("t", ANY)) == ("t", i)
    assert node.quick_receives == before + 3
    send(self(), ("u", 0))

    async def later(top: tether.Pid) -> None:
        send(top, ("t", 9))

    spawn(later, self())
    assert await receive(("t", ANY)) == ("t", 9)  # not queued: one quick receive, then waits
    assert node.quick_receives == before + 4


async def test_many_quick_tagged_receives_yield_to_other_processes() -> None:
    # Fairness: a process that keeps finding its tagged messages still lets
    # another run (every 256th quick receive yields once).
    ran: list[int] = []

    async def other() -> None:
        ran.append(1)

    me = self()
    for i in range(600):
        send(me, ("t", i))
    spawn(other)
    for i in range(600):
        assert await receive(("t", ANY)) == ("t", i)
        if ran:
            break
    assert ran == [1] and i < 300


async def test_s5_receive_in_between_a_receive_between_make_ref_and_its_reply() -> None:
    # receive_SUITE receive_in_between: a receive for something else between
    # make_ref() and the receive of the ref's reply (behind 20 queued messages,
    # so the reply's receive is the marker's).
    async def echo_loop() -> None:
        while True:
            ref, (pid, msg) = await receive((ANY, (ANY, ANY)))
            send(pid, (ref, msg))

    for i in range(20):
        send(self(), ("noise", i))
    echo = spawn(echo_loop)
    for i in range(1_000):
        send(self(), "dummy")
        ref = tether.make_ref()
        send(echo, (ref, (self(), ("a", i))))
        assert await receive(lambda m: m == "dummy") == "dummy"
        assert await receive((ref, ANY)) == (ref, ("a", i))
    assert Process.info(self(), "message_queue_len") == 20
