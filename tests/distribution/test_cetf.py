"""The codec's C (``tether._dist._cetf``) against its Python reference (issue #16
item 4): the same bytes for every term, the same term (or the Python's own
DecodeError) for every input, and the shapes the C gives up on decoded by Python.

Every test here compares the two codecs in one process: ``python_only()`` runs
the pure-Python codec by hiding the C from etf.py (its methods look ``_cetf`` up
at each call).  The rest of the codec's tests (test_etf.py, test_fuzz.py,
test_hostile.py) run on the C with the native core and on the Python with
``TETHER_CORE=python``.
"""

from __future__ import annotations

import contextlib
import enum
import math
import os
import random
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether import Atom, Pid, Ref
from tether._dist import etf
from tether._dist.etf import (
    BitBinary,
    Codec,
    DecodeError,
    EncodeError,
    FrozenDict,
    FrozenList,
    ImproperList,
    ref_from_words,
)
from tether._runtime._types import TimerRef

from . import fuzz
from .test_etf import _keys, terms

pytestmark = pytest.mark.skipif(etf._cetf is None, reason="the C codec runs with the native core")

LOCAL = Codec("py@127.0.0.1", creation=7)


@contextlib.contextmanager
def python_only() -> Iterator[None]:
    saved = etf._cetf
    etf._cetf = None  # type: ignore[misc]
    try:
        yield
    finally:
        etf._cetf = saved  # type: ignore[misc]


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("ok", fn())
    except Exception as e:
        return (type(e).__name__, str(e))


def shape(v: Any) -> Any:
    """A value with its types spelled out (Atom("a") == "a", 1 == 1.0 == True)."""
    if isinstance(v, list | tuple):
        return (type(v).__name__, [shape(x) for x in v])
    if isinstance(v, dict):
        return (type(v).__name__, sorted((repr(shape(k)), shape(x)) for k, x in v.items()))
    if isinstance(v, ImproperList):
        return ("improper", shape(v.items), shape(v.tail))
    if isinstance(v, Pid | Ref):
        return (type(v).__name__, repr(v), v.node, type(v.node).__name__, v.creation)
    if isinstance(v, float) and math.isnan(v):
        return ("float", "nan")
    return (type(v).__name__, v)


def both_encode(codec: Codec, value: Any) -> tuple[Any, Any]:
    c = outcome(lambda: codec.encode(value))
    with python_only():
        p = outcome(lambda: codec.encode(value))
    return c, p


def both_decode(codec: Codec, raw: bytes, **kw: Any) -> tuple[Any, Any]:
    c = outcome(lambda: shape(codec.decode(raw, **kw)))
    with python_only():
        p = outcome(lambda: shape(codec.decode(raw, **kw)))
    return c, p


class Pair(NamedTuple):
    a: Any
    b: Any


class Color(enum.IntEnum):
    RED = 1


class Text(str):
    pass


_extra = st.one_of(
    st.lists(st.integers(0, 255), max_size=40),  # STRING_EXT
    st.lists(st.integers(-(2**31), 2**31 - 1), max_size=20),  # packed INTEGER_EXT
    st.lists(st.integers(-(2**70), 2**70), max_size=8),  # ints of every size
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63 - 1, 2**63, -(2**63), 2**64]),
    st.floats(),  # nan and inf: EncodeError
    st.text(alphabet=st.characters(), max_size=20),  # surrogates: UnicodeEncodeError
    st.binary(max_size=30).map(bytearray),
    st.builds(Pair, st.integers(), st.text()),
    st.just(Color.RED),
    st.text(max_size=5).map(Text),
    st.lists(st.integers(0, 300), max_size=5).map(FrozenList),
    st.dictionaries(st.integers(), st.integers(), max_size=3).map(FrozenDict),
    st.builds(Pid, st.integers(0, 2**33), st.integers(0, 5), st.none(), st.integers(0, 2**33)),
    st.builds(Ref, st.integers(-5, 2**90)),
    st.builds(TimerRef),
    st.just(object()),
)
_all = st.recursive(
    st.one_of(terms, _extra),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=5).map(tuple),
        st.dictionaries(_keys, inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=1500, deadline=None)
@given(_all)
def test_the_c_encodes_every_term_to_the_pythons_bytes_or_the_same_error(value: Any) -> None:
    c, p = both_encode(LOCAL, value)
    assert c == p


@settings(max_examples=1500, deadline=None)
@given(_all)
def test_the_c_decodes_what_the_python_encodes_to_the_same_term(value: Any) -> None:
    with python_only():
        got = outcome(lambda: LOCAL.encode(value))
    if got[0] != "ok":
        return
    c, p = both_decode(LOCAL, got[1])
    assert c == p
    c, p = both_decode(LOCAL, got[1], binaries="bytes")
    assert c == p


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=200).map(lambda b: b"\x83" + b))
def test_random_bytes_decode_alike_or_raise_the_pythons_error(raw: bytes) -> None:
    c, p = both_decode(LOCAL, raw)
    assert c == p
    if p[0] != "ok":
        assert p[0] == "DecodeError"


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(4)
        if op == 0 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1 and b:
            del b[rng.randrange(len(b)) :]
        elif op == 2:
            b.insert(rng.randrange(len(b) + 1), rng.choice([70, 88, 90, 97, 98, 104, 106, 107]))
        elif b:
            i = rng.randrange(len(b))
            b[i : i + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f"])
    return bytes(b)


def test_mutated_frames_decode_alike_or_raise_the_pythons_error() -> None:
    """The seeded fuzzer's valid frames (control messages and payloads), mutated:
    60,000 inputs, each through both decoders, decode_from at the control
    message's end too (the node's path)."""
    rng = random.Random(16)
    corpus = fuzz.corpus(LOCAL)
    for _ in range(60_000):
        frame = _mutate(rng, rng.choice(corpus))
        raw = frame[1:] if frame[:1] == b"p" else frame
        c, p = both_decode(LOCAL, raw)
        assert c == p, raw.hex()
        c = outcome(lambda raw=raw: LOCAL.decode_from(raw, 0, compressed=False))
        with python_only():
            p = outcome(lambda raw=raw: LOCAL.decode_from(raw, 0, compressed=False))
        assert c == p, raw.hex()


def test_the_hot_shapes_decode_in_c_alone() -> None:
    """Every tag the C takes, with the Python decoder made unusable: no fallback."""
    remote = Pid(5, 1, Atom("ex@h"), 3)
    value = (
        Atom("ok"),
        Atom("é" * 100),
        True,
        None,
        7,
        -70000,
        1.5,
        tuple(range(300)),
        [],
        [1, 2, 3],
        [Atom("a"), [1000]],
        "text",
        b"\xff",
        {Atom("k"): 1, (1, 2): [], Pid(3): Ref(9)},
        remote,
        Pid(4),
        Pid(4, 0, None, 5),
        Ref(2**70),
        ref_from_words(Atom("ex@h"), 4, (1, 2, 3)),
        ImproperList([Atom("alias")], ref_from_words(Atom("ex@h"), 4, (1, 2, 3))),
        ImproperList([1, 2], Atom("t")),
    )
    raw = LOCAL.encode(value)
    saved = etf._Decoder
    etf._Decoder = None  # type: ignore[misc, assignment]
    try:
        got = LOCAL.decode(raw)
        assert LOCAL.decode_from(raw + raw, len(raw)) == (got, 2 * len(raw))
    finally:
        etf._Decoder = saved  # type: ignore[misc]
    with python_only():
        assert shape(got) == shape(LOCAL.decode(raw))
    assert got == value


def test_the_hot_shapes_encode_in_c_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every type the C takes, with the Python encoder made unusable."""
    value = (
        Atom("ok"),
        True,
        False,
        None,
        [7, 300, 2**40, -(2**63), 1.5, "é", b"\xff", bytearray(b"x")],
        list(range(10)),
        [1, 70000],
        {Atom("k"): (), "s": []},
        Pid(1),
        Pid(2, 3, Atom("ex@h"), 4),
        Ref(5),
        ref_from_words(Atom("ex@h"), 4, (1, 2, 3)),
        ImproperList([Atom("alias")], Ref(6)),
    )
    with python_only():
        expected = LOCAL.encode(value)
    monkeypatch.setattr(etf, "_ENCODERS", {})
    monkeypatch.setattr(etf, "_FALLBACKS", [])
    assert LOCAL.encode(value) == expected
    with pytest.raises(EncodeError):
        LOCAL.encode(BitBinary(b"\x80", 1))  # a type the C leaves to Python


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("improper list with a list tail", None),
        ("improper list with an improper tail", None),
        ("improper list of no items", None),
        ("big int", 2**100),
        ("latin-1 atom", None),
        ("map over _MAP_CHECKED keys", {i: i for i in range(100)}),
        ("list as a map key", {FrozenList([1]): 2}),
        ("tuple with a list as a map key", {(1, FrozenList([2])): 3}),
        ("bit binary", BitBinary(b"\xf0", 4)),
        ("compressed", None),
        ("old pid", None),
        ("nested deeper than MAX_DEPTH", None),
    ],
)
def test_the_shapes_the_c_leaves_to_python_decode_as_in_python(label: str, value: Any) -> None:
    if label == "improper list with a list tail":  # [1 | [2]]: flattened to [1, 2]
        raw = b"\x83\x6c\x00\x00\x00\x01\x61\x01\x6b\x00\x01\x02"
    elif label == "improper list with an improper tail":  # [1 | [2 | 3]]
        raw = b"\x83\x6c\x00\x00\x00\x01\x61\x01\x6c\x00\x00\x00\x01\x61\x02\x61\x03"
    elif label == "improper list of no items":  # a DecodeError
        raw = b"\x83\x6c\x00\x00\x00\x00\x61\x01"
    elif label == "latin-1 atom":
        raw = b"\x83\x68\x02\x64\x00\x03abc\x73\x01x"
    elif label == "compressed":
        raw = etf.encode([1] * 20)
        import zlib

        raw = b"\x83\x50" + struct.pack(">I", len(raw) - 1) + zlib.compress(raw[1:])
    elif label == "old pid":
        raw = b"\x83\x67\x77\x04ex@h" + struct.pack(">IIB", 1, 2, 3)
    elif label == "nested deeper than MAX_DEPTH":
        raw = b"\x83" + b"\x68\x01" * (etf.MAX_DEPTH + 1) + b"\x6a"
    else:
        raw = LOCAL.encode(value)
    c, p = both_decode(LOCAL, raw)
    assert c == p
    if value is not None:
        assert LOCAL.decode(raw) == value


def test_encoding_choices_are_the_pythons() -> None:
    """The vectorised shapes and the integer sizes at their edges, byte for byte."""
    cases = [
        [1, 2, 3],
        [255, 0],
        [256, 1],  # INTEGER_EXT for all, the small ones too
        [1] * 65535,
        [1] * 65536,  # too long for STRING_EXT: packed INTEGER_EXT
        [1, 2**31],  # over 32 bits: item by item
        [1, True],
        [True, 1],
        [1, "x", 2],
        [-(2**31), 2**31 - 1],
        2**64 - 1,
        -(2**64) + 1,
        2**63,
        -(2**63),
    ]
    for value in cases:
        c, p = both_encode(LOCAL, value)
        assert c == p


def test_pids_and_refs_encode_with_the_codecs_name_and_creation() -> None:
    codec = Codec("a@h", 9)
    for value in (Pid(1), Pid(1, 2, None, 3), Pid(1, 2, Atom("b@h"), 0), Ref(12345), Ref(2**64)):
        c, p = both_encode(codec, value)
        assert c == p
    codec.rename("b@h", 10)
    assert both_encode(codec, Pid(1))[0] == both_encode(codec, Pid(1))[1]
    assert codec.decode(codec.encode(Pid(1))) == Pid(1)


def test_a_term_that_contains_itself_is_a_recursion_error() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    deep: Any = ()
    for _ in range(100_000):
        deep = (deep,)
    for value in (cyclic, deep, {"k": cyclic}):
        with pytest.raises(RecursionError):
            LOCAL.encode(value)


def test_a_default_that_changes_a_dict_being_encoded_is_the_pythons_error() -> None:
    d: dict[Any, Any] = {}

    def default(v: Any) -> Any:
        d[len(d) + 100] = 1  # a new key on each call
        return 0

    d[1] = object()
    codec = Codec(default=default)
    c, p = both_encode(codec, d)
    assert c == p == ("RuntimeError", "dictionary changed size during iteration")


def test_put_appends_to_a_bytearray_as_the_python() -> None:
    for value in ((Atom("a"), [1, 2], {"k": Pid(1)}), ImproperList([1], 2), 2**200):
        out = bytearray(b"xy")
        LOCAL.put(out, value)
        with python_only():
            ref = bytearray(b"xy")
            LOCAL.put(ref, value)
        assert out == ref


def test_the_atom_cache_keeps_every_atom_apart() -> None:
    """More atoms than the cache has slots, twice: each decodes to itself."""
    names = [Atom(f"atom_{i}") for i in range(10_000)]
    for _ in range(2):
        assert LOCAL.decode(LOCAL.encode(names)) == names
    raw = LOCAL.encode([Atom("true"), Atom("x"), "true"])
    assert shape(LOCAL.decode(raw)) == shape([True, Atom("x"), "true"])


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.binary(max_size=12), st.text(max_size=6).map(lambda s: s.encode())))
def test_binaries_are_str_exactly_when_python_says_utf8(raw: bytes) -> None:
    data = b"\x83\x6d" + struct.pack(">I", len(raw)) + raw
    c, p = both_decode(LOCAL, data)
    assert c == p


def test_tether_core_python_never_loads_the_c_codec() -> None:
    code = (
        "import sys, tether, tether._dist.etf as e;"
        "print(e._cetf, 'tether._dist._cetf' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "TETHER_CORE": "python"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout == "None False\n"


def test_encode_and_decode_errors_are_the_pythons() -> None:
    for value in (math.nan, object(), Atom("a" * 256), "\ud800", Pid(2**32)):
        c, p = both_encode(LOCAL, value)
        assert c == p and c[0] != "ok"
    assert both_encode(LOCAL, math.inf)[0][0] == EncodeError.__name__
    with pytest.raises(DecodeError, match="1 bytes after the term"):
        LOCAL.decode(b"\x83\x61\x01\x00")
