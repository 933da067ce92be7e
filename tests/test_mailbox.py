"""The mailbox's two implementations (_mailbox.PyMailbox, the reference, and the
native core's _cnode.Mailbox) give the same answers (S-5: arrival order, the first
match taken), index and compaction included."""

from __future__ import annotations

import gc
import sys
import weakref
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether import ANY, Down, Exit
from tether._runtime import _core, _mailbox
from tether._runtime._mailbox import MISSING, Matcher, PyMailbox, compile_filters
from tether._runtime._types import Pid, Ref

IMPLS: list[Any] = [PyMailbox]
if _core.native is not None:
    IMPLS.append(_core.native.Mailbox)
impls = pytest.mark.parametrize("impl", IMPLS, ids=lambda c: c.__module__.rsplit(".", 1)[-1])
native_only = pytest.mark.skipif(_core.native is None, reason="the native core is not built")

REF = Ref(1)
PID = Pid(1)
TAGS = ["a", "b", REF, PID]
messages = st.one_of(
    st.tuples(st.sampled_from(TAGS), st.integers(0, 3)),
    st.tuples(st.sampled_from(TAGS)),
    st.integers(0, 3),
    st.just(()),
    st.just(([1], "unhashable first item")),
    st.sampled_from([Down(REF, "process", PID, "normal"), Exit(PID, "kill")]),
)
filters = st.one_of(
    st.sampled_from(TAGS).map(lambda t: ((t, ANY),)),
    st.tuples(st.sampled_from(TAGS), st.integers(0, 3)).map(lambda p: (p,)),
    st.just((int,)),
    st.just((Down(REF, ANY, ANY, ANY),)),
    st.just((Exit(PID, ANY),)),
    st.sampled_from(TAGS).map(lambda t: ((t, ANY), int)),
    st.integers(0, 3).map(lambda n: ((lambda m, n=n: m == n),)),
)
ops = st.one_of(
    messages.map(lambda m: ("put", m)),
    st.tuples(st.integers(1, 40), messages).map(lambda a: ("puts", a)),
    messages.map(lambda m: ("push_front", m)),
    st.just(("pop_first", None)),
    st.just(("mark", None)),
    filters.map(lambda f: ("take", f)),
)


def run(mb: Any, script: list[tuple[str, Any]]) -> list[Any]:
    """Run ``script`` on ``mb``; everything it observed, in order."""
    seen: list[Any] = []
    arrived: list[tuple[int, Any]] = []
    for kind, arg in script:
        if kind == "put":
            arrived.append((mb.next_seq(), arg))
            mb.put(arg)
        elif kind == "puts":
            n, msg = arg
            for i in range(n):
                m = (msg, i)
                arrived.append((mb.next_seq(), m))
                mb.put(m)
        elif kind == "push_front":
            mb.push_front(arg)
        elif kind == "pop_first":
            seen.append(mb.pop_first() if len(mb) else "empty")
        elif kind == "mark":
            mb.mark(REF)  # as if REF had just been made
        else:
            matcher = compile_filters(arg)
            assert matcher is not None
            got = mb.take(matcher)
            seen.append("missing" if got is MISSING else got)
        seen.append((len(mb), list(mb), mb.next_seq()))
        seen.append([mb.holds(seq, m) for seq, m in arrived])
    return seen


@native_only
@settings(max_examples=300, deadline=None)
@given(st.lists(ops, max_size=80))
def test_both_mailboxes_give_identical_results_for_any_operations(
    script: list[tuple[str, Any]],
) -> None:
    # S-5: the same messages taken, in the same order, the rest kept in arrival order.
    assert run(_core.native.Mailbox(), script) == run(PyMailbox(), script)  # type: ignore[union-attr]


@impls
def test_the_running_core_uses_its_own_mailbox(impl: Any) -> None:
    expected = PyMailbox if _core.native is None else _core.native.Mailbox
    assert _mailbox.Mailbox is expected
    if _core.native is not None:
        assert _core.native.INDEX_THRESHOLD == _mailbox.INDEX_THRESHOLD


@impls
def test_take_behind_a_long_queue_uses_the_index_and_keeps_order(impl: Any) -> None:
    # S-5 with the index: the first match in arrival order, the rest untouched.
    mb = impl()
    for i in range(10_000):
        mb.put(("noise", i))
    for i in range(1_000):
        ref = Ref(i + 10)
        mb.put((ref, "reply"))
        mb.put(("late", i))
        assert mb.take(compile_filters(((ref, ANY),))) == (ref, "reply")
        assert mb.indexed()
    assert len(mb) == 11_000
    assert mb.take(compile_filters((("late", ANY),))) == ("late", 0)
    assert mb.pop_first() == ("noise", 0)
    assert list(mb)[:2] == [("noise", 1), ("noise", 2)]
    assert list(mb)[-1] == ("late", 999)


@impls
def test_a_take_for_the_marker_ref_looks_only_after_the_marker(impl: Any) -> None:
    # S-5's receive marker: behind a long queue, a take whose one key is the
    # marked ref (by identity) looks at the messages put after mark(), without
    # the index; an equal ref queued before it is not seen by that take, and is
    # by any other.
    mb = impl()
    for i in range(10_000):
        mb.put(("noise", i))
    twin = Ref(77)
    mb.put((twin, "before"))
    ref = Ref(77)
    mb.mark(ref)
    mb.put(("late", 1))
    mb.put((ref, "after"))
    assert mb.take(compile_filters(((ref, ANY),))) == (ref, "after")
    assert not mb.indexed()
    assert mb.take(compile_filters(((ref, ANY),))) is MISSING
    assert mb.take(compile_filters(((twin, ANY),))) == (twin, "before")
    assert mb.indexed()
    assert len(mb) == 10_001 and list(mb)[-1] == ("late", 1)


@impls
def test_the_marker_survives_an_emptied_mailbox_and_push_front_drops_it(impl: Any) -> None:
    ref, twin = Ref(5), Ref(5)
    mb = impl()
    for i in range(30):
        mb.put(i)
    mb.mark(ref)
    for i in range(30):
        assert mb.pop_first() == i
    # emptied: numbering restarts, and every message now came after the marker
    mb.put((ref, "x"))
    for i in range(19):
        mb.put(i)
    assert mb.take(compile_filters(((ref, ANY),))) == (ref, "x")
    assert mb.indexed()  # 20 messages after the marker: more than it looks at
    # a message pushed back may have come after the marker: the marker goes
    mb.put((twin, "kept"))
    mb.mark(ref)
    mb.push_front((twin, "pushed"))
    assert mb.take(compile_filters(((ref, ANY),))) == (twin, "pushed")
    assert mb.indexed()
    # more messages after the marker than it looks at: the index, which sees
    # the equal ref queued before the marker
    mb.mark(ref)
    for i in range(17):
        mb.put(("after", i))
    assert mb.take(compile_filters(((ref, ANY),))) == (twin, "kept")
    assert len(mb) == 36


@impls
def test_a_match_that_takes_during_a_marker_search_raises(impl: Any) -> None:
    ref = Ref(9)
    mb = impl()
    for i in range(20):
        mb.put(i)
    mb.mark(ref)
    mb.put((ref, 1))

    def takes(m: Any) -> bool:
        mb.pop_first()
        return True

    with pytest.raises(RuntimeError):
        mb.take(Matcher(takes, frozenset({ref}), False))
    assert len(mb) == 20 and next(iter(mb)) == 1


@impls
def test_draining_from_the_middle_then_the_front_empties_and_restarts_numbering(
    impl: Any,
) -> None:
    mb = impl()
    for i in range(1_000):
        mb.put(i)
    odd = Matcher(lambda m: m % 2 == 1, None, False)
    for i in range(500):
        assert mb.take(odd) == 2 * i + 1  # S-5: oldest odd first, scan + compaction
    assert list(mb) == list(range(0, 1_000, 2))
    assert [mb.pop_first() for _ in range(500)] == list(range(0, 1_000, 2))
    assert len(mb) == 0 and list(mb) == [] and not mb.indexed()
    assert mb.next_seq() == 0
    mb.put("x")
    assert mb.holds(0, "x") and mb.next_seq() == 1


@impls
def test_push_front_puts_a_message_before_every_queued_one(impl: Any) -> None:
    mb = impl()
    mb.push_front("first")  # onto an empty mailbox
    for i in range(20):
        mb.put(("t", i))
    mb.take(compile_filters((("t", 19),)))
    assert mb.indexed()
    mb.pop_first()
    mb.push_front("again")
    assert not mb.indexed()  # rebuilt when next needed
    assert list(mb) == ["again"] + [("t", i) for i in range(19)]
    assert mb.take(compile_filters((("t", ANY),))) == ("t", 0)


@impls
def test_a_match_that_raises_leaves_the_mailbox_as_it_was(impl: Any) -> None:
    mb = impl()
    for i in range(40):
        mb.put(("t", i))

    def boom(m: Any) -> bool:
        if m == ("t", 3):
            raise ValueError("bad predicate")
        return False  # pragma: no cover - not reached past ("t", 3)

    for keys in (None, frozenset({"t"})):
        with pytest.raises(ValueError, match="bad predicate"):
            mb.take(Matcher(boom, keys, False))
        assert list(mb) == [("t", i) for i in range(40)]


@impls
def test_a_match_that_sends_to_the_same_mailbox_does_not_corrupt_it(impl: Any) -> None:
    mb = impl()
    for i in range(5):
        mb.put(i)

    def sends(m: Any) -> bool:
        mb.put(("sent", m))
        return bool(m == 4)

    try:
        got = mb.take(Matcher(sends, None, False))
    except RuntimeError:  # the Python dict refuses to change size while it is walked
        got = None
    assert got in (4, None)
    queued = list(mb)
    assert len(queued) == len(mb)
    assert queued[: 4 if got == 4 else 5] == list(range(4 if got == 4 else 5))


@impls
def test_a_match_that_takes_from_the_same_mailbox_raises_instead_of_corrupting_it(
    impl: Any,
) -> None:
    mb = impl()
    for i in range(5):
        mb.put(i)

    def takes(m: Any) -> bool:
        if m == 1:
            mb.pop_first()
        return False

    with pytest.raises(RuntimeError):
        mb.take(Matcher(takes, None, False))
    assert list(mb) == [1, 2, 3, 4] and len(mb) == 4


@impls
def test_a_cycle_through_a_mailbox_is_collected(impl: Any) -> None:
    class Box:
        pass

    mb = impl()
    box = Box()
    box.mb = mb  # type: ignore[attr-defined]
    mb.put(box)
    mb.put(("x", box))
    dead = weakref.ref(box)
    del mb, box
    gc.collect()
    assert dead() is None


@native_only
def test_an_empty_native_mailbox_is_small_and_a_queue_costs_no_allocation_per_message() -> None:
    mb = _core.native.Mailbox()  # type: ignore[union-attr]
    empty = sys.getsizeof(mb)
    assert empty <= sys.getsizeof(PyMailbox())
    for i in range(1_000):
        mb.put(i)
    # 16 bytes a slot (message pointer, seq), doubled as it grows.
    assert sys.getsizeof(mb) - empty <= 1_024 * 16 + 64
    with pytest.raises(IndexError):
        type(mb)().pop_first()
    with pytest.raises(TypeError):
        type(mb)(1)


@impls
def test_a_message_pushed_back_onto_an_empty_mailbox_is_found_through_the_index(
    impl: Any,
) -> None:
    # push_front numbers it -1: PyMailbox.take once took that for "no match".
    mb = impl()
    mb.push_front(("a", 0))
    for _ in range(16):
        mb.put(())
    assert mb.take(compile_filters((("a", ANY),))) == ("a", 0)
    assert len(mb) == 16


@impls
def test_a_match_that_sends_during_an_index_search_never_takes_the_wrong_message(
    impl: Any,
) -> None:
    mb = impl()
    for i in range(40):
        mb.put(("t", i))
    assert mb.take(compile_filters((("t", ANY),))) == ("t", 0)  # builds the index
    assert mb.indexed()

    def sends(m: Any) -> bool:
        mb.put(("t", "new"))  # the bucket being searched grows
        return bool(m == ("t", 26))

    try:
        got = mb.take(Matcher(sends, frozenset({"t"}), False))
    except RuntimeError:  # PyMailbox: its deque refuses to change while it is walked
        got = None
    assert got in (("t", 26), None)
    queued = list(mb)
    assert len(queued) == len(mb)
    assert ("t", 26) not in queued if got else ("t", 26) in queued


@impls
def test_a_match_that_always_sends_ends(impl: Any) -> None:
    # A take looks at the messages queued when it began (PyMailbox: RuntimeError).
    mb = impl()
    for i in range(40):
        mb.put(("t", i))
    for keys in (None, frozenset({"t"})):

        def sends(m: Any) -> bool:
            mb.put(("t", "new"))
            return False

        try:
            got = mb.take(Matcher(sends, keys, False))
        except RuntimeError:
            got = None
        assert got in (MISSING, None)
    assert list(mb)[:40] == [("t", i) for i in range(40)]


def test_exit_and_down_patterns_of_one_pid_or_ref_are_indexed_by_it() -> None:
    # S-5: the patterns a trapping parent and a monitor's owner wait for are
    # keyed by their pid / ref (answered through the index behind a long queue);
    # a pattern that fixes another field too is compiled in general (still keyed).
    import tether
    from tether._runtime._types import Ref

    pid, other, ref = tether.pid(0, 41, 0), tether.pid(0, 42, 0), Ref()
    m = compile_filters((Exit(pid, ANY),))
    assert m is not None and m.keys == frozenset({pid})
    assert [m.match(x) for x in (Exit(pid, "boom"), Exit(other, "boom"), (pid, "boom"))] == [
        True,
        False,
        False,
    ]
    d = compile_filters((Down(ref, ANY, ANY, ANY),))
    assert d is not None and d.keys == frozenset({ref})
    assert d.match(Down(ref, "process", pid, "normal")) is True
    assert d.match(Down(Ref(), "process", pid, "normal")) is False
    fixed = compile_filters((Exit(pid, "normal"),))
    assert fixed is not None and fixed.keys == frozenset({pid})
    assert [fixed.match(Exit(pid, "normal")), fixed.match(Exit(pid, "boom"))] == [True, False]


class _Raises:
    """A first item whose == raises (the test must raise the same way)."""

    def __eq__(self, other: object) -> bool:
        raise ValueError("no ==")

    __hash__ = object.__hash__


NAN = float("nan")
RAISES = _Raises()
KEYS = ["a", REF, Ref(1), PID, 7, 10**30, NAN, RAISES]
tag_messages = st.one_of(
    st.tuples(st.sampled_from(KEYS), st.integers(0, 3)),
    st.tuples(st.sampled_from(KEYS)),
    st.tuples(st.sampled_from(KEYS), st.integers(0, 3), st.integers(0, 3)),
    st.sampled_from(KEYS).map(lambda k: Down(k, "process", PID, "normal")),
    st.sampled_from(KEYS).map(lambda k: Exit(k, "kill")),
    st.sampled_from([(), [REF, 1], "a", None]),
)


def _outcome(test: Any, m: Any) -> Any:
    try:
        return test(m)
    except ValueError as e:
        return ("raised", str(e))


@native_only
@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(KEYS),
    st.sampled_from(["tuple1", "tuple2", "tuple3", "down", "exit"]),
    tag_messages,
)
def test_the_c_tag_test_gives_the_python_tests_answer(key: Any, shape: str, m: Any) -> None:
    # S-5: the native core's TagMatch mirrors _mailbox's Python tests (the
    # reference): == on the first item / the ref / the pid, a NaN unequal to
    # itself, an __eq__ that raises raising the same way.
    native = _core.native
    assert native is not None
    pattern: Any = {
        "tuple1": (key,),
        "tuple2": (key, ANY),
        "tuple3": (key, ANY, ANY),
        "down": Down(key, ANY, ANY, ANY),
        "exit": Exit(key, ANY),
    }[shape]
    c_test = _mailbox._tag_test(pattern, key)
    assert type(c_test) is native.TagMatch
    assert _outcome(c_test, m) == _outcome(_mailbox.py_tag_test(pattern, key), m)
    if shape == "tuple2" and type(key) is Ref:
        # the C matchers' keys are a 1-tuple (only ever iterated), the Python
        # reference's a frozenset: the same one key
        c, py = native.reply_matcher(key), _mailbox.py_reply_matcher(key)
        assert (c.keys, c.needs_context) == ((key,), False)
        assert (py.keys, py.needs_context) == (frozenset({key}), False)
        assert _outcome(c.match, m) == _outcome(py.match, m)
        c, py = native.down_matcher(key), _mailbox.py_down_matcher(key)
        assert (c.keys, c.needs_context) == ((key,), False)
        assert (py.keys, py.needs_context) == (frozenset({key}), False)
        assert _outcome(c.match, m) == _outcome(py.match, m)


@native_only
def test_a_tag_match_says_what_it_tests_and_refuses_bad_arguments() -> None:
    native = _core.native
    assert native is not None
    t = native.TagMatch(REF, 2, True, False)
    assert repr(t) == f"TagMatch({REF!r}, 2, True, False)"
    assert (t.key, t.arity) == (REF, 2)
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        native.TagMatch([1], 2, False, False)
    with pytest.raises(ValueError, match=r"^TagMatch: arity must be >= 0 \(0: no tuple\)$"):
        native.TagMatch("a", -1, False, False)
    with pytest.raises(TypeError, match="^TagMatch takes no keyword arguments$"):
        t((REF, 1), x=1)
