"""Property tests (Hypothesis): mailbox order under selective receive; random
link/monitor/kill graphs deliver exactly one DOWN per monitor and leak nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tether
import tether.testing
from tether import ANY, Down, Exit, Process, receive, self, send, spawn
from tether._runtime import _core, _node
from tether._runtime._mailbox import MISSING, PyMailbox, compile_filters
from tether.testing import wait_all_blocked

# The mailbox tests run on both implementations (tests/test_mailbox.py compares them).
MAILBOXES: list[Any] = [PyMailbox] if _core.native is None else [PyMailbox, _core.native.Mailbox]
mailboxes = pytest.mark.parametrize("impl", MAILBOXES, ids=["python", "native"][: len(MAILBOXES)])

TAGS = ["a", "b", "c"]
messages = st.one_of(
    st.tuples(st.sampled_from(TAGS), st.integers(0, 5)),
    st.integers(0, 5),
    st.sampled_from(TAGS),
)
filters = st.one_of(
    st.just(()),
    st.sampled_from(TAGS).map(lambda t: ((t, ANY),)),
    st.tuples(st.sampled_from(TAGS), st.integers(0, 5)).map(lambda p: (p,)),
    st.just((int,)),
    st.sampled_from(TAGS).map(lambda t: ((t, ANY), int)),
    st.integers(0, 5).map(lambda n: ((lambda m, n=n: m == n),)),
)


def model_take(queue: list[Any], fs: tuple[Any, ...]) -> Any:
    """The reference: the first message in arrival order that any filter matches."""
    m = compile_filters(fs)
    for i, msg in enumerate(queue):
        if m is None or m.match(msg):
            return queue.pop(i)
    return MISSING


@mailboxes
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(messages.map(lambda m: ("put", m)), filters.map(lambda f: ("take", f))),
        max_size=120,
    )
)
def test_mailbox_matches_the_arrival_order_model_under_any_selective_receives(
    impl: Any, ops: list[tuple[str, Any]]
) -> None:
    mb, model = impl(), []
    for kind, arg in ops:
        if kind == "put":
            mb.put(arg)
            model.append(arg)
        else:
            m = compile_filters(arg)
            got = mb.pop_first() if m is None and len(mb) else (mb.take(m) if m else MISSING)
            assert got == model_take(model, arg)
        assert list(mb) == model


@mailboxes
@settings(max_examples=60, deadline=None)
@given(st.lists(messages, min_size=20, max_size=80), st.lists(filters, max_size=30))
def test_mailbox_index_gives_the_same_answers_as_a_scan(
    impl: Any, msgs: list[Any], takes: list[Any]
) -> None:
    mb, model = impl(), list(msgs)
    for m in msgs:
        mb.put(m)
    for fs in takes:
        m = compile_filters(fs)
        got = (mb.pop_first() if len(mb) else MISSING) if m is None else mb.take(m)
        assert got == model_take(model, fs)
    assert list(mb) == model


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages, max_size=40), st.lists(filters, max_size=20))
def test_receive_in_a_process_keeps_arrival_order_of_what_it_skips(
    msgs: list[Any], takes: list[Any]
) -> None:
    async def main() -> list[Any]:
        for m in msgs:
            send(self(), m)
        model = list(msgs)
        for fs in takes:
            try:
                got = await receive(*fs, timeout=0)
            except TimeoutError:
                got = MISSING
            assert got == model_take(model, fs)
        return Process.info(self(), "messages")  # type: ignore[no-any-return]

    remaining = tether.testing.run(main)
    model = list(msgs)
    for fs in takes:
        model_take(model, fs)
    assert remaining == model


graph = st.integers(2, 12).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=20),  # links
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=20),  # monitors
        st.lists(st.integers(0, n - 1), max_size=n),  # who traps
        st.lists(
            st.tuples(
                st.integers(0, n - 1), st.sampled_from(["kill", "normal", "boom", "shutdown"])
            ),
            max_size=n,
        ),  # kills
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph)
def test_random_link_monitor_kill_graphs_deliver_one_down_per_monitor_and_leak_nothing(
    g: tuple[int, list[tuple[int, int]], list[tuple[int, int]], list[int], list[tuple[int, str]]],
) -> None:
    n, links, monitors, trappers, kills = g

    async def node_proc(top: tether.Pid) -> None:
        downs: list[Any] = []
        while True:
            m = await receive()
            match m:
                case ("link", other):
                    if Process.alive(other):
                        Process.link(other)
                case ("monitor", other):
                    send(top, ("monitored", self(), Process.monitor(other), other))
                case ("trap",):
                    Process.flag("trap_exit", True)
                case ("report",):
                    send(top, ("downs", self(), downs))
                case Down():
                    downs.append(m)
                case Exit():
                    pass

    async def main() -> None:
        top = self()
        Process.flag("trap_exit", True)
        pids = [spawn(node_proc, top) for _ in range(n)]
        watch = {p: Process.monitor(p) for p in pids}
        for i in set(trappers):
            send(pids[i], ("trap",))
        for a, b in links:
            if a != b:
                send(pids[a], ("link", pids[b]))
        await wait_all_blocked()
        expected: dict[tether.Ref, tuple[tether.Pid, tether.Pid]] = {}
        for a, b in monitors:
            send(pids[a], ("monitor", pids[b]))
        await wait_all_blocked()
        while True:
            try:
                _, w, ref, target = await receive(("monitored", ANY, ANY, ANY), timeout=0)
            except TimeoutError:
                break
            if w != target:
                expected[ref] = (w, target)
        for i, reason in kills:
            Process.exit(pids[i], reason)
        await wait_all_blocked()
        # Symmetry among the living.
        alive = [p for p in pids if Process.alive(p)]
        for p in alive:
            for q in Process.info(p, "links"):
                assert q == top or (Process.alive(q) and p in Process.info(q, "links"))
        # Everyone reports the DOWNs seen so far.
        for p in alive:
            send(p, ("report",))
        await wait_all_blocked()
        seen: dict[tether.Ref, int] = {}
        while True:
            try:
                _, w, downs = await receive(("downs", ANY, ANY), timeout=0)
            except TimeoutError:
                break
            for d in downs:
                assert d.ref in expected and expected[d.ref] == (w, d.pid)
                seen[d.ref] = seen.get(d.ref, 0) + 1
        assert all(c == 1 for c in seen.values())
        # Every monitor whose target died before its (live) watcher delivered one DOWN.
        for ref, (w, target) in expected.items():
            if Process.alive(w) and not Process.alive(target):
                assert seen.get(ref) == 1
        for p in alive:
            Process.exit(p, "kill")
        await wait_all_blocked()
        assert Process.list() == [top]
        node = _node.NODE
        assert isinstance(node, _node.Node)
        assert node.names == {} and node.timers == {}
        assert Process.info(top, "links") == []
        assert Process.info(top, "monitors") == []
        assert Process.info(top, "monitored_by") == []
        downs_for_top = 0
        while True:
            try:
                m = await receive(timeout=0)
            except TimeoutError:
                break
            if isinstance(m, Down):
                assert watch[m.pid] == m.ref
                downs_for_top += 1
        assert downs_for_top == n

    tether.testing.run(main)
