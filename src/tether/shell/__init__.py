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
requests (an input, an interrupt) into tether messages for the server.

Names at the prompt
-------------------
The user's variables live in the evaluator's globals; ``tether``'s names and the
helpers (``flush``, ``pid``, ``i``, ...) live in the prompt's *builtins*, a copy
of Python's with them added.  So ``pid = pid(0, 999, 0)`` hides the helper the
way ``list = [1]`` hides ``list`` in Python, and ``del pid`` brings it back; the
shell says so once per name.

Output order
------------
Everything written to the terminal goes through one :class:`_Terminal`: the
node's writes (results, ``print`` in any process, crash reports on stderr, the
EXIT banner), the console's own, and the prompt.  Writers from other threads are
line-buffered, so a ``print`` (which writes its text and its newline separately)
is never split by a prompt.  The prompt is put up inside the terminal's state
machine (IDLE → STARTING → READING → IDLE): while readline is drawing it
(STARTING) other writers wait; once it is up (READING, signalled by readline's
pre-input hook) a write clears the prompt line, writes its lines and redraws the
prompt with the text being typed.

Before it shows an input's value, the evaluator lets what the input set off run
until every other process is blocked (``_settle``).  A ``send`` that makes a linked
process crash therefore kills the evaluator *before* the value is printed and the
next prompt drawn: the output is always the EXIT banner then the prompt, as in
IEx (where the value is not printed either).

Ctrl-C while an input runs interrupts it (``_interrupt``: the evaluator is killed,
the server reports ``interrupted`` and starts a new one; variables are kept); at
the prompt it clears the line.  Ctrl-D or ``exit()`` leaves.
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
import rlcompleter
import sys
import threading
import types
from collections.abc import Callable
from typing import Any, Final, TextIO

import tether
from tether import ANY, Down, Process, format_exit, receive, send, spawn, spawn_monitor
from tether._runtime import _node as _n
from tether._runtime._format import format_exception
from tether.testing import wait_all_blocked

from ._helpers import NOTHING, PRINTERS, helpers, remember

__all__ = ["main"]

_FLAGS: Final = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT

# The longest an input's value waits for the node to go quiet (``_settle``).  The
# processes an input sets off normally finish within the same scheduler turn; this
# bound only matters when something keeps the node busy all the time.
_SETTLE_MAX: Final = 0.1

# The longest another thread's write waits for readline to finish drawing the
# prompt.  Readline's pre-input hook ends that wait at once; the bound only keeps
# output flowing should the hook never run.
_PROMPT_STALL: Final = 1.0


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
        # The current evaluator's pid (set by the server), and the one Ctrl-C last
        # asked to stop (set by the console): single assignments, atomic under the GIL.
        self.evaluator: tether.Pid | None = None
        self.interrupted: tether.Pid | None = None
        self.server: tether.Pid | None = None
        self.node: _n.Node | None = None  # for the thread-safe Ctrl-C (_interrupt)

    def put(self, item: Any) -> None:
        assert self.loop is not None and self.queue is not None
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)


# -- the node side ---------------------------------------------------------------


def _is_coroutine_code(code: types.CodeType) -> bool:
    return bool(code.co_flags & inspect.CO_COROUTINE)


def _prompt_builtins() -> dict[str, Any]:
    """The prompt's builtins: Python's, plus ``tether`` and its names, plus the helpers."""
    layer = dict(vars(builtins))
    layer.update(_provided())
    return layer


def _provided() -> dict[str, Any]:
    """The names the shell itself provides at the prompt."""
    names: dict[str, Any] = {"tether": tether}
    names.update((name, getattr(tether, name)) for name in tether.__all__)
    names.update(helpers())
    return names


def _lookup(name: str, ns: dict[str, Any]) -> Any:
    if name in ns:
        return ns[name]
    return ns["__builtins__"].get(name, NOTHING)


def _shows_no_value(node: ast.expr, ns: dict[str, Any]) -> bool:
    """A bare ``print(...)`` or a call of a helper that prints its own output."""
    if isinstance(node, ast.Await):
        node = node.value
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return False
    return any(_lookup(node.func.id, ns) is f for f in PRINTERS)


async def _evaluate(source: str, ns: dict[str, Any]) -> Any:
    """Run one input in ``ns``; return the value to show, or ``NOTHING``."""
    tree = compile(source, "<tether>", "exec", flags=ast.PyCF_ONLY_AST | _FLAGS)
    assert isinstance(tree, ast.Module)
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        node = tree.body[0].value
        code = compile(ast.Expression(node), "<tether>", "eval", flags=_FLAGS)
        value = eval(code, ns)
        # Top-level await makes the whole expression a coroutine; otherwise a value
        # that is awaitable (a coroutine, receive(), an asyncio future) is awaited
        # for the user, as docs/shell.md promises.
        if _is_coroutine_code(code) or inspect.isawaitable(value):
            value = await value
        if value is None and _shows_no_value(node, ns):
            return NOTHING
        return value
    code = compile(tree, "<tether>", "exec", flags=_FLAGS)
    result = types.FunctionType(code, ns)()
    if inspect.iscoroutine(result):
        await result
    return NOTHING


async def _report_idle(parent: tether.Pid, ref: tether.Ref) -> None:
    await wait_all_blocked()
    send(parent, ("settled", ref))


async def _settle() -> None:
    """Return once every other process is blocked, or after ``_SETTLE_MAX`` seconds.

    Called by the evaluator after an input ran and before its value is shown, so
    the consequences of the input (a linked crash, a kill, a DOWN) have happened
    first.  If they kill the evaluator, the ``ExitSignal`` is raised here and the
    value is never printed.  ``wait_all_blocked`` has no timeout of its own, so a
    helper process waits for idleness and this waits for the helper, bounded.
    """
    ref = tether.make_ref()
    helper = spawn(_report_idle, tether.self(), ref)
    try:
        await receive(("settled", ref), timeout=_SETTLE_MAX)
    except TimeoutError:
        Process.exit(helper, "kill")
        # Signals are synchronous: the helper is dead now, and any report it sent
        # before is in the mailbox.  Take it out, so flush() never shows it.
        with contextlib.suppress(TimeoutError):
            await receive(("settled", ref), timeout=0)


class _Evaluation:
    """The evaluator's state that outlives one input: the names already noted."""

    def __init__(self, ns: dict[str, Any], noted: set[str]) -> None:
        self.ns = ns
        self.noted = noted
        self.provided = _provided()

    def note_shadowed(self) -> None:
        """Say once per name that a variable now hides one of the shell's names."""
        for name, original in self.provided.items():
            if name in self.noted or name not in self.ns or self.ns[name] is original:
                continue
            self.noted.add(name)
            print(
                f"note: {name} is now your variable, hiding the shell's {name} "
                f"(del {name} brings it back)"
            )


async def _evaluator(server: tether.Pid, ns: dict[str, Any], noted: set[str]) -> None:
    """The shell's evaluator process (I-1): runs each input; never traps exits."""
    state = _Evaluation(ns, noted)
    while True:
        _, source = await receive(("eval", ANY))
        ok = True
        value: Any = NOTHING
        error = ""
        try:
            value = await _evaluate(source, ns)
        except tether.ProcessExit as e:
            # I-5: exit(reason) typed at the prompt is caught and printed.
            error = f"** (exit) {format_exit(e.reason)}"
            ok = False
        except Exception as e:
            # Show the user's frames only: drop the shell's own, down to "<tether>".
            tb = e.__traceback__
            while tb is not None and tb.tb_frame.f_code.co_filename != "<tether>":
                tb = tb.tb_next
            error = format_exception(e.with_traceback(tb))
            ok = False
        await _settle()
        if value is not NOTHING:
            # Every value is shown, None too: IEx prints nil (Process.info of a dead
            # pid).  Python's "_" keeps its meaning (not set by None); v() has it all.
            remember(value)
            if value is not None:
                ns["_"] = value
            print(repr(value))
        elif error:
            print(error)
        state.note_shadowed()
        # print("a", end="") at the prompt shows before the next prompt, as in Python.
        sys.stdout.flush()
        sys.stderr.flush()
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
    ns: dict[str, Any] = {"__name__": "__tether__", "__builtins__": _prompt_builtins()}
    ctl.ns = ns  # the console completes names from the live namespace
    noted: set[str] = set()
    if tether.Node.alive():
        ctl.node_name = str(tether.node())
    me = tether.self()
    ctl.server = me
    ctl.node = _n.NODE if isinstance(_n.NODE, _n.Node) else None
    Process.register(me, "tether_shell")
    spawn(_bridge, ctl, me)
    ev, ref = spawn_monitor(_evaluator, me, ns, noted)
    ctl.evaluator = ev
    job: _Job | None = None
    ctl.ready.set()
    while True:
        msg = await receive(
            ("job", ANY),
            ("done", ANY, ANY),
            ("quit",),
            Down(ref, ANY, ANY, ANY),
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
            case ("quit",):
                return
            case Down(reason=reason):
                # I-2: the dead evaluator's pid and the formatted reason, then an
                # empty line and the banner, written at once (one write, one redraw).
                why = "interrupted" if ctl.interrupted == ev else format_exit(reason)
                sys.stdout.write(
                    f"** (EXIT from {ev!r}) shell process exited with reason: {why}\n\n{banner()}\n"
                )
                ev, ref = spawn_monitor(_evaluator, me, ns, noted)
                ctl.evaluator = ev
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


def _interrupt(ctl: _Control) -> None:
    """Ctrl-C while an input runs: stop it by killing the evaluator that runs it.

    Called from the console (main) thread.  The server sees the evaluator's DOWN,
    prints ``shell process exited with reason: interrupted`` (``ctl.interrupted``
    tells it the kill was this one) and starts a new evaluator with the same
    variables.

    This is the one place Ctrl-C reaches the node.  The kill is the runtime's
    thread-safe exit signal (``Node.exit_from_thread``): it takes effect as soon
    as the loop gets control, and if the input never yields (``while True:
    pass``) the watchdog preempts it (docs/failure.md), so the shell lives on.
    """
    pid = ctl.evaluator
    node = ctl.node
    if pid is None or node is None:
        return
    ctl.interrupted = pid
    node.exit_from_thread(pid, "kill", ctl.server)


# -- the console side -------------------------------------------------------------

_IDLE: Final = 0  # no prompt on screen: writes go straight through
_STARTING: Final = 1  # readline is drawing the prompt: other threads' writes wait
_READING: Final = 2  # the prompt is up: a write clears it, then redraws it


class _Terminal:
    """The one owner of the terminal's output (see "Output order" above).

    Invariants: ``state`` changes only under ``cond``; every write to the real
    streams happens under ``cond``, so lines never interleave; ``shown`` is the
    unfinished line on screen (text written without a newline), which a READING
    write restores after clearing the prompt line, so no text is lost.
    """

    def __init__(self, out: TextIO, line_buffer: Callable[[], str]) -> None:
        self.out = out
        self.line_buffer = line_buffer
        self.cond = threading.Condition()
        self.state = _IDLE
        self.prompt = ""
        self.shown = ""

    def emit(self, stream: TextIO, text: str) -> None:
        """Write ``text`` to ``stream`` in order with the prompt.  Hold ``cond``."""
        if self.state == _READING:
            self.out.write("\r\x1b[K" + self.shown)
            self.out.flush()
            stream.write(text)
            stream.flush()
            self.shown = ""
            self.out.write(self.prompt + self.line_buffer())
            self.out.flush()
            return
        stream.write(text)
        stream.flush()
        self.shown = (self.shown + text).rpartition("\n")[2]

    def wait_for_prompt(self) -> None:
        """Hold ``cond``.  Wait while the console draws a prompt (not in the console)."""
        if threading.current_thread() is not threading.main_thread():
            self.cond.wait_for(lambda: self.state != _STARTING, timeout=_PROMPT_STALL)

    def begin_prompt(self, prompt: str) -> None:
        with self.cond:
            self.state = _STARTING
            self.prompt = prompt

    def prompt_shown(self) -> None:
        """The prompt is on screen (readline's pre-input hook, in the console thread)."""
        with self.cond:
            if self.state == _STARTING:
                self.state = _READING
                self.cond.notify_all()

    def end_prompt(self) -> None:
        """The line was entered (readline wrote its newline) or abandoned."""
        with self.cond:
            self.state = _IDLE
            self.shown = ""
            self.cond.notify_all()


class _TermWriter(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` for the shell: line-buffered into the terminal.

    It passes for the real console stream (``fileno``, ``isatty``, ``encoding``), so
    ``input()`` still uses readline with it installed.
    """

    def __init__(self, inner: TextIO, term: _Terminal) -> None:
        self.inner = inner
        self.term = term
        self.pending = ""  # written, not yet ended by a newline

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self.term.cond:
            self.term.wait_for_prompt()
            self.pending += text
            if "\n" in self.pending:
                lines, _, self.pending = self.pending.rpartition("\n")
                self.term.emit(self.inner, lines + "\n")
        return len(text)

    def flush(self) -> None:
        # A flushed unfinished line is written only when no prompt is on screen or
        # being drawn: beside a prompt it waits for its newline.
        with self.term.cond:
            if self.pending and self.term.state == _IDLE:
                self.term.emit(self.inner, self.pending)
                self.pending = ""
        self.inner.flush()

    def fileno(self) -> int:
        return self.inner.fileno()

    def isatty(self) -> bool:
        return self.inner.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.inner.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.inner.errors


class _Completer(rlcompleter.Completer):
    """rlcompleter, also completing the prompt's own builtins (tether's names)."""

    def global_matches(self, text: str) -> list[str]:
        matches = super().global_matches(text)
        seen = set(matches)
        layer: dict[str, Any] = self.namespace.get("__builtins__", {})  # type: ignore[attr-defined]
        for word, value in layer.items():
            if word.startswith(text) and word not in vars(builtins):
                match = word + "(" if callable(value) else word
                if match not in seen:
                    matches.append(match)
        return matches


class _Console:
    def __init__(self) -> None:
        self._readline: Any = None
        self._hooked = False
        try:
            import readline

            self._readline = readline
        except ImportError:  # pragma: no cover - no readline on this platform
            pass
        self.term = _Terminal(sys.stdout, self.line_buffer)

    def line_buffer(self) -> str:
        return self._readline.get_line_buffer() if self._readline is not None else ""

    def setup_completion(self, ns: dict[str, Any]) -> None:
        if self._readline is None:
            return
        self._readline.set_completer(_Completer(ns).complete)
        self._readline.parse_and_bind("tab: complete")
        history = os.path.expanduser("~/.tether_history")
        with contextlib.suppress(OSError):
            self._readline.read_history_file(history)
        import atexit

        atexit.register(self._save_history, history)

    def _save_history(self, path: str) -> None:
        with contextlib.suppress(OSError):
            self._readline.write_history_file(path)

    def install(self) -> None:
        """Route ``sys.stdout`` and ``sys.stderr`` through the terminal."""
        sys.stdout = _TermWriter(sys.stdout, self.term)
        sys.stderr = _TermWriter(sys.stderr, self.term)
        # Readline calls this once the prompt is drawn, before reading a key.  A
        # readline without the hook (some libedit builds) gets the prompt marked as
        # shown before input() draws it: output may then touch a prompt being drawn.
        self._hooked = hasattr(self._readline, "set_pre_input_hook")
        if self._hooked:
            self._readline.set_pre_input_hook(self.term.prompt_shown)

    def read(self, prompt: str) -> str:
        uses_readline = self._readline is not None and sys.stdin.isatty() and self.term.out.isatty()
        self.term.begin_prompt(prompt)
        try:
            if uses_readline:
                if not self._hooked:  # pragma: no cover - GNU readline has the hook
                    self.term.prompt_shown()
                return input(prompt)  # readline draws the prompt, then the hook runs
            with self.term.cond:
                self.term.out.write(prompt)
                self.term.out.flush()
            self.term.prompt_shown()
            line = sys.stdin.readline()
            if not line:
                raise EOFError
            return line.rstrip("\n")
        finally:
            self.term.end_prompt()


def _wait(ctl: _Control, job: _Job) -> None:
    """Wait for an input to finish; Ctrl-C while waiting interrupts it."""
    while not job.done.is_set() and not ctl.stopped.is_set():
        try:
            job.done.wait(0.1)
        except KeyboardInterrupt:
            _interrupt(ctl)


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
    console.install()
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
                _interrupt(ctl)
                _wait(ctl, job)
    if not ctl.stopped.is_set():
        ctl.put(("quit",))
        ctl.stopped.wait(5)
    sys.stdout.flush()
    return 0
