"""The node's introspection calls (tether._introspect) and the observer's model,
on the virtual clock: what the web page and tether top are made of."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import tether
from tether import (
    ANY,
    Atom,
    Down,
    GenServer,
    Ok,
    Process,
    Reply,
    Supervisor,
    receive,
    rpc,
    self,
    send,
    spawn,
    spawn_link,
)
from tether import _introspect as intro
from tether.observer._model import Model
from tether.observer._source import LocalSource
from tether.observer._web import to_json
from tether.testing import wait_all_blocked


class Keeper(GenServer):
    def init(self, arg: Any, /) -> Any:
        return Ok({"n": arg, "secret": "s"})

    def handle_call(self, request: Any, from_: Any, state: Any, /) -> Any:
        return Reply(state["n"], state)

    def format_status(self, status: dict[str, Any], /) -> dict[str, Any]:
        return {"state": {"n": status["state"]["n"], "secret": "***"}}


async def parked() -> None:
    await receive(lambda m: m == "never")


async def _keeper(n: int) -> Any:
    return await Keeper.start_link(n)


async def _sup_tree() -> tuple[tether.Pid, tether.Pid, tether.Pid]:
    inner = {
        "id": "inner",
        "start": (Supervisor.start_link, [[{"id": "k2", "start": (_keeper, [2])}]]),
        "type": "supervisor",
    }
    _, sup = await Supervisor.start_link(
        [{"id": "k1", "start": (_keeper, [1])}, inner], strategy="one_for_all", name="top"
    )
    [(_, inner_pid, _, _), (_, k1, _, _)] = await Supervisor.which_children(sup)
    return sup, inner_pid, k1


async def test_overview_counts_processes_and_keeps_cumulative_counters() -> None:
    first = intro.overview()
    pid = spawn(parked)
    send(pid, "x")
    send(pid, "y")
    await wait_all_blocked()
    second = intro.overview()
    assert second["kind"] == "tether" and second["node"] == "nonode@nohost"
    assert second["processes"] == first["processes"] + 1
    assert second["spawns"] == first["spawns"] + 1
    assert second["messages"] == first["messages"] + 2
    assert second["reductions"] > first["reductions"]
    assert second["connections"] == [] and second["actions"] is False
    assert second["memory"]["total"] > 0


async def test_the_process_table_sorts_and_describes_each_process() -> None:
    pid = spawn(parked)
    Process.register(pid, "parked")
    for m in range(5):
        send(pid, m)
    await wait_all_blocked()
    table = await intro.processes(limit=10, sort="message_queue_len")
    row = table["rows"][0]
    assert table["total"] == len(Process.list())
    assert {k: row[k] for k in ("pid", "name", "status", "message_queue_len", "received")} == {
        "pid": pid,
        "name": "parked",
        "status": "waiting",
        "message_queue_len": 5,
        "received": 5,
    }
    assert row["initial_call"] == "parked"
    assert row["current"].startswith("tests.observer.test_introspect.parked:")
    assert row["reductions"] == 1 and row["memory"] > 0
    by_pid = await intro.processes(limit=2, sort="pid")
    assert [r["pid"] for r in by_pid["rows"]] == Process.list()[:2]
    with pytest.raises(ValueError, match="sort must be one of"):
        await intro.processes(sort="cpu")


async def test_a_process_page_has_the_info_items_messages_stack_and_state() -> None:
    pid = spawn(parked)
    for m in ("a", ("b", 1), [3]):
        send(pid, m)
    Process.monitor(pid)
    await wait_all_blocked()
    page = await intro.process(pid, messages=2)
    assert page is not None
    assert page["messages"] == ['"a"', '("b", 1)'] and page["message_count"] == 3
    assert page["info"]["message_queue_len"] == "3"
    assert page["info"]["registered_name"] == "nil"
    assert page["info"]["initial_call"] == "tests.observer.test_introspect.parked/0"
    assert page["monitored_by"] == [self()]
    assert page["stack"][0].startswith("tests.observer.test_introspect.parked (")
    assert (page["kind"], page["state"]) == ("process", None)
    _, server = await Keeper.start_link(7)
    page = await intro.process(server)
    assert page is not None
    assert (page["kind"], page["state"]) == ("server", '{"n": 7, "secret": "***"}')
    assert ('"$initial_call"', '("tests.observer.test_introspect", "Keeper", 1)') in page[
        "dictionary"
    ]
    Process.exit(pid, "kill")
    assert await intro.process(pid) is None


async def test_the_tree_has_roots_flags_and_children_in_start_order() -> None:
    sup, inner, k1 = await _sup_tree()
    tree = await intro.tree()
    assert len(tree) == 1
    root = tree[0]
    assert {k: root[k] for k in ("pid", "id", "name", "type", "strategy", "intensity")} == {
        "pid": sup,
        "id": "root",
        "name": "top",
        "type": "supervisor",
        "strategy": "one_for_all",
        "intensity": 3,
    }
    assert root["period"] == 5 and root["restarts"] == 0
    assert [(c["id"], c["type"], c["pid"]) for c in root["children"]] == [
        (":k1", "worker", k1),
        (":inner", "supervisor", inner),
    ]
    [leaf] = root["children"][1]["children"]
    assert (leaf["id"], leaf["type"], leaf["status"]) == (":k2", "worker", "running")


async def test_the_model_sees_a_restart_as_a_new_pid_under_the_same_id() -> None:
    sup, _inner, k1 = await _sup_tree()
    model = Model(LocalSource())
    await model.sample()
    mon = Process.monitor(k1)
    Process.exit(k1, "kill")
    await receive(Down(mon, ANY, ANY, ANY))
    await wait_all_blocked()
    await model.sample()
    [new_k1] = [c["pid"] for c in model.tree[0]["children"] if c["id"] == ":k1"]
    assert new_k1 != k1
    restarts = [e["text"] for e in model.events if e["kind"] == "restart"]
    # one_for_all: every child of the root restarted (the inner supervisor too).
    assert f"Supervisor {sup!r} restarted child :k1: {k1!r} -> {new_k1!r}" in restarts
    assert model.tree[0]["children"][0]["restarted"] is True
    assert model.tree[0]["restarts"] == 1
    reports = [e["text"] for e in model.events if e["kind"] == "report"]
    assert any(t.startswith("Child :k1 of Supervisor :top terminated") for t in reports)
    point = model.history[-1]
    assert point["processes"] == model.overview["processes"]  # type: ignore[index]
    assert point["messages_rate"] is not None and point["utilisation"] is not None


async def test_graph_has_the_links_and_monitors_of_a_process() -> None:
    linked = spawn_link(parked)
    watched = spawn(parked)
    Process.monitor(watched)
    watcher = spawn(_watch, self())
    await wait_all_blocked()
    g = intro.graph(self())
    assert g is not None
    assert {(e["from"], e["to"], e["kind"]) for e in g["edges"]} == {
        (self(), linked, "link"),
        (self(), watched, "monitor"),
        (watcher, self(), "monitor"),
    }
    assert [n["pid"] for n in g["nodes"]] == [self(), linked, watched, watcher]
    assert g["nodes"][1]["label"] == "parked"


async def _watch(pid: tether.Pid) -> None:
    Process.monitor(pid)
    await Process.sleep(None)


async def test_logs_keep_the_reports_after_a_sequence_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    intro.capture_logs()
    start = intro.logs(0)["next"]
    caplog.set_level(logging.ERROR, logger="tether")

    async def crash() -> None:
        raise RuntimeError("observed")

    pid = spawn(crash)
    await wait_all_blocked()
    got = intro.logs(start)
    [entry] = got["entries"]
    assert entry["level"] == "error" and entry["pid"] == pid
    assert entry["text"].startswith(
        f"Process {pid!r} raised an exception\n** (RuntimeError) observed"
    )
    assert intro.logs(got["next"])["entries"] == []


def test_parse_term_reads_literals_and_bare_words_as_atoms() -> None:
    assert intro.parse_term("kill") == "kill" and isinstance(intro.parse_term("kill"), Atom)
    assert intro.parse_term(' ("shutdown", 2) ') == ("shutdown", 2)
    assert intro.parse_term('"text"') == "text" and type(intro.parse_term('"t"')) is str
    with pytest.raises(ValueError, match="neither a Python literal nor a bare word"):
        intro.parse_term("1 +")
    with pytest.raises(ValueError, match="give a Python literal"):
        intro.parse_term("  ")


async def test_actions_are_exposed_to_other_nodes_only_after_allow_actions() -> None:
    assert ("tether_observer", "overview") in rpc.exposed()
    assert ("tether_observer", "exit_process") not in rpc.exposed()
    intro.allow_actions()
    try:
        assert ("tether_observer", "exit_process") in rpc.exposed()
        assert intro.actions_allowed() is True
    finally:
        intro.allow_actions(False)
    assert intro.actions_allowed() is False
    with pytest.raises(TypeError, match="allow_actions: enabled must be a bool"):
        intro.allow_actions("yes")  # type: ignore[arg-type]
    pid = spawn(parked)
    assert intro.send_message(pid, '("hi", 1)') is True
    assert Process.info(pid, "messages") == [("hi", 1)]
    assert intro.exit_process(pid, "kill") is True
    assert not Process.alive(pid)


def test_json_shows_pids_as_text_and_notes_them() -> None:
    p = tether.pid(0, 70, 0)
    seen: dict[str, tether.Pid] = {}
    assert to_json({"a": (p, Atom("ok"), [1.5, None]), 2: b"x"}, seen) == {
        "a": ["#PID<0.70.0>", "ok", [1.5, None]],
        "2": "b'x'",
    }
    assert seen == {"#PID<0.70.0>": p}


async def test_start_checks_its_arguments_before_starting_anything() -> None:
    import tether.observer as observer

    with pytest.raises(ValueError, match="port must be an int from 0 to 65535"):
        await observer.start(port=70000)
    with pytest.raises(TypeError, match="node must be a node name"):
        await observer.start(node="nohost")
    with pytest.raises(TypeError, match="actions must be True or False"):
        await observer.start(actions="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="token must be a str of at least 8"):
        await observer.start(token="short")
    with pytest.raises(ValueError, match="interval must be > 0"):
        await observer.start(interval=0)
    assert observer.whereis() is None
    assert await observer.stop() is False
