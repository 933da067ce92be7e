"""The External Term Format codec (issue: distribution, part 3).

Samples recorded from OTP's term_to_binary (etf_samples.txt; re-record with
``python -m tests.distribution.record_etf``), hand-made frames for the tags OTP no longer
writes, Hypothesis round trips, a live round trip through a real erl, and
malformed input that must end in DecodeError only.
"""

from __future__ import annotations

import math
import random
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether import Atom, Pid, Ref
from tether.etf import (
    BitBinary,
    Codec,
    DecodeError,
    EncodeError,
    Export,
    FrozenList,
    Fun,
    ImproperList,
    Port,
    decode,
    encode,
)

HERE = Path(__file__).parent
SAMPLES = dict(
    line.split("\t") for line in (HERE / "etf_samples.txt").read_text().splitlines() if line
)

EXPECTED: dict[str, Any] = {
    "atom": Atom("atom"),
    "utf8 atom": Atom("héllo"),
    "long atom": Atom("a" * 255),
    "true": True,
    "nil": None,
    "small int": 7,
    "int": -70000,
    "int max": 2147483647,
    "small big": 1 << 64,
    "negative big": -(1 << 100),
    "large big": 1 << 2100,
    "new float": 3.25,
    "old float": 3.25,
    "latin1 atom": Atom("atom"),
    "binary": "héllo",
    "non-utf8 binary": b"\xff\x00\x01",
    "empty binary": "",
    "bit binary": BitBinary(b"\xa0", 3),
    "empty tuple": (),
    "small tuple": (Atom("ok"), 1),
    "large tuple": tuple(range(1, 301)),
    "nil list": [],
    "string": [97, 98, 99],
    "list": [1, 1000, Atom("atom")],
    "improper list": ImproperList([Atom("a"), Atom("b")], Atom("c")),
    "map": {Atom("a"): 1, "k": [1.5], (1,): {}},
    "map with list key": {FrozenList([1, 2]): Atom("x")},
    "pid": Pid(85, 3, Atom("nonode@nohost")),
    "export": Export("lists", "map", 2),
    "compressed": [(Atom("abc"), 1)] * 100,
    "nested": ([(Atom("a"), ["b"])], {Atom("c"): (Atom("d"), 1.0e-300)}),
}
# OTP's own bytes are reproduced exactly (the rest differ only in choices OTP
# leaves open: compression, the old float/atom tags, a packed int list).
CANONICAL = set(EXPECTED) - {"old float", "latin1 atom", "compressed", "list"}

LOCAL = Codec("py@127.0.0.1", creation=7)


def test_every_sample_is_recorded() -> None:
    assert set(SAMPLES) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_decode_otp_samples(name: str) -> None:
    raw = bytes.fromhex(SAMPLES[name])
    value = LOCAL.decode(raw)
    assert value == EXPECTED[name]
    assert type(value) is type(EXPECTED[name])
    again = LOCAL.encode(value)
    assert LOCAL.decode(again) == value
    if name in CANONICAL:
        assert again == raw


def test_binaries_mode_bytes_keeps_bytes() -> None:
    raw = bytes.fromhex(SAMPLES["binary"])
    assert decode(raw, binaries="bytes") == "héllo".encode()
    assert Codec(binaries="bytes").decode(raw) == "héllo".encode()


def _crafted() -> list[tuple[str, bytes, Any]]:
    node = b"\x77\x0cpy@127.0.0.1"  # SMALL_ATOM_UTF8 of this node
    other = b"\x64\x00\x0cex@127.0.0.1"  # ATOM_EXT of another node
    return [
        ("SMALL_ATOM_EXT", b"\x83\x73\x03abc", Atom("abc")),
        ("ATOM_UTF8_EXT", b"\x83\x76\x00\x03abc", Atom("abc")),
        (
            "PID_EXT (old)",
            b"\x83\x67" + other + b"\x00\x00\x00\x05\x00\x00\x00\x01\x02",
            Pid(5, 1, Atom("ex@127.0.0.1"), 2),
        ),
        ("NEW_PID_EXT of this node", b"\x83\x58" + node + struct.pack(">III", 70, 0, 7), Pid(70)),
        (
            "NEW_PID_EXT of an older incarnation",
            b"\x83\x58" + node + struct.pack(">III", 70, 0, 6),
            Pid(70, 0, None, 6),
        ),
        ("PORT_EXT", b"\x83\x66" + other + b"\x00\x00\x00\x09\x01", Port("ex@127.0.0.1", 9, 1)),
        (
            "NEW_PORT_EXT",
            b"\x83\x59" + other + struct.pack(">II", 9, 3),
            Port("ex@127.0.0.1", 9, 3),
        ),
        (
            "V4_PORT_EXT",
            b"\x83\x78" + other + struct.pack(">QI", 1 << 40, 3),
            Port("ex@127.0.0.1", 1 << 40, 3),
        ),
        ("REFERENCE_EXT", b"\x83\x65" + other + b"\x00\x00\x00\x2a\x01", None),
        (
            "NEW_REFERENCE_EXT",
            b"\x83\x72\x00\x03" + other + b"\x01" + struct.pack(">III", 1, 2, 3),
            None,
        ),
        (
            "NEWER_REFERENCE_EXT",
            b"\x83\x5a\x00\x05" + other + struct.pack(">IIIIII", 9, 1, 2, 3, 4, 5),
            None,
        ),
        ("STRING_EXT empty", b"\x83\x6b\x00\x00", []),
        ("LIST_EXT with list tail", b"\x83\x6c\x00\x00\x00\x01\x61\x01\x6b\x00\x01\x02", [1, 2]),
        ("BIT_BINARY_EXT of 8 bits", b"\x83\x4d\x00\x00\x00\x01\x08\xff", b"\xff"),
    ]


@pytest.mark.parametrize(("label", "raw", "expected"), _crafted(), ids=[c[0] for c in _crafted()])
def test_tags_otp_no_longer_writes(label: str, raw: bytes, expected: Any) -> None:
    value = LOCAL.decode(raw)
    if expected is None:  # references: round trip, node and creation kept
        assert isinstance(value, Ref) and value.node == "ex@127.0.0.1"
        assert LOCAL.decode(LOCAL.encode(value)) == value
        return
    assert value == expected
    assert LOCAL.decode(LOCAL.encode(value)) == expected


def test_local_pids_and_refs_carry_the_node_name_and_creation_on_the_wire() -> None:
    pid, ref = Pid(99, 1), Ref()
    raw = LOCAL.encode((pid, ref))
    assert b"py@127.0.0.1" in raw
    assert struct.pack(">III", 99, 1, 7) in raw
    assert LOCAL.decode(raw) == (pid, ref)
    other = Codec("other@127.0.0.1", 1).decode(raw)
    assert other[0].node == "py@127.0.0.1" and other[0].creation == 7
    # back home through a third node: the same local values again
    assert LOCAL.decode(Codec("other@127.0.0.1", 1).encode(other)) == (pid, ref)


def test_new_fun_round_trips_unchanged() -> None:
    fun = Fun(1, bytes(range(16)), 3, "erl_eval", 4, 5, Pid(1, 0, Atom("ex@h")), (1, Atom("x")))
    raw = LOCAL.encode(fun)
    assert raw[1] == 112
    assert LOCAL.decode(raw) == fun


def test_encode_choices() -> None:
    assert encode(True) == b"\x83\x77\x04true"
    assert encode(None) == b"\x83\x77\x03nil"
    assert encode([1, 2, 3]) == b"\x83\x6b\x00\x03\x01\x02\x03"  # vectorised STRING_EXT
    assert decode(encode(list(range(-5, 70000, 7)))) == list(
        range(-5, 70000, 7)
    )  # packed INTEGER_EXT
    assert decode(encode(bytearray(b"\xff"))) == b"\xff"
    assert encode("x") == b"\x83\x6d\x00\x00\x00\x01x"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [(object(), "type object"), (math.nan, "finite"), (math.inf, "finite"), ({1, 2}, "type set")],
)
def test_unencodable_values_name_the_problem(value: Any, fragment: str) -> None:
    with pytest.raises(EncodeError, match=fragment):
        encode(value)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"", "version byte 131"),
        (b"\x84\x61\x01", "version byte 131"),
        (b"\x83", "truncated"),
        (b"\x83\x6c\xff\xff\xff\xff", "truncated"),  # a 4G-element list in 6 bytes
        (b"\x83\x6d\x7f\xff\xff\xff", "truncated"),
        (b"\x83\x74\x00\x00\x00\x05", "truncated"),
        (b"\x83\x6f\xff\xff\xff\xff\x00", "exceeds the limit"),
        (
            b"\x83\x52\x01",
            "unknown or unsupported term tag 82",
        ),  # ATOM_CACHE_REF outside a dist header
        (b"\x83\x79\x00", "unknown or unsupported term tag 121"),  # LOCAL_EXT
        (b"\x83\x75\x00", "unknown or unsupported term tag 117"),  # FUN_EXT (removed)
        (b"\x83\x50\x7f\xff\xff\xff\x00", "over the limit"),  # compressed bomb
        (b"\x83\x50\x00\x00\x00\x05xxxx", "bad zlib"),
        (b"\x83\x61\x01\x00", "1 bytes after the term"),
        (b"\x83\x77\x02\xff\xfe", "not valid UTF-8"),
        (b"\x83\x4d\x00\x00\x00\x01\x09\xff", "bits in the last byte"),
        (b"\x83" + b"\x68\x01" * 3000 + b"\x6a", "nested deeper"),
    ],
)
def test_malformed_terms_raise_decode_error(raw: bytes, fragment: str) -> None:
    with pytest.raises(DecodeError, match=fragment):
        decode(raw)


def test_compressed_terms_inflate() -> None:
    inner = encode(["x" * 1000])[1:]
    raw = b"\x83\x50" + struct.pack(">I", len(inner)) + zlib.compress(inner)
    assert decode(raw) == ["x" * 1000]


# -- Hypothesis ---------------------------------------------------------------

_atoms = (
    st.text(min_size=0, max_size=40).filter(lambda s: s not in ("true", "false", "nil")).map(Atom)
)
_pids = st.builds(
    Pid,
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.sampled_from([None, "ex@h"]),
    st.integers(0, 2**32 - 1),
).filter(lambda p: p.node is not None or p.creation == 0)
_refs = st.one_of(
    st.builds(Ref, st.integers(0, 2**82 - 1)),
    st.tuples(
        st.lists(st.integers(0, 2**32 - 1), min_size=3, max_size=5), st.integers(0, 2**32 - 1)
    ).map(
        lambda wc: __import__("tether._dist.etf", fromlist=["x"]).ref_from_words(
            "ex@h", wc[1], tuple(wc[0])
        )
    ),
)
_scalars = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    _atoms,
    st.booleans(),
    st.none(),
    _pids,
    _refs,
    st.builds(BitBinary, st.binary(min_size=1, max_size=8), st.integers(1, 7)).map(
        lambda b: BitBinary(
            b.data[:-1] + bytes([b.data[-1] & (0xFF << (8 - b.bits)) & 0xFF]), b.bits
        )
    ),
)
_keys = st.one_of(st.integers(), st.text(), _atoms, st.tuples(st.integers(), st.text()))
terms = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.lists(inner, max_size=6).map(tuple),
        st.dictionaries(_keys, inner, max_size=5),
        st.tuples(st.lists(inner, min_size=1, max_size=4), _scalars).map(
            lambda t: ImproperList(t[0], t[1])
        ),
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(terms)
def test_round_trip_property(value: Any) -> None:
    assert LOCAL.decode(LOCAL.encode(value)) == value


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.one_of(st.binary(), st.integers(), _atoms),
        lambda i: st.lists(i, max_size=5).map(tuple),
        max_leaves=10,
    )
)
def test_round_trip_property_bytes_mode(value: Any) -> None:
    assert Codec(binaries="bytes").decode(encode(value), binaries="bytes") == value


def random_term(rng: random.Random, depth: int) -> Any:
    """A random term of every kind the mapping has (seeded: the same run each time)."""
    kinds = ["int", "big", "float", "str", "atom", "bool", "none", "pid", "ref", "bits"]
    if depth > 0:
        kinds += ["list", "tuple", "map", "improper"] * 2
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.randint(-(2**31), 2**31 - 1)
    if kind == "big":
        return rng.choice([-1, 1]) * rng.getrandbits(rng.randint(32, 3000))
    if kind == "float":
        return rng.uniform(-1e300, 1e300)
    if kind == "str":
        return "".join(
            chr(rng.choice([rng.randint(32, 126), rng.randint(160, 0x2FFF)]))
            for _ in range(rng.randint(0, 12))
        )
    if kind == "atom":
        return Atom("a" + "".join(rng.choice("xyzé_@") for _ in range(rng.randint(0, 10))))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "pid":
        return Pid(rng.getrandbits(28), rng.getrandbits(13), Atom("ex@h"), rng.getrandbits(32))
    if kind == "ref":
        from tether._dist.etf import ref_from_words

        return ref_from_words(
            Atom("ex@h"), rng.getrandbits(32), tuple(rng.getrandbits(32) for _ in range(3))
        )
    if kind == "bits":
        bits = rng.randint(1, 7)
        return BitBinary(
            bytes([rng.getrandbits(8), rng.getrandbits(8) & (0xFF << (8 - bits)) & 0xFF]), bits
        )
    items = [random_term(rng, depth - 1) for _ in range(rng.randint(0, 5))]
    if kind == "list":
        return items
    if kind == "tuple":
        return tuple(items)
    if kind == "map":
        return {rng.randint(0, 1000) if rng.random() < 0.5 else str(rng.random()): v for v in items}
    return ImproperList(items or [1], random_term(rng, 0))


ROUND_TRIP_ERL = r"""
-module(rt).
-export([main/1]).
main([In]) ->
    {ok, Bin} = file:read_file(In),
    Lines = binary:split(Bin, <<"\n">>, [global, trim_all]),
    [io:format("~s~n", [binary:encode_hex(
         term_to_binary(binary_to_term(binary:decode_hex(L)), [{minor_version, 2}]))])
     || L <- Lines],
    halt().
"""


def test_round_trip_through_a_real_erl() -> None:
    """Random terms encoded here, decoded and re-encoded by OTP, decoded here again."""
    if shutil.which("erl") is None:
        pytest.skip("erl is not installed")
    rng = random.Random(2026)
    values = [random_term(rng, 3) for _ in range(300)]
    codec = Codec("nonode@nohost")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "rt.erl").write_text(ROUND_TRIP_ERL)
        Path(tmp, "in.txt").write_text("\n".join(codec.encode(v).hex() for v in values) + "\n")
        subprocess.run(["erlc", "-o", tmp, str(Path(tmp, "rt.erl"))], check=True)
        out = subprocess.run(
            ["erl", "-noshell", "-pa", tmp, "-run", "rt", "main", str(Path(tmp, "in.txt"))],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    assert [codec.decode(bytes.fromhex(h)) for h in out] == values
