"""The Erlang External Term Format: encode Python values, decode BEAM terms.

Python mapping (both directions unless marked)
----------------------------------------------
===========================  ==============================================
Erlang / Elixir              Python
===========================  ==============================================
atom                         :class:`tether.Atom` (a ``str`` subclass)
``true`` / ``false``         ``True`` / ``False``
``nil`` (Elixir)             ``None``
integer (any size)           ``int``
float                        ``float``
binary                       ``str`` when it is valid UTF-8, else ``bytes``
                             (``decode(..., binaries="bytes")`` keeps all
                             binaries as ``bytes``); ``str`` encodes as a
                             UTF-8 binary, ``bytes``/``bytearray`` as binary
bitstring (not whole bytes)  :class:`BitBinary`
tuple                        ``tuple`` (NamedTuples encode as tuples)
proper list, ``[]``          ``list``; a charlist arrives as a list of ints
improper list ``[a | b]``    :class:`ImproperList`
map                          ``dict`` (any keys)
pid                          :class:`tether.Pid`
reference                    :class:`tether.Ref`
port                         :class:`Port`
``fun M:F/A``                :class:`Export`
closure (``fn`` value)       :class:`Fun` (opaque, round-trips unchanged)
===========================  ==============================================

Pids, refs and ports of *this* node carry ``node=None`` in Python; on the wire they
carry the node's name and creation (``Codec.node`` / ``Codec.creation``).

Design
------
* Decoding walks the bytes with the common tags inline and a table of 256
  handlers for the rest (atoms are cached by their raw bytes); every
  length is checked against the bytes that remain *before* anything is allocated,
  and a bad term ends in :class:`DecodeError` -- never another exception, never a
  crash.

The decoder's budget
~~~~~~~~~~~~~~~~~~~~
What hostile bytes can cost is bounded by their size:

* Objects: every term takes at least one byte, so ``n`` bytes decode to at most
  ``n`` objects.  Memory: at most ``MAX_BYTES_PER_BYTE`` (72) bytes of Python
  objects per input byte.  The worst tag is ``NIL_EXT``: one byte that becomes a
  new empty list (56 bytes), plus its slot in the enclosing list (8 bytes and
  over-allocation); a list of a million nils measures 64 bytes a byte traced,
  67 resident (``tests/distribution/test_hostile.py`` checks the bound).
* Compression: a ``COMPRESSED`` term is accepted only at the very top of
  :meth:`Codec.decode` (``binary_to_term``), as OTP accepts it; one nested in a
  term is refused, as OTP refuses it, and distribution frames refuse it
  everywhere (``compressed=False``: erts never compresses a distribution
  message, and its decoder has no case for one).  Inflated data is capped at
  ``MAX_INFLATED`` bytes, and zlib itself cannot inflate more than 1,032 bytes
  per input byte.
* Time: linear in the size.  Nesting is capped (``MAX_DEPTH``) and integers at
  ``MAX_BIG_BYTES``.  A map's keys are hashed as it is built, and CPython's
  hashes of ints, floats, tuples and refs are not randomised: keys that all hash
  alike would make building the dict quadratic (16,384 such keys: 2.8 s).  So a
  map larger than ``_MAP_CHECKED`` keys counts its keys' hashes, and more than
  ``MAX_SAME_HASH`` keys with one hash is a :class:`DecodeError` (no legitimate
  term has them: distinct small ints, atoms, binaries and pids never collide).
* Encoding dispatches on ``type(value)`` (exact type, so ``bool`` and ``Atom`` do
  not fall into ``int``/``str``), appending to one ``bytearray``.  The common
  shapes are vectorised: a list of small ints becomes one ``STRING_EXT`` copied with
  ``bytes(list)``, an ``int`` list is packed with one ``struct.pack`` call, and
  atoms are cached as their encoded bytes.

The C codec
~~~~~~~~~~~
With tether's native core (``tether._runtime._core``: not with
``TETHER_CORE=python``) the hot shapes run in C, ``tether._dist._cetf``
(``_cetf.c``), and this module stays the reference and the fallback:

* Decoding: the C decodes UTF-8 atoms, small and 32-bit ints, new floats,
  tuples, nil, lists (an improper one too, unless its tail is a list), ``STRING_EXT``,
  binaries, maps of at most ``_MAP_CHECKED`` keys, ``NEW_PID_EXT`` (through the
  codec's pid cache) and ``NEWER_REFERENCE_EXT``.  On anything else (another tag,
  a malformed or truncated byte, nesting over ``MAX_DEPTH``, a list written with
  a list as its tail, a bigger map, a list or map as a key, an atom that is not
  valid UTF-8) it gives up and the
  Python decoder decodes the whole term from its start: every error message, the
  decoder's budget and every rare tag have one implementation, this one.  The C
  bounds-checks every read and allocates no more than the Python does.
* Encoding: the C walks exact types (``Atom``, ``bool``, ``None``, ``int`` of up
  to 64 bits, finite ``float``, ``str``, ``bytes``, ``bytearray``, ``tuple``,
  ``list``, ``dict``, ``ImproperList``, ``Pid``, ``Ref``) and hands any other value
  to :func:`_put` for that subterm, so ``default`` and every ``EncodeError`` stay
  Python's.  Its bytes are this module's, byte for byte (the vectorised list
  shapes included); ``tests/distribution/test_cetf.py`` holds the two to that.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, Final, Literal

from .._runtime import _core
from .._runtime._types import Atom, ImproperList, Pid, Ref


def _load_c() -> ModuleType | None:
    """The C codec (``_cetf.c``), with the native core only: ``TETHER_CORE=python``
    (``_core.native is None``) is pure Python here too, and a build that has the
    native core but not the codec (its compile failed) runs this module's codec."""
    if _core.native is None:
        return None
    try:
        from . import _cetf  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        return None
    return _cetf


# The C codec, or None (pure Python); bound to this module's classes at its end.
_cetf: Final = _load_c()

__all__ = [
    "BitBinary",
    "Codec",
    "DecodeError",
    "EncodeError",
    "Export",
    "FrozenDict",
    "FrozenList",
    "Fun",
    "ImproperList",
    "Port",
    "decode",
    "encode",
]

VERSION: Final = 131
COMPRESSED: Final = 80
NEW_FLOAT_EXT: Final = 70
BIT_BINARY_EXT: Final = 77
ATOM_CACHE_REF: Final = 82
NEW_PID_EXT: Final = 88
NEW_PORT_EXT: Final = 89
NEWER_REFERENCE_EXT: Final = 90
SMALL_INTEGER_EXT: Final = 97
INTEGER_EXT: Final = 98
FLOAT_EXT: Final = 99
ATOM_EXT: Final = 100
REFERENCE_EXT: Final = 101
PORT_EXT: Final = 102
PID_EXT: Final = 103
SMALL_TUPLE_EXT: Final = 104
LARGE_TUPLE_EXT: Final = 105
NIL_EXT: Final = 106
STRING_EXT: Final = 107
LIST_EXT: Final = 108
BINARY_EXT: Final = 109
SMALL_BIG_EXT: Final = 110
LARGE_BIG_EXT: Final = 111
NEW_FUN_EXT: Final = 112
EXPORT_EXT: Final = 113
NEW_REFERENCE_EXT: Final = 114
SMALL_ATOM_EXT: Final = 115
MAP_EXT: Final = 116
FUN_EXT: Final = 117
ATOM_UTF8_EXT: Final = 118
SMALL_ATOM_UTF8_EXT: Final = 119
V4_PORT_EXT: Final = 120
LOCAL_EXT: Final = 121

#: Deepest nesting of tuples/lists/maps the decoder accepts (the decoder recurses,
#: three Python frames a level, inside Python's default limit of 1000 frames).
MAX_DEPTH: Final = 250
#: Largest integer (in bytes of magnitude) the decoder accepts.
MAX_BIG_BYTES: Final = 1 << 20
#: Largest inflated size of a compressed term.
MAX_INFLATED: Final = 64 << 20
#: Bound on the Python memory a decoded term takes, per byte of its encoding.
MAX_BYTES_PER_BYTE: Final = 72
#: Most keys of one map that may share one hash (see "The decoder's budget").
MAX_SAME_HASH: Final = 16
# Maps up to this many keys are built without counting hashes (at most 64 keys
# colliding cost 2,000 comparisons: linear in the bytes that carry them).
_MAP_CHECKED: Final = 64


class DecodeError(ValueError):
    """The bytes are not a valid term (or break a size limit); says where and why."""


class EncodeError(TypeError):
    """A Python value has no Erlang term (names the value and what to use instead)."""


class FrozenList(tuple[Any, ...]):
    """A list used as a map key (Python lists are unhashable); encodes as a list.

    Equal only to another ``FrozenList`` with equal items, never to a tuple.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is FrozenList and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((FrozenList, tuple(self)))

    def __repr__(self) -> str:
        return f"FrozenList({list(self)!r})"


class FrozenDict(dict[Any, Any]):
    """A map used as a map key: a read-only, hashable ``dict``; encodes as a map."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash((FrozenDict, frozenset(self.items())))

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("FrozenDict is read-only")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _refuse  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FrozenDict({dict(self)!r})"


def check_term(value: Any, what: str, arg: str) -> None:
    """``TypeError`` naming ``what`` and ``arg`` unless ``value`` can cross to
    another node: it encodes, and its frozen form hashes (a name of global, a
    group of pg)."""
    try:
        encode(value)
        hash(freeze(value))
    except (EncodeError, TypeError):
        raise TypeError(
            f"{what}: {arg} must be a value other nodes can read (an Erlang term: str, "
            f"int, tuple, list, ...), got {value!r}"
        ) from None


def freeze(value: Any) -> Any:
    """The hashable form of a decoded term, for use as a map key."""
    if isinstance(value, list):
        return FrozenList(freeze(v) for v in value)
    if isinstance(value, dict) and type(value) is not FrozenDict:
        return FrozenDict({freeze(k): freeze(v) for k, v in value.items()})
    if type(value) is tuple:
        return tuple(freeze(v) for v in value)
    if isinstance(value, ImproperList):
        return ImproperList([freeze(v) for v in value.items], freeze(value.tail))
    return value


class BitBinary:
    """A bitstring whose length is not a whole number of bytes.

    ``data`` holds the bytes; only the high ``bits`` bits (1..8) of the last byte
    belong to the value, as in ``BIT_BINARY_EXT``.
    """

    __slots__ = ("bits", "data")

    def __init__(self, data: bytes, bits: int) -> None:
        if not data or not 1 <= bits <= 8:
            raise ValueError("BitBinary: data must not be empty and bits must be 1..8")
        self.data = bytes(data)
        self.bits = bits

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BitBinary) and (self.data, self.bits) == (other.data, other.bits)

    def __hash__(self) -> int:
        return hash((self.data, self.bits))

    def __repr__(self) -> str:
        return f"BitBinary({self.data!r}, bits={self.bits})"


class Port:
    """A port identifier of some node (``#Port<…>``)."""

    __slots__ = ("creation", "id", "node")

    def __init__(self, node: str, id: int, creation: int = 0) -> None:
        self.node = node
        self.id = id
        self.creation = creation

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Port) and (self.node, self.id, self.creation) == (
            other.node,
            other.id,
            other.creation,
        )

    def __hash__(self) -> int:
        return hash((self.node, self.id, self.creation))

    def __repr__(self) -> str:
        return f"#Port<{self.node}.{self.id}>"


class Export:
    """An external fun ``&Module.function/arity`` (``fun M:F/A``)."""

    __slots__ = ("arity", "function", "module")

    def __init__(self, module: str, function: str, arity: int) -> None:
        self.module = Atom(module)
        self.function = Atom(function)
        self.arity = arity

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Export) and (self.module, self.function, self.arity) == (
            other.module,
            other.function,
            other.arity,
        )

    def __hash__(self) -> int:
        return hash((self.module, self.function, self.arity))

    def __repr__(self) -> str:
        return f"&{self.module}.{self.function}/{self.arity}"


class Fun:
    """A closure from another node: opaque here, sent back unchanged (``NEW_FUN_EXT``)."""

    __slots__ = ("arity", "free_vars", "index", "module", "old_index", "old_uniq", "pid", "uniq")

    def __init__(
        self,
        arity: int,
        uniq: bytes,
        index: int,
        module: str,
        old_index: int,
        old_uniq: int,
        pid: Pid,
        free_vars: tuple[Any, ...],
    ) -> None:
        self.arity = arity
        self.uniq = uniq
        self.index = index
        self.module = Atom(module)
        self.old_index = old_index
        self.old_uniq = old_uniq
        self.pid = pid
        self.free_vars = free_vars

    def _key(self) -> tuple[Any, ...]:
        return (self.module, self.uniq, self.index, self.arity, self.free_vars)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fun) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"#Function<{self.index}.{self.old_uniq}/{self.arity} in {self.module}>"


_MISSING: Final = object()
_u16: Final = struct.Struct(">H")
_u32: Final = struct.Struct(">I")
_i32: Final = struct.Struct(">i")
_f64: Final = struct.Struct(">d")

_Handler = Callable[["_Decoder", int], Any]


class _Decoder:
    """One decode: the buffer, a position, and the codec's settings."""

    __slots__ = (
        "buf",
        "creation",
        "depth",
        "local",
        "pids",
        "pos",
        "size",
        "str_binaries",
        "values",
    )

    def __init__(self, buf: bytes, pos: int, codec: Codec, str_binaries: bool) -> None:
        self.buf = buf
        self.size = len(buf)
        self.pos = pos
        self.depth = 0
        self.local = codec.node
        self.creation = codec.creation
        self.str_binaries = str_binaries
        # raw SMALL_ATOM_UTF8 bytes -> decoded value (an Atom, or True/False/None)
        self.values = codec._atom_values
        self.pids = codec._pids

    def need(self, n: int) -> int:
        """Check ``n`` more bytes exist; return the current position."""
        pos = self.pos
        if n < 0 or pos + n > len(self.buf):
            raise DecodeError(
                f"truncated term: need {n} bytes at offset {pos}, have {len(self.buf) - pos}"
            )
        return pos

    def term(self) -> Any:
        # The common tags are decoded inline (a call less per term: this loop is
        # the decoder's cost); the rest go through _HANDLERS.
        buf = self.buf
        pos = self.pos
        if pos >= self.size:
            raise DecodeError(f"truncated term: need 1 bytes at offset {pos}, have 0")
        tag = buf[pos]
        if tag == SMALL_ATOM_UTF8_EXT and pos + 1 < self.size:
            end = pos + 2 + buf[pos + 1]
            if end <= self.size:
                raw = buf[pos + 2 : end]
                value = self.values.get(raw, _MISSING)
                if value is not _MISSING:
                    self.pos = end
                    return value
        elif tag == SMALL_INTEGER_EXT and pos + 1 < self.size:
            self.pos = pos + 2
            return buf[pos + 1]
        elif tag == SMALL_TUPLE_EXT and pos + 1 < self.size:
            n = buf[pos + 1]
            self.pos = pos + 2
            if pos + 2 + n > self.size:
                raise DecodeError(f"truncated term: tuple of {n} at offset {pos}")
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise DecodeError(f"term nested deeper than {MAX_DEPTH} levels")
            term = self.term
            items = tuple([term() for _ in range(n)])
            self.depth -= 1
            return items
        elif tag == NIL_EXT:
            self.pos = pos + 1
            return []
        elif tag == BINARY_EXT and pos + 5 <= self.size:
            end = pos + 5 + int.from_bytes(buf[pos + 1 : pos + 5], "big")
            if end <= self.size:
                raw = buf[pos + 5 : end]
                self.pos = end
                if self.str_binaries:
                    try:
                        return raw.decode("utf-8")
                    except UnicodeDecodeError:
                        return raw
                return raw
        self.pos = pos + 1
        handler = _HANDLERS[tag]
        if handler is None:
            raise DecodeError(f"unknown or unsupported term tag {tag} at offset {pos}")
        return handler(self, tag)

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise DecodeError(f"term nested deeper than {MAX_DEPTH} levels")

    def atom_text(self, tag: int) -> str:
        if tag in (SMALL_ATOM_UTF8_EXT, SMALL_ATOM_EXT):
            pos = self.need(1)
            n = self.buf[pos]
            pos += 1
        else:
            pos = self.need(2)
            n = _u16.unpack_from(self.buf, pos)[0]
            pos += 2
        self.pos = pos
        self.need(n)
        raw = bytes(self.buf[pos : pos + n])
        self.pos = pos + n
        if tag in (ATOM_UTF8_EXT, SMALL_ATOM_UTF8_EXT):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DecodeError(f"atom is not valid UTF-8 at offset {pos}") from e
            if len(text) > 255:
                raise DecodeError(f"atom longer than 255 characters at offset {pos}")
        else:
            text = raw.decode("latin-1")
        return text

    def node_atom(self) -> str:
        pos = self.need(1)
        tag = self.buf[pos]
        self.pos = pos + 1
        if tag not in (ATOM_EXT, SMALL_ATOM_EXT, ATOM_UTF8_EXT, SMALL_ATOM_UTF8_EXT):
            raise DecodeError(f"expected a node name atom at offset {pos}, got tag {tag}")
        return self.atom_text(tag)

    def node_of(self, name: str) -> str | None:
        return None if name == self.local else Atom(name)


def _d_atom(d: _Decoder, tag: int) -> Any:
    start = d.pos
    text = d.atom_text(tag)
    value: Any
    if text == "true":
        value = True
    elif text == "false":
        value = False
    elif text == "nil":
        value = None
    else:
        value = text if type(text) is Atom else Atom(text)
    if tag == SMALL_ATOM_UTF8_EXT and len(d.values) < 65536:
        d.values[d.buf[start + 1 : d.pos]] = value  # for term()'s inline path
    return value


def _d_small_int(d: _Decoder, tag: int) -> int:
    pos = d.need(1)
    d.pos = pos + 1
    return d.buf[pos]


def _d_int(d: _Decoder, tag: int) -> int:
    pos = d.need(4)
    d.pos = pos + 4
    return int(_i32.unpack_from(d.buf, pos)[0])


def _d_big(d: _Decoder, tag: int) -> int:
    if tag == SMALL_BIG_EXT:
        pos = d.need(1)
        n = d.buf[pos]
        pos += 1
    else:
        pos = d.need(4)
        n = _u32.unpack_from(d.buf, pos)[0]
        pos += 4
        if n > MAX_BIG_BYTES:
            raise DecodeError(f"integer of {n} bytes exceeds the limit of {MAX_BIG_BYTES}")
    d.pos = pos
    d.need(n + 1)
    sign = d.buf[pos]
    value = int.from_bytes(d.buf[pos + 1 : pos + 1 + n], "little")
    d.pos = pos + 1 + n
    return -value if sign else value


def _d_new_float(d: _Decoder, tag: int) -> float:
    pos = d.need(8)
    d.pos = pos + 8
    return float(_f64.unpack_from(d.buf, pos)[0])


def _d_old_float(d: _Decoder, tag: int) -> float:
    pos = d.need(31)
    d.pos = pos + 31
    text = bytes(d.buf[pos : pos + 31]).split(b"\0", 1)[0]
    try:
        return float(text)
    except ValueError as e:
        raise DecodeError(f"bad FLOAT_EXT text at offset {pos}") from e


def _d_tuple(d: _Decoder, tag: int) -> tuple[Any, ...]:
    if tag == SMALL_TUPLE_EXT:
        pos = d.need(1)
        n = d.buf[pos]
        d.pos = pos + 1
    else:
        pos = d.need(4)
        n = _u32.unpack_from(d.buf, pos)[0]
        d.pos = pos + 4
    d.need(n)  # every element takes at least one byte
    d.nested()
    term = d.term
    items = tuple([term() for _ in range(n)])
    d.depth -= 1
    return items


def _d_nil(d: _Decoder, tag: int) -> list[Any]:
    return []


def _d_string(d: _Decoder, tag: int) -> list[int]:
    pos = d.need(2)
    n = _u16.unpack_from(d.buf, pos)[0]
    d.pos = pos + 2
    d.need(n)
    out = list(d.buf[pos + 2 : pos + 2 + n])
    d.pos = pos + 2 + n
    return out


def _d_list(d: _Decoder, tag: int) -> Any:
    pos = d.need(4)
    n = _u32.unpack_from(d.buf, pos)[0]
    d.pos = pos + 4
    d.need(n + 1)  # elements and the tail take at least one byte each
    d.nested()
    term = d.term
    items = [term() for _ in range(n)]
    tail = term()
    d.depth -= 1
    if tail == [] and type(tail) is list:
        return items
    if not items:
        raise DecodeError("LIST_EXT with no elements and a non-nil tail")
    if isinstance(tail, list):
        # [a | [b]] written unusually: flatten to a proper list.
        return items + tail
    if isinstance(tail, ImproperList):
        return ImproperList(items + tail.items, tail.tail)
    return ImproperList(items, tail)


def _d_binary(d: _Decoder, tag: int) -> str | bytes:
    pos = d.need(4)
    n = _u32.unpack_from(d.buf, pos)[0]
    d.pos = pos + 4
    d.need(n)
    raw = bytes(d.buf[pos + 4 : pos + 4 + n])
    d.pos = pos + 4 + n
    if d.str_binaries:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    return raw


def _d_bit_binary(d: _Decoder, tag: int) -> Any:
    pos = d.need(5)
    n = _u32.unpack_from(d.buf, pos)[0]
    bits = d.buf[pos + 4]
    d.pos = pos + 5
    d.need(n)
    raw = bytes(d.buf[pos + 5 : pos + 5 + n])
    d.pos = pos + 5 + n
    if n == 0:
        if bits != 0:
            raise DecodeError(f"BIT_BINARY_EXT of no bytes with {bits} bits at offset {pos}")
        return b""
    if not 1 <= bits <= 8:
        raise DecodeError(f"BIT_BINARY_EXT with {bits} bits in the last byte at offset {pos}")
    if bits == 8:
        return raw
    return BitBinary(raw, bits)


def _d_map(d: _Decoder, tag: int) -> dict[Any, Any]:
    pos = d.need(4)
    n = _u32.unpack_from(d.buf, pos)[0]
    d.pos = pos + 4
    d.need(2 * n)
    d.nested()
    term = d.term
    out: dict[Any, Any] = {}
    # Hash flooding (see "The decoder's budget"): a big map counts its keys' hashes.
    hashes: dict[int, int] | None = {} if n > _MAP_CHECKED else None
    for _ in range(n):
        k = term()
        v = term()
        try:
            h = hash(k)
        except TypeError:  # a list or map as key: use its frozen form
            k = freeze(k)
            h = hash(k)
        if hashes is not None:
            same = hashes[h] = hashes.get(h, 0) + 1
            if same > MAX_SAME_HASH:
                raise DecodeError(
                    f"map at offset {pos - 1} has more than {MAX_SAME_HASH} keys with one "
                    "hash (a hash-flooding term)"
                )
        out[k] = v
    d.depth -= 1
    return out


def _d_pid(d: _Decoder, tag: int) -> Pid:
    start = d.pos
    cache = d.pids
    if tag == NEW_PID_EXT and start + 2 < d.size and d.buf[start] == SMALL_ATOM_UTF8_EXT:
        end = start + 2 + d.buf[start + 1] + 12
        hit = cache.get(d.buf[start:end])
        if hit is not None and end <= d.size:
            d.pos = end
            return hit
    node = d.node_atom()
    if tag == NEW_PID_EXT:
        pos = d.need(12)
        id_, serial, creation = struct.unpack_from(">III", d.buf, pos)
        d.pos = pos + 12
    else:
        pos = d.need(9)
        id_, serial, creation = struct.unpack_from(">IIB", d.buf, pos)
        d.pos = pos + 9
    where = d.node_of(node)
    if where is None and creation == d.creation:
        creation = 0  # this incarnation's own pids are keyed without a creation
    pid = Pid(id_, serial, where, creation)
    if tag == NEW_PID_EXT and len(cache) < 4096:
        cache[d.buf[start : d.pos]] = pid
    return pid


def _d_port(d: _Decoder, tag: int) -> Port:
    node = d.node_atom()
    if tag == V4_PORT_EXT:
        pos = d.need(12)
        id_, creation = struct.unpack_from(">QI", d.buf, pos)
        d.pos = pos + 12
    elif tag == NEW_PORT_EXT:
        pos = d.need(8)
        id_, creation = struct.unpack_from(">II", d.buf, pos)
        d.pos = pos + 8
    else:
        pos = d.need(5)
        id_, creation = struct.unpack_from(">IB", d.buf, pos)
        d.pos = pos + 5
    return Port(node, id_, creation)


def _d_ref(d: _Decoder, tag: int) -> Ref:
    if tag == REFERENCE_EXT:
        node = d.node_atom()
        pos = d.need(5)
        words: tuple[int, ...] = (_u32.unpack_from(d.buf, pos)[0],)
        creation = d.buf[pos + 4]
        d.pos = pos + 5
    else:
        pos = d.need(2)
        n = _u16.unpack_from(d.buf, pos)[0]
        d.pos = pos + 2
        if not 1 <= n <= 5:
            raise DecodeError(f"reference with {n} words at offset {pos}")
        node = d.node_atom()
        size = 4 if tag == NEWER_REFERENCE_EXT else 1
        pos = d.need(size + 4 * n)
        creation = _u32.unpack_from(d.buf, pos)[0] if size == 4 else d.buf[pos]
        words = struct.unpack_from(f">{n}I", d.buf, pos + size)
        d.pos = pos + size + 4 * n
    return ref_from_words(d.node_of(node), creation, words)


def _d_export(d: _Decoder, tag: int) -> Export:
    d.nested()
    m, f, a = d.term(), d.term(), d.term()
    d.depth -= 1
    if not isinstance(m, str) or not isinstance(f, str) or type(a) is not int:
        raise DecodeError("EXPORT_EXT needs an atom, an atom and a small integer")
    return Export(m, f, a)


def _d_new_fun(d: _Decoder, tag: int) -> Fun:
    pos = d.need(4 + 1 + 16 + 4 + 4)
    size = _u32.unpack_from(d.buf, pos)[0]
    if size < 4 or pos + size > len(d.buf):
        raise DecodeError(f"NEW_FUN_EXT size {size} is out of bounds at offset {pos}")
    arity = d.buf[pos + 4]
    uniq = bytes(d.buf[pos + 5 : pos + 21])
    index, num_free = struct.unpack_from(">II", d.buf, pos + 21)
    d.pos = pos + 29
    d.need(num_free)
    d.nested()
    module = d.term()
    old_index = d.term()
    old_uniq = d.term()
    pid = d.term()
    free = tuple([d.term() for _ in range(num_free)])
    d.depth -= 1
    if not isinstance(module, str) or not isinstance(pid, Pid):
        raise DecodeError("NEW_FUN_EXT needs a module atom and a pid")
    if type(old_index) is not int or type(old_uniq) is not int:
        raise DecodeError("NEW_FUN_EXT needs integer OldIndex and OldUniq")
    return Fun(arity, uniq, index, module, old_index, old_uniq, pid, free)


def _d_compressed(d: _Decoder, tag: int) -> Any:
    raise DecodeError(
        f"compressed term nested inside a term at offset {d.pos - 1} (OTP accepts one only "
        "at the top of binary_to_term)"
    )


def _inflate(codec: Codec, buf: bytes, pos: int, str_binaries: bool) -> tuple[Any, int]:
    """Decode the ``COMPRESSED`` term whose size field is at ``pos``; return it and
    the end offset in ``buf``."""
    if pos + 4 > len(buf):
        raise DecodeError(f"truncated term: compressed term header at offset {pos}")
    size = _u32.unpack_from(buf, pos)[0]
    if size > MAX_INFLATED:
        raise DecodeError(
            f"compressed term inflates to {size} bytes, over the limit {MAX_INFLATED}"
        )
    z = zlib.decompressobj()
    try:
        raw = z.decompress(buf[pos + 4 :], size + 1)
    except zlib.error as e:
        raise DecodeError(f"bad zlib data at offset {pos + 4}") from e
    if len(raw) != size:
        raise DecodeError(f"compressed term inflated to {len(raw)} bytes, header says {size}")
    used = len(buf) - pos - 4 - len(z.unused_data)
    inner = _Decoder(raw, 0, codec, str_binaries)
    value = inner.term()
    if inner.pos != size:
        raise DecodeError("compressed term has bytes after its end")
    return value, pos + 4 + used


_HANDLERS: list[_Handler | None] = [None] * 256
for _tags, _h in (
    ((ATOM_EXT, SMALL_ATOM_EXT, ATOM_UTF8_EXT, SMALL_ATOM_UTF8_EXT), _d_atom),
    ((SMALL_INTEGER_EXT,), _d_small_int),
    ((INTEGER_EXT,), _d_int),
    ((SMALL_BIG_EXT, LARGE_BIG_EXT), _d_big),
    ((NEW_FLOAT_EXT,), _d_new_float),
    ((FLOAT_EXT,), _d_old_float),
    ((SMALL_TUPLE_EXT, LARGE_TUPLE_EXT), _d_tuple),
    ((NIL_EXT,), _d_nil),
    ((STRING_EXT,), _d_string),
    ((LIST_EXT,), _d_list),
    ((BINARY_EXT,), _d_binary),
    ((BIT_BINARY_EXT,), _d_bit_binary),
    ((MAP_EXT,), _d_map),
    ((PID_EXT, NEW_PID_EXT), _d_pid),
    ((PORT_EXT, NEW_PORT_EXT, V4_PORT_EXT), _d_port),
    ((REFERENCE_EXT, NEW_REFERENCE_EXT, NEWER_REFERENCE_EXT), _d_ref),
    ((EXPORT_EXT,), _d_export),
    ((NEW_FUN_EXT,), _d_new_fun),
    ((COMPRESSED,), _d_compressed),
):
    for _t in _tags:
        _HANDLERS[_t] = _h


# -- references ---------------------------------------------------------------
#
# A local ref is a counter (Ref.n).  On the wire it is three 32-bit words, the
# first holding 18 bits as the BEAM's do.  A ref of another node keeps its words
# and creation exactly, packed into one int: word i at bit 32*i, plus a marker bit
# above the last word so the word count survives the round trip.


def ref_words(ref: Ref) -> tuple[int, ...]:
    n = ref.n
    if ref.node is None:
        return (n & 0x3FFFF, (n >> 18) & 0xFFFFFFFF, (n >> 50) & 0xFFFFFFFF)
    count = (n.bit_length() - 1) // 32
    return tuple((n >> (32 * i)) & 0xFFFFFFFF for i in range(count))


def ref_from_words(node: str | None, creation: int, words: tuple[int, ...]) -> Ref:
    if node is None:
        n = words[0] & 0x3FFFF
        if len(words) > 1:
            n |= words[1] << 18
        if len(words) > 2:
            n |= words[2] << 50
        return Ref(n)
    n = 1 << (32 * len(words))
    for i, w in enumerate(words):
        n |= w << (32 * i)
    return Ref(n, node, creation)


# -- encoding ---------------------------------------------------------------

_Encoder = Callable[["Codec", bytearray, Any], None]


class Codec:
    """Encoder and decoder for one node: knows its name and creation.

    ``node`` is the local node's name (pids and refs with ``node=None`` are
    written with it); ``creation`` is its incarnation number from epmd.
    ``binaries="str"`` (default) decodes UTF-8 binaries to ``str``; ``"bytes"``
    keeps every binary as ``bytes``.
    """

    def __init__(
        self,
        node: str = "nonode@nohost",
        creation: int = 0,
        binaries: Literal["str", "bytes"] = "str",
        default: Callable[[Any], Any] | None = None,
    ) -> None:
        if binaries not in ("str", "bytes"):
            raise ValueError(f"Codec: binaries must be 'str' or 'bytes', got {binaries!r}")
        self.node = node
        self.creation = creation
        self.str_binaries = binaries == "str"
        # Like json's ``default``: turns a value of another type into an encodable
        # one (or raises EncodeError).
        self.default = default
        self._atom_values: dict[bytes, Any] = {}
        # NEW_PID_EXT bytes (after the tag) -> Pid: pids recur (every control
        # message names two); cleared when the node takes a new name
        self._pids: dict[bytes, Pid] = {}
        self._atom_bytes: dict[str, bytes] = {}
        self._node_bytes = b""
        self._set_node_bytes()

    def _set_node_bytes(self) -> None:
        self._node_bytes = self.atom_bytes(self.node)

    def rename(self, node: str, creation: int) -> None:
        """Adopt a new local name and creation (when the node goes distributed)."""
        self.node = node
        self.creation = creation
        self._pids.clear()
        self._set_node_bytes()

    # -- decode --

    def decode(self, data: bytes | bytearray | memoryview, *, binaries: str | None = None) -> Any:
        """Decode one whole ``131``-prefixed term; :class:`DecodeError` otherwise."""
        if _cetf is not None:  # the C decodes the common shapes (see _cetf.c)
            value = _cetf.decode(self, data, binaries)
            if value is not _MISSING:
                return value
        value, end = self._decode_from(data, 0, binaries, True)
        if end != len(data):
            raise DecodeError(f"{len(data) - end} bytes after the term")
        return value

    def decode_from(
        self,
        data: bytes | bytearray | memoryview,
        pos: int = 0,
        *,
        binaries: str | None = None,
        compressed: bool = True,
    ) -> tuple[Any, int]:
        """Decode the ``131``-prefixed term at ``pos``; return it and the end offset.

        ``compressed=False`` refuses a ``COMPRESSED`` term even at the top (what a
        distribution message must never hold); nested ones are always refused.
        """
        if _cetf is not None:  # never a compressed term: that is Python's
            got = _cetf.decode_from(self, data, pos, binaries)
            if got is not _MISSING:
                return got  # type: ignore[no-any-return]
        return self._decode_from(data, pos, binaries, compressed)

    def _decode_from(
        self,
        data: bytes | bytearray | memoryview,
        pos: int,
        binaries: str | None,
        compressed: bool,
    ) -> tuple[Any, int]:
        # The reference decoder (and the fallback of the C, which gives up on
        # anything but the common shapes, every error included).
        buf = data if type(data) is bytes else bytes(data)
        if pos >= len(buf) or buf[pos] != VERSION:
            raise DecodeError(f"term does not start with version byte 131 at offset {pos}")
        str_b = self.str_binaries if binaries is None else binaries == "str"
        d = _Decoder(buf, pos + 1, self, str_b)
        try:
            if pos + 1 < len(buf) and buf[pos + 1] == COMPRESSED:
                if not compressed:
                    raise DecodeError(
                        f"compressed term at offset {pos + 1}: not allowed in a distribution "
                        "message"
                    )
                return _inflate(self, buf, pos + 2, str_b)
            value = d.term()
        except DecodeError:
            raise
        except (struct.error, IndexError, OverflowError, ValueError, RecursionError) as e:
            raise DecodeError(f"malformed term near offset {d.pos}: {e}") from e
        return value, d.pos

    # -- encode --

    def encode(self, value: Any) -> bytes:
        """Encode ``value`` as a ``131``-prefixed term; :class:`EncodeError` if it has none."""
        if _cetf is not None:
            return _cetf.encode(self, value)  # type: ignore[no-any-return]
        out = bytearray(b"\x83")
        _put(self, out, value)
        return bytes(out)

    def put(self, out: bytearray, value: Any) -> None:
        """Append ``value``'s encoding (no version byte) to ``out``."""
        if _cetf is not None:
            _cetf.put(self, out, value)
        else:
            _put(self, out, value)

    def atom_bytes(self, name: str) -> bytes:
        b = self._atom_bytes.get(name)
        if b is None:
            raw = name.encode("utf-8")
            if len(name) > 255:
                raise EncodeError(f"atom {name!r} is longer than 255 characters")
            if len(raw) < 256:
                b = bytes((SMALL_ATOM_UTF8_EXT, len(raw))) + raw
            else:
                b = bytes((ATOM_UTF8_EXT,)) + _u16.pack(len(raw)) + raw
            if len(self._atom_bytes) < 65536:
                self._atom_bytes[name] = b
        return b


def _put(c: Codec, out: bytearray, value: Any) -> None:
    """``Codec.put`` in Python: the reference, and the C's fallback for the types
    it leaves to Python (their items come back through ``c.put``)."""
    enc = _ENCODERS.get(type(value))
    if enc is not None:
        enc(c, out, value)
        return
    # Subclasses: NamedTuple, IntEnum, str/Atom subclasses, ...
    for base, e in _FALLBACKS:
        if isinstance(value, base):
            e(c, out, value)
            return
    if c.default is not None:
        sub = c.default(value)
        if sub is not value:
            c.put(out, sub)
            return
    raise EncodeError(
        f"cannot encode {value!r} (type {type(value).__name__}) as an Erlang term; "
        "use atoms (tether.Atom), numbers, str/bytes, tuples, lists, dicts, pids or refs"
    )


def _e_atom(c: Codec, out: bytearray, v: str) -> None:
    out += c.atom_bytes(v)


def _e_bool(c: Codec, out: bytearray, v: bool) -> None:
    out += c.atom_bytes("true" if v else "false")


def _e_none(c: Codec, out: bytearray, v: None) -> None:
    out += c.atom_bytes("nil")


def _e_int(c: Codec, out: bytearray, v: int) -> None:
    if 0 <= v < 256:
        out.append(SMALL_INTEGER_EXT)
        out.append(v)
    elif -(1 << 31) <= v < (1 << 31):
        out.append(INTEGER_EXT)
        out += _i32.pack(v)
    else:
        mag = -v if v < 0 else v
        n = (mag.bit_length() + 7) // 8
        if n < 256:
            out.append(SMALL_BIG_EXT)
            out.append(n)
        else:
            out.append(LARGE_BIG_EXT)
            out += _u32.pack(n)
        out.append(1 if v < 0 else 0)
        out += mag.to_bytes(n, "little")


def _e_float(c: Codec, out: bytearray, v: float) -> None:
    if not math.isfinite(v):
        raise EncodeError(f"cannot encode {v!r}: Erlang floats are finite")
    out.append(NEW_FLOAT_EXT)
    out += _f64.pack(v)


def _e_str(c: Codec, out: bytearray, v: str) -> None:
    raw = v.encode("utf-8")
    out.append(BINARY_EXT)
    out += _u32.pack(len(raw))
    out += raw


def _e_bytes(c: Codec, out: bytearray, v: bytes | bytearray | memoryview) -> None:
    raw = bytes(v)
    out.append(BINARY_EXT)
    out += _u32.pack(len(raw))
    out += raw


def _e_bitbinary(c: Codec, out: bytearray, v: BitBinary) -> None:
    out.append(BIT_BINARY_EXT)
    out += _u32.pack(len(v.data))
    out.append(v.bits)
    out += v.data


def _e_tuple(c: Codec, out: bytearray, v: tuple[Any, ...]) -> None:
    n = len(v)
    if n < 256:
        out.append(SMALL_TUPLE_EXT)
        out.append(n)
    else:
        out.append(LARGE_TUPLE_EXT)
        out += _u32.pack(n)
    _put_items(c, out, v)


_SMALL_INTS: Final = frozenset(range(256))


def _e_list(c: Codec, out: bytearray, v: list[Any]) -> None:
    n = len(v)
    if n == 0:
        out.append(NIL_EXT)
        return
    # Vectorised fast paths: a list of ints is copied or packed in one call.
    if type(v[0]) is int and type(v[-1]) is int:
        kinds = set(map(type, v))
        if kinds == {int}:
            if n < 65536 and _SMALL_INTS.issuperset(v):
                out.append(STRING_EXT)
                out += _u16.pack(n)
                out += bytes(v)
                return
            if min(v) >= -(1 << 31) and max(v) < (1 << 31):
                out.append(LIST_EXT)
                out += _u32.pack(n)
                out += struct.pack(">" + "Bi" * n, *_interleave(INTEGER_EXT, v))
                out.append(NIL_EXT)
                return
    out.append(LIST_EXT)
    out += _u32.pack(n)
    _put_items(c, out, v)
    out.append(NIL_EXT)


def _interleave(tag: int, values: list[int]) -> list[int]:
    flat = [tag] * (2 * len(values))
    flat[1::2] = values
    return flat


def _e_improper(c: Codec, out: bytearray, v: ImproperList) -> None:
    out.append(LIST_EXT)
    out += _u32.pack(len(v.items))
    for item in v.items:
        c.put(out, item)
    c.put(out, v.tail)


def _e_dict(c: Codec, out: bytearray, v: dict[Any, Any]) -> None:
    out.append(MAP_EXT)
    out += _u32.pack(len(v))
    for kv in v.items():
        _put_items(c, out, kv)


# SMALL_INTEGER_EXT of 0..255, ready to append.
_SMALL_INT_BYTES: Final = [bytes((SMALL_INTEGER_EXT, i)) for i in range(256)]


def _put_items(c: Codec, out: bytearray, items: Any) -> None:
    """Append each item: atoms, small ints and small tuples inline (the common
    shapes of messages), the rest through the type table."""
    atom_bytes = c._atom_bytes
    for item in items:
        t = type(item)
        if t is Atom:
            b = atom_bytes.get(item)
            out += b if b is not None else c.atom_bytes(item)
        elif t is int and 0 <= item < 256:
            out += _SMALL_INT_BYTES[item]
        elif t is tuple:
            _e_tuple(c, out, item)
        else:
            enc = _ENCODERS.get(t)
            if enc is not None:
                enc(c, out, item)
            else:
                c.put(out, item)


def _e_pid(c: Codec, out: bytearray, v: Pid) -> None:
    out.append(NEW_PID_EXT)
    if v.node is None:
        out += c._node_bytes
        out += struct.pack(">III", v.id, v.serial, v.creation or c.creation)
    else:
        out += c.atom_bytes(v.node)
        out += struct.pack(">III", v.id, v.serial, v.creation)


def _e_ref(c: Codec, out: bytearray, v: Ref) -> None:
    words = ref_words(v)
    out.append(NEWER_REFERENCE_EXT)
    out += _u16.pack(len(words))
    if v.node is None:
        out += c._node_bytes
        out += _u32.pack(c.creation)
    else:
        out += c.atom_bytes(v.node)
        out += _u32.pack(v.creation)
    out += struct.pack(f">{len(words)}I", *words)


def _e_port(c: Codec, out: bytearray, v: Port) -> None:
    if v.id < (1 << 32):
        out.append(NEW_PORT_EXT)
        out += c.atom_bytes(v.node)
        out += struct.pack(">II", v.id, v.creation)
    else:
        out.append(V4_PORT_EXT)
        out += c.atom_bytes(v.node)
        out += struct.pack(">QI", v.id, v.creation)


def _e_export(c: Codec, out: bytearray, v: Export) -> None:
    out.append(EXPORT_EXT)
    out += c.atom_bytes(v.module)
    out += c.atom_bytes(v.function)
    out.append(SMALL_INTEGER_EXT)
    out.append(v.arity)


def _e_fun(c: Codec, out: bytearray, v: Fun) -> None:
    body = bytearray()
    body.append(v.arity)
    body += v.uniq
    body += struct.pack(">II", v.index, len(v.free_vars))
    c.put(body, v.module)
    c.put(body, v.old_index)
    c.put(body, v.old_uniq)
    c.put(body, v.pid)
    for fv in v.free_vars:
        c.put(body, fv)
    out.append(NEW_FUN_EXT)
    out += _u32.pack(len(body) + 4)
    out += body


_ENCODERS: dict[type, _Encoder] = {
    Atom: _e_atom,
    bool: _e_bool,
    type(None): _e_none,
    int: _e_int,
    float: _e_float,
    str: _e_str,
    bytes: _e_bytes,
    bytearray: _e_bytes,
    memoryview: _e_bytes,
    BitBinary: _e_bitbinary,
    tuple: _e_tuple,
    list: _e_list,
    ImproperList: _e_improper,
    FrozenList: _e_list,
    dict: _e_dict,
    FrozenDict: _e_dict,
    Pid: _e_pid,
    Ref: _e_ref,
    Port: _e_port,
    Export: _e_export,
    Fun: _e_fun,
}
_FALLBACKS: list[tuple[type, _Encoder]] = [
    (Atom, _e_atom),
    (bool, _e_bool),
    (int, _e_int),
    (float, _e_float),
    (str, _e_str),
    (bytes, _e_bytes),
    (tuple, _e_tuple),
    (list, _e_list),
    (dict, _e_dict),
    (Ref, _e_ref),
]

_DEFAULT: Final = Codec()


def encode(value: Any) -> bytes:
    """``:erlang.term_to_binary/1`` for a node-less program: encode ``value``."""
    return _DEFAULT.encode(value)


def decode(
    data: bytes | bytearray | memoryview, *, binaries: Literal["str", "bytes"] = "str"
) -> Any:
    """``:erlang.binary_to_term/1``: decode one whole term (:class:`DecodeError` if bad)."""
    return _DEFAULT.decode(data, binaries=binaries)


if _cetf is not None:
    _cetf.init(
        Atom, Pid, Ref, ImproperList, ref_from_words, _put, _MISSING, MAX_DEPTH, _MAP_CHECKED
    )

# For the distribution's hot path (``node.Dist``: a term or two per message),
# the entries that skip ``Codec.put``'s and ``Codec.decode_from``'s Python frame:
#: ``put_term(codec, out, value)``: what ``codec.put(out, value)`` does.
put_term: Final[Callable[[Codec, bytearray, Any], None]] = _cetf.put if _cetf is not None else _put
DECODE_GAVE_UP: Final = _MISSING


def _no_c_decoder(codec: Codec, data: bytes, pos: int, binaries: None) -> Any:
    return DECODE_GAVE_UP


#: ``decode_from_c(codec, data, pos, None)``: the C decoder's answer for the term
#: at ``pos`` (what ``codec.decode_from(data, pos, compressed=False)`` returns),
#: or ``DECODE_GAVE_UP`` where the C leaves the term to that method (every term,
#: without the C codec).
decode_from_c: Final[Callable[[Codec, bytes, int, None], Any]] = (
    _cetf.decode_from if _cetf is not None else _no_c_decoder
)
