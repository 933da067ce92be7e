"""The shell, driven through a pseudo-terminal: the article's IEx session, replayed.

Each test starts ``python -m tether`` under pexpect and asserts the printed lines
(I-1 … I-8).  Waits are on expected output, never on the clock; the 20 s pexpect
timeout is only the bound after which a shell that stopped answering fails.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

import tether

from .conftest import FORKPTY_AFTER_UVLOOP

pytestmark = FORKPTY_AFTER_UVLOOP

PROMPT = r"tether\((\d+)\)> "
PID = r"#PID<0\.\d+\.0>"
BANNER = (
    f"Interactive tether ({tether.__version__}) - press Ctrl+D to exit (type h() ENTER for help)"
)


def note(name: str) -> str:
    return (
        f"note: {name} is now your variable, hiding the shell's {name} (del {name} brings it back)"
    )


class Shell:
    def __init__(self, home: Path) -> None:
        env = dict(os.environ, HOME=str(home), TERM="dumb", PYTHONUNBUFFERED="1")
        self.p = pexpect.spawn(
            sys.executable, ["-m", "tether"], env=env, encoding="utf-8", timeout=20
        )
        self.p.expect("Interactive tether")
        self.prompt()

    def prompt(self) -> int:
        self.p.expect(PROMPT)
        self.count = int(self.p.match.group(1))
        return self.count

    def run(self, line: str) -> str:
        """Send one line; return what was printed before the next prompt."""
        self.p.sendline(line)
        # The echo of this very line first: prompts redrawn earlier by output
        # from other processes cannot be mistaken for this input's prompt.
        self.p.expect_exact(line + "\r\n")
        self.prompt()
        return str(self.p.before)

    def block(self, *lines: str) -> str:
        for line in lines:
            self.p.sendline(line)
            self.p.expect(r"\.\.\.\(\d+\)> ")
        return self.run("")

    def self_pid(self) -> str:
        out = self.run("self()")
        m = re.search(PID, out)
        assert m, out
        return m.group(0)


@pytest.fixture
def sh(tmp_path: Path) -> Iterator[Shell]:
    shell = Shell(tmp_path)
    yield shell
    shell.p.terminate(force=True)


def test_self_changes_after_a_linked_genserver_is_killed(sh: Shell) -> None:
    before = sh.self_pid()
    sh.block("class Useless(GenServer):", "    def init(self, arg):", "        return Ok([])")
    out = sh.run("_, pid = await Useless.start_link([])")
    assert out == note("pid") + "\r\n"
    sh.p.sendline('Process.exit(pid, "kill")')
    sh.p.expect(rf"\*\* \(EXIT from ({PID})\) shell process exited with reason: killed")
    assert sh.p.match.group(1) == before
    sh.p.expect("Interactive tether")
    sh.prompt()
    after = sh.self_pid()
    assert after != before


def test_spawn_link_crash_on_message_takes_the_shell_down_with_the_exception(sh: Shell) -> None:
    before = sh.self_pid()
    sh.block(
        "async def crashy():",
        "    match await receive():",
        '        case "crash":',
        "            1 / 0",
    )
    sh.run("pid = spawn_link(crashy)")
    sh.p.sendline('send(pid, "crash")')
    sh.p.expect(r"shell process exited with reason: an exception was raised:\r\n")
    sh.p.expect(r"\*\* \(ZeroDivisionError\) division by zero")
    sh.prompt()
    assert sh.self_pid() != before
    assert sh.run("pid").strip().startswith("#PID<")  # variables survive the restart


def test_flush_shows_the_down_message_and_then_nothing(sh: Shell) -> None:
    sh.block(
        "async def kaboom():",
        "    match await receive():",
        '        case "crash":',
        '            exit("kaboom")',
    )
    out = sh.run("pid, ref = spawn_monitor(kaboom)")
    assert out == note("pid") + "\r\n"
    sh.run('send(pid, "crash")')
    out = sh.run("flush()")  # the DOWN is there: an input's effects settle before the prompt
    assert re.fullmatch(r"Down\(#Reference<[\d.]+>, :process, #PID<[\d.]+>, :kaboom\)\s*", out), out
    assert sh.run("flush()").strip() == ""


def test_info_links_after_spawn_link_then_unlink_and_crash_spares_the_shell(sh: Shell) -> None:
    before = sh.self_pid()
    assert sh.run('Process.info(self(), "links")').strip() == "[]"
    sh.block(
        "async def wheres_the_kaboom():",
        "    match await receive():",
        '        case "crash":',
        '            exit("wheres_the_kaboom")',
    )
    sh.run("pid = spawn_link(wheres_the_kaboom)")
    links = sh.run('Process.info(self(), "links")').strip()
    assert re.fullmatch(rf"\[{PID}\]", links), links
    assert sh.run("Process.unlink(pid)").strip() == "True"
    sh.run('send(pid, "crash")')
    sh.run("await Process.sleep(0.05)")
    assert sh.self_pid() == before
    assert sh.run('Process.info(self(), "links")').strip() == "[]"


def test_an_exception_in_the_input_is_printed_and_the_evaluator_survives(sh: Shell) -> None:
    before = sh.self_pid()
    n = sh.run("1")  # advance once so the prompt number is known
    assert n.strip() == "1"
    sh.p.sendline("1 / 0")
    sh.p.expect(r"\*\* \(ZeroDivisionError\) division by zero")
    count = sh.prompt()
    sh.p.sendline('exit("foo")')
    sh.p.expect(r"\*\* \(exit\) :foo")
    assert sh.prompt() == count  # I-5: the counter does not advance
    assert sh.self_pid() == before


def test_trapping_in_the_shell_turns_a_linked_crash_into_a_message(sh: Shell) -> None:
    before = sh.self_pid()
    assert sh.run('Process.flag("trap_exit", True)').strip() == "False"
    sh.block("async def boom():", '    exit("boom")')
    sh.run("pid = spawn_link(boom)")
    sh.run("await Process.sleep(0.05)")
    out = sh.run("flush()").strip()
    assert re.fullmatch(rf"Exit\({PID}, :boom\)", out), out
    assert sh.self_pid() == before


def test_ctrl_c_interrupts_the_running_input_and_keeps_the_variables(sh: Shell) -> None:
    sh.run("x = 42")
    sh.p.sendline('print("sleeping"); await Process.sleep(None)')
    sh.p.expect("\r\nsleeping\r\n")
    sh.p.sendintr()
    sh.p.expect("shell process exited with reason: interrupted")
    sh.prompt()
    assert sh.run("x").strip() == "42"


def test_helpers_pid_i_processes_h(sh: Shell) -> None:
    assert sh.run("pid(0, 999, 0)").strip() == "#PID<0.999.0>"
    assert sh.run('pid("0.21.32")').strip() == "#PID<0.21.32>"
    out = sh.run("i(self())")
    assert out.splitlines()[0].startswith("Process #PID<") and "status: :running" in out
    out = sh.run("processes()")
    assert out.splitlines()[0].split()[:4] == ["PID", "NAME", "STATUS", "QUEUE"]
    assert "tether_shell" in out
    # On either core the documentation is the reference's (the C docstrings point to it).
    out = sh.run("h(spawn_link)").splitlines()
    assert [line.strip() for line in out[:3]] == [
        "spawn_link",
        "",
        "Like :func:`spawn`, and link the child to the caller atomically (L-3).",
    ]


def test_ctrl_d_leaves_with_status_zero(sh: Shell) -> None:
    sh.p.sendeof()
    sh.p.expect(pexpect.EOF)
    sh.p.close()
    assert sh.p.exitstatus == 0


def test_output_from_other_processes_appears_above_the_line_being_typed(sh: Shell) -> None:
    sh.block("async def later():", "    await Process.sleep(0.5)", '    print("tick")')
    sh.p.sendline("spawn(later)")
    sh.p.expect(PROMPT)
    count = sh.p.match.group(1)
    sh.p.send("abc")  # typed, not entered
    sh.p.expect_exact("\r\x1b[Ktick\r\n")
    sh.p.expect_exact(f"tether({count})> abc")
    sh.p.sendline("")
    sh.p.expect(r"\*\* \(NameError\) name 'abc' is not defined")


def test_tab_completes_names_from_the_live_namespace(sh: Shell) -> None:
    sh.run("my_variable = 5")
    sh.p.send("my_var\t")
    sh.p.expect_exact("my_variable")
    sh.p.sendline("")
    sh.p.expect_exact("5\r\n")
    sh.prompt()
    sh.p.send("spawn_mon\t")
    sh.p.expect_exact("spawn_monitor(")  # rlcompleter adds "(" for a callable
    sh.p.send("\x7f\r")  # delete it, enter
    # The public function: a C function with the native core.
    native = tether._runtime._core.NAME == "native"
    sh.p.expect_exact(
        "<built-in function spawn_monitor>" if native else "<function spawn_monitor at"
    )


def test_receive_typed_bare_is_awaited_like_await_receive(sh: Shell) -> None:
    assert sh.run('send(self(), "one")') == "'one'\r\n"
    assert sh.run('send(self(), "two")') == "'two'\r\n"
    assert sh.run("receive()") == "'one'\r\n"  # an awaitable generator, awaited for you
    assert sh.run("await receive()") == "'two'\r\n"
    assert sh.run("receive(timeout=0)") == (
        "** (TimeoutError) receive: no matching message (timeout=0)\r\n"
    )


def python_says(source: str) -> str:
    """The first line the shell prints for a syntax error: Python's own message."""
    try:
        compile(source, "<tether>", "single")
    except SyntaxError as e:
        return f"** (SyntaxError) {e}\r\n"
    raise AssertionError(f"{source!r} compiles")


def test_an_elixir_atom_gets_a_hint_and_nothing_runs(sh: Shell) -> None:
    count = sh.count
    assert sh.run("send(self(), :hello)") == python_says("send(self(), :hello)") + (
        '    hint: :hello is an Elixir atom; in tether write "hello" (or tether.Atom("hello"))\r\n'
    )
    assert sh.count == count
    assert sh.run('{:"hi there", 1}') == python_says('{:"hi there", 1}') + (
        '    hint: :"hi there" is an Elixir atom; in tether write "hi there"'
        ' (or tether.Atom("hi there"))\r\n'
    )
    assert sh.run("flush()") == ""  # nothing was sent
    assert sh.run('send(self(), tether.Atom("hello"))') == ":hello\r\n"
    assert sh.run("x = [1, 2][:1]") == ""  # a slice is not an atom
    assert sh.run("1 +") == python_says("1 +")  # no atom, no hint


def test_the_exit_banner_comes_whole_before_the_next_prompt_every_time(sh: Shell) -> None:
    # I-2, I-4.  The race this pins down: the input returns, the linked process
    # crashes a moment later, and the banner used to land after (or inside) the next
    # prompt.  Each round must print exactly the crash report, the banner, and one
    # prompt with the counter unchanged (I-3: the dead evaluator's input does not count).
    sh.p.delaybeforesend = None  # 120 inputs; each is sent once its prompt is up
    sh.block("async def crashy():", "    await receive()", "    1 / 0")
    sh.block("class Useless(GenServer):", "    def init(self, arg):", "        return Ok([])")
    report = ""
    for _ in range(30):
        out = sh.run("(self(), child := spawn_link(crashy))")
        m = re.fullmatch(rf"\(({PID}), ({PID})\)\r\n", out)
        assert m, out
        shell, child = m.groups()
        count = sh.count
        out = sh.run('send(child, "crash")')
        banner = (
            f"** (EXIT from {shell}) shell process exited with reason: an exception was raised:\r\n"
            "    ** (ZeroDivisionError) division by zero\r\n"
            "        <tether>:3: crashy\r\n"
            f"\r\n{BANNER}\r\n"
        )
        assert out.endswith(banner), out
        assert sh.count == count
        # The crash report (its format is the logger's business) comes whole, before
        # the banner, and the same every time.
        this_report = out[: -len(banner)].replace(child, "<child>")
        if not report:
            report = this_report
            assert report.startswith("[error] Process <child> raised an exception\r\n"), out
            assert report.endswith("ZeroDivisionError: division by zero\r\n"), out
        assert this_report == report

        out = sh.run("(self(), gs := (await Useless.start_link([]))[1])")
        m = re.fullmatch(rf"\(({PID}), {PID}\)\r\n", out)
        assert m, out
        count = sh.count
        out = sh.run('Process.exit(gs, "kill")')
        assert out == (
            f"** (EXIT from {m.group(1)}) shell process exited with reason: killed\r\n"
            f"\r\n{BANNER}\r\n"
        )
        assert sh.count == count


def test_none_is_printed_like_iex_prints_nil_except_after_print_and_printing_helpers(
    sh: Shell,
) -> None:
    assert sh.run("Process.info(tether.pid(0, 999, 0))") == "None\r\n"
    assert sh.run("None") == "None\r\n"
    assert sh.run("await Process.sleep(0)") == "None\r\n"
    assert sh.run('print("hi")') == "hi\r\n"
    assert sh.run("flush()") == ""
    assert sh.run('[print("a")]') == "a\r\n[None]\r\n"  # not a bare call: the value shows
    assert sh.run("x = None") == ""  # a statement has no value
    sh.p.sendline('print("no newline", end="")')
    sh.p.expect_exact(f'print("no newline", end="")\r\nno newlinetether({sh.count + 1})> ')
    sh.count += 1


def test_i_with_no_argument_describes_the_last_value_or_self(sh: Shell) -> None:
    me = sh.self_pid()
    out = sh.run("i()")  # the last value is self(): a pid
    assert out.splitlines()[0] == f"Process {me}"
    assert "  status: :running" in out.splitlines()
    assert sh.run("[1, 2]") == "[1, 2]\r\n"
    assert sh.run("i()") == "Term\r\n  [1, 2]\r\nData type\r\n  list\r\n"
    assert sh.run("Process.info(tether.pid(0, 999, 0))") == "None\r\n"
    assert sh.run("i()") == "Term\r\n  None\r\nData type\r\n  NoneType\r\n"
    sh.run("r = make_ref()")
    r = sh.run("r")
    assert sh.run("i(r)") == f"Term\r\n  {r}Data type\r\n  tether.Ref\r\n"
    assert sh.run("v() == r") == "True\r\n"  # i() showed no value of its own


def test_i_with_no_argument_before_any_value_describes_self(sh: Shell) -> None:
    sh.run("x = 1")  # a statement: still no value
    out = sh.run("i()")
    assert re.fullmatch(rf"Process {PID}", out.splitlines()[0]), out
    assert out.splitlines()[0] == f"Process {sh.self_pid().strip()}"


def test_a_variable_named_like_a_helper_hides_it_once_and_del_brings_it_back(sh: Shell) -> None:
    assert sh.run("pid = pid(0, 999, 0)") == note("pid") + "\r\n"
    assert sh.run("pid") == "#PID<0.999.0>\r\n"
    assert sh.run("pid = self()") == ""  # said once per name
    assert sh.run("tether.pid(0, 7, 0)") == "#PID<0.7.0>\r\n"  # always reachable
    assert sh.run("del pid") == ""
    assert sh.run('pid("tether_shell") == Process.whereis("tether_shell")') == "True\r\n"
    out = sh.block("for i in range(3):", "    pass")
    assert out == note("i") + "\r\n"
    assert sh.run("i") == "2\r\n"
    # The shell's names live in the prompt's builtins, not among your variables.
    assert sh.run("sorted(k for k in globals() if not k.startswith('__'))") == "['_', 'i']\r\n"


def test_ctrl_c_interrupts_a_busy_loop_and_keeps_the_variables(sh: Shell) -> None:
    sh.run("x = 42")
    # One input that prints, then spins without awaiting: Ctrl-C after the print
    # lands while the busy loop runs (two inputs would race the console).
    sh.p.sendline('import itertools; print("spinning"); any(False for _ in itertools.count())')
    sh.p.expect("\r\nspinning\r\n")
    sh.p.sendintr()
    sh.p.expect_exact("shell process exited with reason: interrupted\r\n")
    sh.prompt()
    assert sh.run("x") == "42\r\n"
