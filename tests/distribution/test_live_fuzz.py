"""The live-node fuzzer's slice in the suite (issue #12 item 2); the full run is
``python -m tests.distribution.live_fuzz --messages 1000000``."""

from __future__ import annotations

import pytest

from . import live_fuzz

pytestmark = [pytest.mark.timeout(300), pytest.mark.usefixtures("epmd_port")]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_live_node_survives_fuzzed_control_messages_with_its_tables_whole(seed: int) -> None:
    s = live_fuzz.run(30_000, seed=seed)
    assert s.violations == []
    assert s.unexpected_logs == []
    assert s.messages >= 30_000
    # every invalid batch closed its connection, and only those did
    assert s.invalid >= 20 and s.closed_as_expected == s.invalid
    assert s.disconnects + s.hangups >= 1 and s.checkpoints >= 5
    assert set(s.ops) == {1, 2, 3, 4, 6, 7, 8, 19, 20, 21, 22, 24, 26, 28, 29, 31, 33, 35, 36}
