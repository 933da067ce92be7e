# The codec's hot shapes in C (_cetf.c); etf.py says when it is used.
from collections.abc import Callable
from typing import Any

def init(
    atom: type,
    pid: type,
    ref: type,
    improper_list: type,
    ref_from_words: Callable[..., Any],
    put: Callable[..., None],
    missing: object,
    max_depth: int,
    map_checked: int,
) -> None: ...
def decode(codec: Any, data: Any, binaries: str | None) -> Any: ...
def decode_from(codec: Any, data: Any, pos: int, binaries: str | None) -> Any: ...
def encode(codec: Any, value: Any) -> bytes: ...
def put(codec: Any, out: bytearray, value: Any) -> None: ...
