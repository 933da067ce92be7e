"""Registry: local key → process registration, usable as a ``via`` name.

Design
------
Elixir's Registry keeps its entries in ETS so that lookups never wait on a
process.  tether does the same with a plain table object read and written
directly by the calling process (one thread, so every operation is atomic),
owned by a registry *process* that monitors each registrant and removes its
entries when it dies.  Cleanup is therefore asynchronous, as in Elixir: a lookup
made in the instant after a death may still see the dead pid; ``whereis_name``
(what ``via`` names use) skips dead pids.

Tables are per node (keyed by the node's event loop) so that test nodes started
one after another never see each other's entries.

``keys="unique"``: one process per key; ``keys="duplicate"``: any number.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Final

from tether._runtime._api import Process, send
from tether._runtime._api import self as self_pid
from tether._runtime._types import Atom, Down, Pid

from .gen_server import GenServer, NoReply, Ok

__all__ = ["Registry"]

OK: Final = Atom("ok")
ERROR: Final = Atom("error")


@dataclass
class _Table:
    owner: Pid
    keys: str
    entries: dict[Any, list[tuple[Pid, Any]]] = field(default_factory=dict)
    by_pid: dict[Pid, list[Any]] = field(default_factory=dict)

    def remove(self, pid: Pid, key: Any) -> None:
        rows = [r for r in self.entries.get(key, []) if r[0] != pid]
        if rows:
            self.entries[key] = rows
        else:
            self.entries.pop(key, None)


_TABLES: dict[tuple[int, str], _Table] = {}


def _table(registry: str) -> _Table:
    if not isinstance(registry, str):
        raise TypeError(f"Registry: registry must be the registry's name (a str), got {registry!r}")
    table = _TABLES.get((id(asyncio.get_running_loop()), registry))
    if table is None or not Process.alive(table.owner):
        raise ValueError(
            f"Registry: unknown registry {registry!r}; start it with Registry.start_link"
        )
    return table


class Registry:
    """Elixir's ``Registry``: ``start_link``, ``register``, ``lookup``,
    ``unregister``, ``keys``; and the ``via`` protocol (``("via", Registry,
    (registry, key))`` names a GenServer)."""

    def __init__(self) -> None:
        raise TypeError("Registry is a namespace; start one with Registry.start_link")

    @staticmethod
    async def start_link(*, name: str, keys: str = "unique") -> Any:
        """Start a registry named ``name``: ``("ok", pid)``."""
        if keys not in ("unique", "duplicate"):
            raise ValueError(f"Registry: keys must be 'unique' or 'duplicate', got {keys!r}")
        if not isinstance(name, str):
            raise TypeError(f"Registry: name must be a str, got {name!r}")
        return await _RegistryServer.start_link((name, keys), name=name)

    @staticmethod
    def register(registry: str, key: Any, value: Any = None) -> Any:
        """Register the caller under ``key``: ``("ok", registry_pid)`` or, for unique
        keys, ``("error", ("already_registered", pid))``."""
        t = _table(registry)
        me = self_pid()
        rows = t.entries.get(key, [])
        if t.keys == "unique":
            live = [r for r in rows if Process.alive(r[0])]
            if live:
                return (ERROR, (Atom("already_registered"), live[0][0]))
            rows = []
        t.entries[key] = [*rows, (me, value)]
        if me not in t.by_pid:
            t.by_pid[me] = []
            send(t.owner, ("$monitor", me))
        t.by_pid[me].append(key)
        return (OK, t.owner)

    @staticmethod
    def lookup(registry: str, key: Any) -> list[tuple[Pid, Any]]:
        """``[(pid, value)]`` registered under ``key``."""
        return list(_table(registry).entries.get(key, []))

    @staticmethod
    def unregister(registry: str, key: Any) -> Atom:
        """Remove the caller's registrations under ``key``; returns ``"ok"``."""
        t = _table(registry)
        me = self_pid()
        t.remove(me, key)
        if me in t.by_pid:
            t.by_pid[me] = [k for k in t.by_pid[me] if k != key]
        return OK

    @staticmethod
    def keys(registry: str, pid: Pid) -> list[Any]:
        """The keys ``pid`` is registered under."""
        return list(_table(registry).by_pid.get(pid, []))

    # -- the via protocol ------------------------------------------------------

    @staticmethod
    def whereis_name(name: tuple[str, Any]) -> Pid | None:
        """The live pid under ``(registry, key)``, or ``None``."""
        registry, key = name
        for pid, _value in _table(registry).entries.get(key, []):
            if Process.alive(pid):
                return pid
        return None

    @staticmethod
    def register_name(name: tuple[str, Any], pid: Pid) -> str:
        """Register the caller (``pid`` must be the caller): ``"yes"`` or ``"no"``."""
        if pid != self_pid():
            raise ValueError("Registry.register_name: only the caller can register itself")
        registry, key = name
        return "yes" if Registry.register(registry, key)[0] == OK else "no"

    @staticmethod
    def unregister_name(name: tuple[str, Any]) -> Atom:
        """Remove the caller's registration under ``(registry, key)``."""
        registry, key = name
        return Registry.unregister(registry, key)

    @staticmethod
    def send(name: tuple[str, Any], msg: Any) -> Any:
        """Send to the process under ``(registry, key)``; ``ValueError`` if none."""
        pid = Registry.whereis_name(name)
        if pid is None:
            raise ValueError(f"Registry.send: no process registered under {name!r}")
        return send(pid, msg)


class _RegistryServer(GenServer):
    def init(self, arg: Any) -> Any:
        name, keys = arg
        t = _Table(self_pid(), keys)
        _TABLES[(id(asyncio.get_running_loop()), name)] = t
        return Ok((name, t))

    def handle_info(self, msg: Any, state: Any) -> Any:
        _name, t = state
        match msg:
            case ("$monitor", pid):
                Process.monitor(pid)
            case Down(_ref, _type, pid, _reason):
                for key in t.by_pid.pop(pid, []):
                    t.remove(pid, key)
            case _:
                return super().handle_info(msg, state)
        return NoReply(state)

    def terminate(self, reason: Any, state: Any) -> Any:
        name, _t = state
        _TABLES.pop((id(asyncio.get_running_loop()), name), None)
