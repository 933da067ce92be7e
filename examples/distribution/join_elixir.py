"""Join an Elixir cluster: call an Elixir GenServer, be called back, link across nodes.

Start the Elixir side, then this::

    elixir --name ex@127.0.0.1 --cookie demo examples/distribution/cluster.exs
    uv run python examples/distribution/join_elixir.py ex@127.0.0.1
"""

from __future__ import annotations

import sys

import tether
from tether import ANY, Atom, GenServer, Node, Process, receive, rpc, send


@rpc.expose("Elixir.Greeter")
def greet(name: str) -> str:
    """Elixir calls this as ``:rpc.call(node, Greeter, :greet, [name])``."""
    return f"Hello, {name}, from Python"


async def main(ex: str) -> None:
    print("connected:", await Node.connect(ex))
    print("hidden peers:", Node.list("hidden"))
    # An Elixir GenServer, called by name on its node.
    print("Counter.next:", await GenServer.call(("counter", ex), Atom("next")))
    print("Counter.next:", await GenServer.call(("counter", ex), Atom("next")))
    # Any Elixir function, over erpc.
    print("String.reverse:", await rpc.call(ex, "Elixir.String", "reverse", ["tether"]))
    # A message to a registered Elixir process; it calls Greeter.greet back.
    send(("ex_main", ex), (Atom("hello"), tether.self()))
    _, greeting = await receive(("greeting", ANY), timeout=10)
    print("Elixir got back:", greeting)
    # A monitor on an Elixir process: the DOWN carries Elixir's exit reason.
    counter = await rpc.call(ex, "erlang", "whereis", [Atom("counter")])
    ref = Process.monitor(counter)
    Process.exit(counter, Atom("shutdown"))
    down = await receive(tether.Down(ref, ANY, ANY, ANY), timeout=10)
    print("Counter went down:", down.reason)


if __name__ == "__main__":
    tether.run(
        main,
        sys.argv[1] if len(sys.argv) > 1 else "ex@127.0.0.1",
        name="py@127.0.0.1",
        cookie="demo",
    )
