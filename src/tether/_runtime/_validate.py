"""Argument checks shared by the runtime API and the behaviours built on it.

Every public function validates all of its arguments *before* it acts, so a bad
argument never leaves a half-done effect behind (a request sent, a monitor taken,
a server stopped).  The errors name the function the user called, the argument,
what was given and what to give instead: ``TypeError`` for a value of the wrong
kind, ``ValueError`` for the right kind with a wrong value.  These are the BEAM's
``badarg``, said the Python way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ._node import is_async_callable
from ._types import Pid, Port

__all__ = [
    "check_async_fun",
    "check_bool",
    "check_int",
    "check_pid",
    "check_seconds",
    "check_target",
    "check_timeout",
    "is_number",
]


def is_number(value: Any) -> bool:
    """An ``int`` or ``float`` that is not a ``bool``."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_async_fun(value: Any, what: str, arg: str = "fun") -> Any:
    """``value`` if it is an async callable (what a process runs), else ``TypeError``.

    For functions that hand ``value`` to a new process: checking here, before the
    spawn, keeps a plain function from failing later inside that process.
    """
    if not is_async_callable(value):
        raise TypeError(
            f"{what}: {arg} must be an async function (async def), got {value!r}; "
            "it runs in a new process, which runs a coroutine (wrap a plain function: "
            "async def f(x): return g(x))"
        )
    return value


def check_pid(value: Any, what: str, arg: str = "pid") -> Pid:
    """``value`` if it is a :class:`Pid`, else ``TypeError``."""
    if type(value) is not Pid:
        if type(value) is Port:
            raise TypeError(
                f"{what}: {arg} must be a tether.Pid, got the port {value!r}; "
                "ask about a port with Port.info(port)"
            )
        raise TypeError(f"{what}: {arg} must be a tether.Pid, got {value!r}")
    return value


def check_target(value: Any, what: str, arg: str = "pid") -> Pid | Port:
    """``value`` if it is a :class:`Pid` or a :class:`Port` (what links, monitors
    and exit signals take), else ``TypeError``."""
    if type(value) is not Pid and type(value) is not Port:
        raise TypeError(f"{what}: {arg} must be a tether.Pid or a tether.Port, got {value!r}")
    return value


def check_timeout(value: Any, what: str, arg: str = "timeout") -> float | None:
    """Seconds as an int or float >= 0; ``None`` means forever (S-6).

    ``math.inf``, and any number too large to be a float (``10**400``), also mean
    forever, as they do for asyncio's timeouts; NaN and negatives are refused.
    """
    if value is None:
        return None
    if not is_number(value):
        raise TypeError(
            f"{what}: {arg} must be a number of seconds (int or float) or None for forever, "
            f"got {value!r}"
        )
    if value != value or value < 0:
        raise ValueError(f"{what}: {arg} must be >= 0 seconds (or None for forever), got {value!r}")
    try:
        seconds = float(value)
    except OverflowError:  # an int beyond the float range: forever
        return None
    if seconds == math.inf:
        return None
    return seconds


def check_seconds(value: Any, what: str, arg: str = "seconds") -> float:
    """A finite number of seconds >= 0 (a timer's delay)."""
    t = check_timeout(value, what, arg)
    if t is None:
        raise ValueError(f"{what}: {arg} must be a finite number of seconds, got {value!r}")
    return t


def check_bool(value: Any, what: str, arg: str) -> bool:
    """``value`` if it is a ``bool``, else ``TypeError``."""
    if not isinstance(value, bool):
        raise TypeError(f"{what}: {arg} must be True or False, got {value!r}")
    return value


def check_int(
    value: Any,
    what: str,
    arg: str,
    minimum: int = 0,
    allow: Callable[[Any], bool] | None = None,
) -> Any:
    """An ``int`` >= ``minimum`` (not a ``bool``); ``allow(value)`` admits extra values
    such as ``None`` or ``"infinity"``."""
    if allow is not None and allow(value):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what}: {arg} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{what}: {arg} must be an int >= {minimum}, got {value!r}")
    return value
