"""A million fuzzed frames against the decoder, the control-frame handler and the
handshake: nothing but the defined errors may come out (issue: distribution)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.etf import DecodeError, decode

from . import fuzz

HERE = Path(__file__).parent


@pytest.mark.timeout(300)
def test_a_million_fuzzed_frames_never_crash_the_node() -> None:
    stats = fuzz.run(1_000_000, seed=1)
    assert stats.crashes == []
    assert stats.frames == 1_000_000
    assert stats.handshakes == 20_000
    # both paths were exercised: frames that decoded and ran, frames refused
    assert stats.decoded > 10_000 and stats.rejected > 10_000


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=200).map(lambda b: b"\x83" + b))
def test_random_bytes_decode_or_raise_decode_error(raw: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode(raw)


@pytest.mark.timeout(600)
def test_coverage_guided_fuzzing_finds_no_crash(tmp_path: Path) -> None:
    """atheris (libFuzzer) on the same three targets and a fourth that holds the C
    codec to the Python one; 200,000 runs here, and
    ``python -m tests.distribution.fuzz_atheris -runs=1000000`` on demand."""
    pytest.importorskip("atheris")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.distribution.fuzz_atheris",
            "-runs=200000",
            "-seed=1",
            f"-artifact_prefix={tmp_path}/",
        ],
        capture_output=True,
        text=True,
        timeout=580,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Done 200000 runs" in out.stderr


def test_a_malformed_peer_name_is_a_handshake_error() -> None:
    """Found by the atheris run: a send_name whose name has no '@' once escaped
    the handshake as a ValueError (one connection's task died, unlogged)."""
    data = (HERE / "crash-malformed-name.bin").read_bytes()
    fuzz.handshake_only(data)
