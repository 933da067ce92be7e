"""tether's benchmarks (the full side-by-side suite is its own issue; smoke.py is here)."""
