"""Elixir 1.14's ``lib/elixir/test/elixir/dynamic_supervisor_test.exs``, ported (SU-10).

One test per ExUnit test, named after it, in the original order.  Elixir modules
become classes, ``{m, f, a}`` becomes ``(fun, args)``, milliseconds become seconds;
``Process.put`` in a start function writes the supervisor's dictionary, as in Elixir
(the start function runs in the supervisor).  The tests without a meaning for
tether are listed in ``README.md``.
"""

from __future__ import annotations

from typing import Any

import tether
from tether import (
    ANY,
    Down,
    DynamicSupervisor,
    Process,
    Registry,
    Supervisor,
    Task,
    receive,
    send,
    spawn_link,
)

from .test_supervisor import TaskSpec, foo_bar


class Simple(DynamicSupervisor):
    """``use DynamicSupervisor``; ``init(args)`` returns ``args``."""

    def init(self, arg: Any) -> Any:
        return arg


async def sleep_forever() -> None:
    await Process.sleep(None)


def start_link(*args: Any) -> Any:
    """``DynamicSupervisorTest.start_link/1,2``: the start function of the tests."""
    match args:
        case ("ok3",):
            return ("ok", spawn_link(sleep_forever), "extra")
        case ("ok2",):
            return ("ok", spawn_link(sleep_forever))
        case ("error",):
            return ("error", "found")
        case ("ignore",):
            return "ignore"
        case ("unknown",):
            return "unknown"
        case ("non_local", "throw"):
            # Python has no throw: a BaseException that is not an Exception stands for it.
            raise SystemExit("oops")
        case ("non_local", "error"):
            raise RuntimeError("oops")
        case ("non_local", "exit"):
            tether.exit("oops")
        case ("try_again", notify):
            if Process.get("try_again"):
                Process.put("try_again", False)
                send(notify, ("try_again", False))
                return ("error", "try_again")
            Process.put("try_again", True)
            send(notify, ("try_again", True))
            return start_link("ok2")
        case ("restart", value):
            if Process.get(("restart", value)):
                return start_link(value)
            Process.put(("restart", value), True)
            return start_link("ok2")
    raise AssertionError(args)


def sleepy_worker(**opts: Any) -> dict[str, Any]:
    mfa = (Task.start_link, [sleep_forever])
    return Supervisor.child_spec_of({"id": Task, "start": mfa}, **opts)


def current_module_worker(args: list[Any], **opts: Any) -> dict[str, Any]:
    return Supervisor.child_spec_of(
        {"id": "DynamicSupervisorTest", "start": (start_link, args)}, **opts
    )


async def assert_kill(pid: tether.Pid, reason: Any) -> None:
    ref = Process.monitor(pid)
    Process.exit(pid, reason)
    await receive(Down(ref, ANY, ANY, ANY))


def _filter(pattern: Any) -> Any:
    return pattern if isinstance(pattern, tuple | type | Down | tether.Exit) else pattern.__eq__


async def assert_receive(pattern: Any) -> Any:
    """ExUnit's ``assert_receive``: the message arrives (virtual time)."""
    return await receive(_filter(pattern), timeout=5)


async def assert_received(pattern: Any) -> Any:
    """ExUnit's ``assert_received``: the message is already in the mailbox."""
    return await receive(_filter(pattern), timeout=0)


# dynamic_supervisor_test.exs: test "can be supervised directly"
async def test_can_be_supervised_directly() -> None:
    children = [(DynamicSupervisor, {"name": "dyn_sup_spec_test"})]
    ok, _ = await Supervisor.start_link(children, strategy="one_for_one")
    assert ok == "ok"
    assert await DynamicSupervisor.which_children("dyn_sup_spec_test") == []


# dynamic_supervisor_test.exs: test "multiple supervisors can be supervised and
# identified with simple child spec"
async def test_multiple_supervisors_can_be_supervised_and_identified_with_simple_child_spec() -> (
    None
):
    await Registry.start_link(keys="unique", name="DynSup.Registry")
    via = ("via", Registry, ("DynSup.Registry", "via_name"))
    # ({DynamicSupervisor, name: {:global, :global_name}} is left out: tether has no
    # global names yet.)
    children = [
        (DynamicSupervisor, {"name": "simple_name"}),
        (DynamicSupervisor, {"name": via}),
    ]
    ok, supsup = await Supervisor.start_link(children, strategy="one_for_one")
    assert ok == "ok"

    ok, no_name_dynsup = await Supervisor.start_child(
        supsup, (DynamicSupervisor, {"strategy": "one_for_one"})
    )
    assert ok == "ok"

    assert await DynamicSupervisor.which_children("simple_name") == []
    assert await DynamicSupervisor.which_children(via) == []
    assert await DynamicSupervisor.which_children(no_name_dynsup) == []

    assert await Supervisor.start_child(
        supsup, (DynamicSupervisor, {"strategy": "one_for_one"})
    ) == (
        "error",
        ("already_started", no_name_dynsup),
    )


# dynamic_supervisor_test.exs: describe "use/2", test "generates child_spec/1"
async def test_use_2_generates_child_spec_1() -> None:
    assert Simple.child_spec(["hello"]) == {
        "id": Simple,
        "start": (Simple.start_link, (["hello"],)),
        "type": "supervisor",
    }

    # use DynamicSupervisor, id: :id, restart: :temporary, shutdown: :infinity,
    # start: {:foo, :bar, []}
    class Custom(
        DynamicSupervisor,
        id="id",
        restart="temporary",
        shutdown="infinity",
        start=(foo_bar, []),
    ):
        def init(self, arg: Any) -> Any:
            return ("producer", arg)

    assert Custom.child_spec(["hello"]) == {
        "id": "id",
        "restart": "temporary",
        "shutdown": "infinity",
        "start": (foo_bar, []),
        "type": "supervisor",
    }


# dynamic_supervisor_test.exs: describe "init/1", test "set default options"
async def test_init_1_set_default_options() -> None:
    assert DynamicSupervisor.init_spec() == (
        "ok",
        {
            "strategy": "one_for_one",
            "intensity": 3,
            "period": 5,
            "max_children": "infinity",
            "extra_arguments": [],
        },
    )


# dynamic_supervisor_test.exs: describe "start_link/3", test "with non-ok init"
async def test_start_link_3_with_non_ok_init() -> None:
    Process.flag("trap_exit", True)

    assert await Simple.start_link(("ok", {"strategy": "unknown"})) == (
        "error",
        ("supervisor_data", ("invalid_strategy", "unknown")),
    )
    assert await Simple.start_link(("ok", {"intensity": -1})) == (
        "error",
        ("supervisor_data", ("invalid_intensity", -1)),
    )
    assert await Simple.start_link(("ok", {"period": 0})) == (
        "error",
        ("supervisor_data", ("invalid_period", 0)),
    )
    assert await Simple.start_link(("ok", {"max_children": -1})) == (
        "error",
        ("supervisor_data", ("invalid_max_children", -1)),
    )
    assert await Simple.start_link(("ok", {"extra_arguments": -1})) == (
        "error",
        ("supervisor_data", ("invalid_extra_arguments", -1)),
    )
    assert await Simple.start_link("unknown") == (
        "error",
        ("bad_return", (Simple, "init", "unknown")),
    )
    assert await Simple.start_link("ignore") == "ignore"


# dynamic_supervisor_test.exs: describe "start_link/3", test "with registered process"
async def test_start_link_3_with_registered_process() -> None:
    _, pid = await Simple.start_link(("ok", {}), name="DynamicSupervisorTest")

    # Sets up a link
    assert pid in Process.info(tether.self(), "links")

    # A name
    assert Process.whereis("DynamicSupervisorTest") == pid

    # (The initial call, :proc_lib.translate_initial_call/1, is BEAM internals.)

    # And shuts down
    assert await DynamicSupervisor.stop("DynamicSupervisorTest") == "ok"


async def returns_ok() -> str:
    return "ok"


# dynamic_supervisor_test.exs: describe "start_child/2", test "supports old child spec"
async def test_start_child_2_supports_old_child_spec() -> None:
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one")
    child = (Task, (Task.start_link, [returns_ok]), "temporary", 5, "worker", [Task])
    ok, child_pid = await DynamicSupervisor.start_child(pid, child)
    assert ok == "ok" and type(child_pid) is tether.Pid


# dynamic_supervisor_test.exs: describe "start_child/2", test "supports new child spec as tuple"
async def test_start_child_2_supports_new_child_spec_as_tuple() -> None:
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one")
    child = {"id": Task, "restart": "temporary", "start": (Task.start_link, [returns_ok])}
    ok, child_pid = await DynamicSupervisor.start_child(pid, child)
    assert ok == "ok" and type(child_pid) is tether.Pid


# dynamic_supervisor_test.exs: describe "start_child/2", test "supports new child spec"
async def test_start_child_2_supports_new_child_spec() -> None:
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one")
    child = (TaskSpec, sleep_forever)
    ok, child_pid = await DynamicSupervisor.start_child(pid, child)
    assert ok == "ok" and type(child_pid) is tether.Pid


# dynamic_supervisor_test.exs: describe "start_child/2", test "supports extra arguments"
async def test_start_child_2_supports_extra_arguments() -> None:
    parent = tether.self()

    async def fun() -> None:
        send(parent, "from_child")

    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one", extra_arguments=[fun])
    child = {"id": Task, "restart": "temporary", "start": (Task.start_link, [])}
    ok, child_pid = await DynamicSupervisor.start_child(pid, child)
    assert ok == "ok" and type(child_pid) is tether.Pid
    assert await assert_receive("from_child") == "from_child"


# dynamic_supervisor_test.exs: describe "start_child/2", test "with invalid child spec"
async def test_start_child_2_with_invalid_child_spec() -> None:
    assert await DynamicSupervisor.start_child("not_used", {}) == (
        "error",
        ("invalid_child_spec", {}),
    )
    assert await DynamicSupervisor.start_child("not_used", (1, 2, 3, 4, 5, 6)) == (
        "error",
        ("invalid_mfa", 2),
    )
    # %{id: 1, start: {Task, :foo, :bar}}: arguments that are not a list.
    assert await DynamicSupervisor.start_child(
        "not_used", {"id": 1, "start": (Task.start_link, "bar")}
    ) == ("error", ("invalid_mfa", (Task.start_link, "bar")))


# dynamic_supervisor_test.exs: describe "start_child/2", test "with different returns"
async def test_start_child_2_with_different_returns() -> None:
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one")

    ok, _child, extra = await DynamicSupervisor.start_child(pid, current_module_worker(["ok3"]))
    assert (ok, extra) == ("ok", "extra")
    ok, _child = await DynamicSupervisor.start_child(pid, current_module_worker(["ok2"]))
    assert ok == "ok"
    assert await DynamicSupervisor.start_child(pid, current_module_worker(["ignore"])) == "ignore"
    assert await DynamicSupervisor.start_child(pid, current_module_worker(["error"])) == (
        "error",
        "found",
    )
    assert await DynamicSupervisor.start_child(pid, current_module_worker(["unknown"])) == (
        "error",
        "unknown",
    )


# dynamic_supervisor_test.exs: describe "start_child/2", test "with throw/error/exit"
async def test_start_child_2_with_throw_error_exit() -> None:
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one")

    # {:error, {{:nocatch, :oops}, stack}}: here a raised BaseException is the reason.
    error, reason = await DynamicSupervisor.start_child(
        pid, current_module_worker(["non_local", "throw"])
    )
    assert (error, type(reason), reason.args) == ("error", SystemExit, ("oops",))

    # {:error, {%RuntimeError{}, stack}}: the exception carries its traceback.
    error, reason = await DynamicSupervisor.start_child(
        pid, current_module_worker(["non_local", "error"])
    )
    assert (error, type(reason), reason.args) == ("error", RuntimeError, ("oops",))
    assert reason.__traceback__ is not None

    assert await DynamicSupervisor.start_child(
        pid, current_module_worker(["non_local", "exit"])
    ) == ("error", "oops")
    assert Process.alive(pid) is True


# dynamic_supervisor_test.exs: describe "start_child/2", test "with max_children"
async def test_start_child_2_with_max_children() -> None:
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one", max_children=0)
    assert await DynamicSupervisor.start_child(pid, current_module_worker(["ok2"])) == (
        "error",
        "max_children",
    )


async def counts(sup: Any, *keys: str) -> dict[str, int]:
    got = await DynamicSupervisor.count_children(sup)
    return {k: got[k] for k in keys}


# dynamic_supervisor_test.exs: describe "start_child/2", test "temporary child is not
# restarted regardless of reason"
async def test_start_child_2_temporary_child_is_not_restarted_regardless_of_reason() -> None:
    child = current_module_worker(["ok2"], restart="temporary")
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one")

    _, child_pid = await DynamicSupervisor.start_child(pid, child)
    await assert_kill(child_pid, "shutdown")
    assert await counts(pid, "workers", "active") == {"workers": 0, "active": 0}

    _, child_pid = await DynamicSupervisor.start_child(pid, child)
    await assert_kill(child_pid, "whatever")
    assert await counts(pid, "workers", "active") == {"workers": 0, "active": 0}


# dynamic_supervisor_test.exs: describe "start_child/2", test "transient child is
# restarted unless normal/shutdown/{shutdown, _}"
async def test_start_child_2_transient_child_is_restarted_unless_normal_shutdown_shutdown() -> None:
    child = current_module_worker(["ok2"], restart="transient")
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one")

    _, child_pid = await DynamicSupervisor.start_child(pid, child)
    await assert_kill(child_pid, "shutdown")
    assert await counts(pid, "workers", "active") == {"workers": 0, "active": 0}

    _, child_pid = await DynamicSupervisor.start_child(pid, child)
    await assert_kill(child_pid, ("shutdown", "signal"))
    assert await counts(pid, "workers", "active") == {"workers": 0, "active": 0}

    _, child_pid = await DynamicSupervisor.start_child(pid, child)
    await assert_kill(child_pid, "whatever")
    assert await counts(pid, "workers", "active") == {"workers": 1, "active": 1}


# dynamic_supervisor_test.exs: describe "start_child/2", test "permanent child is
# restarted regardless of reason"
async def test_start_child_2_permanent_child_is_restarted_regardless_of_reason() -> None:
    child = current_module_worker(["ok2"], restart="permanent")
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one", max_restarts=100_000)

    _, child_pid = await DynamicSupervisor.start_child(pid, child)
    await assert_kill(child_pid, "shutdown")
    assert await counts(pid, "workers", "active") == {"workers": 1, "active": 1}

    _, child_pid = await DynamicSupervisor.start_child(pid, child)
    await assert_kill(child_pid, ("shutdown", "signal"))
    assert await counts(pid, "workers", "active") == {"workers": 2, "active": 2}

    _, child_pid = await DynamicSupervisor.start_child(pid, child)
    await assert_kill(child_pid, "whatever")
    assert await counts(pid, "workers", "active") == {"workers": 3, "active": 3}


# dynamic_supervisor_test.exs: describe "start_child/2", test "child is restarted with
# different values"
async def test_start_child_2_child_is_restarted_with_different_values() -> None:
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one", max_restarts=100_000)

    _, child1 = await DynamicSupervisor.start_child(pid, current_module_worker(["restart", "ok2"]))
    assert await DynamicSupervisor.which_children(pid) == [
        ("undefined", child1, "worker", [start_link])
    ]
    await assert_kill(child1, "shutdown")
    assert await counts(pid, "workers", "active") == {"workers": 1, "active": 1}

    _, child2 = await DynamicSupervisor.start_child(pid, current_module_worker(["restart", "ok3"]))
    [(u1, _, w1, _), (u2, c2, w2, _)] = await DynamicSupervisor.which_children(pid)
    assert (u1, w1, u2, c2, w2) == ("undefined", "worker", "undefined", child2, "worker")
    await assert_kill(child2, "shutdown")
    assert await counts(pid, "workers", "active") == {"workers": 2, "active": 2}

    _, child3 = await DynamicSupervisor.start_child(
        pid, current_module_worker(["restart", "ignore"])
    )
    assert len(await DynamicSupervisor.which_children(pid)) == 3
    await assert_kill(child3, "shutdown")
    assert await counts(pid, "workers", "active") == {"workers": 2, "active": 2}

    _, child4 = await DynamicSupervisor.start_child(
        pid, current_module_worker(["restart", "error"])
    )
    assert len(await DynamicSupervisor.which_children(pid)) == 3
    await assert_kill(child4, "shutdown")
    assert await counts(pid, "workers", "active") == {"workers": 3, "active": 2}

    _, child5 = await DynamicSupervisor.start_child(
        pid, current_module_worker(["restart", "unknown"])
    )
    assert [c[1] == "restarting" for c in await DynamicSupervisor.which_children(pid)] == [
        False,
        False,
        True,
        False,
    ]
    await assert_kill(child5, "shutdown")
    assert await counts(pid, "workers", "active") == {"workers": 4, "active": 2}


# dynamic_supervisor_test.exs: describe "start_child/2", test "restarting on init
# children counted in max_children"
async def test_start_child_2_restarting_on_init_children_counted_in_max_children() -> None:
    child = current_module_worker(["restart", "error"], restart="permanent")
    _, pid = await DynamicSupervisor.start_link(
        strategy="one_for_one", max_children=1, max_restarts=100_000
    )

    _, child_pid = await DynamicSupervisor.start_child(pid, child)
    await assert_kill(child_pid, "shutdown")
    assert await counts(pid, "workers", "active") == {"workers": 1, "active": 0}

    child = current_module_worker(["restart", "ok2"], restart="permanent")
    assert await DynamicSupervisor.start_child(pid, child) == ("error", "max_children")


# dynamic_supervisor_test.exs: describe "start_child/2", test "restarting on exit
# children counted in max_children"
async def test_start_child_2_restarting_on_exit_children_counted_in_max_children() -> None:
    child = current_module_worker(["ok2"], restart="permanent")
    _, pid = await DynamicSupervisor.start_link(
        strategy="one_for_one", max_children=1, max_restarts=100_000
    )

    _, child_pid = await DynamicSupervisor.start_child(pid, child)
    await assert_kill(child_pid, "shutdown")
    assert await counts(pid, "workers", "active") == {"workers": 1, "active": 1}

    child = current_module_worker(["ok2"], restart="permanent")
    assert await DynamicSupervisor.start_child(pid, child) == ("error", "max_children")


# dynamic_supervisor_test.exs: describe "start_child/2", test "restarting a child with
# extra_arguments successfully restarts child"
async def test_start_child_2_restarting_a_child_with_extra_arguments_restarts_child() -> None:
    parent = tether.self()

    async def fun() -> None:
        send(parent, "from_child")
        await Process.sleep(None)

    _, sup = await DynamicSupervisor.start_link(strategy="one_for_one", extra_arguments=[fun])
    child = {"id": Task, "restart": "transient", "start": (Task.start_link, [])}

    ok, child_pid = await DynamicSupervisor.start_child(sup, child)
    assert ok == "ok" and type(child_pid) is tether.Pid
    assert await assert_receive("from_child") == "from_child"
    assert await counts(sup, "active", "workers") == {"active": 1, "workers": 1}
    await assert_kill(child_pid, "oops")
    assert await assert_receive("from_child") == "from_child"
    assert await counts(sup, "workers", "active") == {"workers": 1, "active": 1}


# dynamic_supervisor_test.exs: describe "start_child/2", test "child is restarted when
# trying again"
async def test_start_child_2_child_is_restarted_when_trying_again() -> None:
    child = current_module_worker(["try_again", tether.self()], restart="permanent")
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one", max_restarts=2)

    ok, child_pid = await DynamicSupervisor.start_child(pid, child)
    assert ok == "ok"
    assert await assert_received(("try_again", True)) == ("try_again", True)
    await assert_kill(child_pid, "shutdown")
    assert await assert_receive(("try_again", False)) == ("try_again", False)
    assert await assert_receive(("try_again", True)) == ("try_again", True)
    assert await counts(pid, "workers", "active") == {"workers": 1, "active": 1}


# dynamic_supervisor_test.exs: describe "start_child/2", test "child triggers maximum
# restarts"
async def test_start_child_2_child_triggers_maximum_restarts() -> None:
    Process.flag("trap_exit", True)
    child = current_module_worker(["restart", "error"], restart="permanent")
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one", max_restarts=1)

    _, child_pid = await DynamicSupervisor.start_child(pid, child)
    await assert_kill(child_pid, "shutdown")
    assert await assert_receive(tether.Exit(pid, ANY)) == tether.Exit(pid, "shutdown")


# dynamic_supervisor_test.exs: describe "start_child/2", test "child triggers maximum
# intensity when trying again"
async def test_start_child_2_child_triggers_maximum_intensity_when_trying_again() -> None:
    Process.flag("trap_exit", True)
    child = current_module_worker(["restart", "error"], restart="permanent")
    _, pid = await DynamicSupervisor.start_link(strategy="one_for_one", max_restarts=10)

    _, child_pid = await DynamicSupervisor.start_child(pid, child)
    await assert_kill(child_pid, "shutdown")
    assert await assert_receive(tether.Exit(pid, ANY)) == tether.Exit(pid, "shutdown")


async def three_children(sup: Any, child: Any) -> list[tether.Ref]:
    pids = []
    for _ in range(3):
        ok, pid = await DynamicSupervisor.start_child(sup, child)
        assert ok == "ok"
        pids.append(pid)
    return pids


async def downs(pids: list[tether.Pid]) -> list[Any]:
    """Monitor ``pids``; after the supervisor is killed, their DOWN reasons in order."""
    refs = [Process.monitor(p) for p in pids]
    return refs


async def reasons(refs: list[tether.Ref]) -> list[Any]:
    out = []
    for ref in refs:
        down = await assert_receive(Down(ref, ANY, ANY, ANY))
        out.append(down.reason)
    return out


# dynamic_supervisor_test.exs: describe "terminate/2", test "terminates children with
# brutal kill"
async def test_terminate_2_terminates_children_with_brutal_kill() -> None:
    Process.flag("trap_exit", True)
    _, sup = await DynamicSupervisor.start_link(strategy="one_for_one")
    pids = await three_children(sup, sleepy_worker(shutdown="brutal_kill"))
    refs = await downs(pids)
    await assert_kill(sup, "shutdown")
    assert await reasons(refs) == ["killed", "killed", "killed"]


# dynamic_supervisor_test.exs: describe "terminate/2", test "terminates children with
# infinity shutdown"
async def test_terminate_2_terminates_children_with_infinity_shutdown() -> None:
    Process.flag("trap_exit", True)
    _, sup = await DynamicSupervisor.start_link(strategy="one_for_one")
    pids = await three_children(sup, sleepy_worker(shutdown="infinity"))
    refs = await downs(pids)
    await assert_kill(sup, "shutdown")
    assert await reasons(refs) == ["shutdown", "shutdown", "shutdown"]


def trapping_task(parent: tether.Pid, then: Any) -> Any:
    async def fun() -> None:
        Process.flag("trap_exit", True)
        send(parent, "ready")
        await receive()
        tether.exit(then)

    return fun


# dynamic_supervisor_test.exs: describe "terminate/2", test "terminates children with
# infinity shutdown and abnormal reason"
async def test_terminate_2_terminates_children_with_infinity_shutdown_and_abnormal_reason() -> None:
    Process.flag("trap_exit", True)
    _, sup = await DynamicSupervisor.start_link(strategy="one_for_one")
    fun = trapping_task(tether.self(), ("shutdown", "oops"))
    child = Supervisor.child_spec_of((TaskSpec, fun), shutdown="infinity")
    pids = await three_children(sup, child)
    for _ in range(3):
        await assert_receive("ready")
    refs = await downs(pids)
    await assert_kill(sup, "shutdown")
    assert await reasons(refs) == [("shutdown", "oops")] * 3


# dynamic_supervisor_test.exs: describe "terminate/2", test "terminates children with
# integer shutdown"
async def test_terminate_2_terminates_children_with_integer_shutdown() -> None:
    Process.flag("trap_exit", True)
    _, sup = await DynamicSupervisor.start_link(strategy="one_for_one")
    pids = await three_children(sup, sleepy_worker(shutdown=1))
    refs = await downs(pids)
    await assert_kill(sup, "shutdown")
    assert await reasons(refs) == ["shutdown", "shutdown", "shutdown"]


# dynamic_supervisor_test.exs: describe "terminate/2", test "terminates children with
# integer shutdown and abnormal reason"
async def test_terminate_2_terminates_children_with_integer_shutdown_and_abnormal_reason() -> None:
    Process.flag("trap_exit", True)
    _, sup = await DynamicSupervisor.start_link(strategy="one_for_one")
    fun = trapping_task(tether.self(), ("shutdown", "oops"))
    child = Supervisor.child_spec_of((TaskSpec, fun), shutdown=1)
    pids = await three_children(sup, child)
    for _ in range(3):
        await assert_receive("ready")
    refs = await downs(pids)
    await assert_kill(sup, "shutdown")
    assert await reasons(refs) == [("shutdown", "oops")] * 3


# dynamic_supervisor_test.exs: describe "terminate/2", test "terminates children with
# expired integer shutdown"
async def test_terminate_2_terminates_children_with_expired_integer_shutdown() -> None:
    Process.flag("trap_exit", True)
    _, sup = await DynamicSupervisor.start_link(strategy="one_for_one")
    parent = tether.self()

    async def tmt() -> None:
        Process.flag("trap_exit", True)
        send(parent, "ready")
        await Process.sleep(None)

    child_fun = Supervisor.child_spec_of((TaskSpec, sleep_forever), shutdown=0.001)
    child_tmt = Supervisor.child_spec_of((TaskSpec, tmt), shutdown=0.001)
    _, child1 = await DynamicSupervisor.start_child(sup, child_fun)
    _, child2 = await DynamicSupervisor.start_child(sup, child_tmt)
    _, child3 = await DynamicSupervisor.start_child(sup, child_fun)

    await assert_receive("ready")
    refs = await downs([child1, child2, child3])
    await assert_kill(sup, "shutdown")
    assert await reasons(refs) == ["shutdown", "killed", "shutdown"]


# dynamic_supervisor_test.exs: describe "terminate/2", test "terminates children with
# permanent restart and normal reason"
async def test_terminate_2_terminates_children_with_permanent_restart_and_normal_reason() -> None:
    Process.flag("trap_exit", True)
    _, sup = await DynamicSupervisor.start_link(strategy="one_for_one")
    fun = trapping_task(tether.self(), "normal")
    child = Supervisor.child_spec_of((TaskSpec, fun), shutdown="infinity", restart="permanent")
    pids = await three_children(sup, child)
    for _ in range(3):
        await assert_receive("ready")
    refs = await downs(pids)
    await assert_kill(sup, "shutdown")
    assert await reasons(refs) == ["normal", "normal", "normal"]


# dynamic_supervisor_test.exs: describe "terminate/2", test "terminates with mixed children"
async def test_terminate_2_terminates_with_mixed_children() -> None:
    Process.flag("trap_exit", True)
    _, sup = await DynamicSupervisor.start_link(strategy="one_for_one")
    _, child1 = await DynamicSupervisor.start_child(sup, sleepy_worker(shutdown="infinity"))
    _, child2 = await DynamicSupervisor.start_child(sup, sleepy_worker(shutdown="brutal_kill"))
    refs = await downs([child1, child2])
    await assert_kill(sup, "shutdown")
    assert await reasons(refs) == ["shutdown", "killed"]


# dynamic_supervisor_test.exs: describe "terminate_child/2", test "terminates child with
# brutal kill"
async def test_terminate_child_2_terminates_child_with_brutal_kill() -> None:
    _, sup = await DynamicSupervisor.start_link(strategy="one_for_one")
    _, child_pid = await DynamicSupervisor.start_child(sup, sleepy_worker(shutdown="brutal_kill"))

    (ref,) = await downs([child_pid])
    assert await DynamicSupervisor.terminate_child(sup, child_pid) == "ok"
    assert await reasons([ref]) == ["killed"]

    assert await DynamicSupervisor.terminate_child(sup, child_pid) == ("error", "not_found")
    assert await counts(sup, "workers", "active") == {"workers": 0, "active": 0}


# dynamic_supervisor_test.exs: describe "terminate_child/2", test "terminates child with
# integer shutdown"
async def test_terminate_child_2_terminates_child_with_integer_shutdown() -> None:
    _, sup = await DynamicSupervisor.start_link(strategy="one_for_one")
    _, child_pid = await DynamicSupervisor.start_child(sup, sleepy_worker(shutdown=1))

    (ref,) = await downs([child_pid])
    assert await DynamicSupervisor.terminate_child(sup, child_pid) == "ok"
    assert await reasons([ref]) == ["shutdown"]

    assert await DynamicSupervisor.terminate_child(sup, child_pid) == ("error", "not_found")
    assert await counts(sup, "workers", "active") == {"workers": 0, "active": 0}


# dynamic_supervisor_test.exs: describe "terminate_child/2", test "terminates restarting child"
async def test_terminate_child_2_terminates_restarting_child() -> None:
    _, sup = await DynamicSupervisor.start_link(strategy="one_for_one", max_restarts=100_000)

    child = current_module_worker(["restart", "error"], restart="permanent")
    _, child_pid = await DynamicSupervisor.start_child(sup, child)
    await assert_kill(child_pid, "shutdown")
    assert await DynamicSupervisor.terminate_child(sup, child_pid) == "ok"

    assert await DynamicSupervisor.terminate_child(sup, child_pid) == ("error", "not_found")
    assert await counts(sup, "workers", "active") == {"workers": 0, "active": 0}
