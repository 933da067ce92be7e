"""What tether assumes of OTP 26-28, checked where OTP 25 and a raw peer can show
it (issue #12 item 9; docs/distribution.md, "OTP versions").  The same
assumptions against a real OTP 28 node: ``test_newer_otp.py``."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import pytest

import tether
from tether import Process, spawn
from tether._dist import node as dn
from tether._dist.etf import Codec

from .conftest import COOKIE, run_node
from .hostile import RawPeer, ours, the_dist
from .test_hostile import idle, peer_name

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("epmd_port")]

DFLAG_V4_NC = 1 << 34
DFLAG_UNLINK_ID = 0x2000000
DFLAG_ALTACT_SIG = 0x20 << 32  # OTP 28


def test_tether_offers_what_otp_26_makes_mandatory_and_not_what_it_cannot_handle() -> None:
    """OTP 26's DFLAG_DIST_MANDATORY_26 is V4_NC | UNLINK_ID (erts dist.h); OTP 28's
    ALTACT_SIG is not offered, so no peer sends DOP_ALTACT_SIG_SEND."""

    async def main() -> int:
        peer = RawPeer(peer_name(), COOKIE)
        await peer.open()
        raw = peer.name.encode()
        peer._send_hs(b"N" + struct.pack(">QIH", dn.OUR_FLAGS, 7, len(raw)) + raw)
        assert await peer._msg() == b"sok"
        challenge = await peer._msg()
        return int(struct.unpack_from(">Q", challenge, 1)[0])

    flags = run_node(main)
    assert flags & (dn.MANDATORY_25 | DFLAG_V4_NC | DFLAG_UNLINK_ID) == (
        dn.MANDATORY_25 | DFLAG_V4_NC | DFLAG_UNLINK_ID
    )
    assert flags & DFLAG_ALTACT_SIG == 0


@pytest.mark.parametrize(
    ("flags", "why"),
    [
        (dn.OUR_FLAGS & ~DFLAG_UNLINK_ID, "the new link protocol (OTP 26 requires it)"),
        (dn.OUR_FLAGS & ~dn.HANDSHAKE_23, "the version 6 handshake"),
    ],
)
def test_a_peer_without_flags_tether_relies_on_is_refused(flags: int, why: str) -> None:
    async def main() -> bool:
        peer = RawPeer(peer_name(), COOKIE)
        try:
            await peer.send_name(flags)
        except asyncio.IncompleteReadError:
            return True  # closed without a status
        return False

    assert run_node(main) is True, why


def test_an_old_version_5_send_name_is_refused() -> None:
    async def main() -> bool:
        peer = RawPeer(peer_name(), COOKIE)
        await peer.open()
        raw = peer.name.encode()
        peer._send_hs(b"n" + struct.pack(">HI", 5, dn.OUR_FLAGS & 0xFFFFFFFF) + raw)
        try:
            await peer._msg()
        except asyncio.IncompleteReadError:
            return True
        return False

    assert run_node(main) is True


def test_unlink_goes_as_unlink_id_never_as_the_unlink_otp_26_rejects() -> None:
    """OTP 26 treats DOP_UNLINK as an invalid message; tether sends UNLINK_ID and
    takes the ack."""

    async def main() -> tuple[Any, ...]:
        peer = RawPeer(peer_name(), COOKIE)
        await peer.connect()
        me = tether.self()
        Process.link(peer.pid(3))
        link = await peer.recv()
        Process.unlink(peer.pid(3))
        unlink = await peer.recv()
        pending = dict(hostile_conn(peer).unlinking)
        uid = unlink[0][1]  # type: ignore[index]
        peer.send((dn.UNLINK_ID_ACK, uid, peer.pid(3), ours(me)))
        await asyncio.sleep(0.1)
        return link, unlink, pending, dict(hostile_conn(peer).unlinking)

    link, unlink, pending, after = run_node(main)
    assert link[0][0] == dn.LINK
    assert unlink[0][0] == dn.UNLINK_ID_OP and unlink[0][1] >= 1
    assert list(pending.values()) == [unlink[0][1]] and after == {}


def hostile_conn(peer: RawPeer) -> dn.Connection:
    return the_dist().connections[peer.name]


def test_v4_nc_ports_and_five_word_refs_round_trip_unchanged() -> None:
    """V4_NC: 64-bit port ids (V4_PORT_EXT) and references of up to 5 words."""
    c = Codec("here@h", 1)
    node = b"\x77\x07other@h"
    v4_port = b"\x83\x78" + node + struct.pack(">QI", (1 << 40) + 5, 3)
    five_words = b"\x83\x5a\x00\x05" + node + struct.pack(">I5I", 3, 1, 2, 3, 4, 5)
    for data in (v4_port, five_words):
        assert c.encode(c.decode(data)) == data


def test_an_unknown_operation_such_as_altact_sig_send_closes_the_connection() -> None:
    async def main() -> bool:
        t = spawn(idle)
        peer = RawPeer(peer_name(), COOKIE)
        await peer.connect()
        peer.send((40, 0, peer.pid(1), ours(t)), "m")  # an operation tether does not know
        return await peer.closed_by_node()

    assert run_node(main) is True
