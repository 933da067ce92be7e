"""Cluster-wide names: Erlang's ``global`` module (``global`` is a Python keyword).

A name registered here names one process in the whole cluster: every visible node,
tether or Erlang/Elixir, holds the same table, kept in step by OTP 25's own
protocol.  Use it anywhere a process is named::

    await tether.global_.register_name("jobs", pid)       # :global.register_name(:jobs, pid)
    tether.global_.whereis_name("jobs")                    # -> pid, or None
    await GenServer.start_link(Jobs, None, name=("global", "jobs"))
    await GenServer.call(("global", "jobs"), "next")
    tether.send(("global", "jobs"), "hello")

``("via", tether.global_, name)`` works the same as ``("global", name)``.  On a
hidden node (tether's default) or one that is not distributed, the names are this
node's alone, as on a hidden Erlang node.  See ``docs/global.md``.
"""

from ._dist.global_ import (
    del_lock,
    notify_all_name,
    random_exit_name,
    random_notify_name,
    re_register_name,
    register_name,
    registered_names,
    send,
    set_lock,
    sync,
    trans,
    unregister_name,
    whereis_name,
)

__all__ = [
    "del_lock",
    "notify_all_name",
    "random_exit_name",
    "random_notify_name",
    "re_register_name",
    "register_name",
    "registered_names",
    "send",
    "set_lock",
    "sync",
    "trans",
    "unregister_name",
    "whereis_name",
]
