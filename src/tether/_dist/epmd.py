"""epmd, the Erlang Port Mapper Daemon: a client, and a built-in server.

The client registers a node (``ALIVE2_REQ``; the registration lives as long as the
TCP connection), looks nodes up (``PORT_PLEASE2_REQ``) and lists them
(``NAMES_REQ``).  The server speaks the same protocol for machines without
Erlang; run it standalone with ``python -m tether.epmd`` or let a node start it in
its own event loop (see ``tether._dist.node``).  The port is ``ERL_EPMD_PORT`` or
4369, as for Erlang.

The server listens on the loopback interface unless given other addresses
(``-address``, as epmd's), and takes registrations only from this host: the
system epmd refuses an ``ALIVE2_REQ`` from a non-local peer too (``epmd_srv.c``),
since a registration tells every node where to send its handshake.

Protocol reference: ERTS User's Guide, "Distribution Protocol", section EPMD.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import struct
from dataclasses import dataclass
from typing import Final

ALIVE2_REQ: Final = 120
ALIVE2_RESP: Final = 121
ALIVE2_X_RESP: Final = 118
PORT_PLEASE2_REQ: Final = 122
PORT2_RESP: Final = 119
NAMES_REQ: Final = 110

NODE_TYPE_NORMAL: Final = 77
NODE_TYPE_HIDDEN: Final = 72
HIGHEST_VERSION: Final = 6
LOWEST_VERSION: Final = 5

logger: Final = logging.getLogger("tether.epmd")


class EpmdError(OSError):
    """epmd refused a registration or answered with something unexpected."""


def epmd_port() -> int:
    """The epmd port: ``ERL_EPMD_PORT`` if set (as Erlang reads it), else 4369."""
    raw = os.environ.get("ERL_EPMD_PORT", "")
    if raw:
        try:
            port = int(raw)
        except ValueError as e:
            raise ValueError(f"ERL_EPMD_PORT must be a port number, got {raw!r}") from e
        if not 0 < port < 65536:
            raise ValueError(f"ERL_EPMD_PORT must be 1..65535, got {port}")
        return port
    return 4369


@dataclass(frozen=True)
class NodeEntry:
    """What epmd knows of one node."""

    name: str
    port: int
    node_type: int = NODE_TYPE_HIDDEN
    protocol: int = 0
    highest: int = HIGHEST_VERSION
    lowest: int = LOWEST_VERSION
    extra: bytes = b""


async def register(
    name: str, port: int, *, host: str = "127.0.0.1", epmd: int | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, int]:
    """Register ``name`` at ``port``; return the open connection and the creation.

    Close the returned writer to unregister; the reader sees the end of the
    connection when epmd goes away (the registration with it).
    """
    reader, writer = await asyncio.open_connection(host, epmd or epmd_port())
    raw = name.encode("utf-8")
    body = struct.pack(
        ">BHBBHHH",
        ALIVE2_REQ,
        port,
        # Erlang registers every node as 77, -hidden ones too (72 is for C nodes);
        # hidden-ness travels in the handshake's flags instead.
        NODE_TYPE_NORMAL,
        0,
        HIGHEST_VERSION,
        LOWEST_VERSION,
        len(raw),
    )
    body += raw + struct.pack(">H", 0)
    writer.write(struct.pack(">H", len(body)) + body)
    await writer.drain()
    head = await reader.readexactly(2)
    if head[0] == ALIVE2_X_RESP:
        result = head[1]
        creation = struct.unpack(">I", await reader.readexactly(4))[0]
    elif head[0] == ALIVE2_RESP:
        result = head[1]
        creation = struct.unpack(">H", await reader.readexactly(2))[0]
    else:
        writer.close()
        raise EpmdError(f"epmd answered ALIVE2_REQ with tag {head[0]}")
    if result != 0:
        writer.close()
        raise EpmdError(
            f"epmd refused to register {name!r} (result {result}): "
            "is a node with that name already running?"
        )
    return reader, writer, creation


async def port_please(name: str, host: str, epmd: int | None = None) -> NodeEntry | None:
    """Look ``name`` up on ``host``'s epmd; ``None`` if it is not registered."""
    reader, writer = await asyncio.open_connection(host, epmd or epmd_port())
    try:
        raw = name.encode("utf-8")
        writer.write(struct.pack(">HB", len(raw) + 1, PORT_PLEASE2_REQ) + raw)
        await writer.drain()
        head = await reader.readexactly(2)
        if head[0] != PORT2_RESP:
            raise EpmdError(f"epmd answered PORT_PLEASE2_REQ with tag {head[0]}")
        if head[1] != 0:
            return None
        port, ntype, proto, hi, lo, nlen = struct.unpack(">HBBHHH", await reader.readexactly(10))
        got = (await reader.readexactly(nlen)).decode("utf-8")
        elen = struct.unpack(">H", await reader.readexactly(2))[0]
        extra = await reader.readexactly(elen)
        return NodeEntry(got, port, ntype, proto, hi, lo, extra)
    finally:
        writer.close()


async def names(host: str = "127.0.0.1", epmd: int | None = None) -> dict[str, int]:
    """``epmd -names``: the registered node names and their ports."""
    reader, writer = await asyncio.open_connection(host, epmd or epmd_port())
    try:
        writer.write(struct.pack(">HB", 1, NAMES_REQ))
        await writer.drain()
        await reader.readexactly(4)
        text = (await reader.read()).decode("utf-8", "replace")
    finally:
        writer.close()
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == "name":
            out[parts[1]] = int(parts[4])
    return out


class EpmdServer:
    """A built-in epmd: ``ALIVE2``, ``PORT_PLEASE2`` and ``NAMES``.

    Registrations are kept while their connection is open, as in epmd.  Each new
    registration of a name gets the next creation number (never 0).  Only peers
    on this host may register (loopback, or an address of this host's own).
    """

    def __init__(self) -> None:
        self.nodes: dict[str, NodeEntry] = {}
        self._creation = 0
        self.server: asyncio.Server | None = None

    async def start(self, port: int | None = None, host: str | list[str] = "127.0.0.1") -> int:
        """Listen on ``host`` (an address or a list; loopback by default, as
        ``epmd -address 127.0.0.1``); return the port."""
        self.server = await asyncio.start_server(self._client, host, port or epmd_port())
        return int(self.server.sockets[0].getsockname()[1])

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            size = struct.unpack(">H", await reader.readexactly(2))[0]
            if size == 0 or size > 1024:
                return
            req = await reader.readexactly(size)
            if req[0] == ALIVE2_REQ and size >= 13:
                if not _local_peer(writer):
                    logger.warning(
                        "refused ALIVE2_REQ from %s: not a local address",
                        writer.get_extra_info("peername"),
                    )
                    return
                await self._alive(req, reader, writer)
            elif req[0] == PORT_PLEASE2_REQ:
                self._port_please(req[1:].decode("utf-8", "replace"), writer)
            elif req[0] == NAMES_REQ:
                text = "".join(f"name {n} at port {e.port}\n" for n, e in self.nodes.items())
                writer.write(struct.pack(">I", epmd_port()) + text.encode("utf-8"))
        except (asyncio.IncompleteReadError, ConnectionError, UnicodeDecodeError, struct.error):
            pass
        finally:
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            writer.close()

    async def _alive(
        self, req: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        port, ntype, proto, hi, lo, nlen = struct.unpack_from(">HBBHHH", req, 1)
        name = req[11 : 11 + nlen].decode("utf-8")
        if name in self.nodes or not name:
            writer.write(struct.pack(">BBI", ALIVE2_X_RESP, 1, 0))
            return
        self._creation = self._creation % 0xFFFFFFFF + 1
        self.nodes[name] = NodeEntry(name, port, ntype, proto, hi, lo)
        writer.write(struct.pack(">BBI", ALIVE2_X_RESP, 0, self._creation))
        await writer.drain()
        try:
            while await reader.read(64):
                pass
        finally:
            self.nodes.pop(name, None)

    def _port_please(self, name: str, writer: asyncio.StreamWriter) -> None:
        e = self.nodes.get(name)
        if e is None:
            writer.write(bytes((PORT2_RESP, 1)))
            return
        raw = e.name.encode("utf-8")
        writer.write(
            struct.pack(
                ">BBHBBHHH",
                PORT2_RESP,
                0,
                e.port,
                e.node_type,
                e.protocol,
                e.highest,
                e.lowest,
                len(raw),
            )
            + raw
            + struct.pack(">H", 0)
        )


def _local_peer(writer: asyncio.StreamWriter) -> bool:
    """Whether the peer of ``writer`` is on this host: a loopback address, or the
    very address it reached us on (a local client through an external interface)."""
    peer = writer.get_extra_info("peername")
    mine = writer.get_extra_info("sockname")
    if not peer:
        return True  # a Unix socket: local by definition
    try:
        addr = ipaddress.ip_address(peer[0])
    except ValueError:
        return False
    mapped = getattr(addr, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    if addr.is_loopback or (mapped is not None and mapped.is_loopback):
        return True
    return bool(mine) and peer[0] == mine[0]


def main(argv: list[str] | None = None) -> None:
    """``python -m tether.epmd [-port N] [-address A,B]``: run the built-in epmd in the
    foreground, on the loopback interface unless ``-address`` names others."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m tether.epmd", description=main.__doc__)
    ap.add_argument(
        "-port", "--port", type=int, default=None, help="port (default ERL_EPMD_PORT or 4369)"
    )
    ap.add_argument(
        "-address",
        "--address",
        default="127.0.0.1",
        help="comma-separated addresses to listen on (default 127.0.0.1; 0.0.0.0 for all)",
    )
    args = ap.parse_args(argv)

    async def serve() -> None:
        srv = EpmdServer()
        hosts = [a.strip() for a in args.address.split(",") if a.strip()]
        port = await srv.start(args.port, hosts if len(hosts) > 1 else hosts[0])
        print(f"tether epmd listening on port {port}", flush=True)
        assert srv.server is not None
        await srv.server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
