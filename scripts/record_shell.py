"""Record the article's story typed into the tether shell, as an asciinema v2 cast.

``python scripts/record_shell.py [docs/shell-session.cast]`` starts ``python -m
tether`` in a pseudo-terminal, types the tutorial's IEx session in tether syntax,
and writes what the terminal showed, with timings, to the cast file (play it with
``asciinema play docs/shell-session.cast``).  Typing speed is simulated in the
timestamps; the script itself waits only on the shell's output.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pexpect

PROMPT = r"tether\(\d+\)> |\.\.\.\(\d+\)> "

STORY = [
    "self()",
    "pid = pid(0, 999, 0)",
    "Process.info(pid)",
    'send(pid, "hello")',
    "class Useless(GenServer):",
    "    def init(self, arg):",
    "        return Ok([])",
    "",
    "_, pid = await Useless.start_link([])",
    'Process.exit(pid, "kill")',
    "self()",
    "async def crashy():",
    "    match await receive():",
    '        case "crash":',
    "            1 / 0",
    "",
    "pid = spawn_link(crashy)",
    'send(pid, "crash")',
    "self()",
    "async def kaboom():",
    "    match await receive():",
    '        case "crash":',
    '            exit("kaboom")',
    "",
    "pid, ref = spawn_monitor(kaboom)",
    'send(pid, "crash")',
    "flush()",
    'Process.info(self(), "links")',
    "pid = spawn(kaboom)",
    "ref = Process.monitor(pid)",
    'Process.info(self(), "monitors")',
    "Process.demonitor(ref)",
    'Process.info(self(), "monitors")',
]


class Recorder:
    """Collects terminal output as asciinema events on a simulated clock."""

    def __init__(self) -> None:
        self.t = 0.0
        self.events: list[list[object]] = []

    def write(self, data: str) -> None:
        if data:
            self.events.append([round(self.t, 3), "o", data])
            self.t += 0.05

    def flush(self) -> None:
        pass

    def pause(self, seconds: float) -> None:
        self.t += seconds


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/shell-session.cast")
    rec = Recorder()
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, HOME=home, TERM="xterm", PYTHONUNBUFFERED="1")
        shell = pexpect.spawn(
            sys.executable, ["-m", "tether"], env=env, encoding="utf-8", timeout=20,
            dimensions=(30, 100),
        )  # fmt: skip
        shell.logfile_read = rec
        shell.expect(PROMPT)
        for line in STORY:
            rec.pause(0.6)
            shell.sendline(line)
            # The shell prints what an input sets off (a crash report, the EXIT
            # banner) before its next prompt, so the prompt is all there is to wait for.
            shell.expect(PROMPT)
        shell.sendeof()
        shell.expect(pexpect.EOF)
    header = {"version": 2, "width": 100, "height": 30, "title": "tether: linking and monitoring"}
    with out.open("w") as f:
        f.write(json.dumps(header) + "\n")
        for event in rec.events:
            f.write(json.dumps(event) + "\n")
    print(f"wrote {out} ({len(rec.events)} events)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
