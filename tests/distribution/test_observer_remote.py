"""The observer of another node: a tether node (its tether_observer rpc calls) and a
live Elixir node (the standard calls every BEAM answers), and ``tether top``.

Real time and real OS processes: waits are on answers and printed text, with the
fixtures' generous timeouts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest

import tether
from tether import GenServer, Ok, Pid, rpc
from tether.observer._model import Model
from tether.observer._source import BeamSource, TetherSource, connect

from ..conftest import FORKPTY_AFTER_UVLOOP
from .conftest import COOKIE, Peer, Twin, ev, ev_arg, run_node, unique

pytestmark = FORKPTY_AFTER_UVLOOP

DEMO = Path(__file__).resolve().parent.parent / "observer" / "demo_node.py"

# A small supervision tree on the Elixir node, under no application (as a script
# starts one), and a process whose messages stay queued.
ELIXIR_TREE = """
leaf = %{id: :leaf, start: {Agent, :start_link, [fn -> :leaf end]}}
inner_opts = [strategy: :rest_for_one, max_restarts: 7, max_seconds: 9]
children = [
  %{id: :worker_a, start: {Agent, :start_link, [fn -> %{hits: 0} end, [name: :worker_a]]}},
  %{id: :worker_b, start: {Agent, :start_link, [fn -> 1 end]}},
  %{id: :inner_sup, type: :supervisor, start: {Supervisor, :start_link, [[leaf], inner_opts]}}
]
{:ok, sup} = Supervisor.start_link(children, strategy: :one_for_one, name: :demo_sup)
Process.unlink(sup)
inbox = spawn(fn -> receive do :never -> :ok end end)
Process.register(inbox, :inbox)
for m <- [:first, {:second, 2}, "third"], do: send(inbox, m)
:ok
"""


@pytest.fixture
def demo_node(epmd_port: int) -> Iterator[str]:
    """demo_node.py as a distributed tether node (it allows remote actions)."""
    name = unique("demo")
    proc = subprocess.Popen(
        [sys.executable, str(DEMO), name, COOKIE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "ERL_EPMD_PORT": str(epmd_port)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("URL "), line
    try:
        yield name
    finally:
        proc.communicate(input="", timeout=30)


def _find(tree: list[dict[str, Any]], child_id: str) -> dict[str, Any] | None:
    for node in tree:
        if node["id"] == child_id:
            return node
        found = _find(node["children"], child_id)
        if found is not None:
            return found
    return None


def test_a_remote_tether_node_answers_the_observer_read_only_calls(demo_node: str) -> None:
    async def main() -> None:
        source = await connect(demo_node)
        assert isinstance(source, TetherSource)
        o = await source.overview()
        assert (o["kind"], o["node"], o["actions"]) == ("tether", demo_node, True)
        assert o["processes"] >= 8 and o["spawns"] >= 8 and o["messages"] > 0
        # Its connection to us, with the kernel's byte counters (Linux).
        [conn] = [c for c in o["connections"] if c["node"] == str(tether.node())]
        assert conn["up"] is True and conn["sent"] > 0 and conn["received"] > 0
        rows = (await source.processes("message_queue_len", 5))["rows"]
        assert rows[0]["name"] == "inbox" and rows[0]["message_queue_len"] == 3
        inbox: Pid = rows[0]["pid"]
        assert inbox.node == demo_node  # a pid of that node, usable here
        page = await source.process(inbox)
        assert page is not None
        assert page["messages"] == ['"first"', '("second", 2)', '{"third": [3]}']
        assert page["info"]["registered_name"] == ":inbox"
        tree = await source.tree()
        assert [t["id"] for t in tree] == ["root"] and tree[0]["strategy"] == "one_for_one"
        counter = _find(tree, ":counter")
        assert counter is not None and counter["type"] == "worker"
        # The demo node allowed actions: a kill from here, and its supervisor
        # restarts the child (the model sees the new pid under the same id).
        model = Model(source)
        await model.sample_tree()
        assert await source.exit_process(counter["pid"], "kill") is True
        for _ in range(50):
            await tether.Process.sleep(0.1)
            await model.sample_tree()
            if any(e["kind"] == "restart" for e in model.events):
                break
        [event] = [e for e in model.events if e["kind"] == "restart"]
        assert event["text"].startswith(f"Supervisor {tree[0]['children'][0]['pid']!r}")
        assert f"restarted child :counter: {counter['pid']!r} -> " in event["text"]
        logs = await source.logs(0)
        assert any("Child :counter of Supervisor" in e["text"] for e in logs["entries"])

    run_node(main)


def test_a_tether_node_refuses_actions_unless_it_allowed_them(twin: Twin) -> None:
    async def main() -> None:
        source = await connect(twin.name)
        assert isinstance(source, TetherSource)
        o = await source.overview()
        assert o["actions"] is False
        victim = (await source.processes("pid", 1))["rows"][0]["pid"]
        with pytest.raises(rpc.RpcError) as e:
            await source.exit_process(victim, "kill")
        assert (e.value.kind, e.value.reason) == ("error", "undef")
        assert await rpc.call(twin.name, "erlang", "is_process_alive", [victim]) is True

    run_node(main)


def test_a_live_elixir_node_is_observed_through_the_standard_calls(own_ex: Peer) -> None:
    async def main() -> None:
        assert await ev(own_ex, ELIXIR_TREE) == "ok"
        source = await connect(own_ex.name)
        assert isinstance(source, BeamSource)
        o = await source.overview()
        assert o["kind"] == "beam" and o["system"].startswith("Erlang/OTP 25, Elixir 1.14")
        assert o["processes"] > 30 and o["memory"]["total"] > 0 and o["messages"] is None
        assert any(c["node"] == str(tether.node()) for c in o["connections"])
        rows = (await source.processes("message_queue_len", 3))["rows"]
        assert (rows[0]["name"], rows[0]["message_queue_len"]) == ("inbox", 3)
        page = await source.process(rows[0]["pid"])
        assert page is not None and page["messages"] == [":first", "(:second, 2)", '"third"']
        tree = await source.tree()
        apps = {t["id"] for t in tree if t["type"] == "application"}
        assert {"kernel", "elixir"} <= apps
        [demo] = [t for t in tree if t["type"] == "supervisor" and t["id"] == "root"]
        assert (demo["strategy"], demo["intensity"], demo["period"]) == ("one_for_one", 3, 5)
        ids = [c["id"] for c in demo["children"]]
        assert ids == [":worker_a", ":worker_b", ":inner_sup"]
        inner = demo["children"][2]
        assert (inner["type"], inner["strategy"], inner["intensity"], inner["period"]) == (
            "supervisor",
            "rest_for_one",
            7,
            9,
        )
        # A GenServer's (an Agent's) state through sys:get_status.
        worker_a = demo["children"][0]
        state_page = await source.process(worker_a["pid"])
        assert state_page is not None and state_page["state"] == "{:hits: 0}"
        assert state_page["kind"] == "server"
        # Kill a worker: the model sees the restart and, by its monitor, the exit.
        model = Model(source)
        await model.sample_tree()
        assert await source.exit_process(worker_a["pid"], "kill") is True
        for _ in range(50):
            await tether.Process.sleep(0.1)
            await model.sample_tree()
            kinds = {e["kind"] for e in model.events}
            if {"restart", "exit"} <= kinds:
                break
        texts = [e["text"] for e in model.events]
        assert any(f"{worker_a['pid']!r} (child :worker_a of Supervisor" in t for t in texts)
        assert any("exited: :killed" in t for t in texts)
        assert any("restarted child :worker_a" in t for t in texts)
        # Sending a message from the observer (any BEAM accepts erlang:send).
        await source.send_message(rows[0]["pid"], '"fourth"')
        page = await source.process(rows[0]["pid"])
        assert page is not None and page["message_count"] == 4

    run_node(main)


def test_tether_top_draws_the_remote_node_and_refreshes_through_a_pty(
    demo_node: str, epmd_port: int
) -> None:
    env = dict(os.environ, ERL_EPMD_PORT=str(epmd_port), TERM="xterm", COLUMNS="160")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "tether", "top", "--connect", demo_node, "--cookie", COOKIE],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 160),
    )
    try:
        child.expect(f"tether top  {demo_node}")
        child.expect("inbox")
        # It redraws by itself: the header again, without a key.
        child.expect(f"tether top  {demo_node}")
        child.send("b")  # sort by mailbox
        child.expect("sort: message_queue_len")
        child.send("2")  # the tree
        child.expect("view: tree")
        child.expect("workers_sup")
        child.expect("one_for_one max 3 in 5 s, restarts 0")
        child.send("3")
        child.expect("view: log")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


class Store(GenServer):
    def init(self, arg: Any, /) -> Any:
        return Ok({"items": arg, "token": "s3cret"})

    def format_status(self, status: dict[str, Any], /) -> dict[str, Any]:
        return {"state": {**status["state"], "token": "***"}}


def test_elixirs_sys_get_state_and_get_status_work_on_a_tether_server(ex: Peer) -> None:
    async def main() -> None:
        _, pid = await Store.start_link([1, 2])
        state = await ev_arg(ex, ":sys.get_state(arg)", pid)
        assert state == {"items": [1, 2], "token": "s3cret"}
        status = await ev_arg(
            ex,
            "{:status, p, mod, [_pdict, sys_state, parent, _debug, items]} = "
            ':sys.get_status(arg); [_header, _data, {:data, [{"State", st}]}] = items; '
            "{p, mod, sys_state, parent, st}",
            pid,
        )
        assert status == (
            pid,
            ("module", "gen_server"),
            "running",
            tether.self(),
            {"items": [1, 2], "token": "***"},
        )

    run_node(main)
