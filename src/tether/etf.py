"""The Erlang External Term Format (``term_to_binary``/``binary_to_term``) for Python.

See :mod:`tether._dist.etf` for the full Python mapping table.  Quick use::

    from tether import etf
    data = etf.encode((tether.Atom("ok"), [1, 2, 3], {"k": b"\\x00"}))
    etf.decode(data)
"""

from ._dist.etf import (
    BitBinary,
    Codec,
    DecodeError,
    EncodeError,
    Export,
    FrozenDict,
    FrozenList,
    Fun,
    ImproperList,
    Port,
    decode,
    encode,
)

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
