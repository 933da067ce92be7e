"""TLS distribution, against Elixir's ``-proto_dist inet_tls`` (issue: distribution, part 5)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tether
from tether import Node, rpc

from ..conftest import Factory
from .conftest import ev, run_node, start_elixir

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A CA and one node certificate it signed, made with openssl.  The SAN names
    127.0.0.1 as an IP and as a DNS name: OTP checks the host of a -name node as a DNS name."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("certs")

    def sh(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    sh(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=tether test CA",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    sh(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "node.key",
        "-out",
        "node.csr",
        "-subj",
        "/CN=127.0.0.1",
    )
    # Python 3.13's default context verifies with VERIFY_X509_STRICT, which refuses
    # a CA without keyUsage (above) and a certificate without an Authority Key
    # Identifier (OpenSSL 3.0's `x509 -req` adds none by itself).
    (d / "san.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
    )
    sh(
        "x509",
        "-req",
        "-in",
        "node.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "node.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    )
    files = (
        f'{{certfile, "{d}/node.pem"}}, {{keyfile, "{d}/node.key"}}, {{cacertfile, "{d}/ca.pem"}}'
    )
    opts = (
        f"[{{server, [{files}, {{verify, verify_peer}}, {{fail_if_no_peer_cert, true}}]}},\n"
        f" {{client, [{files}, {{verify, verify_peer}}]}}].\n"
    )
    (d / "ssl_dist.conf").write_text(opts)
    yield d


def test_tls_distribution_with_elixir_both_ways(
    epmd_port: int, certs: Path, loop_factory: Factory
) -> None:
    @rpc.expose("tls_test")
    def hello(x: Any) -> Any:
        return ("tls", x)

    peer = start_elixir(
        epmd_port, erl_args=f"-proto_dist inet_tls -ssl_dist_optfile {certs}/ssl_dist.conf"
    )
    try:

        async def main() -> tuple[Any, ...]:
            pong = await Node.ping(peer.name)
            me = tether.node()
            back = await ev(peer, f':rpc.call(:"{me}", :tls_test, :hello, [1])')
            up = await rpc.call(peer.name, "Elixir.String", "upcase", ["tls"])
            return pong, back, up

        tls = tether.dist_tls(certs / "node.pem", certs / "node.key", certs / "ca.pem")
        assert run_node(main, tls=tls, loop_factory=loop_factory) == ("pong", ("tls", 1), "TLS")

        async def plain() -> Any:
            return await Node.connect(peer.name)

        # A node without TLS cannot get in.
        assert run_node(plain, loop_factory=loop_factory) is False
    finally:
        peer.kill()


def test_dist_tls_needs_a_ca_to_verify(certs: Path) -> None:
    with pytest.raises(ValueError, match="needs cafile="):
        tether.dist_tls(certs / "node.pem", certs / "node.key")
    server, client = tether.dist_tls(certs / "node.pem", certs / "node.key", verify=False)
    assert (server.verify_mode, client.verify_mode, client.check_hostname) == (0, 0, False)
