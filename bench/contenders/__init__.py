"""Each contender's side of the workloads (``WORKLOADS`` in each ``*_w`` module).

``TETHER_BENCH_LOOP=uvloop`` in the environment runs a contender on uvloop instead
of asyncio's own event loop (the ``*_uvloop`` contenders of ``python -m bench``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop the workloads run on: uvloop's when ``TETHER_BENCH_LOOP=uvloop``."""
    if os.environ.get("TETHER_BENCH_LOOP") == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None
