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

import signal
import threading
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any

from . import _node as _n

__all__ = ["STOPPER", "Signals", "request_stop"]


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


def request_stop(node: _n.Node, why: str, reason: Any = None) -> None:
    """Begin a graceful stop of ``node`` (thread-safe; once: the first ``why`` and
    ``reason`` stay)."""
    if node.stopping is not None:
        return
    node.stopping = why
    node.stop_reason = reason
    node.loop.call_soon_threadsafe(_start_stopper, node)


# The graceful stop's body is a process (it waits for DOWN messages), written
# with the runtime API: ``_api`` installs it here when it is imported (it imports
# this module, so this one cannot import it back).
STOPPER: Callable[[_n.Node, float | None], Coroutine[Any, Any, None]] | None = None


def _start_stopper(node: _n.Node) -> None:
    assert STOPPER is not None, "tether._runtime._api installs the graceful stop"
    node.spawn(None, STOPPER, (node, node.shutdown_timeout), what="graceful stop")
