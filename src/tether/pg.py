"""Process groups: Erlang's ``pg`` module.

A scope holds named groups of processes; the scopes of one name on every visible
node share their groups, kept in step by OTP 25's own protocol, so a group can
hold tether and Erlang/Elixir processes alike.  Members leave when they die, and
when their node goes down::

    await tether.pg.start_link()                      # :pg.start_link()
    await tether.pg.join("workers", tether.self())    # :pg.join(:workers, self())
    tether.pg.get_members("workers")                  # every node's members
    await tether.pg.start_link("chat")                # another scope
    await tether.pg.join("room", pid, scope="chat")   # :pg.join(:chat, :room, pid)

On a hidden node (tether's default) the groups are this node's alone, as on a
hidden Erlang node.  See ``docs/pg.md``.
"""

from ._dist.pg import (
    child_spec,
    demonitor,
    get_local_members,
    get_members,
    join,
    leave,
    monitor,
    monitor_scope,
    start,
    start_link,
    which_groups,
    which_local_groups,
)

__all__ = [
    "child_spec",
    "demonitor",
    "get_local_members",
    "get_members",
    "join",
    "leave",
    "monitor",
    "monitor_scope",
    "start",
    "start_link",
    "which_groups",
    "which_local_groups",
]
