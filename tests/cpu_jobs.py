"""Functions for CPU worker tests: module-level, so worker processes import them."""

from __future__ import annotations

import os
import time


def square(x: int) -> int:
    return x * x


def pid_of_worker() -> int:
    return os.getpid()


def fail(message: str) -> None:
    raise ValueError(message)


def spin(seconds: float) -> int:
    """Burn CPU for ``seconds`` (a busy loop, as a CPU-bound job is); return the worker's pid."""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return os.getpid()


def crash_interpreter() -> None:
    os._exit(3)


def count_primes(lo: int, hi: int) -> int:
    """The benchmark's CPU-bound job: primes in [lo, hi) by trial division."""
    count = 0
    for n in range(max(lo, 2), hi):
        d = 2
        while d * d <= n:
            if n % d == 0:
                break
            d += 1
        else:
            count += 1
    return count
