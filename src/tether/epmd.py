"""A built-in epmd for machines without Erlang: ``python -m tether.epmd [-port N]``."""

from ._dist.epmd import EpmdServer, main, names

__all__ = ["EpmdServer", "main", "names"]

if __name__ == "__main__":
    main()
