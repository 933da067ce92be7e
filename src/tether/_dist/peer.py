"""Peer nodes: start tether nodes in child OS processes (Erlang's ``:peer``).

A node pool on one machine is how tether uses every core: each peer is its own
OS process with its own interpreter and GIL, reached with the distribution
protocol (``tether.rpc.call``, ``Node.spawn``, messages, links, monitors).

A peer imports the modules it is given (so their ``@rpc.expose`` functions are
there), registers as ``NAME@<this host>``, and ends when its controlling node's
connection goes down (as ``:peer`` does), or on :meth:`Peer.stop`.  Peers run
without the hog warning: long CPU-bound calls are what they are for.  The cookie
travels in the environment, never on the command line.  A peer runs on the same
kind of event loop as the node that starts it: uvloop's when that node runs on
uvloop, asyncio's otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import sys
from typing import Any

from .._runtime._types import ANY, Atom

__all__ = ["Peer", "start"]


class Peer:
    """A running peer node: ``node`` is its name; ``await stop()`` ends it."""

    def __init__(self, node: Atom, process: asyncio.subprocess.Process) -> None:
        self.node = node
        self.process = process

    async def stop(self) -> int:
        """Stop the peer and wait for its OS process; return its exit status."""
        from .api import Node

        if self.process.returncode is None:
            Node.disconnect(self.node)
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
        return await self.process.wait()

    def __repr__(self) -> str:
        return f"<tether.peer.Peer {self.node} pid={self.process.pid}>"


async def start(
    name: str,
    *,
    imports: list[str] | tuple[str, ...] = (),
    timeout: float = 30.0,
    hidden: bool = True,
) -> Peer:
    """Start a peer node ``name@<this host>`` that imports ``imports``; return it connected.

    Must run inside a distributed node (``tether.run(..., name=...)``); the peer
    uses the same cookie, epmd and host part of the name.  ``hidden=False``
    starts a visible peer (a node that takes part in ``global`` and ``pg``, as
    Erlang's ``peer`` starts by default).  The peer runs on uvloop when this node
    does (``tether.run(..., loop_factory=uvloop.new_event_loop)``), on asyncio's
    own loop otherwise.  Raises ``RuntimeError`` if it does not come up within
    ``timeout`` seconds.
    """
    from .._runtime import _node as _n
    from .api import Node

    node = _n.NODE
    dist = getattr(node, "dist", None)
    if dist is None:
        raise RuntimeError(
            "peer.start: this node is not distributed; start it with tether.run(..., name=...)"
        )
    if not isinstance(name, str) or not name or "@" in name:
        raise ValueError(f"peer.start: name must be the part before '@', got {name!r}")
    for mod in imports:
        if not isinstance(mod, str):
            raise TypeError(f"peer.start: imports must be module names (str), got {mod!r}")
    if not isinstance(hidden, bool):
        raise TypeError(f"peer.start: hidden must be bool, got {hidden!r}")
    full = f"{name}@{dist.host}"
    env = {
        **os.environ,
        "TETHER_COOKIE": dist.cookie,
        "PYTHONPATH": os.pathsep.join(p or os.getcwd() for p in sys.path),
    }
    # -c rather than -m tether.peer: the package imports tether.peer, and runpy
    # warns when the module it runs is already imported.
    argv = [
        sys.executable,
        "-c",
        "from tether._dist.peer import main; main()",
        full,
        "--parent",
        dist.name,
    ]
    for mod in imports:
        argv += ["--import", mod]
    if dist.long_names is False:
        argv += ["--short"]
    if not hidden:
        argv += ["--visible"]
    if _on_uvloop(asyncio.get_running_loop()):
        argv += ["--loop", "uvloop"]
    proc = await asyncio.create_subprocess_exec(*argv, env=env, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout)
    except TimeoutError:
        proc.kill()
        raise RuntimeError(f"peer.start: {full} did not start within {timeout} s") from None
    if line.strip() != b"READY":
        await proc.wait()
        raise RuntimeError(f"peer.start: {full} failed to start (exit status {proc.returncode})")
    if not await Node.connect(full):
        proc.kill()
        raise RuntimeError(f"peer.start: {full} started but refused the connection")
    return Peer(Atom(full), proc)


def _on_uvloop(loop: asyncio.AbstractEventLoop) -> bool:
    # By the class's module, so that asking does not import uvloop.
    return type(loop).__module__.partition(".")[0] == "uvloop"


async def _peer_main(parent: str) -> None:
    from .._runtime._api import receive
    from .api import Node

    print("READY", flush=True)
    # Live as long as the controlling node.  It connects to us once it reads
    # READY (we do not connect ourselves: two nodes connecting to each other at
    # once is legal but needs a tie-break round trip); then wait for nodedown.
    for _ in range(300):
        if parent in Node.list("connected"):
            break
        await asyncio.sleep(0.1)
    else:
        return
    Node.monitor(parent, True)
    await receive(("nodedown", ANY))


def main(argv: list[str] | None = None) -> Any:
    """``python -m tether.peer NAME --parent NODE [--import MOD ...]`` (used by :func:`start`)."""
    from .._runtime._api import run

    ap = argparse.ArgumentParser(prog="python -m tether.peer")
    ap.add_argument("name")
    ap.add_argument("--parent", required=True)
    ap.add_argument("--import", dest="imports", action="append", default=[])
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--visible", action="store_true")
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = ap.parse_args(argv)
    for mod in args.imports:
        importlib.import_module(mod)
    loop_factory = None
    if args.loop == "uvloop":
        import uvloop  # the parent runs on it, so it is installed

        loop_factory = uvloop.new_event_loop
    # A pool worker's job is CPU work: no warning for processes that run long.
    return run(
        _peer_main,
        args.parent,
        name=args.name,
        hog_threshold=None,
        hidden=not args.visible,
        loop_factory=loop_factory,
    )
