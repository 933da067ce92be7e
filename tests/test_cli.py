"""The tether command: run FILE, demo, --version."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tether.__main__ import main
from tether._runtime import _core


def test_run_file_exit_code_follows_main_exit_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = tmp_path / "ok.py"
    ok.write_text("async def main():\n    print('hi from', __name__)\n")
    assert main(["run", str(ok)]) == 0
    assert capsys.readouterr().out == "hi from __tether_main__\n"
    bad = tmp_path / "bad.py"
    bad.write_text("import tether\nasync def main():\n    tether.exit('boom')\n")
    assert main(["run", str(bad)]) == 1
    assert capsys.readouterr().err == "** (exit) :boom\n"
    assert main(["run", str(tmp_path / "missing.py")]) == 2


def test_version_and_demo_run_as_a_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tether", "--version"], capture_output=True, text=True, check=True
    )
    # The child picks its core as this process did (the same TETHER_CORE).
    assert out.stdout == f"tether 0.1.0 ({_core.NAME} core)\n"
    demo = subprocess.run(
        [sys.executable, "-m", "tether", "demo"], capture_output=True, text=True, check=True
    )
    assert "shell process exited with reason: killed" in demo.stdout
    assert demo.stdout.count("# a") == 8


_APPS = """
import tether
from tether import Application, Supervisor


class CliBase(Application, env={"greeting": "hello"}):
    async def start(self, start_type, args):
        print(f"{self.name}: started", flush=True)
        return await Supervisor.start_link([])

    def stop(self, state):
        print(f"{self.name}: stopped", flush=True)


class CliDb(CliBase, name="cli_db"):
    pass
"""

_WEB = """
from cli_apps_db import CliBase
from tether import Application, Supervisor


class CliWeb(CliBase, name="cli_web", applications=["cli_db"]):
    pass


class CliReady(Application, name="cli_ready", applications=["cli_web"]):
    async def start(self, start_type, args):
        print("ready", flush=True)  # cli_db and cli_web are running now
        return await Supervisor.start_link([])
"""


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with applications: cli_db, cli_web (needs cli_db), cli_ready
    (needs cli_web)."""
    (tmp_path / "cli_apps_db.py").write_text(_APPS)
    (tmp_path / "cli_apps_web.py").write_text(_WEB)
    # cli_web needs "cli_db": a module of that name defines it.
    (tmp_path / "cli_db.py").write_text("from cli_apps_db import CliDb\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    for name in ("cli_apps_db", "cli_apps_web", "cli_db"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


def test_run_app_starts_the_applications_then_the_file_main_with_the_config(
    app_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (app_dir / "tether.toml").write_text('[apps.cli_web]\ngreeting = "from tether.toml"\n')
    (app_dir / "script.py").write_text(
        "import sys\nfrom tether import Application\n\nasync def main():\n"
        "    print(sys.argv[1:], Application.get_env('cli_web', 'greeting'))\n"
        "    print(Application.started_applications())\n"
    )
    assert main(["run", "--app", "cli_apps_web:CliWeb", "script.py", "a", "b"]) == 0
    assert capsys.readouterr().out == (
        "cli_db: started\n"
        "cli_web: started\n"
        "['a', 'b'] from tether.toml\n"
        "[(:cli_web, '', ''), (:cli_db, '', '')]\n"
    )  # main returned: the node halts (mix run), no stop callbacks


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("cli_nosuch", "cannot import cli_nosuch: No module named 'cli_nosuch'"),
        ("cli_apps_web", "cli_apps_web defines 2 Application subclasses; name one: "),
        ("cli_db", "cli_db defines no Application subclass"),
        ("cli_apps_db:Application", "cli_apps_db.Application is not an Application subclass"),
    ],
)
def test_run_app_says_which_module_or_class_it_cannot_use(
    app_dir: Path, capsys: pytest.CaptureFixture[str], spec: str, error: str
) -> None:
    assert main(["run", "--app", spec]) == 2
    assert capsys.readouterr().err.startswith(f"tether run: --app {spec}: {error}")


def test_run_needs_a_file_or_an_app(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run"])
    assert info.value.code == 2
    assert "give FILE.py, --app MODULE, or both" in capsys.readouterr().err


def test_run_app_without_a_file_runs_until_sigterm_then_stops_the_apps_newest_first(
    app_dir: Path,
) -> None:
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "tether", "run", "--app", "cli_apps_web:CliReady"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "cli_db: started\n"
    assert proc.stdout.readline() == "cli_web: started\n"
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert out == "cli_web: stopped\ncli_db: stopped\n"
    assert proc.returncode == 0
    assert err == ""
