"""Soak: many processes exchange many messages while 10% are killed at random.

Every message sent to a process that stays alive arrives exactly once and in
per-sender order; afterwards no link, monitor, name, timer or process is left.
CI runs a small scale; ``pytest -m soak`` runs the full one (10,000 processes,
1,000,000 messages).
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

import tether
import tether.testing
from tether import ANY, Down, Process, receive, self, send, spawn_monitor
from tether._runtime import _node


async def peer(index: int, top: tether.Pid) -> None:
    """Receive ("go", pids, n, seed): send n messages to random peers; count what arrives."""
    got: dict[int, int] = {}
    bad: list[Any] = []
    sent: dict[int, int] = {}
    while True:
        m = await receive()
        match m:
            case ("msg", src, seq):
                expect = got.get(src, 0)
                if seq != expect:
                    bad.append((src, seq, expect))
                got[src] = seq + 1
            case ("go", pids, n, seed):
                rng = random.Random(seed)
                for k in range(n):
                    j = rng.randrange(len(pids))
                    send(pids[j], ("msg", index, sent.get(j, 0)))
                    sent[j] = sent.get(j, 0) + 1
                    if k % 64 == 63:
                        await asyncio.sleep(0)
                send(top, ("sent", index, sent))
            case ("report",):
                send(top, ("report", index, got, bad))
            case "stop":
                return


def soak(n_procs: int, n_msgs: int, seed: int) -> None:
    async def main() -> None:
        top = self()
        rng = random.Random(seed)
        pids, refs = [], {}
        for i in range(n_procs):
            pid, ref = spawn_monitor(peer, i, top)
            pids.append(pid)
            refs[ref] = i
        per = n_msgs // n_procs
        for pid in pids:
            send(pid, ("go", pids, per, rng.random()))
        doomed = rng.sample(range(n_procs), n_procs // 10)
        for i in doomed:
            for _ in range(rng.randrange(3)):
                await asyncio.sleep(0)  # let some traffic flow between kills
            Process.exit(pids[i], "kill")
        dead = set(doomed)
        sent: dict[int, dict[int, int]] = {}
        downs = 0
        while len(sent) < n_procs - len(dead):
            m = await receive(("sent", ANY, ANY), Down)
            if isinstance(m, Down):
                assert refs[m.ref] in dead and m.reason == "killed"
                downs += 1
            else:
                sent[m[1]] = m[2]
        for i, pid in enumerate(pids):
            if i not in dead:
                send(pid, ("report",))
        expect: dict[int, dict[int, int]] = {}
        for src, counts in sent.items():
            for j, c in counts.items():
                expect.setdefault(j, {})[src] = c
        delivered = 0
        for _ in range(n_procs - len(dead)):
            _, i, got, bad = await receive(("report", ANY, ANY, ANY))
            assert bad == [], f"out of order or duplicated at {i}: {bad[:5]}"
            # Exactly once: what every live sender sent to this live receiver arrived.
            assert {src: c for src, c in got.items() if src in sent} == expect.get(i, {})
            delivered += sum(got.values())
        assert delivered >= (n_msgs // n_procs) * (n_procs - len(dead)) * 0.8
        for i, pid in enumerate(pids):
            if i not in dead:
                send(pid, "stop")
        while downs < n_procs:
            d = await receive(Down)
            assert d.reason == ("killed" if refs[d.ref] in dead else "normal")
            downs += 1
        assert Process.list() == [top]
        node = _node.NODE
        assert isinstance(node, _node.Node)
        assert node.names == {} and node.timers == {}
        assert Process.info(top, ["links", "monitors", "monitored_by"]) == {
            "links": [],
            "monitors": [],
            "monitored_by": [],
        }

    tether.testing.run(main)


def test_soak_small_scale_exactly_once_in_order_and_nothing_left_behind() -> None:
    soak(n_procs=1_000, n_msgs=100_000, seed=1)


@pytest.mark.soak
def test_soak_full_scale() -> None:
    soak(n_procs=10_000, n_msgs=1_000_000, seed=2)
