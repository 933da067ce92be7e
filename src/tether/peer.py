"""Peer nodes in child OS processes (Erlang's ``:peer``): a local node pool uses all cores.

::

    peers = [await tether.peer.start(f"worker{i}", imports=["mytasks"]) for i in range(4)]
    results = await asyncio.gather(*(tether.rpc.call(p.node, "mytasks", "work", [i]) ...))

See docs/distribution.md, "Use all cores with a local node pool".
"""

from ._dist.peer import Peer, main, start

__all__ = ["Peer", "start"]

if __name__ == "__main__":
    main()
