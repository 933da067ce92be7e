"""Starting and stopping a node: signals, the watchdog, and the graceful stop.

Design
------
A node owns its OS process's signals only when it runs in the main thread
(``tether.run`` there); embedded in someone else's loop or in another thread it
leaves them alone.  Owning them means raw ``signal.signal`` handlers rather than
``loop.add_signal_handler``: a handler must be able to act while a process hogs
the loop (the second Ctrl-C, preemption), which a loop callback cannot.

* SIGTERM, or the first Ctrl-C: a graceful stop (Erlang's ``init:stop``).
* The second Ctrl-C (or SIGTERM): ``_ForceStop`` from wherever the main thread
  is; the node halts at once (every coroutine is closed).
* SIGURG: the watchdog's preemption (see ``_node.Watchdog``).

The graceful stop runs as a process of the node (``graceful_stop``): it groups
the live processes into link trees (processes connected by links) and stops
them newest tree first, so the main process's tree goes last.  The oldest
process of a tree gets the exit signal ``shutdown``, sent as if by its parent
(proc_lib's ``$ancestors``, which the behaviours set), so that a supervisor or a
GenServer whose starter is gone still takes it as its parent's exit: a
supervisor then stops
its children in reverse start order within their own shutdown timeouts, a
trapping GenServer runs ``terminate``, a plain process dies.  tether waits for
the whole tree, up to ``shutdown_timeout`` seconds, then kills what is left of
it, and goes on to the next.  Nothing is sent to a supervisor's children
directly: that would look like a crash to their supervisor.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from types import FrameType
from typing import Any, Final

from . import _node as _n
from ._types import SHUTDOWN, Down, Pid

__all__ = ["Signals", "graceful_stop", "request_stop"]

# More rounds than this and processes are being spawned as fast as they are
# stopped: the node halts instead.
_MAX_ROUNDS: Final = 1000


class Signals:
    """The node's signal handlers, installed for the time it runs (main thread only)."""

    def __init__(self, node: _n.Node) -> None:
        self.node = node
        self.saved: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, handler in (
            (signal.SIGINT, self._on_sigint),
            (signal.SIGTERM, self._on_sigterm),
            (_n.PREEMPT_SIGNAL, self._on_preempt),
        ):
            self.saved[sig] = signal.getsignal(sig)
            signal.signal(sig, handler)
        self.node.owns_sigint = True

    def install_preemption(self) -> None:
        """Only the watchdog's preemption signal (an embedded node: the host
        program keeps SIGINT and SIGTERM)."""
        if threading.current_thread() is not threading.main_thread():
            return
        self.saved[_n.PREEMPT_SIGNAL] = signal.getsignal(_n.PREEMPT_SIGNAL)
        signal.signal(_n.PREEMPT_SIGNAL, self._on_preempt)

    def restore(self) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)
        self.saved.clear()
        self.node.owns_sigint = False

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.node.stopping is not None:
            raise _n._ForceStop("sigint")
        request_stop(self.node, "sigint")

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        if self.node.stopping is not None:
            raise _n._ForceStop("sigterm")
        request_stop(self.node, "sigterm")

    def _on_preempt(self, signum: int, frame: FrameType | None) -> None:
        self.node.preempt_here(frame)


def request_stop(node: _n.Node, why: str) -> None:
    """Begin a graceful stop of ``node`` (thread-safe; once)."""
    if node.stopping is not None:
        return
    node.stopping = why
    node.loop.call_soon_threadsafe(_start_stopper, node)


def _start_stopper(node: _n.Node) -> None:
    node.spawn(None, graceful_stop, (node, node.shutdown_timeout), what="graceful stop")


async def graceful_stop(node: _n.Node, timeout: float | None) -> None:
    """Stop every process, newest link tree first (see the module docstring)."""
    from ._api import self as self_pid

    me = self_pid()
    try:
        for _ in range(_MAX_ROUNDS):
            trees = _link_trees(node, me)
            if not trees:
                break
            for tree in trees:
                await _stop_tree(node, tree, timeout)
    finally:
        if node.done is not None and not node.done.done():
            node.done.set_result(None)


def _link_trees(node: _n.Node, me: Pid) -> list[list[Pid]]:
    """The live local processes (but ``me``) grouped by links, each group in start
    order, the group whose oldest member is newest first."""
    seen: set[Pid] = {me}
    trees: list[list[Pid]] = []
    table = node.table
    for pid in table:  # start order
        if pid in seen:
            continue
        seen.add(pid)
        tree = [pid]
        todo = [pid]
        while todo:
            p = table.get(todo.pop())
            if p is None or not p.links:
                continue
            for other in p.links:
                if other not in seen and other in table:
                    seen.add(other)
                    tree.append(other)
                    todo.append(other)
        tree.sort(key=lambda q: q.id)
        trees.append(tree)
    trees.sort(key=lambda t: t[0].id, reverse=True)
    return trees


def _parent_of(node: _n.Node, p: _n.Process) -> Pid | None:
    """The process's parent, from proc_lib's ``$ancestors`` (set by the behaviours):
    its first entry, a pid or a registered name."""
    ancestors = p.dictionary.get("$ancestors") if p.dictionary else None
    if type(ancestors) is not list or not ancestors:
        return None
    first = ancestors[0]
    if type(first) is Pid:
        return first
    if isinstance(first, str):
        named = node.names.get(first)
        return named.pid if named is not None else None
    return None


async def _stop_tree(node: _n.Node, tree: list[Pid], timeout: float | None) -> None:
    from ._api import Process, receive
    from ._api import self as self_pid

    refs = {Process.monitor(pid): pid for pid in tree if pid in node.table}
    if not refs:
        return
    root = node.table.get(tree[0])
    if root is not None:
        # As if from its parent: an orphaned supervisor or GenServer (its starter
        # gone, no link) stops as it would when its parent exits.
        node.receive_exit2(root, _parent_of(node, root) or self_pid(), SHUTDOWN)
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout

    def is_ours(m: Any) -> bool:
        return type(m) is Down and m.ref in refs

    while refs:
        left = None if deadline is None else max(0.0, deadline - loop.time())
        try:
            down = await receive(is_ours, timeout=left)
        except TimeoutError:
            break
        refs.pop(down.ref, None)
    for pid in sorted(refs.values(), key=lambda q: q.id, reverse=True):
        Process.exit(pid, "kill")
    while refs:
        down = await receive(is_ours)
        refs.pop(down.ref, None)
