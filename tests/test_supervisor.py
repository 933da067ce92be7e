"""Supervisor: SU-1 … SU-8 (strategies, restart types, intensity, start, shutdown, API)."""

from __future__ import annotations

from typing import Any

import pytest

import tether
from tether import (
    ANY,
    Down,
    GenServer,
    NoReply,
    Ok,
    Process,
    Reply,
    Supervisor,
    receive,
    self,
    send,
)
from tether.testing import wait_all_blocked

from .conftest import mailbox_now

EVENTS: list[Any] = []


class Worker(GenServer):
    """A worker that records its start and stop in EVENTS."""

    def init(self, arg: Any) -> Any:
        EVENTS.append(("start", arg))
        Process.flag("trap_exit", True)
        return Ok(arg)

    def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
        return Reply(state, state)

    def terminate(self, reason: Any, state: Any) -> Any:
        EVENTS.append(("stop", state, reason))

    @classmethod
    def child_spec(cls, arg: Any = None) -> dict[str, Any]:
        return {**super().child_spec(arg), "id": arg}


def spec(cid: str, restart: str = "permanent", shutdown: Any = 5, **more: Any) -> dict[str, Any]:
    return {**Worker.child_spec(cid), "restart": restart, "shutdown": shutdown, **more}


async def pids(sup: tether.Pid) -> dict[Any, Any]:
    return {cid: pid for cid, pid, _t, _m in await Supervisor.which_children(sup)}


async def kill_child(sup: tether.Pid, cid: str, reason: Any = "kill") -> None:
    pid = (await pids(sup))[cid]
    Process.exit(pid, reason)
    await wait_all_blocked()


@pytest.fixture(autouse=True)
def clear_events() -> None:
    EVENTS.clear()


@pytest.mark.parametrize(
    ("strategy", "changed"),
    [
        ("one_for_one", {"b"}),
        ("one_for_all", {"a", "b", "c"}),
        ("rest_for_one", {"b", "c"}),
    ],
)
async def test_su1_strategies_restart_the_right_children(strategy: str, changed: set[str]) -> None:
    _, sup = await Supervisor.start_link([spec("a"), spec("b"), spec("c")], strategy=strategy)
    before = await pids(sup)
    EVENTS.clear()
    await kill_child(sup, "b")
    after = await pids(sup)
    assert {c for c in before if before[c] != after[c]} == changed
    stopped = [e[1] for e in EVENTS if e[0] == "stop"]
    started = [e[1] for e in EVENTS if e[0] == "start"]
    # Survivors stop in reverse start order, then everything restarts in start order.
    assert stopped == sorted(changed - {"b"}, reverse=True)
    assert started == sorted(changed)


async def test_su2_permanent_child_is_restarted_even_after_normal() -> None:
    _, sup = await Supervisor.start_link([spec("a")])
    before = (await pids(sup))["a"]
    await GenServer.stop(before)
    after = (await pids(sup))["a"]
    assert isinstance(after, tether.Pid) and after != before


async def test_su2_transient_child_restarts_only_after_abnormal_exit() -> None:
    _, sup = await Supervisor.start_link([spec("t", "transient")])
    first = (await pids(sup))["t"]
    await kill_child(sup, "t", "kill")
    second = (await pids(sup))["t"]
    assert second != first and isinstance(second, tether.Pid)
    await GenServer.stop(second, "shutdown")
    await wait_all_blocked()
    assert await Supervisor.which_children(sup) == [("t", "undefined", "worker", [Worker])]
    assert await Supervisor.count_children(sup) == {
        "specs": 1,
        "active": 0,
        "supervisors": 0,
        "workers": 1,
    }


async def test_su2_temporary_child_is_never_restarted_and_its_spec_is_removed() -> None:
    _, sup = await Supervisor.start_link([spec("tmp", "temporary"), spec("p")])
    await kill_child(sup, "tmp", "kill")
    assert list(await pids(sup)) == ["p"]


async def test_su2_temporary_bystander_of_one_for_all_is_not_restarted() -> None:
    _, sup = await Supervisor.start_link(
        [spec("tmp", "temporary"), spec("p")], strategy="one_for_all"
    )
    await kill_child(sup, "p")
    assert list(await pids(sup)) == ["p"]


async def test_su3_fourth_restart_within_five_seconds_shuts_the_supervisor_down() -> None:
    Process.flag("trap_exit", True)
    _, sup = await Supervisor.start_link([spec("a")])
    ref = Process.monitor(sup)
    for _ in range(3):
        await kill_child(sup, "a")
        assert Process.alive(sup)
    await kill_child(sup, "a")
    assert await receive(Down(ref, ANY, ANY, ANY)) == Down(ref, "process", sup, "shutdown")
    assert Process.list() == [self()]


async def test_su3_restarts_spread_beyond_the_period_do_not_accumulate() -> None:
    _, sup = await Supervisor.start_link([spec("a")], max_restarts=1, max_seconds=5)
    for _ in range(4):
        await kill_child(sup, "a")
        await Process.sleep(6)
    assert Process.alive(sup) is True


async def test_su3_max_restarts_zero_means_the_first_crash_stops_it() -> None:
    Process.flag("trap_exit", True)
    _, sup = await Supervisor.start_link([spec("a")], max_restarts=0)
    await kill_child(sup, "a")
    assert await receive(tether.Exit) == tether.Exit(sup, "shutdown")


async def test_su4_children_start_in_order_and_a_failure_stops_the_started_ones() -> None:
    class Fails(GenServer):
        def init(self, arg: Any) -> Any:
            return tether.Stop("nope")

    bad = {"id": "bad", "start": (Fails.start_link, (None,))}
    result = await Supervisor.start_link([spec("a"), spec("b"), bad, spec("c")])
    assert result == ("error", ("shutdown", ("failed_to_start_child", "bad", "nope")))
    assert EVENTS == [
        ("start", "a"),
        ("start", "b"),
        ("stop", "b", "shutdown"),
        ("stop", "a", "shutdown"),
    ]
    assert Process.list() == [self()]


async def test_su4_an_ignoring_child_stays_as_undefined() -> None:
    class Ignores(GenServer):
        def init(self, arg: Any) -> Any:
            return tether.Ignore()

    _, sup = await Supervisor.start_link([{"id": "ig", "start": (Ignores.start_link, (None,))}])
    assert await pids(sup) == {"ig": "undefined"}


async def test_su5_brutal_kill_skips_terminate_and_timeout_kills_an_overrunning_child() -> None:
    class Stubborn(Worker):
        async def terminate(self, reason: Any, state: Any) -> Any:
            await Process.sleep(100)

    stubborn = {"id": "s", "start": (Stubborn.start_link, ("s",)), "shutdown": 2}
    _, sup = await Supervisor.start_link([spec("bk", shutdown="brutal_kill"), stubborn])
    children = await pids(sup)
    refs = {cid: Process.monitor(pid) for cid, pid in children.items()}
    t0 = tether.testing.clock()
    await Supervisor.stop(sup)
    downs = {d.ref: d.reason for d in await mailbox_now()}
    assert downs[refs["bk"]] == "killed" and downs[refs["s"]] == "killed"
    assert tether.testing.clock() - t0 == pytest.approx(2)
    assert [e for e in EVENTS if e[0] == "stop" and e[1] == "bk"] == []


async def test_su5_children_stop_in_reverse_start_order_and_run_terminate() -> None:
    _, sup = await Supervisor.start_link([spec("a"), spec("b"), spec("c")])
    EVENTS.clear()
    assert await Supervisor.stop(sup) == "ok"
    assert EVENTS == [
        ("stop", "c", "shutdown"),
        ("stop", "b", "shutdown"),
        ("stop", "a", "shutdown"),
    ]


async def test_su6_exits_from_non_children_are_ignored() -> None:
    _, sup = await Supervisor.start_link([spec("a")])
    before = await pids(sup)

    async def stranger() -> None:
        Process.link(sup)
        tether.exit("stranger_bye")

    tether.spawn(stranger)
    await wait_all_blocked()
    assert Process.alive(sup) and await pids(sup) == before
    assert Process.info(sup, "trap_exit") is True


async def test_su7_api_return_values() -> None:
    _, sup = await Supervisor.start_link([spec("a")])
    assert [c[0] for c in await Supervisor.which_children(sup)] == ["a"]
    ok, b = await Supervisor.start_child(sup, spec("b"))
    assert ok == "ok"
    assert [c[0] for c in await Supervisor.which_children(sup)] == ["b", "a"]
    assert await Supervisor.start_child(sup, spec("b")) == ("error", ("already_started", b))
    assert await Supervisor.restart_child(sup, "b") == ("error", "running")
    assert await Supervisor.delete_child(sup, "b") == ("error", "running")
    assert await Supervisor.terminate_child(sup, "b") == "ok"
    assert await Supervisor.start_child(sup, spec("b")) == ("error", "already_present")
    ok, b2 = await Supervisor.restart_child(sup, "b")
    assert ok == "ok" and b2 != b
    assert await Supervisor.terminate_child(sup, "b") == "ok"
    assert await Supervisor.delete_child(sup, "b") == "ok"
    assert await Supervisor.terminate_child(sup, "b") == ("error", "not_found")
    assert await Supervisor.restart_child(sup, "b") == ("error", "not_found")
    assert await Supervisor.delete_child(sup, "b") == ("error", "not_found")
    assert await Supervisor.start_child(sup, {"start": (Worker.start_link, ("x",))}) == (
        "error",
        "missing_id",
    )
    assert await Supervisor.start_child(sup, {**spec("z"), "shutdown": -1}) == (
        "error",
        ("invalid_shutdown", -1),
    )


async def test_su8_child_spec_defaults_from_a_genserver_class_and_overrides() -> None:
    class Plain(GenServer):
        pass

    assert Plain.child_spec(7) == {
        "id": Plain,
        "start": (Plain.start_link, (7,)),
        "restart": "permanent",
        "shutdown": 5.0,
        "type": "worker",
    }
    assert Supervisor.child_spec_of((Plain, 1), id="x", restart="temporary")["id"] == "x"
    _, sup = await Supervisor.start_link([Plain, (Worker, "w")])
    assert [c[0] for c in await Supervisor.which_children(sup)] == ["w", Plain]


async def test_su8_duplicate_ids_are_refused() -> None:
    assert await Supervisor.start_link([spec("a"), spec("a")]) == (
        "error",
        ("start_spec", ("duplicate_child_name", "a")),
    )


async def test_nested_trees_and_module_based_supervisors() -> None:
    class Inner(Supervisor):
        def init(self, arg: Any) -> Any:
            return Supervisor.init_spec([spec("leaf")], strategy="one_for_one")

    class Top(Supervisor):
        def init(self, arg: Any) -> Any:
            return Supervisor.init_spec([Inner, spec("sibling")], strategy="one_for_all")

    _, top = await Top.start_link()
    kids = await pids(top)
    assert (await Supervisor.count_children(top)) == {
        "specs": 2,
        "active": 2,
        "supervisors": 1,
        "workers": 1,
    }
    leaf = (await pids(kids[Inner]))["leaf"]
    Process.exit(kids["sibling"], "kill")
    await wait_all_blocked()
    new = await pids(top)
    assert new[Inner] != kids[Inner] and Process.alive(leaf) is False


async def test_a_worker_cast_and_info_still_work_under_supervision() -> None:
    class Echo(GenServer):
        def handle_cast(self, request: Any, state: Any) -> Any:
            send(request, "echo")
            return NoReply(state)

    _, sup = await Supervisor.start_link([{"id": "e", "start": (Echo.start_link, (None,))}])
    GenServer.cast((await pids(sup))["e"], self())
    assert await receive() == "echo"


async def test_log5_supervisor_reports_are_quiet_by_default_and_go_to_tether_sasl() -> None:
    import logging

    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.INFO)
            self.lines: list[list[str]] = []

        def emit(self, record: logging.LogRecord) -> None:
            if record.name == "tether.sasl":
                self.lines.append(record.getMessage().splitlines()[:2])

    root = logging.getLogger()
    handler = Collect()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    sasl = logging.getLogger("tether.sasl")
    try:
        _, sup = await Supervisor.start_link([spec("a")])
        await kill_child(sup, "a")
        assert handler.lines == []  # quiet by default, as handle_sasl_reports: false
        sasl.propagate = True
        await kill_child(sup, "a")
    finally:
        sasl.propagate = False
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert handler.lines[0] == [f"Child :a of Supervisor {sup!r} terminated", "** (exit) :killed"]
    assert handler.lines[1][0] == f"Child :a of Supervisor {sup!r} started"


@pytest.mark.parametrize(
    ("auto", "stop_first_only_stops_sup"), [("any_significant", True), ("all_significant", False)]
)
async def test_su9_auto_shutdown_with_significant_children(
    auto: str, stop_first_only_stops_sup: bool
) -> None:
    Process.flag("trap_exit", True)
    sig = {"restart": "transient", "significant": True}
    _, sup = await Supervisor.start_link(
        [spec("s1", **sig), spec("s2", **sig), spec("other")], auto_shutdown=auto
    )
    await GenServer.stop((await pids(sup))["s1"])  # a normal exit: not restarted
    await wait_all_blocked()
    assert Process.alive(sup) is (not stop_first_only_stops_sup)
    if not stop_first_only_stops_sup:
        await GenServer.stop((await pids(sup))["s2"])
        await wait_all_blocked()
    assert await receive(tether.Exit) == tether.Exit(sup, "shutdown")
    assert Process.list() == [self()]


async def test_su9_a_permanent_child_cannot_be_significant() -> None:
    assert await Supervisor.start_link(
        [spec("p", significant=True)], auto_shutdown="any_significant"
    ) == (
        "error",
        ("start_spec", ("bad_combination", [("restart", "permanent"), ("significant", True)])),
    )
