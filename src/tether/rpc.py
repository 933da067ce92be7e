"""Remote calls between nodes: ``tether.rpc.call`` out, ``tether.rpc.expose`` in.

``await rpc.call(node, "Elixir.String", "upcase", ["hi"])`` runs a function on an
Erlang/Elixir/tether node (``:erpc.call``).  Other nodes may run only the Python
functions you expose::

    @tether.rpc.expose("Elixir.MathTools")
    def add(a, b):
        return a + b

after which Elixir's ``:rpc.call(:"py@127.0.0.1", MathTools, :add, [1, 2])`` is ``3``.
"""

from ._dist.rpc import RpcError, call, expose, exposed, unexpose

__all__ = ["RpcError", "call", "expose", "exposed", "unexpose"]
