"""``python -m tether`` / the ``tether`` command (the shell arrives with its issue)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tether`` command."""
    return 0


if __name__ == "__main__":
    sys.exit(main())
