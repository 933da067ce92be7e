"""sys:get_state / sys:get_status answered by the behaviours, through format_status."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tether import (
    ANY,
    Atom,
    Down,
    DynamicSupervisor,
    GenServer,
    GenStateMachine,
    KeepStateAndData,
    NextState,
    Ok,
    Process,
    ProcessExit,
    Reply,
    Supervisor,
    pid,
    receive,
    self,
    send,
)
from tether.testing import wait_all_blocked


class Vault(GenServer):
    def init(self, secret: Any, /) -> Any:
        return Ok({"user": "ann", "password": secret})

    def handle_call(self, request: Any, from_: Any, state: Any, /) -> Any:
        if request == "crash":
            raise RuntimeError("boom")
        return Reply(state["user"], state)

    def format_status(self, status: dict[str, Any], /) -> dict[str, Any]:
        return {"state": {**status["state"], "password": "***"}}


class Broken(Vault):
    def format_status(self, status: dict[str, Any], /) -> dict[str, Any]:
        raise ValueError("no")


class Plain(GenServer):
    pass


def _status_state(status: Any) -> Any:
    """The ("State", state) item of sys:get_status's answer."""
    items = status[3][4]
    return dict(items[2][1])["State"]


async def test_get_state_is_the_raw_state_and_format_status_does_not_apply() -> None:
    _, server = await Vault.start_link("s3cret")
    assert await GenServer.get_state(server) == {"user": "ann", "password": "s3cret"}


async def test_get_status_has_otps_shape_with_the_state_through_format_status() -> None:
    _, server = await Vault.start_link("s3cret", name="vault")
    status = await GenServer.get_status("vault")
    assert status == (
        "status",
        server,
        ("module", "gen_server"),
        [
            [
                ("$initial_call", ("tests.test_sys_status", "Vault", 1)),
                ("$ancestors", [self()]),
            ],
            "running",
            self(),
            [],
            [
                ("header", "Status for generic server vault"),
                ("data", [("Status", "running"), ("Parent", self()), ("Logged events", [])]),
                ("data", [("State", {"user": "ann", "password": "***"})]),
            ],
        ],
    )
    assert isinstance(status[0], Atom) and isinstance(status[2][1], Atom)
    # The server goes on as it was.
    assert await GenServer.call(server, "who") == "ann"


async def test_a_format_status_that_raises_shows_a_failure_text_instead_of_the_state() -> None:
    _, server = await Broken.start_link("s3cret")
    assert _status_state(await GenServer.get_status(server)) == "Broken.format_status failed"


async def test_without_format_status_the_state_is_shown_as_it_is() -> None:
    _, server = await Plain.start_link([1, 2])
    assert _status_state(await GenServer.get_status(server)) == [1, 2]


async def test_a_crash_report_shows_the_state_through_format_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    _, server = await Vault.start("s3cret")
    with pytest.raises(ProcessExit):
        await GenServer.call(server, "crash")
    [record] = caplog.records
    assert record.getMessage().splitlines()[3] == 'State: {"user": "ann", "password": "***"}'


async def test_an_unknown_system_request_is_answered_with_an_error() -> None:
    _, server = await Plain.start_link(0)
    me = self()
    send(server, ("system", (me, "tag"), "suspend"))
    assert await receive(("tag", ANY)) == ("tag", ("error", ("unknown_system_msg", "suspend")))
    assert await GenServer.get_state(server) == 0


async def test_get_status_of_a_dead_server_exits_noproc_and_bad_arguments_raise() -> None:
    dead = pid(0, 999_999, 0)
    with pytest.raises(ProcessExit) as e:
        await GenServer.get_status(dead)
    assert e.value.reason == ("noproc", ("sys.get_status", dead, 5.0))
    with pytest.raises(TypeError, match="GenServer.get_state: server must be"):
        await GenServer.get_state(42)
    with pytest.raises(ValueError, match="GenServer.get_status"):
        await GenServer.get_status(self(), timeout=-1)


async def test_a_process_that_is_no_server_makes_get_state_time_out() -> None:
    async def silent() -> None:
        await Process.sleep(None)

    from tether import spawn

    p = spawn(silent)
    with pytest.raises(ProcessExit) as e:
        await GenServer.get_state(p, timeout=1)
    assert e.value.reason == ("timeout", ("sys.get_state", p, 1))


async def _child(n: int) -> Any:
    return await Plain.start_link(n)


async def test_a_supervisor_shows_its_flags_children_and_restarts() -> None:
    children = [
        {"id": "a", "start": (_child, [1])},
        {"id": "b", "start": (_child, [2])},
    ]
    _, sup = await Supervisor.start_link(children, strategy="rest_for_one", max_restarts=5)
    [(_, b, _, _), (_, a, _, _)] = await Supervisor.which_children(sup)
    state = _status_state(await GenServer.get_status(sup))
    assert state == {
        "name": sup,
        "strategy": "rest_for_one",
        "intensity": 5,
        "period": 5,
        "auto_shutdown": "never",
        "restarts": [],
        "children": [("a", a), ("b", b)],
    }
    mon = Process.monitor(a)
    Process.exit(a, "kill")
    await receive(Down(mon, ANY, ANY, ANY))
    await wait_all_blocked()
    state = _status_state(await GenServer.get_status(sup))
    assert state["restarts"] == [0]  # one restart, at loop time 0 s
    assert [cid for cid, _ in state["children"]] == ["a", "b"]
    assert all(p not in (a, b) for _, p in state["children"])


async def test_a_dynamic_supervisor_shows_its_flags_and_children() -> None:
    _, sup = await DynamicSupervisor.start_link(max_children=3)
    _, child = await DynamicSupervisor.start_child(sup, {"id": "x", "start": (_child, [0])})
    state = _status_state(await GenServer.get_status(sup))
    assert state == {
        "name": sup,
        "strategy": "one_for_one",
        "intensity": 3,
        "period": 5,
        "max_children": 3,
        "restarts": [],
        "children": [child],
    }


class Door(GenStateMachine):
    def init(self, code: Any) -> Any:
        return NextState("locked", {"code": code})

    def handle_event(self, event_type: Any, content: Any, state: Any, data: Any) -> Any:
        return KeepStateAndData()

    def format_status(self, status: dict[str, Any]) -> dict[str, Any]:
        return {"data": {"code": "***"}}


async def test_a_state_machine_answers_with_state_and_data() -> None:
    _, door = await Door.start_link(1234)
    assert await GenServer.get_state(door) == ("locked", {"code": 1234})
    status = await GenServer.get_status(door)
    assert status[2] == ("module", "gen_statem")
    assert _status_state(status) == ("locked", {"code": "***"})
