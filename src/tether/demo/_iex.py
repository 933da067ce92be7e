"""A tiny stand-in for IEx, so the examples can tell the article's story.

Each step runs in an *evaluator* process, as IEx runs your input; the session
(the IEx server) monitors the evaluator.  When the evaluator dies — a linked crash,
a kill — the session prints the IEx banner with the formatted reason and starts a
new evaluator with a new pid, keeping the bindings in ``env``.  (The real shell is
``tether`` with no arguments; this stand-in prints the same story the same way
every time, so each transcript can be checked.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import tether
from tether import ANY, Down, Process, format_exit, receive, self, send, spawn_monitor

Step = Callable[[dict[str, Any]], Awaitable[None]]


def show(code: str, value: Any) -> None:
    """Print an input line and its result, IEx style."""
    print(f"tether> {code}")
    print(repr(value))


async def _evaluator(server: tether.Pid) -> None:
    while True:
        _, step, env = await receive(("eval", ANY, ANY))
        await step(env)
        send(server, ("done", self()))


async def session(*steps: Step, settle: float = 0.05) -> None:
    """Run ``steps`` one by one in an evaluator; report and replace it when it dies."""
    env: dict[str, Any] = {}
    ev, ref = spawn_monitor(_evaluator, self())
    for step in steps:
        send(ev, ("eval", step, env))
        down = None
        match await receive(("done", ev), Down(ref, ANY, ANY, ANY)):
            case Down() as d:
                down = d
            case _:
                # A crash may land just after the input returned (it is asynchronous).
                with contextlib.suppress(TimeoutError):
                    down = await receive(Down(ref, ANY, ANY, ANY), timeout=settle)
        if down is not None:
            reason = format_exit(down.reason)
            print(f"** (EXIT from {ev!r}) shell process exited with reason: {reason}")
            ev, ref = spawn_monitor(_evaluator, self())
    Process.demonitor(ref, flush=True)
    Process.exit(ev, "kill")
