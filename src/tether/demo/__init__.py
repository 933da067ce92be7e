"""The tutorial that ``tether demo`` plays: *Elixir Processes: Linking and Monitoring*.

Each interaction of the article is a module here that tells its part of the story
the way IEx shows it (``tether>`` lines and their results), and prints the same
transcript every time: the one committed beside it as ``NAME.out``, which the test
suite checks.  The modules ship inside the package, so ``tether demo`` works from an
installed wheel as well as from a checkout; run one alone with
``python -m tether.demo.a7_monitors``.
"""

from __future__ import annotations

import importlib

import tether

__all__ = ["NAMES", "play"]

NAMES: tuple[str, ...] = (
    "a1_dead_processes_tell_no_tales",
    "a2_linked_server_killed",
    "a3_spawn_link_crash",
    "a4_process_link",
    "a5_trapping_exits",
    "a6_links_and_unlink",
    "a7_monitors",
    "a8_listing_and_demonitoring",
)
"""The demo's modules, in the order of the article."""


def play() -> int:
    """Run every interaction in order, each in a fresh node (``tether.run``).

    Returns:
        0, the exit code of ``tether demo``.
    """
    for name in NAMES:
        print(f"\n# {name}", flush=True)
        module = importlib.import_module(f"{__name__}.{name}")
        tether.run(module.main)
    return 0
