"""The mailbox: arrival order, selective removal, and an index by first item.

Design
------
Messages live in a ``dict`` keyed by an arrival sequence number.  A ``dict`` keeps
insertion order (so iteration is arrival order, S-5), removes any entry in O(1)
(selective receive takes from the middle), and pops the head in O(1) because we
track the head's sequence number instead of iterating from the start.

Rejected: a ``deque`` (O(n) removal from the middle), an ``OrderedDict`` (twice the
memory per entry), a linked list of nodes (an allocation per message).

The index
~~~~~~~~~
A receive whose every filter is a pattern with a literal first item (``(ref, ANY)``,
``("want", ANY)``, ``Down(ref, ANY, ANY, ANY)``) can be answered from an index
``first item -> seqs in arrival order`` without looking at unrelated messages: the
BEAM's reference optimisation, made general.  The index costs a hash and a dict
operation per message, so it is built lazily, the first time such a receive would
have to scan more than ``INDEX_THRESHOLD`` messages, kept up to date from then on,
and dropped when the queue empties.  The common paths (a blocked receiver handed
its message directly, a short queue) never pay for it.

Invariants
~~~~~~~~~~
* Every key of ``_msgs`` lies in ``[_head, _tail)``; ``_tail`` is the next seq.
* If ``_index`` is not None, it holds exactly the seqs of the queued messages that
  have a hashable index key, each bucket in increasing order, no empty bucket.

Two implementations
~~~~~~~~~~~~~~~~~~~
``PyMailbox`` below is the reference, and the mailbox of the pure-Python core.  The
native core has its own, ``_cnode.Mailbox`` (C, in ``_cnode.c``): the same API and
invariants, over an array of (message, seq) slots instead of a dict, so a message
costs no allocation; its comment says how it differs inside.  ``Mailbox`` is the one
the running core uses.  The tests of the mailbox run against both.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Collection, Iterator
from typing import TYPE_CHECKING, Any, Final

from . import _core
from ._types import ANY, Down, Exit, Pid, Ref, _Record

__all__ = [
    "INDEX_THRESHOLD",
    "Mailbox",
    "Matcher",
    "PyMailbox",
    "compile_filters",
    "down_matcher",
    "index_key",
    "reply_matcher",
]

INDEX_THRESHOLD: Final = 16

_MISSING: Final = object()


def index_key(msg: Any) -> Any:
    """The key a message is indexed under, or ``_MISSING`` when it is not indexable."""
    t = type(msg)
    if t is tuple:
        if not msg:
            return _MISSING
        key = msg[0]
    elif t is Down:
        key = msg.ref
    elif t is Exit:
        key = msg.pid
    else:
        return _MISSING
    try:
        hash(key)
    except TypeError:
        return _MISSING
    return key


class Matcher:
    """A compiled set of receive filters.

    ``match(msg)`` tells whether any filter matches; ``keys`` is the collection of
    index keys when every filter is a pattern with a literal first item (else
    ``None``; the native core's call matchers hold a 1-tuple, only ever iterated);
    ``needs_context`` is true when a user predicate runs, which must see the
    receiver as ``self()``.
    """

    __slots__ = ("keys", "match", "needs_context")

    def __init__(
        self, match: Callable[[Any], bool], keys: Collection[Any] | None, needs_context: bool
    ) -> None:
        self.match = match
        self.keys = keys
        self.needs_context = needs_context


def _is_literal(item: Any) -> bool:
    """A pattern item compared with ``==`` (not ANY, not a class, no nested wildcard)."""
    if item is ANY or isinstance(item, type):
        return False
    if type(item) is tuple:
        return all(_is_literal(x) for x in item)
    return not isinstance(item, _Record) or all(_is_literal(x) for x in item._fields())


def _item_matcher(item: Any) -> Callable[[Any], bool] | None:
    """A test for one pattern item; ``None`` for ANY (always true)."""
    if item is ANY:
        return None
    if isinstance(item, type):
        cls = item
        return lambda v: isinstance(v, cls)
    if type(item) is tuple and not _is_literal(item):
        return _tuple_matcher(item)
    if isinstance(item, _Record) and not _is_literal(item):
        return _record_matcher(item)
    lit = item
    return lambda v: bool(v == lit)


def _tuple_matcher(pattern: tuple[Any, ...]) -> Callable[[Any], bool]:
    n = len(pattern)
    checks = [(i, t) for i, t in enumerate(map(_item_matcher, pattern)) if t is not None]
    if len(checks) == 1 and checks[0][0] == 0 and _is_literal(pattern[0]):
        # The common reply/tag shape: (literal, ANY, ...), one comparison.
        first = pattern[0]
        return lambda m: type(m) is tuple and len(m) == n and bool(m[0] == first)

    def match(m: Any) -> bool:
        if type(m) is not tuple or len(m) != n:
            return False
        return all(test(m[i]) for i, test in checks)

    return match


def _record_matcher(pattern: _Record) -> Callable[[Any], bool]:
    cls = type(pattern)
    fields = pattern.__match_args__
    checks = [
        (f, t)
        for f, t in zip(fields, map(_item_matcher, pattern._fields()), strict=True)
        if t is not None
    ]

    def match(m: Any) -> bool:
        if type(m) is not cls:
            return False
        return all(test(getattr(m, f)) for f, test in checks)

    return match


def _tag_key(f: Any) -> Any:
    """For ``(key, ANY, ...)`` or ``Down/Exit(key, ANY, ...)``: ``key``; else ``_MISSING``.

    The shapes of a tagged message and of a reply or DOWN for one ref: they get a
    one-comparison matcher, without the general compiler (hot in every call).
    """
    t = type(f)
    if t is Exit and f.reason is ANY and type(f.pid) is Pid:
        return f.pid  # Exit(pid, ANY), what a trapping parent waits for: no walk
    if t is Down and type(f.ref) is Ref and f.type is ANY and f.pid is ANY and f.reason is ANY:
        return f.ref  # Down(ref, ANY, ANY, ANY)
    if t is tuple:
        if not f:
            return _MISSING
        rest = f[1:]
    elif t is Down or t is Exit:
        fields = f._fields()
        f, rest = fields, fields[1:]
    else:
        return _MISSING
    for x in rest:
        if x is not ANY:
            return _MISSING
    key = f[0]
    if key is ANY or isinstance(key, type) or type(key) is tuple or isinstance(key, _Record):
        return _MISSING
    try:
        hash(key)
    except TypeError:
        return _MISSING
    return key


def _tag_test(f: Any, key: Any) -> Callable[[Any], bool]:
    t = type(f)
    if t is tuple:
        n = len(f)
        return lambda m: type(m) is tuple and len(m) == n and bool(m[0] == key)
    if t is Down:
        return lambda m: type(m) is Down and bool(m.ref == key)
    return lambda m: type(m) is Exit and bool(m.pid == key)


def _compile_fast(filters: tuple[Any, ...]) -> Matcher | None:
    if len(filters) > 2:
        return None
    keys = []
    tests = []
    for f in filters:
        key = _tag_key(f)
        if key is _MISSING:
            return None
        keys.append(key)
        tests.append(_tag_test(f, key))
    if len(tests) == 1:
        return Matcher(tests[0], frozenset(keys), False)
    t1, t2 = tests
    return Matcher(lambda m: t1(m) or t2(m), frozenset(keys), False)


def reply_matcher(ref: Any) -> Matcher:
    """The matcher of ``receive((ref, ANY), Down(ref, ANY, ANY, ANY))``, built directly.

    What every ``GenServer.call`` waits for: its reply ``(ref, reply)`` or the
    server's DOWN.  ``compile_filters`` makes the same matcher from the patterns;
    built here it costs one closure and no pattern analysis (measured: the
    compile was 14 % of a call).  Both keys are ``ref``, so a long mailbox is
    searched through the index.
    """

    def match(m: Any) -> bool:
        t = type(m)
        if t is tuple:
            # ``is`` first: the reply carries the very ref (no __eq__ call)
            return len(m) == 2 and (m[0] is ref or bool(m[0] == ref))
        return t is Down and bool(m.ref == ref)

    return Matcher(match, frozenset((ref,)), False)


def down_matcher(ref: Any) -> Matcher:
    """The matcher of ``receive(Down(ref, ANY, ANY, ANY))`` (``demonitor``'s flush)."""
    return Matcher(lambda m: type(m) is Down and bool(m.ref == ref), frozenset((ref,)), False)


def _class_matcher(cls: type) -> Callable[[Any], bool]:
    return lambda m: isinstance(m, cls)


def _pattern_key(pattern: Any) -> Any:
    """The index key of a pattern, or ``_MISSING`` when its first item is no literal."""
    if type(pattern) is tuple:
        first = pattern[0] if pattern else _MISSING
    elif isinstance(pattern, _Record):
        first = pattern._fields()[0]
    else:
        return _MISSING
    if first is _MISSING or not _is_literal(first):
        return _MISSING
    try:
        hash(first)
    except TypeError:
        return _MISSING
    return first


def compile_filters(filters: tuple[Any, ...]) -> Matcher | None:
    """Compile ``receive`` filters; ``None`` means "take the first message".

    Raises ``TypeError`` naming the filter when one is neither a class, a tuple
    pattern, a ``Down``/``Exit`` pattern nor a callable.
    """
    if not filters:
        return None
    if len(filters) == 1 and type(filters[0]) is Matcher:
        return filters[0]  # built already (reply_matcher): the runtime's own callers
    fast = _compile_fast(filters)
    if fast is not None:
        return fast
    tests: list[Callable[[Any], bool]] = []
    keys: set[Any] | None = set()
    needs_context = False
    for pos, f in enumerate(filters):
        if isinstance(f, type):
            tests.append(_class_matcher(f))
            keys = None
        elif type(f) is tuple:
            tests.append(_tuple_matcher(f))
            k = _pattern_key(f)
            if k is _MISSING:
                keys = None
            elif keys is not None:
                keys.add(k)
        elif isinstance(f, _Record):
            tests.append(_record_matcher(f))
            k = _pattern_key(f)
            if k is _MISSING:
                keys = None
            elif keys is not None:
                keys.add(k)
        elif callable(f):
            tests.append(f)  # pyright: ignore[reportArgumentType] - a predicate: its truth counts
            keys = None
            needs_context = True
        else:
            raise TypeError(
                f"receive: filter #{pos + 1} ({f!r}) is not a class, a tuple pattern, "
                "a Down/Exit pattern or a predicate; pass e.g. str, ('tag', tether.ANY) "
                "or lambda m: ..."
            )
    if len(tests) == 1:
        match = tests[0]
    elif len(tests) == 2:
        t1, t2 = tests
        match = lambda m: t1(m) or t2(m)  # noqa: E731 - the common two-filter receive
    else:
        all_tests = tuple(tests)

        def match_any(m: Any) -> bool:
            return any(t(m) for t in all_tests)

        match = match_any

    return Matcher(match, frozenset(keys) if keys is not None else None, needs_context)


class PyMailbox:
    """A process's message queue; see the module comment for the design."""

    __slots__ = ("_base", "_head", "_holes", "_index", "_mark_ref", "_mark_seq", "_msgs", "_tail")

    def __init__(self) -> None:
        self._msgs: dict[int, Any] = {}
        self._head = 0
        self._tail = 0
        self._index: dict[Any, deque[int]] | None = None
        # Removals leave dead slots in the dict that iteration still walks:
        # _head - _base from the front (pop_first), _holes from the middle.
        # A scan compacts the dict when they outnumber the live messages, so a
        # long queue drained by selective receives stays O(1) amortised a take.
        self._base = 0
        self._holes = 0
        # The receive marker (see mark): a ref, and the seq from which every
        # message came after it was made.
        self._mark_ref: Ref | None = None
        self._mark_seq = 0

    def __len__(self) -> int:
        return len(self._msgs)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._msgs.values())

    def __sizeof__(self) -> int:
        return object.__sizeof__(self) + sys.getsizeof(self._msgs)

    def next_seq(self) -> int:
        """The arrival number the next ``put`` gets (numbers restart when the
        mailbox empties)."""
        return self._tail

    def holds(self, seq: int, msg: Any) -> bool:
        """Whether ``msg`` is still queued as arrival number ``seq``."""
        return self._msgs.get(seq, _MISSING) is msg

    def put(self, msg: Any) -> None:
        """Queue ``msg`` last."""
        key = _MISSING if self._index is None else index_key(msg)  # may raise: before any change
        seq = self._tail
        self._tail = seq + 1
        self._msgs[seq] = msg
        if self._index is not None and key is not _MISSING:
            bucket = self._index.get(key)
            if bucket is None:
                self._index[key] = deque((seq,))
            else:
                bucket.append(seq)

    def push_front(self, msg: Any) -> None:
        """Put ``msg`` back before every queued message (a receive that was handed
        it was cancelled before it could return it).  Rare: rebuilds the dict."""
        seq = self._head - 1
        self._msgs = {seq: msg, **self._msgs}
        self._head = self._base = seq
        self._holes = 0
        self._index = None  # rebuilt when next needed
        # msg may have come after the marker, and its seq is now below it
        self._mark_ref = None

    def mark(self, ref: Ref) -> None:
        """Set the receive marker: ``ref`` was just made (``make_ref``), so no
        message queued now can hold it (S-5's receive marker, ``docs/rules.md``)."""
        self._mark_ref = ref
        self._mark_seq = self._tail

    def _reset_if_empty(self) -> None:
        if not self._msgs:
            # Compacts the dict's table (clear frees it) and keeps seqs small.
            self._msgs.clear()
            self._head = self._tail = self._base = self._holes = 0
            self._index = None
            self._mark_seq = 0  # every later message comes after the marker

    def _unindex(self, seq: int, msg: Any) -> None:
        index = self._index
        if index is None:
            return
        key = index_key(msg)
        if key is _MISSING:
            return
        bucket = index[key]
        if bucket[0] == seq:
            bucket.popleft()
        else:
            bucket.remove(seq)
        if not bucket:
            del index[key]

    def pop_first(self) -> Any:
        """Remove and return the oldest message.  The mailbox must not be empty."""
        msgs = self._msgs
        h = self._head
        while True:
            msg = msgs.pop(h, _MISSING)
            h += 1
            if msg is not _MISSING:
                break
        self._head = h
        if self._index is not None:
            self._unindex(h - 1, msg)
        if not msgs:
            self._reset_if_empty()
        return msg

    def take(self, matcher: Matcher) -> Any:
        """Remove and return the first message that ``matcher`` accepts, else ``_MISSING``.

        Uses the index when every filter has a literal first item and the queue is
        long enough to be worth it (S-5: the first match in arrival order).
        """
        msgs = self._msgs
        if not msgs:
            return _MISSING
        keys = matcher.keys
        match = matcher.match
        if keys is not None and len(msgs) > INDEX_THRESHOLD:
            mark = self._mark_ref
            if (
                mark is not None
                and self._tail - self._mark_seq <= INDEX_THRESHOLD
                and len(keys) == 1
                and next(iter(keys)) is mark
            ):
                # The receive marker (the BEAM's; S-5 in docs/rules.md): a receive
                # for the ref made last looks only at the messages after it.
                # (A match that takes from this mailbox raises, as a scan's does.)
                for seq in range(self._mark_seq, self._tail):
                    msg = msgs.get(seq, _MISSING)
                    if msg is not _MISSING:
                        n = len(msgs)
                        ok = match(msg)
                        if len(msgs) < n:
                            raise RuntimeError("mailbox changed during a receive's match")
                        if ok:
                            return self._remove(seq)
                return _MISSING
            if self._index is None:
                self._build_index()
            index = self._index
            assert index is not None
            best: int | None = None  # not -1: push_front gives negative seqs
            for key in keys:
                bucket = index.get(key)
                if bucket is None:
                    continue
                for seq in bucket:
                    if best is not None and seq > best:
                        break
                    if match(msgs[seq]):
                        best = seq
                        break
            if best is None:
                return _MISSING
            return self._remove(best)
        if (self._head - self._base) + self._holes > len(msgs) + 64:
            msgs = self._msgs = dict(msgs)  # a copy has no dead slots
            self._base = self._head
            self._holes = 0
        for seq, msg in msgs.items():
            if match(msg):
                return self._remove(seq)
        return _MISSING

    def _remove(self, seq: int) -> Any:
        msg = self._msgs.pop(seq)
        self._unindex(seq, msg)
        if seq == self._head:
            self._head = seq + 1
        else:
            self._holes += 1
        if not self._msgs:
            self._reset_if_empty()
        return msg

    def _build_index(self) -> None:
        index: dict[Any, deque[int]] = {}
        for seq, msg in self._msgs.items():
            key = index_key(msg)
            if key is not _MISSING:
                bucket = index.get(key)
                if bucket is None:
                    index[key] = deque((seq,))
                else:
                    bucket.append(seq)
        self._index = index

    def indexed(self) -> bool:
        """Whether the index is built (for tests of the O(1) path)."""
        return self._index is not None


MISSING: Final = _MISSING

# The Python tests: the reference the native core's TagMatch is tested against.
py_tag_test: Final = _tag_test
py_reply_matcher: Final = reply_matcher
py_down_matcher: Final = down_matcher

# The running core's mailbox (see "Two implementations" above).
if TYPE_CHECKING:
    Mailbox = PyMailbox  # the C class has the same API
elif _core.native is not None:
    _core.native.init_mailbox(_MISSING, Down, Exit, ANY, _Record, Matcher)
    Mailbox = _core.native.Mailbox
    # The tagged tests in C: a TagMatch mirrors _tag_test's lambdas and
    # reply_matcher's closure (the reference, above), and deliver, the C
    # Mailbox's take and the receive awaitable run it without a Python call.
    _TagMatch = _core.native.TagMatch

    def _tag_test(f: Any, key: Any) -> Callable[[Any], bool]:
        t = type(f)
        return _TagMatch(key, len(f) if t is tuple else 0, t is Down, t is Exit)  # type: ignore[no-any-return]

    reply_matcher = _core.native.reply_matcher
    down_matcher = _core.native.down_matcher
else:
    Mailbox = PyMailbox
