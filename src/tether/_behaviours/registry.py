"""Registry: local key → process storage, usable as a ``via`` name (Elixir's ``Registry``).

Design
------
Elixir's Registry is a supervisor with one *partition* process per partition;
the partitions own ETS tables that callers read and write directly, so a lookup
or a registration never waits on a process.  tether keeps that shape:

* ``Registry.start_link(name=..., keys=..., partitions=n)`` starts a
  :class:`Supervisor` registered as ``name`` (``one_for_all`` for unique keys,
  ``one_for_one`` for duplicate keys, as ``Registry.Supervisor``) with ``n``
  partition servers, ids ``"<name>.PIDPartition<i>"``.
* The entries live in one :class:`_Table` per registry, which the calling
  process reads and writes itself (one thread runs every process, so each
  operation is atomic, as an ETS operation is).  The table belongs to the node
  (``node_state``): a node that ends takes its registries' tables with it, and
  the next node starts with none.
* ``register`` links the caller to the partition that owns it (chosen by the
  pid's hash, as Elixir's ``pid_partition``) and returns that partition's pid;
  the partition traps exits and drops a registrant's entries when the link
  reports its death.  Cleanup is therefore asynchronous, as in Elixir: in the
  instant after a death, ``lookup`` may still show the dead pid; a unique key
  held by a dead pid is free to take, and ``whereis_name`` skips dead pids.
* Partitions in tether add no parallelism (one thread runs every process); they
  decide which process a registrant is linked to, how ``dispatch`` groups the
  entries of a duplicate registry, and (``parallel=True``) whether each group is
  dispatched from its own task.
* Keys compare as Erlang's ``===``: ``1`` and ``1.0`` (and ``True``) are three
  different keys, though Python's ``==`` calls them equal.

Rejected: a single registry process that monitors registrants (tether's first
Registry).  Elixir's callers see the partitions — ``register`` returns one and
links to it, ``which_children`` lists them, parallel ``dispatch`` runs per
partition — and its test suite checks each of these.

Match specs, the Python way (see docs/registry.md): a *pattern* is a value in
which ``tether.ANY`` matches anything (Erlang's ``:_``) and a :class:`Var`
binds what it meets (``:"$1"``; the same ``Var`` twice must meet equal values);
tuples, lists and dicts match structurally (a dict pattern needs only the keys
it names), anything else compares as ``===``.  A *guard* is a plain function
whose parameter names are variable names (``lambda x: x > 1`` for
``Var("x")``); a guard that raises counts as false, as in Erlang.  A select
*body* is a value in which each ``Var`` is replaced by its binding,
``Registry.WHOLE`` by the whole ``(key, pid, value)`` entry and ``WHOLE[i]`` by
one of its parts.
"""

from __future__ import annotations

import inspect as _inspect
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from tether._runtime._api import Process, node_state, send
from tether._runtime._api import self as self_pid
from tether._runtime._types import ANY, Atom, Exit, Pid
from tether._runtime._validate import check_bool, check_int, check_pid

from .gen_server import GenServer, NoReply, Ok, Reply
from .supervisor import Supervisor
from .task import Task

__all__ = ["Registry", "Var"]

OK: Final = Atom("ok")
ERROR: Final = Atom("error")
UNIQUE: Final = Atom("unique")
DUPLICATE: Final = Atom("duplicate")
_REGISTER: Final = Atom("register")
_UNREGISTER: Final = Atom("unregister")
_ALREADY: Final = Atom("already_registered")
_TABLES: Final = "tether.registry.tables"  # the node_state key


# -- keys that compare as Erlang's === ---------------------------------------


class _Tag:
    """A private marker inside exact keys; no user value can equal one."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_INT: Final = _Tag("int")
_FLOAT: Final = _Tag("float")
_BOOL: Final = _Tag("bool")
_TUPLE: Final = _Tag("tuple")
_LIST: Final = _Tag("list")
_MAP: Final = _Tag("map")


def _exact(term: Any) -> Any:
    """A dict key for ``term`` under which ``1``, ``1.0`` and ``True`` differ.

    Strings and ``Atom`` stay themselves (an atom and its name are one key in
    tether); lists and dicts become hashable; anything else unhashable raises
    ``TypeError``.
    """
    t = type(term)
    if t is str or t is Atom:
        return term
    if t is int:
        return (_INT, term)
    if t is float:
        return (_FLOAT, term)
    if t is bool:
        return (_BOOL, term)
    if t is tuple:
        return (_TUPLE, *map(_exact, term))
    if t is list:
        return (_LIST, *map(_exact, term))
    if t is dict:
        return (_MAP, frozenset((_exact(k), _exact(v)) for k, v in term.items()))
    hash(term)
    return term


def _same(a: Any, b: Any) -> bool:
    """Erlang's ``=:=``: ``==`` that tells ``1`` from ``1.0`` and ``True``, deeply."""
    ta, tb = type(a), type(b)
    if ta in _NUMBERS or tb in _NUMBERS:
        return ta is tb and bool(a == b)
    if (isinstance(a, tuple) and isinstance(b, tuple)) or (ta is list and tb is list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if ta is dict and tb is dict:
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())  # pyright: ignore[reportAttributeAccessIssue] - dicts: ta is dict
    return bool(a == b)


_NUMBERS: Final = frozenset((int, float, bool, complex))


# -- match specs ---------------------------------------------------------------


class Var:
    """A match-spec variable: Erlang's ``:"$1"``, with a name.

    In a pattern it matches anything and binds it; a second occurrence of the
    same variable must meet an equal value (``===``).  Guards receive the
    bindings as keyword arguments named after the variables; in a select body
    each variable is replaced by its binding.

    Example: ``x = Var("x")``; ``Registry.match(reg, key, (x, ANY, x))`` finds
    values like ``(1, "a", 1)``; ``Registry.match(reg, key, (ANY, x),
    [lambda x: x > 1])`` adds a guard.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"Var: name must be a Python identifier (guards take it as a parameter), "
                f"got {name!r}"
            )
        self.name = name

    def __eq__(self, other: object) -> bool:
        return type(other) is Var and other.name == self.name

    def __hash__(self) -> int:
        return hash((Var, self.name))

    def __repr__(self) -> str:
        return f"Var({self.name!r})"


class _Whole:
    """``Registry.WHOLE``: the whole ``(key, pid, value)`` entry in a select body
    (Erlang's ``:"$_"``); ``WHOLE[0]`` is its key (``{:element, 1, :"$_"}``)."""

    __slots__ = ()

    def __getitem__(self, index: int) -> _WholeItem:
        if type(index) is not int or not -3 <= index < 3:
            raise IndexError(f"Registry.WHOLE[{index!r}]: an entry is (key, pid, value)")
        return _WholeItem(index)

    def __repr__(self) -> str:
        return "Registry.WHOLE"


@dataclass(frozen=True)
class _WholeItem:
    index: int

    def __repr__(self) -> str:
        return f"Registry.WHOLE[{self.index}]"


WHOLE: Final = _Whole()


def _match(pat: Any, term: Any, b: dict[str, Any]) -> bool:
    """Match ``term`` against ``pat``, adding to the bindings ``b``."""
    if pat is ANY:
        return True
    tp = type(pat)
    if tp is Var:
        name = pat.name
        if name in b:
            return _same(b[name], term)
        b[name] = term
        return True
    if tp is tuple:
        return (
            isinstance(term, tuple)
            and len(term) == len(pat)
            and all(_match(p, t, b) for p, t in zip(pat, term, strict=True))
        )
    if tp is list:
        return (
            type(term) is list
            and len(term) == len(pat)
            and all(_match(p, t, b) for p, t in zip(pat, term, strict=True))
        )
    if tp is dict:
        return type(term) is dict and all(
            k in term and _match(p, term[k], b) for k, p in pat.items()
        )
    return _same(pat, term)


def _vars(pat: Any, out: set[str]) -> set[str]:
    """The names of the variables ``pat`` binds."""
    if type(pat) is Var:
        out.add(pat.name)
    elif type(pat) in (tuple, list):
        for p in pat:
            _vars(p, out)
    elif type(pat) is dict:
        for p in pat.values():
            _vars(p, out)
    return out


@dataclass(frozen=True)
class _Guard:
    fun: Callable[..., Any]
    args: tuple[str, ...]  # passed by position, in the guard's order
    kwargs: tuple[str, ...]  # passed by name
    all_kwargs: bool  # the guard takes **bindings


def _guards(guards: Any, bound: set[str], what: str) -> tuple[_Guard, ...]:
    """Check a guard list once, before anything is matched."""
    if not isinstance(guards, list | tuple):
        raise TypeError(
            f"{what}: guards must be a list of functions (lambda x: x > 1 for Var('x')), "
            f"got {guards!r}"
        )
    out = []
    for g in guards:
        if not callable(g) or _inspect.iscoroutinefunction(g):
            raise TypeError(
                f"{what}: each guard must be a plain function of the pattern's variables "
                f"(lambda x: x > 1 for Var('x')), got {g!r}"
            )
        try:
            params = list(_inspect.signature(g).parameters.values())
        except (TypeError, ValueError):
            raise TypeError(f"{what}: cannot read the parameters of guard {g!r}") from None
        unbound = [
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            and p.default is p.empty
            and p.name not in bound
        ]
        if unbound:
            raise ValueError(
                f"{what}: guard {g!r} takes {', '.join(unbound)}, which the pattern does "
                f"not bind; bound variables: {', '.join(sorted(bound)) or 'none'}"
            )
        P = _inspect.Parameter
        positional = (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)
        out.append(
            _Guard(
                g,
                tuple(p.name for p in params if p.kind in positional and p.name in bound),
                tuple(p.name for p in params if p.kind is P.KEYWORD_ONLY and p.name in bound),
                any(p.kind is P.VAR_KEYWORD for p in params),
            )
        )
    return tuple(out)


def _passes(guards: tuple[_Guard, ...], b: dict[str, Any]) -> bool:
    """Whether every guard holds for the bindings ``b``."""
    for g in guards:
        try:
            if g.all_kwargs:
                ok = g.fun(
                    *[b[n] for n in g.args], **{n: v for n, v in b.items() if n not in g.args}
                )
            else:
                ok = g.fun(*[b[n] for n in g.args], **{n: b[n] for n in g.kwargs})
            if not ok:
                return False
        except Exception:
            return False  # as in Erlang, a guard that fails is false
    return True


def _body(tpl: Any, b: dict[str, Any], whole: tuple[Any, Pid, Any]) -> Any:
    """The select body ``tpl`` with each ``Var`` and ``WHOLE`` replaced."""
    tp = type(tpl)
    if tp is Var:
        return b[tpl.name]
    if tpl is WHOLE:
        return whole
    if tp is _WholeItem:
        return whole[tpl.index]
    if tp is tuple:
        return tuple(_body(t, b, whole) for t in tpl)
    if tp is list:
        return [_body(t, b, whole) for t in tpl]
    if tp is dict:
        return {k: _body(v, b, whole) for k, v in tpl.items()}
    return tpl


@dataclass(frozen=True)
class _Spec:
    pattern: tuple[Any, Any, Any]
    guards: tuple[_Guard, ...]
    body: Any


def _specs(spec: Any, what: str) -> list[_Spec]:
    """Check a full match spec ``[(pattern, guards, body), ...]`` once."""
    if not isinstance(spec, list):
        raise TypeError(
            f"{what}: spec must be a list of (pattern, guards, body) tuples, got {spec!r}"
        )
    out = []
    for part in spec:
        if not (
            type(part) is tuple and len(part) == 3 and type(part[0]) is tuple and len(part[0]) == 3
        ):
            raise ValueError(
                f"invalid match specification in {what}: {spec!r}; each item must be "
                "((key, pid, value), guards, body), e.g. ((Var('k'), ANY, ANY), [], Var('k'))"
            )
        pattern, guards, body = part
        bound = _vars(pattern, set())
        missing = _vars(body, set()) - bound
        if missing:
            raise ValueError(
                f"{what}: the body uses {', '.join(sorted(missing))}, which the pattern "
                "does not bind"
            )
        out.append(_Spec(pattern, _guards(guards, bound, what), body))
    return out


# -- the table -----------------------------------------------------------------


Row = tuple[Any, Pid, Any]  # (key, pid, value), in registration order


@dataclass(eq=False, repr=False)
class _Table:
    """One registry's entries, read and written directly by callers.

    Invariant: ``rows[ek]`` holds every entry whose key's exact form is ``ek``
    (never an empty list); ``by_pid[pid]`` maps the exact key of each of
    ``pid``'s entries to how many it has under it (never 0, never an empty
    dict); ``size`` is the number of entries.
    """

    name: str
    owner: Pid  # the registry's supervisor; the table is valid while it lives
    keys: Atom
    partitions: int
    listeners: tuple[str, ...]
    meta: dict[Any, Any]
    parts: list[Pid | None]
    rows: dict[Any, list[Row]] = field(default_factory=dict)
    by_pid: dict[Pid, dict[Any, int]] = field(default_factory=dict)
    size: int = 0

    def __repr__(self) -> str:
        return f"<Registry {self.name!r}: {self.keys}, {self.size} entries>"

    def partition_of(self, pid: Pid) -> int:
        return hash(pid) % self.partitions

    def add(self, ek: Any, key: Any, pid: Pid, value: Any) -> None:
        rows = self.rows.get(ek)
        if rows is None:
            self.rows[ek] = [(key, pid, value)]
        else:
            rows.append((key, pid, value))
        counts = self.by_pid.setdefault(pid, {})
        counts[ek] = counts.get(ek, 0) + 1
        self.size += 1

    def remove(self, ek: Any, pid: Pid, keep: Callable[[Row], bool] | None = None) -> int:
        """Remove ``pid``'s entries under ``ek`` (those ``keep`` rejects); the count."""
        rows = self.rows.get(ek)
        if rows is None:
            return 0
        left = [r for r in rows if r[1] != pid or (keep is not None and keep(r))]
        gone = len(rows) - len(left)
        if not gone:
            return 0
        if left:
            self.rows[ek] = left
        else:
            del self.rows[ek]
        counts = self.by_pid[pid]
        if counts[ek] == gone:
            del counts[ek]
            if not counts:
                del self.by_pid[pid]
        else:
            counts[ek] -= gone
        self.size -= gone
        return gone

    def remove_pid(self, pid: Pid) -> None:
        for ek in list(self.by_pid.get(pid, ())):
            self.remove(ek, pid)

    def all_rows(self) -> list[Row]:
        """Every entry, in registration order per key: a copy, so that guards
        (user code) may touch the registry while a select runs."""
        return [r for rows in self.rows.values() for r in rows]


def _tables() -> dict[str, _Table]:
    return node_state(_TABLES, dict)


def _table(registry: Any, what: str) -> _Table:
    if not isinstance(registry, str):
        raise TypeError(f"{what}: registry must be the registry's name (a str), got {registry!r}")
    tables = _tables()
    t = tables.get(registry)
    if t is not None and Process.alive(t.owner):
        return t
    if t is not None:
        del tables[registry]  # its registry is gone; so is the table
    raise ValueError(
        f"{what}: unknown registry {registry!r}; either the name is wrong or the registry "
        "is not running (start it with Registry.start_link(name=..., keys=...) or put "
        "Registry.child_spec(...) in a supervisor)"
    )


def _key(key: Any, what: str) -> Any:
    try:
        return _exact(key)
    except TypeError:
        raise TypeError(
            f"{what}: key must be hashable (or a list/dict of hashable values), got {key!r}"
        ) from None


def _callable(fun: Any, what: str, arg: str) -> None:
    if not callable(fun):
        raise TypeError(f"{what}: {arg} must be a function, got {fun!r}")


def _meta_key(key: Any, what: str) -> None:
    if not isinstance(key, str | tuple):
        raise TypeError(
            f"{what}: key must be a str or a tuple (Elixir: an atom or a tuple), got {key!r}"
        )


def _via_name(name: Any, what: str) -> tuple[str, Any, Any]:
    """``(registry, key)`` or ``(registry, key, value)`` → the three parts."""
    if type(name) is tuple and len(name) in (2, 3):
        return (name[0], name[1], name[2] if len(name) == 3 else None)
    raise TypeError(f"{what}: name must be (registry, key) or (registry, key, value), got {name!r}")


def _check_options(opts: Mapping[str, Any], what: str, need_name: bool) -> dict[str, Any]:
    """Validate ``start_link``'s options; the normalised dict."""
    known = {"name", "keys", "partitions", "listeners", "meta", "compressed"}
    unknown = sorted(set(opts) - known)
    if unknown:
        raise TypeError(f"{what}: unknown option(s) {', '.join(unknown)}; known: {sorted(known)}")
    out = dict(opts)
    if "name" in opts:
        name = opts["name"]
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"{what}: name must be a non-empty str (the registry's name), got {name!r}"
            )
    elif need_name:
        raise TypeError(f"{what}: the name option is required (the registry's name, a str)")
    keys = opts.get("keys", UNIQUE)
    if keys not in (UNIQUE, DUPLICATE):
        raise ValueError(f"{what}: keys must be 'unique' or 'duplicate', got {keys!r}")
    out["keys"] = Atom(keys)
    check_int(opts.get("partitions", 1), what, "partitions", minimum=1)
    listeners = opts.get("listeners", ())
    if not isinstance(listeners, list | tuple) or not all(
        isinstance(n, str) and n for n in listeners
    ):
        raise TypeError(
            f"{what}: listeners must be a list of registered process names (str), got {listeners!r}"
        )
    out["listeners"] = tuple(listeners)
    meta = opts.get("meta") or {}
    if isinstance(meta, list | tuple) and all(type(kv) is tuple and len(kv) == 2 for kv in meta):
        meta = dict(meta)
    if not isinstance(meta, dict):
        raise TypeError(
            f"{what}: meta must be a dict or a list of (key, value) pairs, got {meta!r}"
        )
    for k in meta:
        _meta_key(k, what)
    out["meta"] = dict(meta)
    check_bool(opts.get("compressed", False), what, "compressed")
    return out


# -- the public API ------------------------------------------------------------


class Registry:
    """Elixir's ``Registry``: a local, decentralised key → process store.

    Start one with ``await Registry.start_link(name="jobs", keys="unique")``
    (or put ``Registry.child_spec(name="jobs", keys="unique")`` in a
    supervisor's children), then ``register``/``lookup``/``dispatch`` from any
    process.  ``("via", Registry, (registry, key))`` — or ``(registry, key,
    value)`` — names a GenServer, Agent or Supervisor (unique registries only).
    Every function is Elixir's, with the same arguments and returns; see
    docs/registry.md for each, the match-spec form and partitions.
    """

    Var = Var
    WHOLE = WHOLE

    def __init__(self) -> None:
        raise TypeError("Registry is a namespace; start one with Registry.start_link")

    # -- starting --------------------------------------------------------------

    @staticmethod
    async def start_link(
        *,
        name: str | None = None,
        keys: str = "unique",
        partitions: int = 1,
        listeners: list[str] | tuple[str, ...] = (),
        meta: Mapping[Any, Any] | Iterable[tuple[Any, Any]] | None = None,
        compressed: bool = False,
    ) -> Any:
        """Start a registry: Elixir's ``Registry.start_link/1``.

        Args:
            name: the registry's name (a str); the registry's supervisor is
                registered under it.
            keys: ``"unique"`` (a key points to at most one process; default)
                or ``"duplicate"`` (to any number).
            partitions: how many partition processes (default 1); see the module
                docstring for what they mean in tether.
            listeners: names of processes sent ``("register", registry, key, pid,
                value)`` and ``("unregister", registry, key, pid)``.
            meta: initial metadata, a dict (or (key, value) pairs): see :meth:`meta`.
            compressed: accepted for Elixir compatibility; no effect in tether.

        Returns:
            ``("ok", pid)`` (the registry's supervisor), or ``("error",
            ("already_started", pid))`` when ``name`` is taken.

        Raises:
            TypeError, ValueError: a missing name or an invalid option.
        """
        opts = {
            "name": name,
            "keys": keys,
            "partitions": partitions,
            "listeners": listeners,
            "meta": meta,
            "compressed": compressed,
        }
        if name is None:
            del opts["name"]
        return await Registry._start(opts)

    @staticmethod
    async def _start(opts: dict[str, Any]) -> Any:
        opts = _check_options(opts, "Registry.start_link", True)
        return await _RegistrySupervisor.start_link(opts, name=opts["name"])

    @staticmethod
    def child_spec(options: Mapping[str, Any] | None = None, /, **kwargs: Any) -> dict[str, Any]:
        """A child spec that starts a registry: Elixir's ``Registry.child_spec/1``.

        ``Registry.child_spec(keys="unique", name="jobs")`` (or the options as a
        dict, ``(Registry, {"keys": "unique", "name": "jobs"})`` in a children
        list) is Elixir's ``{Registry, keys: :unique, name: Jobs}``.  The id is
        the name (``Registry`` when none is given); the type is ``"supervisor"``.
        Options are checked now; a missing name fails when the child starts.
        """
        if options is not None and not isinstance(options, Mapping):
            raise TypeError(
                "Registry.child_spec: options must be a dict of start_link options, "
                f"got {options!r}"
            )
        opts = _check_options({**(options or {}), **kwargs}, "Registry.child_spec", False)
        return {
            "id": opts.get("name", Registry),
            "start": (Registry._start, (opts,)),
            "type": "supervisor",
        }

    # -- registering -------------------------------------------------------------

    @staticmethod
    def register(registry: str, key: Any, value: Any = None) -> Any:
        """Register the caller under ``key`` with ``value``: ``Registry.register/3``.

        Links the caller to the partition that owns it; when the caller dies its
        entries are removed.  Listeners get ``("register", registry, key, pid,
        value)``.  A process that is already dead (code in the ``finally`` of a
        killed process) registers nothing.

        Returns:
            ``("ok", owner)`` (the owning partition's pid), or for unique keys
            ``("error", ("already_registered", pid))``.
        """
        what = "Registry.register"
        t = _table(registry, what)
        ek = _key(key, what)
        me = self_pid()
        owner = t.parts[t.partition_of(me)]
        assert owner is not None
        if not Process.alive(me):
            return (OK, owner)  # issue 10: a dead process's effects are dropped
        if t.keys == UNIQUE:
            rows = t.rows.get(ek)
            if rows:
                holder = rows[0][1]
                if Process.alive(holder):
                    return (ERROR, (_ALREADY, holder))
                t.remove(ek, holder)  # a dead holder's entry, not cleaned up yet
        Process.link(owner)
        t.add(ek, key, me, value)
        for listener in t.listeners:
            send(listener, (_REGISTER, t.name, key, me, value))
        return (OK, owner)

    @staticmethod
    def unregister(registry: str, key: Any) -> Atom:
        """Remove all of the caller's entries under ``key``: ``Registry.unregister/2``.

        Unlinks the caller from its partition when it has no entries left;
        listeners get ``("unregister", registry, key, pid)``.  Always ``"ok"``.
        """
        what = "Registry.unregister"
        t = _table(registry, what)
        ek = _key(key, what)
        me = self_pid()
        t.remove(ek, me)
        _unlink_if_unregistered(t, me)
        for listener in t.listeners:
            send(listener, (_UNREGISTER, t.name, key, me))
        return OK

    @staticmethod
    def unregister_match(
        registry: str, key: Any, pattern: Any, guards: list[Callable[..., Any]] | tuple[()] = ()
    ) -> Atom:
        """Remove the caller's entries under ``key`` whose value matches
        ``pattern`` and ``guards``: ``Registry.unregister_match/4``.  Always
        ``"ok"``.  When that leaves the caller nothing under ``key``, listeners
        get ``("unregister", ...)`` and the caller is unlinked if it has no
        entries left."""
        what = "Registry.unregister_match"
        t = _table(registry, what)
        ek = _key(key, what)
        gs = _guards(guards, _vars(pattern, set()), what)
        me = self_pid()
        total = sum(1 for r in t.rows.get(ek, ()) if r[1] == me)
        deleted = t.remove(ek, me, keep=lambda r: not _value_matches(pattern, gs, r[2]))
        if deleted == total:
            _unlink_if_unregistered(t, me)
            for listener in t.listeners:
                send(listener, (_UNREGISTER, t.name, key, me))
        return OK

    @staticmethod
    def update_value(registry: str, key: Any, callback: Callable[[Any], Any]) -> Any:
        """Replace the caller's value under ``key`` with ``callback(old)``:
        ``Registry.update_value/3``, unique registries only.

        Returns ``(new, old)``, or ``"error"`` when the caller holds no such key
        (``callback`` is then not called).

        Raises:
            ValueError: the registry has duplicate keys.
        """
        what = "Registry.update_value"
        t = _table(registry, what)
        ek = _key(key, what)
        _callable(callback, what, "callback")
        if t.keys != UNIQUE:
            raise ValueError(f"{what} is not supported for {t.keys} registries")
        rows = t.rows.get(ek)
        me = self_pid()
        if not rows or rows[0][1] != me:
            return ERROR
        k, pid, old = rows[0]
        new = callback(old)
        t.rows[ek] = [(k, pid, new)]
        return (new, old)

    # -- reading -----------------------------------------------------------------

    @staticmethod
    def lookup(registry: str, key: Any) -> list[tuple[Pid, Any]]:
        """``[(pid, value)]`` registered under ``key``: ``Registry.lookup/2``.

        May include a process that just died and is not yet cleaned up.
        """
        what = "Registry.lookup"
        t = _table(registry, what)
        return [(r[1], r[2]) for r in t.rows.get(_key(key, what), ())]

    @staticmethod
    def keys(registry: str, pid: Pid) -> list[Any]:
        """The keys ``pid`` is registered under (once per entry for duplicate
        registries): ``Registry.keys/2``."""
        what = "Registry.keys"
        t = _table(registry, what)
        check_pid(pid, what)
        out = []
        for ek, count in t.by_pid.get(pid, {}).items():
            key = next(r[0] for r in t.rows[ek] if r[1] == pid)
            out.extend([key] * count)
        return out

    @staticmethod
    def values(registry: str, key: Any, pid: Pid) -> list[Any]:
        """The values ``pid`` registered under ``key``: ``Registry.values/3``."""
        what = "Registry.values"
        t = _table(registry, what)
        ek = _key(key, what)
        check_pid(pid, what)
        return [r[2] for r in t.rows.get(ek, ()) if r[1] == pid]

    @staticmethod
    def count(registry: str) -> int:
        """The number of entries (keys, for a unique registry): ``Registry.count/1``."""
        return _table(registry, "Registry.count").size

    @staticmethod
    def match(
        registry: str, key: Any, pattern: Any, guards: list[Callable[..., Any]] | tuple[()] = ()
    ) -> list[tuple[Pid, Any]]:
        """``[(pid, value)]`` under ``key`` whose value matches ``pattern`` and
        ``guards``: ``Registry.match/4``.  ``key`` is always a plain key, never a
        pattern."""
        what = "Registry.match"
        t = _table(registry, what)
        ek = _key(key, what)
        gs = _guards(guards, _vars(pattern, set()), what)
        return [(r[1], r[2]) for r in t.rows.get(ek, ()) if _value_matches(pattern, gs, r[2])]

    @staticmethod
    def count_match(
        registry: str, key: Any, pattern: Any, guards: list[Callable[..., Any]] | tuple[()] = ()
    ) -> int:
        """How many entries :meth:`match` would return: ``Registry.count_match/4``."""
        what = "Registry.count_match"
        t = _table(registry, what)
        ek = _key(key, what)
        gs = _guards(guards, _vars(pattern, set()), what)
        return sum(1 for r in t.rows.get(ek, ()) if _value_matches(pattern, gs, r[2]))

    @staticmethod
    def select(registry: str, spec: list[tuple[Any, Any, Any]]) -> list[Any]:
        """Run a full match spec over every ``(key, pid, value)`` entry:
        ``Registry.select/2``.

        ``spec`` is a list of ``((key_pattern, pid_pattern, value_pattern),
        guards, body)``; each entry gives the body of the first spec it matches.

        Raises:
            ValueError: a spec item is not of that shape.
        """
        what = "Registry.select"
        t = _table(registry, what)
        specs = _specs(spec, what)
        out = []
        for row in t.all_rows():
            for s in specs:
                b: dict[str, Any] = {}
                if _match(s.pattern, row, b) and _passes(s.guards, b):
                    out.append(_body(s.body, b, row))
                    break
        return out

    @staticmethod
    def count_select(registry: str, spec: list[tuple[Any, Any, Any]]) -> int:
        """How many entries a spec's body gives ``True`` for:
        ``Registry.count_select/2`` (write each body as ``True``)."""
        what = "Registry.count_select"
        t = _table(registry, what)
        specs = _specs(spec, what)
        n = 0
        for row in t.all_rows():
            for s in specs:
                b: dict[str, Any] = {}
                if _match(s.pattern, row, b) and _passes(s.guards, b):
                    n += _body(s.body, b, row) is True
                    break
        return n

    @staticmethod
    async def dispatch(
        registry: str,
        key: Any,
        fun: Callable[[list[tuple[Pid, Any]]], Any],
        *,
        parallel: bool = False,
    ) -> Atom:
        """Call ``fun(entries)`` with the ``[(pid, value)]`` under ``key``:
        ``Registry.dispatch/4``.  ``fun`` may be ``async``.

        Not called when there are no entries.  A duplicate registry with several
        partitions calls ``fun`` once per partition that has entries, from the
        caller (``parallel=False``) or from one task per partition
        (``parallel=True``); otherwise ``fun`` runs once, in the caller.
        A failure in ``fun`` is the caller's (or, in parallel, the linked task's).
        Returns ``"ok"``.
        """
        what = "Registry.dispatch"
        t = _table(registry, what)
        ek = _key(key, what)
        _callable(fun, what, "fun")
        check_bool(parallel, what, "parallel")
        if t.keys == UNIQUE or t.partitions == 1:
            entries = [(r[1], r[2]) for r in t.rows.get(ek, ())]
            if entries:
                await _call(fun, entries)
            return OK
        groups = _by_partition(t, ek)
        if not parallel:
            for i in reversed(range(t.partitions)):
                if groups[i]:
                    await _call(fun, groups[i])
            return OK
        parent = self_pid()
        tasks = [
            Task.async_(_dispatch_task, groups[i], fun, parent)
            for i in reversed(range(t.partitions))
        ]
        for task in tasks:
            await Task.await_(task, None)
        return OK

    # -- metadata --------------------------------------------------------------

    @staticmethod
    def meta(registry: str, key: str | tuple[Any, ...]) -> Any:
        """``("ok", value)`` stored under ``key``, or ``"error"``: ``Registry.meta/2``."""
        what = "Registry.meta"
        t = _table(registry, what)
        _meta_key(key, what)
        if key in t.meta:
            return (OK, t.meta[key])
        return ERROR

    @staticmethod
    def put_meta(registry: str, key: str | tuple[Any, ...], value: Any) -> Atom:
        """Store ``value`` under the metadata ``key``: ``Registry.put_meta/3``; ``"ok"``."""
        what = "Registry.put_meta"
        t = _table(registry, what)
        _meta_key(key, what)
        t.meta[key] = value
        return OK

    @staticmethod
    def delete_meta(registry: str, key: str | tuple[Any, ...]) -> Atom:
        """Remove the metadata ``key``: ``Registry.delete_meta/2``; ``"ok"``."""
        what = "Registry.delete_meta"
        t = _table(registry, what)
        _meta_key(key, what)
        t.meta.pop(key, None)
        return OK

    # -- the via protocol --------------------------------------------------------

    @staticmethod
    def whereis_name(name: tuple[Any, ...]) -> Pid | None:
        """The live pid under ``(registry, key[, value])``, or ``None``.

        Raises:
            ValueError: a duplicate registry (via names need unique keys).
        """
        what = "Registry.whereis_name"
        registry, key, _value = _via_name(name, what)
        t = _table(registry, what)
        ek = _key(key, what)
        if t.keys != UNIQUE:
            raise ValueError(f"via is not supported for {t.keys} registries")
        rows = t.rows.get(ek)
        if rows and Process.alive(rows[0][1]):
            return rows[0][1]
        return None

    @staticmethod
    def register_name(name: tuple[Any, ...], pid: Pid) -> Atom:
        """Register ``pid`` (which must be the caller) under ``(registry, key[,
        value])``: ``"yes"`` or ``"no"``."""
        what = "Registry.register_name"
        registry, key, value = _via_name(name, what)
        check_pid(pid, what)
        if pid != self_pid():
            raise ValueError(f"{what}: only the caller can register itself, got {pid!r}")
        ok = Registry.register(registry, key, value)[0] == OK
        return Atom("yes") if ok else Atom("no")

    @staticmethod
    def unregister_name(name: tuple[Any, ...]) -> Atom:
        """Remove the caller's registration under ``(registry, key[, value])``."""
        registry, key, _value = _via_name(name, "Registry.unregister_name")
        return Registry.unregister(registry, key)

    @staticmethod
    def send(name: tuple[Any, ...], msg: Any) -> Any:
        """Send ``msg`` to the one process under ``(registry, key[, value])``.

        Raises:
            ValueError: no process (or several) under that key: the BEAM's badarg.
        """
        what = "Registry.send"
        registry, key, _value = _via_name(name, what)
        entries = Registry.lookup(registry, key)
        if len(entries) != 1:
            raise ValueError(
                f"{what}: expected one process under {key!r} in {registry!r}, found {len(entries)}"
            )
        return send(entries[0][0], msg)


def _value_matches(pattern: Any, guards: tuple[_Guard, ...], value: Any) -> bool:
    b: dict[str, Any] = {}
    return _match(pattern, value, b) and _passes(guards, b)


def _unlink_if_unregistered(t: _Table, me: Pid) -> None:
    if me not in t.by_pid:
        owner = t.parts[t.partition_of(me)]
        if owner is not None:
            Process.unlink(owner)


def _by_partition(t: _Table, ek: Any) -> list[list[tuple[Pid, Any]]]:
    """The ``(pid, value)`` entries under ``ek``, grouped by the pid's partition."""
    groups: list[list[tuple[Pid, Any]]] = [[] for _ in range(t.partitions)]
    n = t.partitions
    for _key, pid, value in t.rows.get(ek, ()):
        groups[hash(pid) % n].append((pid, value))
    return groups


async def _call(fun: Callable[..., Any], *args: Any) -> Any:
    result = fun(*args)
    if type(result) is types.CoroutineType:
        return await result
    return result


async def _dispatch_task(
    entries: list[tuple[Pid, Any]], fun: Callable[..., Any], parent: Pid
) -> Any:
    if entries:
        await _call(fun, entries)
    # As Elixir's dispatch_parallel: no EXIT for a trapping caller on success.
    Process.unlink(parent)
    return OK


# -- the processes -------------------------------------------------------------


class _RegistrySupervisor(Supervisor):
    """``Registry.Supervisor``: makes the table, then supervises the partitions."""

    def init(self, opts: dict[str, Any]) -> Any:
        name = opts["name"]
        n = opts.get("partitions", 1)
        t = _Table(
            name=name,
            owner=self_pid(),
            keys=opts["keys"],
            partitions=n,
            listeners=opts["listeners"],
            meta=dict(opts["meta"]),
            parts=[None] * n,
        )
        _tables()[name] = t
        children = [
            {
                "id": f"{name}.PIDPartition{i}",
                "start": (_Partition.start_link, ((t, i),)),
            }
            for i in range(n)
        ]
        # Unique keys hash by key, so a partition's death touches every
        # partition's keys: restart them all (as Registry.Supervisor does).
        strategy = "one_for_all" if t.keys == UNIQUE else "one_for_one"
        return Supervisor.init_spec(children, strategy=strategy)


class _Partition(GenServer):
    """``Registry.Partition``: linked to its registrants; drops a dead one's entries."""

    def init(self, arg: tuple[_Table, int]) -> Any:
        t, i = arg
        Process.flag("trap_exit", True)
        # A restarted partition starts empty, as its ETS tables would.
        for pid in [p for p in t.by_pid if t.partition_of(p) == i]:
            t.remove_pid(pid)
        t.parts[i] = self_pid()
        return Ok(arg)

    def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
        if request == "sync":
            return Reply(OK, state)
        return super().handle_call(request, from_, state)

    def handle_info(self, msg: Any, state: tuple[_Table, int]) -> Any:
        if isinstance(msg, Exit):
            state[0].remove_pid(msg.pid)
            return NoReply(state)
        return super().handle_info(msg, state)
