"""The CPU-bound jobs of ``bench/cpu.py``: module-level (worker processes import
them by name) and exposed to peer nodes (``tether.rpc``)."""

from __future__ import annotations

from tether import rpc


@rpc.expose("bench_cpu")
def count_primes(lo: int, hi: int) -> int:
    """Primes in [lo, hi), by trial division: deliberately CPU-bound."""
    count = 0
    for n in range(max(lo, 2), hi):
        if n % 2 == 0:
            count += n == 2
            continue
        d = 3
        while d * d <= n:
            if n % d == 0:
                break
            d += 2
        else:
            count += 1
    return count


@rpc.expose("bench_cpu")
def square(x: int) -> int:
    """A job that costs nothing: what is left is the per-task overhead."""
    return x * x
