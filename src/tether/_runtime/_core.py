"""Which core runs: the native one (``_cnode``, C) or the pure-Python one.

``TETHER_CORE=python`` forces the pure-Python core; ``TETHER_CORE=native`` requires
the C core (an ``ImportError`` if it was not built); unset (or empty) means the
native core when it is installed.  The Python core is the reference: the C core
mirrors its hot paths and calls its methods for everything else (see
``_cnode.c``), so both behave the same and the same tests run on both.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Final

_CHOICES: Final = ("", "native", "python")


def _load() -> ModuleType | None:
    choice = os.environ.get("TETHER_CORE", "")
    if choice not in _CHOICES:
        raise ValueError(
            f"TETHER_CORE must be 'native', 'python' or unset, got {choice!r}; "
            "unset it to use the native core when it is installed"
        )
    if choice == "python":
        return None
    try:
        from . import _cnode  # type: ignore[attr-defined, unused-ignore]
    except ImportError as ex:
        if choice == "native":
            raise ImportError(
                "TETHER_CORE=native, but tether's native core (tether._runtime._cnode) "
                "is not installed: install a tether wheel for this platform, or build "
                "it from source with a C compiler; or unset TETHER_CORE"
            ) from ex
        return None
    return _cnode


# The C extension module, or None for the pure-Python core.
native: Final = _load()
# The core's name, as `tether --version` prints it.
NAME: Final = "python" if native is None else "native"
