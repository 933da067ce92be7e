"""Property: a supervision tree under random kills ends either with every permanent
child alive, or with the supervisor exited "shutdown" exactly when more than
max_restarts restarts fell within max_seconds — nothing in between, nothing leaked."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tether
import tether.testing
from tether import ANY, Exit, GenServer, Ok, Process, Supervisor, receive, self
from tether.testing import wait_all_blocked


class Leaf(GenServer):
    def init(self, arg: Any) -> Any:
        return Ok(arg)

    @classmethod
    def child_spec(cls, arg: Any = None) -> dict[str, Any]:
        return {**super().child_spec(arg), "id": arg}


def model_dies(kills: list[tuple[int, int]], max_restarts: int, period: int) -> int | None:
    """supervisor.erl add_restart: the index of the kill that stops it, or None."""
    now, stamps = 0, []
    for i, (gap, _victim) in enumerate(kills):
        now += gap
        stamps = [now, *(r for r in stamps if r >= now - period)]
        if len(stamps) > max_restarts:
            return i
    return None


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    strategy=st.sampled_from(["one_for_one", "one_for_all", "rest_for_one"]),
    n=st.integers(1, 4),
    max_restarts=st.integers(0, 3),
    period=st.integers(1, 5),
    kills=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=10),
)
def test_random_kills_end_all_alive_or_shutdown_exactly_as_the_intensity_model_says(
    strategy: str, n: int, max_restarts: int, period: int, kills: list[tuple[int, int]]
) -> None:
    async def main() -> None:
        Process.flag("trap_exit", True)
        _, sup = await Supervisor.start_link(
            [(Leaf, i) for i in range(n)],
            strategy=strategy,
            max_restarts=max_restarts,
            max_seconds=period,
        )
        dies_at = model_dies(kills, max_restarts, period)
        for i, (gap, victim) in enumerate(kills):
            await Process.sleep(gap)
            if dies_at is not None and i > dies_at:
                break
            assert Process.alive(sup), f"died before kill {i}, model says {dies_at}"
            children = {cid: pid for cid, pid, _t, _m in await Supervisor.which_children(sup)}
            Process.exit(children[victim % n], "kill")
            await wait_all_blocked()
        if dies_at is None:
            children = {cid: pid for cid, pid, _t, _m in await Supervisor.which_children(sup)}
            assert sorted(children) == list(range(n))
            assert all(isinstance(p, tether.Pid) and Process.alive(p) for p in children.values())
            assert len(set(children.values())) == n
            await Supervisor.stop(sup)
        else:
            assert await receive(Exit(sup, ANY)) == Exit(sup, "shutdown")
        await wait_all_blocked()
        assert Process.list() == [self()]

    tether.testing.run(main)
