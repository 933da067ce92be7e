"""Running both sides of a conformance pair."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import tether
import tether.testing

from .normalize import normalize
from .t import Trace

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"


def names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS.glob("*.exs"))


def run_tether(name: str) -> str:
    spec = importlib.util.spec_from_file_location(f"conformance_{name}", SCENARIOS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    trace = Trace()

    async def body() -> None:
        await mod.scenario(trace)

    async def main() -> None:
        # As T.main in Elixir: the body runs in a fresh, monitored process.
        pid, ref = tether.spawn_monitor(body)
        down = await tether.receive(tether.Down(ref, tether.ANY, pid, tether.ANY))
        if down.reason != "normal":
            trace.out("main_exit", down.reason)
        await Trace.settle()

    # Ports wait for OS programs in real time: a loaded machine gets a minute.
    tether.testing.run(main, idle_timeout=60)
    return normalize("\n".join(trace.lines))


def elixir() -> str | None:
    return shutil.which("elixir")


def run_elixir(name: str) -> str:
    exe = elixir()
    assert exe is not None
    env = dict(os.environ, ELIXIR_ERL_OPTIONS="+S 1")
    out = subprocess.run(
        [exe, str(SCENARIOS / f"{name}.exs")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"elixir {name}.exs failed ({out.returncode}):\n{out.stderr}")
    return normalize(out.stdout)


def expected(name: str) -> str:
    return (SCENARIOS / f"{name}.expected").read_text()
