"""Supervisors never die of what OTP shrugs off, refuse bad arguments before acting,
and take Elixir's options (issue 10 items 7 and 8; SU-1, SU-4, SU-7, SU-8, SU-10)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest

import tether
from tether import (
    ANY,
    DynamicSupervisor,
    Exit,
    GenServer,
    Ok,
    Process,
    Reply,
    Supervisor,
    receive,
    spawn_link,
)
from tether.testing import wait_all_blocked


class Worker(GenServer):
    def init(self, arg: Any) -> Any:
        return Ok(arg)

    def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
        return Reply(state, state)


def spec(cid: Any, start: Any = None, **more: Any) -> dict[str, Any]:
    return {"id": cid, "start": start or (Worker.start_link, (cid,)), **more}


async def pids(sup: Any) -> dict[Any, Any]:
    return {cid: pid for cid, pid, _t, _m in await Supervisor.which_children(sup)}


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")

    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def cyclic() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


UNPRINTABLE = [cyclic(), 10**5000, Unprintable(), ("shutdown_not", cyclic())]


class Formatting(logging.Handler):
    """A handler that formats every record, as a real log handler does."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def sasl_on() -> Any:
    """Supervisor reports switched on and formatted (handle_sasl_reports: true)."""
    sasl = logging.getLogger("tether.sasl")
    handler = Formatting()
    sasl.addHandler(handler)
    yield handler
    sasl.removeHandler(handler)


async def exit_with(reason: Any) -> None:
    await receive(lambda m: m == "go")
    tether.exit(reason)


@pytest.mark.parametrize("reason", UNPRINTABLE, ids=["cyclic", "huge_int", "broken_str", "nested"])
async def test_su6_a_child_exit_reason_that_cannot_be_printed_never_harms_the_supervisor(
    sasl_on: Formatting, reason: Any
) -> None:
    async def start() -> Any:
        return ("ok", spawn_link(exit_with, reason))

    _, sup = await Supervisor.start_link(
        [spec("odd", (start, ())), spec("healthy")], strategy="one_for_one"
    )
    before = await pids(sup)
    tether.send(before["odd"], "go")
    await wait_all_blocked()
    after = await pids(sup)
    assert Process.alive(sup) is True
    assert after["healthy"] == before["healthy"]  # the sibling never noticed
    assert type(after["odd"]) is tether.Pid and after["odd"] != before["odd"]
    (report,) = [m for m in sasl_on.messages if "terminated" in m]
    assert report.startswith(f"Child :odd of Supervisor {sup!r} terminated\n** (exit) ")


async def test_su6_an_unprintable_stray_message_is_reported_and_ignored(
    sasl_on: Formatting,
) -> None:
    _, sup = await Supervisor.start_link([spec("a")])
    _, dyn = await DynamicSupervisor.start_link()
    tether.send(sup, cyclic())
    tether.send(dyn, Unprintable())
    await wait_all_blocked()
    assert (Process.alive(sup), Process.alive(dyn)) == (True, True)
    assert [m.split(":")[0] for m in sasl_on.messages if "unexpected" in m] == [
        "Supervisor received unexpected message",
        "DynamicSupervisor received unexpected message",
    ]


class RaisingSpec:
    @classmethod
    def child_spec(cls, arg: Any) -> dict[str, Any]:
        raise TypeError(f"child_spec cannot take {arg!r}")


class ExplodingDict(dict[str, Any]):
    def get(self, key: str, default: Any = None) -> Any:
        raise KeyError(key)


@pytest.mark.parametrize("which", ["Supervisor", "DynamicSupervisor"])
async def test_su7_a_malformed_child_spec_is_an_error_result_and_the_supervisor_lives_on(
    which: str,
) -> None:
    sup_cls: Any = Supervisor if which == "Supervisor" else DynamicSupervisor
    _, sup = await sup_cls.start_link()
    error, exc = await sup_cls.start_child(sup, (RaisingSpec, 42))
    assert (error, type(exc), str(exc)) == ("error", TypeError, "child_spec cannot take 42")
    error, exc = await sup_cls.start_child(
        sup, ExplodingDict(id="x", start=(Worker.start_link, ()))
    )
    assert (error, type(exc)) == ("error", KeyError)
    assert await sup_cls.start_child(sup, object) == ("error", ("invalid_child_spec", object))
    assert await sup_cls.start_child(sup, 42) == ("error", ("invalid_child_spec", 42))
    assert await sup_cls.start_child(sup, {"id": 1, "start": "nope"}) == (
        "error",
        ("invalid_mfa", "nope"),
    )
    assert Process.alive(sup) is True
    assert (await sup_cls.count_children(sup))["specs"] == 0


def exits(reason: Any) -> Any:
    def start() -> Any:
        tether.exit(reason)

    return start


def raises(exc: BaseException) -> Any:
    async def start() -> Any:
        raise exc

    return start


async def test_su4_a_start_function_that_exits_or_raises_gives_an_error_result() -> None:
    _, sup = await Supervisor.start_link([], strategy="one_for_one")
    _, dyn = await DynamicSupervisor.start_link()

    for exc in [ValueError("bad"), SystemExit(3), KeyboardInterrupt(), Unprintable()]:
        error, (reason, child) = await Supervisor.start_child(sup, spec("r", (raises(exc), ())))
        assert (error, reason, child["id"]) == ("error", exc, "r")
        assert await DynamicSupervisor.start_child(dyn, spec("r", (raises(exc), ()))) == (
            "error",
            exc,
        )
    error, (reason, child) = await Supervisor.start_child(sup, spec("e", (exits("boom"), ())))
    assert (error, reason) == ("error", "boom")
    assert await DynamicSupervisor.start_child(dyn, spec("e", (exits("boom"), ()))) == (
        "error",
        "boom",
    )
    weird = spec("s", (lambda: "what", ()))  # neither ok, ignore nor error: an error
    error, (reason, child) = await Supervisor.start_child(sup, weird)
    assert (error, reason, child["id"], child["restart"]) == ("error", "what", "s", "permanent")
    assert await DynamicSupervisor.start_child(dyn, weird) == ("error", "what")
    assert (Process.alive(sup), Process.alive(dyn)) == (True, True)


async def test_su4_start_link_returns_an_error_when_a_start_function_calls_exit() -> None:
    result = await Supervisor.start_link([spec("a"), spec("b", (exits("boom"), ()))])
    assert result == ("error", ("shutdown", ("failed_to_start_child", "b", "boom")))
    assert Process.list() == [tether.self()]

    class ExitsInInit(Supervisor):
        def init(self, arg: Any) -> Any:
            tether.exit(("init_gave_up", arg))

    assert await ExitsInInit.start_link(7) == ("error", ("init_gave_up", 7))
    assert Process.list() == [tether.self()]


async def test_su4_a_kill_during_a_start_function_still_kills_the_supervisor() -> None:
    Process.flag("trap_exit", True)

    async def hangs() -> Any:
        await Process.sleep(None)

    _, sup = await Supervisor.start_link([], strategy="one_for_one")

    async def start_it() -> None:
        await Supervisor.start_child(sup, spec("h", (hangs, ())))

    tether.spawn(start_it)
    await wait_all_blocked()
    Process.exit(sup, "kill")
    assert await receive(Exit(sup, ANY)) == Exit(sup, "killed")


async def test_su1_one_for_all_leaves_later_children_undefined_while_a_restart_fails() -> None:
    failing = {"b": False}

    async def start(cid: str) -> Any:
        if failing.get(cid):
            return ("error", "not_now")
        return await Worker.start_link(cid)

    children = [spec(c, (start, (c,))) for c in ("a", "b", "c")]
    _, sup = await Supervisor.start_link(children, strategy="one_for_all", max_restarts=100_000)
    first = await pids(sup)
    failing["b"] = True
    Process.exit(first["a"], "kill")
    # The supervisor retries b through its mailbox; a call gets in between tries.
    assert [
        (cid, pid if isinstance(pid, str) else "pid") for cid, pid in (await pids(sup)).items()
    ] == [
        ("c", "undefined"),
        ("b", "restarting"),
        ("a", "pid"),
    ]
    assert await Supervisor.restart_child(sup, "b") == ("error", "restarting")
    failing["b"] = False
    await wait_all_blocked()
    now = await pids(sup)
    assert all(type(p) is tether.Pid for p in now.values())
    assert not set(now.values()) & set(first.values())


async def test_su8_class_keywords_override_the_child_spec_and_are_checked() -> None:
    class Transient(Supervisor, restart="transient", shutdown=10):
        def init(self, arg: Any) -> Any:
            return Supervisor.init_spec([])

    class Inherits(Transient):
        pass

    assert Transient.child_spec(1) == {
        "id": Transient,
        "start": (Transient.start_link, (1,)),
        "type": "supervisor",
        "restart": "transient",
        "shutdown": 10,
    }
    assert Inherits.child_spec(None)["restart"] == "transient"
    assert Supervisor.check_childspecs([Transient]) == "ok"

    with pytest.raises(ValueError, match="restart must be 'permanent', 'transient' or"):

        class BadRestart(Supervisor, restart="sometimes"):
            pass

    with pytest.raises(TypeError, match="unknown class keyword 'strategy'"):

        class BadKeyword(DynamicSupervisor, strategy="one_for_all"):
            pass

    with pytest.raises(ValueError, match="shutdown must be"):

        class BadShutdown(DynamicSupervisor, shutdown=-1):
            pass


async def test_su10_a_dynamic_supervisor_is_a_one_line_child_with_its_options() -> None:
    children = [(DynamicSupervisor, {"name": "jobs", "max_children": 1})]
    _, top = await Supervisor.start_link(children, strategy="one_for_one")
    assert [c[0] for c in await Supervisor.which_children(top)] == ["jobs"]
    ok, _ = await DynamicSupervisor.start_child("jobs", spec("w"))
    assert ok == "ok"
    assert await DynamicSupervisor.start_child("jobs", spec("w")) == ("error", "max_children")


async def test_su10_strategy_one_for_one_is_accepted_and_any_other_refused_at_the_call() -> None:
    ok, sup = await DynamicSupervisor.start_link(strategy="one_for_one")
    assert ok == "ok"
    await DynamicSupervisor.stop(sup)
    with pytest.raises(ValueError, match="only strategy is 'one_for_one', got 'one_for_all'"):
        await DynamicSupervisor.start_link(strategy="one_for_all")
    assert Process.list() == [tether.self()]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"max_restarts": -1}, ValueError, "max_restarts must be an int >= 0, got -1"),
        ({"max_seconds": "x"}, TypeError, "max_seconds must be a number of seconds > 0"),
        ({"max_seconds": 0}, ValueError, "max_seconds must be a finite number of seconds > 0"),
        ({"max_children": "x"}, TypeError, "max_children must be an int >= 0, got 'x'"),
        ({"max_children": -1}, ValueError, "max_children must be an int >= 0, got -1"),
        ({"extra_arguments": 3}, TypeError, "extra_arguments must be a list, got 3"),
        ({"max_childs": 3}, TypeError, "unknown option 'max_childs'"),
        ({"name": ("via", "NotARegistry", 1)}, ValueError, "expected name= to be one of"),
    ],
)
async def test_dynamic_supervisor_start_link_refuses_bad_options_before_starting(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as info:
        await DynamicSupervisor.start_link(**options)
    assert "DynamicSupervisor.start_link" in str(info.value)
    assert Process.list() == [tether.self()]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: Supervisor.start_link([], strategy="none_for_one"),
            ValueError,
            "Supervisor.start_link: strategy must be one of",
        ),
        (
            lambda: Supervisor.start_link([], max_restarts=1.5),
            TypeError,
            "Supervisor.start_link: max_restarts must be an int >= 0",
        ),
        (
            lambda: Supervisor.start_link([], max_seconds=-5),
            ValueError,
            "Supervisor.start_link: max_seconds must be a finite number of seconds > 0",
        ),
        (
            lambda: Supervisor.start_link([], auto_shutdown="sometimes"),
            ValueError,
            "Supervisor.start_link: auto_shutdown must be one of",
        ),
        (
            lambda: Supervisor.start_link([], intensity=3),
            TypeError,
            "Supervisor.start_link: unknown option 'intensity'",
        ),
        (
            lambda: Supervisor.start_link("children"),
            TypeError,
            "Supervisor.start_link: children must be a list",
        ),
        (
            lambda: Supervisor.start_link([42]),
            TypeError,
            "supervisors expect each child to be one of",
        ),
        (
            lambda: Supervisor.start_link([], name=""),
            ValueError,
            "Supervisor.start_link: expected name= to be one of",
        ),
        (
            lambda: Supervisor.which_children(42),
            TypeError,
            "Supervisor.which_children: supervisor must be a tether.Pid",
        ),
        (
            lambda: Supervisor.count_children(None),
            TypeError,
            "Supervisor.count_children: supervisor must be",
        ),
        (
            lambda: Supervisor.start_child(3.5, {}),
            TypeError,
            "Supervisor.start_child: supervisor must be",
        ),
        (
            lambda: Supervisor.terminate_child([], "a"),
            TypeError,
            "Supervisor.terminate_child: supervisor must be",
        ),
        (
            lambda: Supervisor.restart_child(b"x", "a"),
            TypeError,
            "Supervisor.restart_child: supervisor must be",
        ),
        (
            lambda: Supervisor.delete_child(1, "a"),
            TypeError,
            "Supervisor.delete_child: supervisor must be",
        ),
        (
            lambda: Supervisor.get_childspec(1, "a"),
            TypeError,
            "Supervisor.get_childspec: supervisor must be",
        ),
        (
            lambda: Supervisor.stop("sup", "normal", -1),
            ValueError,
            "Supervisor.stop: timeout must be >= 0",
        ),
        (
            lambda: DynamicSupervisor.terminate_child("sup", "not a pid"),
            TypeError,
            "DynamicSupervisor.terminate_child: pid must be a tether.Pid",
        ),
        (
            lambda: DynamicSupervisor.stop("sup", "normal", "soon"),
            TypeError,
            "DynamicSupervisor.stop: timeout must be a number of seconds",
        ),
        (
            lambda: DynamicSupervisor.start_child(None, {}),
            TypeError,
            "DynamicSupervisor.start_child: supervisor must be",
        ),
    ],
)
async def test_every_public_function_checks_its_arguments_before_acting(
    call: Any, error: type[Exception], message: str
) -> None:
    _, sup = await Supervisor.start_link([spec("a")], name="sup")
    before = await pids(sup)
    with pytest.raises(error, match=message):
        await call()
    assert await pids(sup) == before  # nothing happened
    assert len(Process.list()) == 3


async def test_supervisor_child_spec_of_refuses_unknown_override_keys() -> None:
    with pytest.raises(ValueError, match="unknown key 'restrat' in child specification"):
        Supervisor.child_spec_of(spec("a"), restrat="temporary")


async def test_su4_a_start_function_may_run_sys_exit_without_ending_the_node() -> None:
    def calls_sys_exit() -> Any:
        sys.exit(2)

    _, dyn = await DynamicSupervisor.start_link()
    error, exc = await DynamicSupervisor.start_child(dyn, spec("x", (calls_sys_exit, ())))
    assert (error, type(exc), exc.code) == ("error", SystemExit, 2)
    assert Process.alive(dyn) is True


async def test_su8_duplicate_ids_are_found_whether_or_not_they_are_hashable() -> None:
    assert Supervisor.check_childspecs([spec(["x"]), spec("y"), spec(["x"])]) == (
        "error",
        ("duplicate_child_name", ["x"]),
    )
    assert await Supervisor.start_link([spec(("a", 1)), spec(("a", 1))]) == (
        "error",
        ("start_spec", ("duplicate_child_name", ("a", 1))),
    )
