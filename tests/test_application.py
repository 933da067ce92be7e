"""Application (OTP's application, Elixir's Application): start and stop order,
dependencies, the environment and its configuration, restart types and the node's
fate, and the ways to start a list of applications (run, open_node).

Every behaviour checked here against the BEAM was run on Elixir 1.14 / OTP 25
first (``:application.load({:application, :a1, [mod: {App1, :w1}, ...]})`` and
``Application.start/stop/ensure_all_started``); the comments quote what it did.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

import tether
from tether import (
    Application,
    ExitError,
    GenServer,
    Ok,
    Process,
    ProcessExit,
    Supervisor,
    Task,
    receive,
    send,
    spawn,
)
from tether.testing import VirtualClockLoop, wait_all_blocked

events: list[Any] = []


@pytest.fixture(autouse=True)
def _fresh_events() -> None:
    events.clear()


@pytest.fixture
def reports(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="tether")
    return caplog


def app_reports(caplog: pytest.LogCaptureFixture) -> list[tuple[str, Any, Any]]:
    """The application exit reports: (text, exited, type)."""
    return [
        (r.getMessage(), r.exited, r.type)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "tether" and r.getMessage().startswith("Application ")
    ]


def run(main: Any = None, *args: Any, **opts: Any) -> Any:
    return tether.run(main, *args, hog_threshold=None, loop_factory=VirtualClockLoop, **opts)


class Worker(GenServer):
    def init(self, tag: str) -> Any:
        Process.flag("trap_exit", True)
        return Ok(tag)

    def terminate(self, reason: Any, tag: str) -> None:
        events.append(("terminate", tag, reason))


class Logged(Application, name="t_logged_base"):
    """Starts a supervisor (registered as NAME_sup) with one worker, and logs its
    callbacks."""

    async def start(self, start_type: Any, args: Any) -> Any:
        name = self.name
        events.append(("start", name, start_type))
        child = {"id": name, "start": (Worker.start_link, (name,))}
        result = await Supervisor.start_link([child], name=f"{name}_sup")
        return (*result, f"{name} state")

    def prep_stop(self, state: Any) -> Any:
        events.append(("prep_stop", self.name, state))
        return f"{state} prepped"

    def stop(self, state: Any) -> None:
        events.append(("stop", self.name, state))


class Db(Logged, name="t_db", env={"pool": 2, "host": "localhost"}):
    pass


class Web(Logged, name="t_web", applications=["t_db"], description="web", vsn="1.2"):
    pass


class Api(Logged, name="t_api", applications=["t_web", Db]):
    pass


class Lib(Application, name="t_lib", env={"answer": 42}):
    """A library application: no start callback, no processes."""


class Failing(Application, name="t_failing"):
    async def start(self, start_type: Any, how: Any) -> Any:
        match how:
            case "error":
                return ("error", "nope")
            case "bad":
                return "whatever"
            case "raise":
                raise RuntimeError("boom")
            case "exit":
                tether.exit("bye")
            case "normal":
                tether.exit("normal")
        return await Supervisor.start_link([])


def stopped(name: str) -> list[tuple[str, str, Any]]:
    """What Logged apps log when they are stopped from outside."""
    return [
        ("prep_stop", name, f"{name} state"),
        ("terminate", name, "shutdown"),
        ("stop", name, f"{name} state prepped"),
    ]


# -- start and stop order --------------------------------------------------------------


async def test_ensure_all_started_starts_the_dependencies_first_then_the_application() -> None:
    # Elixir: Application.ensure_all_started(:a2) -> {:ok, [:a1, :a2]}
    assert await Application.ensure_all_started("t_api") == ("ok", ["t_db", "t_web", "t_api"])
    assert events == [
        ("start", "t_db", "normal"),
        ("start", "t_web", "normal"),
        ("start", "t_api", "normal"),
    ]
    assert Application.started_applications() == [
        ("t_api", "", ""),
        ("t_web", "web", "1.2"),
        ("t_db", "", ""),
    ]
    assert await Application.ensure_all_started(Api) == ("ok", [])


async def test_start_needs_every_dependency_started_first() -> None:
    # Elixir: Application.start(:a2) -> {:error, {:not_started, :a1}}
    assert await Application.start("t_web") == ("error", ("not_started", "t_db"))
    assert events == []
    assert Application.started_applications() == []
    assert Application.loaded_applications() == [("t_web", "web", "1.2")]  # start loaded it
    assert await Application.start(Db) == "ok"
    assert await Application.start(Web) == "ok"
    assert await Application.start(Web) == ("error", ("already_started", "t_web"))
    assert await Application.ensure_started(Web) == "ok"


async def test_stop_runs_prep_stop_shuts_the_top_process_down_runs_stop_and_reports(
    reports: pytest.LogCaptureFixture,
) -> None:
    await Application.ensure_all_started("t_web")
    events.clear()
    assert await Application.stop("t_web") == "ok"
    assert events == stopped("t_web")
    # Elixir: [notice] Application a1 exited: :stopped
    assert app_reports(reports) == [("Application t_web exited: :stopped", "stopped", "temporary")]
    assert Application.started_applications() == [("t_db", "", "")]
    assert ("t_web", "web", "1.2") in Application.loaded_applications()  # still loaded
    assert Process.whereis("t_web_sup") is None
    assert await Application.stop("t_web") == ("error", ("not_started", "t_web"))
    assert await Application.start("t_web") == "ok"  # and it starts again


async def test_the_top_process_gets_shutdown_from_the_application_master() -> None:
    async def top(master: tether.Pid) -> None:
        Process.flag("trap_exit", True)
        events.append(("got", await receive(tether.Exit)))
        events.append(("master", master))

    class Top(Application, name="t_top"):
        async def start(self, start_type: Any, args: Any) -> Any:
            return ("ok", tether.spawn_link(top, tether.self()))

    await Application.start(Top)
    await wait_all_blocked()
    assert await Application.stop(Top) == "ok"
    [(_, exit_msg), (_, master)] = events
    assert events == [("got", tether.Exit(master, "shutdown")), ("master", master)]
    assert exit_msg.reason == "shutdown"
    assert not Process.alive(master)


def test_sigterm_stops_the_applications_newest_first_without_reports(
    reports: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        await Application.ensure_all_started("t_api", "permanent")
        events.clear()
        await wait_all_blocked()
        signal.raise_signal(signal.SIGTERM)
        await Process.sleep(None)

    with pytest.raises(SystemExit) as info:
        run(main)
    assert info.value.code == 0
    assert events == [*stopped("t_api"), *stopped("t_web"), *stopped("t_db")]
    # OTP: the controller's terminate stops them and reports nothing.
    assert app_reports(reports) == []


async def test_two_processes_starting_one_application_share_one_start() -> None:
    class Slow(Application, name="t_slow"):
        async def start(self, start_type: Any, args: Any) -> Any:
            events.append("start")
            await Process.sleep(1)
            return await Supervisor.start_link([])

    async def starter(parent: tether.Pid) -> None:
        send(parent, ("result", await Application.start("t_slow")))

    me = tether.self()
    spawn(starter, me)
    spawn(starter, me)
    results = [await receive(("result", tether.ANY)) for _ in range(2)]
    assert results == [("result", "ok"), ("result", "ok")]
    assert events == ["start"]


async def test_a_library_application_starts_and_stops_with_no_process(
    reports: pytest.LogCaptureFixture,
) -> None:
    before = Process.list()
    assert await Application.start(Lib) == "ok"
    assert Application.get_env("t_lib", "answer") == 42
    assert [p for p in Process.list() if p not in before] == [
        Process.whereis("application_controller")
    ]
    assert Application.started_applications() == [("t_lib", "", "")]
    assert await Application.stop("t_lib") == "ok"
    assert app_reports(reports) == [("Application t_lib exited: :stopped", "stopped", "temporary")]


# -- restart types and the node's fate ---------------------------------------------------


@pytest.mark.parametrize(
    ("restart_type", "reason", "text"),
    [
        ("temporary", "shutdown", "shutdown"),
        ("temporary", "normal", "normal"),
        ("transient", "normal", "normal"),
    ],
)
def test_an_exit_that_does_not_stop_the_node_is_only_reported(
    reports: pytest.LogCaptureFixture, restart_type: str, reason: str, text: str
) -> None:
    async def main() -> Any:
        await Application.start("t_db", restart_type)
        await Supervisor.stop("t_db_sup", reason)
        await wait_all_blocked()
        return Application.started_applications()

    assert run(main) == []  # the node lived on; the application is not running
    assert events[1:] == [
        ("terminate", "t_db", "shutdown"),  # its supervisor's children
        ("prep_stop", "t_db", "t_db state"),  # then the master's callbacks
        ("stop", "t_db", "t_db state prepped"),
    ]
    # Elixir: [notice] Application a1 exited: normal
    assert app_reports(reports) == [(f"Application t_db exited: {text}", reason, restart_type)]


@pytest.mark.parametrize(
    ("restart_type", "reason", "text"),
    [
        ("transient", "shutdown", "shutdown"),
        ("permanent", "shutdown", "shutdown"),
        ("permanent", "normal", "normal"),
    ],
)
def test_an_exit_that_stops_the_node_stops_the_others_newest_first(
    reports: pytest.LogCaptureFixture, restart_type: str, reason: str, text: str
) -> None:
    async def main() -> Any:
        await Application.start("t_db", restart_type)
        await Application.start("t_web", "temporary")
        await Application.start("t_lib", "temporary")
        events.clear()
        await Supervisor.stop("t_db_sup", reason)
        await Process.sleep(None)
        return "main went on"  # never: the node stops

    with pytest.raises(ProcessExit) as info:
        run(main)
    # OTP: Kernel pid terminated (application_controller)
    # ({application_terminated,a1,normal}), after stopping a3 then a2.
    assert info.value.reason == ("application_terminated", "t_db", reason)
    assert events == [
        ("terminate", "t_db", "shutdown"),
        ("prep_stop", "t_db", "t_db state"),
        ("stop", "t_db", "t_db state prepped"),
        *stopped("t_web"),
    ]
    assert app_reports(reports) == [(f"Application t_db exited: {text}", reason, restart_type)]


async def test_an_exited_application_starts_again_but_its_dependents_cannot_meanwhile(
    reports: pytest.LogCaptureFixture,
) -> None:
    # OTP: started, not running -> {error, {not_running, App}} for a dependent, unreported.
    await Application.start("t_db")
    await Supervisor.stop("t_db_sup", "shutdown")
    await wait_all_blocked()
    assert await Application.start("t_web") == ("error", ("not_running", "t_db"))
    assert Application.format_error(("not_running", "t_db")) == "not running application t_db"
    assert await Application.start("t_db") == "ok"
    assert await Application.start("t_web") == "ok"
    assert [text for text, _, _ in app_reports(reports)] == ["Application t_db exited: shutdown"]


async def test_stop_of_a_permanent_application_leaves_the_node_running() -> None:
    # Elixir: "it is always possible to stop an application explicitly ... no other
    # applications will be affected", whatever its type.
    assert await Application.start("t_db", "permanent") == "ok"
    assert await Application.stop("t_db") == "ok"
    await wait_all_blocked()
    assert Application.started_applications() == []
    assert await Application.start("t_db", "permanent") == "ok"


def test_a_permanent_dependency_started_by_ensure_all_started_stops_the_node_too() -> None:
    async def main() -> None:
        await Application.ensure_all_started("t_web", "permanent")
        Process.exit(Process.whereis("t_db_sup"), "kill")
        await Process.sleep(None)

    with pytest.raises(ProcessExit) as info:
        run(main)
    assert info.value.reason == ("application_terminated", "t_db", "killed")


@pytest.mark.parametrize(
    ("how", "error", "text"),
    [
        (
            "error",
            ("nope", ("Failing.start", "normal", "error")),
            'Failing.start(:normal, "error") returned an error: :nope',
        ),
        (
            "bad",
            ("bad_return", (("Failing.start", "normal", "bad"), "whatever")),
            'Failing.start(:normal, "bad") returned a bad value: "whatever"',
        ),
        (
            "exit",
            ("bad_return", (("Failing.start", "normal", "exit"), ("EXIT", "bye"))),
            'exited in: Failing.start(:normal, "exit")\n    ** (EXIT) :bye',
        ),
        (
            "normal",
            (("EXIT", "normal"), ("Failing.start", "normal", "normal")),
            'exited in: Failing.start(:normal, "normal")\n    ** (EXIT) normal',
        ),
    ],
)
async def test_a_failed_start_returns_the_reason_and_reports_it(
    reports: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    error: Any,
    text: str,
) -> None:
    # Elixir: {:error, {:nope, {App1, :start, [:normal, :error]}}} and
    # [notice] Application error exited: App1.start(:normal, :error) returned an error: :nope
    monkeypatch.setattr(Failing, "start_args", how)
    result = await Application.start(Failing)
    assert result == ("error", error)
    assert Application.format_error(result[1]) == text
    assert app_reports(reports) == [(f"Application t_failing exited: {text}", error, "temporary")]
    assert Application.started_applications() == []


async def test_a_start_that_raises_is_a_bad_return_with_the_exception(
    reports: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Failing, "start_args", "raise")
    result = await Application.start(Failing)
    match result:
        case ("error", ("bad_return", (("Failing.start", "normal", "raise"), ("EXIT", exc)))):
            assert isinstance(exc, RuntimeError) and str(exc) == "boom"
        case _:
            pytest.fail(f"unexpected {result!r}")
    [(message, _exited, _type)] = app_reports(reports)
    assert message.startswith(
        'Application t_failing exited: exited in: Failing.start(:normal, "raise")\n'
        "    ** (EXIT) an exception was raised:\n"
        "        ** (RuntimeError) boom\n"
    )
    frame = message.splitlines()[3]  # the innermost frame: Failing.start's raise
    assert "test_application.py:" in frame and frame.endswith(": start")


@pytest.mark.parametrize("restart_type", ["transient", "permanent"])
def test_a_failed_start_of_a_transient_or_permanent_application_stops_the_node(
    monkeypatch: pytest.MonkeyPatch, restart_type: str
) -> None:
    monkeypatch.setattr(Failing, "start_args", "error")

    async def main() -> Any:
        events.append(await Application.start(Failing, restart_type))
        await Process.sleep(None)

    with pytest.raises(ProcessExit) as info:
        run(main)
    call = ("Failing.start", "normal", "error")
    assert info.value.reason == ("application_start_failure", "t_failing", ("nope", call))
    assert events == [("error", ("nope", call))]  # the caller got its answer first


def test_a_transient_application_whose_start_exits_normally_leaves_the_node_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Failing, "start_args", "normal")

    async def main() -> Any:
        return await Application.start(Failing, "transient")

    assert run(main) == ("error", (("EXIT", "normal"), ("Failing.start", "normal", "normal")))


async def test_ensure_all_started_stops_what_it_started_when_a_dependency_fails(
    reports: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Needs(Application, name="t_needs", applications=["t_db", "t_failing"]):
        pass

    monkeypatch.setattr(Failing, "start_args", "error")
    call = ("Failing.start", "normal", "error")
    assert await Application.ensure_all_started(Needs) == (
        "error",
        ("t_failing", ("nope", call)),
    )
    assert events == [("start", "t_db", "normal"), *stopped("t_db")]
    assert [text for text, _, _ in app_reports(reports)] == [
        'Application t_failing exited: Failing.start(:normal, "error") returned an error: :nope',
        "Application t_db exited: :stopped",  # Elixir: lib1 started, then stopped
    ]
    assert Application.started_applications() == []


async def test_unknown_applications_and_circular_dependencies_are_errors() -> None:
    # Elixir: {:error, {:nope, {'no such file or directory', 'nope.app'}}}
    assert await Application.start("t_no_such_app") == (
        "error",
        ("unknown_application", "t_no_such_app"),
    )
    assert Application.format_error(("unknown_application", "t_no_such_app")) == (
        "unknown application t_no_such_app: no Application subclass has this name, and no "
        "module of this name defines one"
    )

    class Orphan(Application, name="t_orphan", applications=["t_missing_dep"]):
        pass

    assert await Application.ensure_all_started(Orphan) == (
        "error",
        ("t_missing_dep", ("unknown_application", "t_missing_dep")),
    )

    class Chicken(Application, name="t_chicken", applications=["t_egg"]):
        pass

    class Egg(Application, name="t_egg", applications=["t_chicken"]):
        pass

    assert await Application.ensure_all_started(Chicken) == (
        "error",
        ("t_chicken", ("circular_dependencies", ["t_chicken", "t_egg", "t_chicken"])),
    )


async def test_a_name_no_class_has_is_imported_as_a_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "t_plugin_app.py").write_text(
        "import tether\n\nclass TPluginApp(tether.Application, env={'from': 'module'}):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "t_plugin_app", raising=False)
    assert Application.load("t_plugin_app") == "ok"
    assert Application.get_env("t_plugin_app", "from") == "module"
    assert Application.load("t_plugin_app") == ("error", ("already_loaded", "t_plugin_app"))
    assert Application.unload("t_plugin_app") == "ok"
    assert Application.unload("t_plugin_app") == ("error", ("not_loaded", "t_plugin_app"))
    assert Application.get_all_env("t_plugin_app") == {}
    monkeypatch.delitem(sys.modules, "t_plugin_app", raising=False)


class Clumsy(Application, name="t_clumsy"):
    async def start(self, start_type: Any, args: Any) -> Any:
        return (*(await Supervisor.start_link([])), "from start")

    def prep_stop(self, state: Any) -> Any:
        raise ValueError("prep")

    def stop(self, state: Any) -> None:
        events.append(("stop", state))
        tether.exit("stop_failed")


async def test_prep_stop_and_stop_that_fail_are_logged_and_the_stop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    await Application.start(Clumsy)
    assert await Application.stop(Clumsy) == "ok"
    assert events == [("stop", "from start")]
    assert [r.getMessage() for r in caplog.records] == [
        "Application t_clumsy: Clumsy.prep_stop failed; stop gets the state start returned\n"
        "** (ValueError) prep",
        "Application t_clumsy: Clumsy.stop failed; the application stops all the same\n"
        "** (stop) :stop_failed",
    ]
    assert caplog.records[0].exc_info is not None


# -- the environment ---------------------------------------------------------------------


async def test_load_lays_the_configuration_over_the_class_env() -> None:
    Application.put_env("t_db", "pool", 7)  # not persistent: the class default wins
    Application.put_env("t_db", "extra", "kept")  # a key the class does not set stays
    Application.put_env("t_db", "host", "db1", persistent=True)  # config wins
    assert Application.load(Db) == "ok"
    assert Application.get_all_env("t_db") == {"pool": 2, "host": "db1", "extra": "kept"}
    assert Application.unload(Db) == "ok"
    assert Application.get_all_env("t_db") == {}
    assert Application.load(Db) == "ok"
    assert Application.get_all_env("t_db") == {"pool": 2, "host": "db1"}


async def test_get_fetch_put_and_delete_env() -> None:
    # Elixir: get_env(:lib1, :b, :dflt) -> :dflt; fetch_env -> {:ok, 1} | :error
    Application.load(Lib)
    assert Application.get_env("t_lib", "answer") == 42
    assert Application.get_env(Lib, "missing", "dflt") == "dflt"
    assert Application.get_env("t_never", "x") is None
    assert Application.fetch_env("t_lib", "answer") == ("ok", 42)
    assert Application.fetch_env("t_lib", "missing") == "error"
    assert Application.fetch_env_or_raise("t_lib", "answer") == 42
    with pytest.raises(KeyError) as info:
        Application.fetch_env_or_raise("t_lib", "zz")
    assert info.value.args[0] == (
        "could not fetch application environment 'zz' for application 't_lib' because "
        "configuration at 'zz' was not set"
    )
    with pytest.raises(KeyError) as info:
        Application.fetch_env_or_raise("t_never", "zz")
    assert info.value.args[0] == (
        "could not fetch application environment 'zz' for application 't_never' because "
        "the application was not loaded nor configured"
    )
    assert Application.put_env("t_never", "b", 2) == "ok"  # no need to be loaded
    assert Application.get_all_env("t_never") == {"b": 2}
    assert Application.delete_env("t_never", "b") == "ok"
    assert Application.get_all_env("t_never") == {}
    assert Application.put_all_env({"t_lib": {"answer": 43}, "t_other": {"x": 1}}) == "ok"
    assert Application.get_all_env("t_lib") == {"answer": 43}
    assert Application.get_all_env("t_other") == {"x": 1}
    copy = Application.get_all_env("t_lib")
    copy["answer"] = 0
    assert Application.get_env("t_lib", "answer") == 43


def test_the_environment_and_the_tables_belong_to_the_node() -> None:
    async def first() -> Any:
        Application.put_env("t_lib", "answer", "the first node's")
        return await Application.start(Lib)

    async def second() -> Any:
        return (
            Application.get_env("t_lib", "answer"),
            Application.loaded_applications(),
            Application.started_applications(),
        )

    assert run(first) == "ok"
    assert run(second) == (None, [], [])


def test_read_config_reads_tether_toml_and_pyproject_tool_tether(tmp_path: Path) -> None:
    (tmp_path / "tether.toml").write_text(
        '[apps.t_db]\nhost = "db1"\npool = 5\n\n[apps.t_web]\nroutes = ["/", "/a"]\n'
    )
    assert Application.read_config(tmp_path / "tether.toml") == {
        "t_db": {"host": "db1", "pool": 5},
        "t_web": {"routes": ["/", "/a"]},
    }
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.tether.apps.t_db]\nhost = "db2"\n'
    )
    assert Application.read_config(tmp_path / "pyproject.toml") == {"t_db": {"host": "db2"}}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[apps\n", "is not valid TOML"),
        ("[app.t_db]\nx = 1\n", "unknown key 'app' in the file"),
        ("apps = 3\n", "expected a dict"),
        ("[apps]\nt_db = 3\n", "the environment of 't_db' must be a dict"),
    ],
)
def test_read_config_says_what_is_wrong_with_a_file(tmp_path: Path, text: str, error: str) -> None:
    (tmp_path / "tether.toml").write_text(text)
    with pytest.raises(ValueError, match="Application.read_config: ") as info:
        Application.read_config(tmp_path / "tether.toml")
    assert error in str(info.value)
    with pytest.raises(FileNotFoundError):
        Application.read_config(tmp_path / "missing.toml")


# -- starting a list of applications: run, open_node ------------------------------------


def test_run_starts_the_apps_with_the_config_file_then_runs_main(tmp_path: Path) -> None:
    (tmp_path / "conf.toml").write_text('[apps.t_db]\nhost = "from the file"\n')

    async def main(arg: str) -> Any:
        return (
            arg,
            Application.started_applications(),
            Application.get_env("t_db", "host"),
            events[:],
        )

    assert run(main, "x", apps=[Web], config=tmp_path / "conf.toml") == (
        "x",
        [("t_web", "web", "1.2"), ("t_db", "", "")],
        "from the file",
        [("start", "t_db", "normal"), ("start", "t_web", "normal")],
    )
    assert events == [("start", "t_db", "normal"), ("start", "t_web", "normal")]  # a halt


@pytest.mark.parametrize("file", ["tether.toml", "pyproject.toml"])
def test_run_with_apps_reads_the_config_of_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str
) -> None:
    table = "[apps.t_db]" if file == "tether.toml" else "[tool.tether.apps.t_db]"
    (tmp_path / file).write_text(f'{table}\nhost = "{file}"\n')
    monkeypatch.chdir(tmp_path)

    async def main() -> Any:
        return Application.get_env("t_db", "host")

    assert run(main, apps=["t_db"]) == file
    assert run(main, apps=["t_db"], config={"t_db": {"host": "a dict"}}) == "a dict"


def test_run_without_main_runs_until_a_permanent_application_stops_the_node() -> None:
    async def closes_after_a_while() -> None:
        await Process.sleep(5)

    class Batch(Application, name="t_batch"):
        async def start(self, start_type: Any, args: Any) -> Any:
            job = {**Task.child_spec(closes_after_a_while), "restart": "transient"}
            return await Supervisor.start_link(
                [{**job, "significant": True}], auto_shutdown="any_significant"
            )

        def stop(self, state: Any) -> None:
            events.append(("stop", tether.testing.clock()))

    with pytest.raises(ProcessExit) as info:
        run(apps=[Batch, Lib])
    assert info.value.reason == ("application_terminated", "t_batch", "shutdown")
    [(_, when)] = events
    assert events == [("stop", when)] and when >= 5


def test_run_with_an_app_that_fails_to_start_raises_and_never_runs_main(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Failing, "start_args", "error")

    async def main() -> None:
        events.append("main ran")

    with pytest.raises(ProcessExit) as info:
        run(main, apps=[Db, Failing])
    call = ("Failing.start", "normal", "error")
    assert info.value.reason == ("application_start_failure", "t_failing", ("nope", call))
    assert events == [("start", "t_db", "normal"), *stopped("t_db")]
    with pytest.raises(ProcessExit) as info:
        run(main, apps=["t_no_such_app"])
    assert info.value.reason == (
        "application_start_failure",
        "t_no_such_app",
        ("unknown_application", "t_no_such_app"),
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, TypeError, "tether.run: give main (an async def function), apps=[...], or both"),
        ({"apps": "t_db"}, TypeError, "tether.run: apps must be a list"),
        ({"apps": [42]}, TypeError, "tether.run: apps: app must be an Application subclass"),
        ({"apps": [], "config": 42}, TypeError, "tether.run: config must be a TOML file's path"),
        ({"apps": [], "config": {"a": 1}}, TypeError, "the environment of 'a' must be a dict"),
        ({"apps": [], "config": "/no/such/file.toml"}, FileNotFoundError, "file.toml"),
    ],
)
def test_run_checks_apps_and_config_before_starting_a_node(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        tether.run(**kwargs)
    assert message in str(info.value)
    assert tether.node() == "nonode@nohost"


def test_open_node_starts_the_apps_and_stops_them_newest_first_when_the_block_ends() -> None:
    async def host() -> Any:
        async with tether.open_node(apps=[Web], config={"t_db": {"pool": 9}}) as node:
            started = await node.run(_started_and_pool)
            events.clear()
        return started

    assert asyncio.run(host()) == ([("t_web", "web", "1.2"), ("t_db", "", "")], 9)
    assert events == [*stopped("t_web"), *stopped("t_db")]


async def _started_and_pool() -> Any:
    return Application.started_applications(), Application.get_env("t_db", "pool")


def test_open_node_raises_when_its_apps_fail_or_a_permanent_one_stops_the_node(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Failing, "start_args", "error")

    async def failing() -> None:
        async with tether.open_node(apps=[Failing]):
            events.append("block ran")

    with pytest.raises(ExitError) as info:
        asyncio.run(failing())
    call = ("Failing.start", "normal", "error")
    assert info.value.reason == ("application_start_failure", "t_failing", ("nope", call))
    assert events == []

    async def stops() -> None:
        async with tether.open_node(apps=[Db]) as node:
            node.exit(await node.run(_db_sup), "kill")
            with pytest.raises(ExitError):  # the node's own stop ends this process
                await node.run(_sleep_forever)

    with pytest.raises(ExitError) as info:
        asyncio.run(stops())
    assert info.value.reason == ("application_terminated", "t_db", "killed")


async def _db_sup() -> Any:
    return Process.whereis("t_db_sup")


async def _sleep_forever() -> None:
    await Process.sleep(None)


# -- arguments ---------------------------------------------------------------------------


async def test_bad_arguments_raise_naming_the_function_before_anything_happens() -> None:
    with pytest.raises(ValueError, match=r"Application.start: restart_type must be 'permanent'"):
        await Application.start("t_db", "forever")
    with pytest.raises(TypeError, match=r"Application.ensure_all_started: app must be an"):
        await Application.ensure_all_started(42)
    with pytest.raises(TypeError, match=r"Application.get_env: key must be a str"):
        Application.get_env("t_db", 1)
    with pytest.raises(TypeError, match=r"Application.put_env: persistent must be True or"):
        Application.put_env("t_db", "k", 1, persistent="yes")
    with pytest.raises(TypeError, match=r"Application.stop: app must be an Application"):
        await Application.stop(Application)
    assert Application.loaded_applications() == []
    assert Process.whereis("application_controller") is None


def test_class_options_are_checked_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match=r"unknown option\(s\) mod"):

        class A(Application, mod="x"):  # type: ignore[call-arg]
            pass

    with pytest.raises(TypeError, match=r"env must be a dict with str keys"):

        class B(Application, env={1: 2}):
            pass

    with pytest.raises(TypeError, match=r"applications: app must be an Application subclass"):

        class C(Application, applications=[3]):
            pass

    class HTTPServerApp(Application):
        pass

    assert HTTPServerApp.name == "http_server_app"
    assert Web.applications == ("t_db",)
    assert Api.applications == ("t_web", "t_db")  # a class stands for its name
