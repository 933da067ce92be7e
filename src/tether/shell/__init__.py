"""The tether shell: IEx for Python (``tether`` or ``python -m tether``).

Design
------
Three parts, as in IEx:

* the **console**, in the main thread, owns the terminal: ``input()`` with readline
  (history, line editing, tab completion), multi-line input (``codeop`` decides
  when an input is complete), Ctrl-C and Ctrl-D.  Python delivers SIGINT to the
  main thread only, which is why the console — not the node — lives there;
* the **server** process (IEx's server) monitors the evaluator, hands it each
  input, and when the evaluator dies prints ``** (EXIT from #PID<…>) shell process
  exited with reason: …`` (I-2), then starts a new evaluator with a new pid that
  keeps the user's variables and the prompt counter (I-3, Elixir 1.15+);
* the **evaluator** process runs the input: ``self()`` at the prompt is its pid,
  and it does not trap exits (I-1).  Top-level ``await`` works (as in
  ``python -m asyncio``), and a bare expression whose value is awaitable is
  awaited for you, so ``flush()`` and ``receive()`` can be typed as in IEx.

The node runs in a background thread; a *bridge* process turns the console's
requests (an input, an interrupt) into tether messages for the server.  Output
that other processes print while the user types is written above the prompt and
the line being typed is redrawn (``_PromptSafeWriter``).

Ctrl-C while an input runs interrupts it by killing the evaluator (the server
reports ``interrupted`` and starts a new one; variables are kept); at the prompt
it clears the line.  Ctrl-D or ``exit()`` leaves.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import codeop
import contextlib
import inspect
import io
import os
import re
import sys
import threading
import types
from typing import Any, TextIO

import tether
from tether import ANY, Down, Process, format_exit, receive, send, spawn, spawn_monitor
from tether._runtime._format import format_exception

from ._helpers import helpers

__all__ = ["main"]

_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def banner() -> str:
    return (
        f"Interactive tether ({tether.__version__}) - press Ctrl+D to exit "
        "(type h() ENTER for help)"
    )


class _Job:
    """One input handed from the console to the node."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.done = threading.Event()


class _Control:
    """What the console and the node share (thread-safe)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue[Any] | None = None
        self.ready = threading.Event()
        self.counter = 1
        self.stopped = threading.Event()
        self.error: BaseException | None = None
        self.ns: dict[str, Any] = {}
        self.run_kwargs: dict[str, Any] = {}  # name=/cookie= for a distributed shell
        self.node_name = ""

    def put(self, item: Any) -> None:
        assert self.loop is not None and self.queue is not None
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)


# -- the node side ---------------------------------------------------------------


def _is_coroutine_code(code: types.CodeType) -> bool:
    return bool(code.co_flags & inspect.CO_COROUTINE)


async def _evaluate(source: str, ns: dict[str, Any]) -> None:
    tree = compile(source, "<tether>", "exec", flags=ast.PyCF_ONLY_AST | _FLAGS)
    assert isinstance(tree, ast.Module)
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        expr = ast.Expression(tree.body[0].value)
        code = compile(expr, "<tether>", "eval", flags=_FLAGS)
        value = eval(code, ns)
        # Top-level await makes the whole expression a coroutine; otherwise a value
        # that is awaitable (a coroutine, receive(), an asyncio future) is awaited
        # for the user, as docs/shell.md promises.
        if _is_coroutine_code(code) or inspect.isawaitable(value):
            value = await value
        if value is not None:
            ns["_"] = value
            print(repr(value))
        return
    code = compile(tree, "<tether>", "exec", flags=_FLAGS)
    result = types.FunctionType(code, ns)()
    if inspect.iscoroutine(result):
        await result


async def _evaluator(server: tether.Pid, ns: dict[str, Any]) -> None:
    """The shell's evaluator process (I-1): runs each input; never traps exits."""
    while True:
        _, source = await receive(("eval", ANY))
        ok = True
        try:
            await _evaluate(source, ns)
        except tether.ProcessExit as e:
            # I-5: exit(reason) typed at the prompt is caught and printed.
            print(f"** (exit) {format_exit(e.reason)}")
            ok = False
        except Exception as e:
            # Show the user's frames only: drop the shell's own, down to "<tether>".
            tb = e.__traceback__
            while tb is not None and tb.tb_frame.f_code.co_filename != "<tether>":
                tb = tb.tb_next
            print(format_exception(e.with_traceback(tb)))
            ok = False
        send(server, ("done", tether.self(), ok))


async def _bridge(ctl: _Control, server: tether.Pid) -> None:
    """Forwards the console's requests (from another thread) to the server."""
    assert ctl.queue is not None
    while True:
        item = await ctl.queue.get()
        send(server, item)


async def _server(ctl: _Control) -> None:
    """IEx's server: feeds inputs to the evaluator, replaces it when it dies."""
    ctl.loop = asyncio.get_running_loop()
    ctl.queue = asyncio.Queue()
    ns: dict[str, Any] = {"__name__": "__tether__", "__builtins__": builtins}
    ns["tether"] = tether  # the hint for an Elixir atom says tether.Atom("hello")
    for name in tether.__all__:
        ns[name] = getattr(tether, name)
    ns.update(helpers())
    ctl.ns = ns  # the console completes names from the live namespace
    if tether.Node.alive():
        ctl.node_name = str(tether.node())
    me = tether.self()
    Process.register(me, "tether_shell")
    spawn(_bridge, ctl, me)
    ev, ref = spawn_monitor(_evaluator, me, ns)
    job: _Job | None = None
    interrupted = False
    ctl.ready.set()
    while True:
        msg = await receive(
            ("job", ANY), ("done", ANY, ANY), ("interrupt",), ("quit",), Down(ref, ANY, ANY, ANY)
        )
        match msg:
            case ("job", j):
                job = j
                send(ev, ("eval", j.source))
            case ("done", pid, ok) if pid == ev:
                if ok:
                    ctl.counter += 1
                if job is not None:
                    job.done.set()
                    job = None
            case ("interrupt",):
                if job is not None:
                    interrupted = True
                    Process.exit(ev, "kill")
            case ("quit",):
                return
            case Down(reason=reason):
                # I-2: the dead evaluator's pid and the formatted reason.
                why = "interrupted" if interrupted else format_exit(reason)
                print(f"** (EXIT from {ev!r}) shell process exited with reason: {why}")
                print()
                print(banner())
                interrupted = False
                ev, ref = spawn_monitor(_evaluator, me, ns)
                if job is not None:
                    job.done.set()
                    job = None


def _node_thread(ctl: _Control) -> None:
    try:
        tether.run(_server, ctl, hog_threshold=None, **ctl.run_kwargs)
    except BaseException as e:  # pragma: no cover - reported by the console
        ctl.error = e
    finally:
        ctl.ready.set()
        ctl.stopped.set()


# -- the console side -------------------------------------------------------------


class _PromptSafeWriter(io.TextIOBase):
    """Writes from other threads above the prompt and redraws the typed line."""

    def __init__(self, inner: TextIO, console: _Console) -> None:
        self.inner = inner
        self.console = console
        self.pending = ""
        self.lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self.lock:
            if not self.console.reading or threading.current_thread() is threading.main_thread():
                self.inner.write(text)
                self.inner.flush()
                return len(text)
            self.pending += text
            if "\n" not in self.pending:
                return len(text)
            lines, _, self.pending = self.pending.rpartition("\n")
            typed = self.console.line_buffer()
            self.inner.write("\r\x1b[K" + lines + "\n" + self.console.prompt + typed)
            self.inner.flush()
            return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def fileno(self) -> int:
        return self.inner.fileno()

    def isatty(self) -> bool:
        return self.inner.isatty()


class _Console:
    def __init__(self) -> None:
        self.reading = False
        self.prompt = ""
        self.writer: Any = None
        self._readline: Any = None
        try:
            import readline

            self._readline = readline
        except ImportError:  # pragma: no cover - no readline on this platform
            pass

    def line_buffer(self) -> str:
        return self._readline.get_line_buffer() if self._readline is not None else ""

    def setup_completion(self, ns: dict[str, Any]) -> None:
        if self._readline is None:
            return
        import rlcompleter

        completer = rlcompleter.Completer(ns)
        self._readline.set_completer(completer.complete)
        self._readline.parse_and_bind("tab: complete")
        history = os.path.expanduser("~/.tether_history")
        with contextlib.suppress(OSError):
            self._readline.read_history_file(history)
        import atexit

        atexit.register(self._save_history, history)

    def _save_history(self, path: str) -> None:
        with contextlib.suppress(OSError):
            self._readline.write_history_file(path)

    def install(self, writer: _PromptSafeWriter) -> None:
        """Route output through ``writer``, keeping readline working.

        ``input()`` uses readline only when ``sys.stdout`` is the real console
        stream, so the real one is in place while ``input()`` starts, and the
        writer goes back in from readline's pre-input hook, once the prompt is up.
        """
        self.writer = writer
        sys.stdout = writer
        if self._readline is not None:
            self._readline.set_pre_input_hook(self._writer_back)

    def _writer_back(self) -> None:
        self.reading = True
        sys.stdout = self.writer

    def read(self, prompt: str) -> str:
        self.prompt = prompt
        if self._readline is not None:
            sys.stdout = self.writer.inner
        else:
            self.reading = True
        try:
            return input(prompt)
        finally:
            self.reading = False
            sys.stdout = self.writer


def _wait(ctl: _Control, job: _Job) -> None:
    """Wait for an input to finish; Ctrl-C while waiting interrupts it."""
    while not job.done.is_set() and not ctl.stopped.is_set():
        try:
            job.done.wait(0.1)
        except KeyboardInterrupt:
            ctl.put(("interrupt",))


# ":hello" where Python expects a value: Elixir's atom syntax.
_ATOM = re.compile(r':(?:[A-Za-z_][A-Za-z0-9_]*[?!]?|"[^"]*")')


def _syntax_error(e: SyntaxError) -> str:
    """The message for a SyntaxError, with a hint when the input uses an Elixir atom."""
    text = f"** (SyntaxError) {e}"
    line, offset = e.text or "", (e.offset or 0) - 1
    m = _ATOM.match(line, offset) if 0 <= offset < len(line) else None
    if m is not None:
        atom = m.group(0)
        name = atom[1:].strip('"')
        text += (
            f'\n    hint: {atom} is an Elixir atom; in tether write "{name}" '
            f'(or tether.Atom("{name}"))'
        )
    return text


def main(name: str | None = None, cookie: str | None = None) -> int:
    """Run the interactive shell until Ctrl-D or ``exit()``; returns the exit code.

    With ``name`` the shell's node is distributed (``iex --name``/``--sname``); the
    prompt then shows the node's name, as IEx's does.
    """
    ctl = _Control()
    if name is not None:
        ctl.run_kwargs = {"name": name, "cookie": cookie}
    console = _Console()
    console.install(_PromptSafeWriter(sys.stdout, console))
    sys.stderr = _PromptSafeWriter(sys.stderr, console)
    thread = threading.Thread(target=_node_thread, args=(ctl,), name="tether-node", daemon=True)
    thread.start()
    ctl.ready.wait()
    if ctl.error is not None:  # pragma: no cover
        print(f"tether: the node failed to start: {ctl.error!r}", file=sys.stderr)
        return 1
    console.setup_completion(ctl.ns)
    print(banner())
    compiler = codeop.CommandCompiler()
    compiler.compiler.flags |= _FLAGS
    lines: list[str] = []
    while not ctl.stopped.is_set():
        # IEx: iex(1)> for a local node, iex(py@host)1> for a named one.
        n = f"({ctl.node_name}){ctl.counter}" if ctl.node_name else f"({ctl.counter})"
        prompt = f"tether{n}> " if not lines else f"...{n}> "
        try:
            line = console.read(prompt)
        except EOFError:
            print()
            break
        except KeyboardInterrupt:
            print("\nKeyboardInterrupt")
            lines = []
            continue
        lines.append(line)
        job: _Job | None = None
        try:
            source = "\n".join(lines)
            try:
                code = compiler(source, "<tether>", "single")
            except SyntaxError as e:
                print(_syntax_error(e))
                lines = []
                continue
            except (ValueError, OverflowError) as e:
                print(f"** ({type(e).__name__}) {e}")
                lines = []
                continue
            if code is None:
                continue
            lines = []
            if not source.strip():
                continue
            if source.strip() in ("exit()", "quit()"):
                break
            job = _Job(source)
            ctl.put(("job", job))
            _wait(ctl, job)
        except KeyboardInterrupt:
            # Ctrl-C can land anywhere in this thread: stop the input if it runs.
            lines = []
            if job is None:
                print("\nKeyboardInterrupt")
            else:
                ctl.put(("interrupt",))
                _wait(ctl, job)
    if not ctl.stopped.is_set():
        ctl.put(("quit",))
        ctl.stopped.wait(5)
    return 0
