"""Conformance against the real BEAM: each pair prints the same normalised trace.

tether's side is compared with the Elixir output recorded beside it; where
``elixir`` is installed (CI installs it) the Elixir side is run again live and
compared too, so a recording can never drift from the BEAM.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from .harness import elixir, expected, names, run_elixir, run_tether

NAMES = names()


def test_there_are_at_least_40_pairs_each_with_a_twin_and_a_recording() -> None:
    from .harness import SCENARIOS

    assert len(NAMES) >= 40
    for name in NAMES:
        assert (SCENARIOS / f"{name}.py").exists(), name
        assert (SCENARIOS / f"{name}.expected").exists(), name


@pytest.mark.parametrize("name", NAMES)
def test_tether_prints_the_recorded_beam_trace(name: str) -> None:
    assert run_tether(name) == expected(name)


@pytest.fixture(scope="session")
def live_elixir() -> dict[str, str]:
    if elixir() is None:
        if os.environ.get("TETHER_REQUIRE_ELIXIR"):
            pytest.fail("TETHER_REQUIRE_ELIXIR is set but elixir is not installed")
        pytest.skip("elixir is not installed; the recorded traces were compared instead")
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(NAMES, pool.map(run_elixir, NAMES), strict=True))


@pytest.mark.parametrize("name", NAMES)
def test_the_live_beam_still_prints_the_recorded_trace(
    name: str, live_elixir: dict[str, str]
) -> None:
    assert live_elixir[name] == expected(name)
