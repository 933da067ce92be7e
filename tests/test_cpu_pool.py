"""CPU workers: a supervised pool of OS processes (CpuPool).

The jobs (tests/cpu_jobs.py) run in real worker processes.  Whether a worker
is gone is read from the OS (``/proc``), waiting in real time with generous
margins; the pool's timeouts are on the node's clock.
"""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

import tether
from tether import (
    ANY,
    CpuPool,
    Down,
    Exit,
    Process,
    ProcessExit,
    Supervisor,
    Task,
    receive,
    spawn_monitor,
)
from tether.testing import wait_all_blocked

from . import cpu_jobs

pytestmark = pytest.mark.tether(idle_timeout=60)


def _alive(os_pid: int) -> bool:
    try:
        with open(f"/proc/{os_pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _wait_gone(os_pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while _alive(os_pid):
        assert time.monotonic() < deadline, f"worker {os_pid} still alive"
        time.sleep(0.01)


async def gone(os_pid: int) -> None:
    await asyncio.to_thread(_wait_gone, os_pid)


async def ready(pool: Any, n: int, replaced: int = 0) -> dict[str, Any]:
    """The pool's info once ``n`` workers are up, ``replaced`` of them in place of
    dead ones (real time: processes start, and die)."""
    deadline = time.monotonic() + 60
    while True:
        info = await CpuPool.info(pool)
        if info["ready"] == n and info["replaced"] == replaced:
            return info
        assert time.monotonic() < deadline, info
        await asyncio.to_thread(time.sleep, 0.01)


async def test_run_returns_the_value_computed_in_a_worker_process() -> None:
    _, pool = await CpuPool.start_link(1)
    assert await CpuPool.run(pool, cpu_jobs.square, 12) == 144
    worker = await CpuPool.run(pool, cpu_jobs.pid_of_worker)
    assert worker != os.getpid()
    assert (await CpuPool.info(pool))["os_pids"] == [worker]


async def test_the_jobs_exception_is_raised_in_the_caller_with_its_remote_traceback() -> None:
    _, pool = await CpuPool.start_link(1)
    with pytest.raises(ValueError, match="^bad input$") as caught:
        await CpuPool.run(pool, cpu_jobs.fail, "bad input")
    assert "raise ValueError(message)" in str(caught.value.__cause__)
    assert await CpuPool.run(pool, cpu_jobs.square, 3) == 9  # the worker lives on


async def test_a_timeout_kills_the_os_worker_and_the_pool_replaces_it() -> None:
    _, pool = await CpuPool.start_link(1)
    [worker] = (await ready(pool, 1))["os_pids"]
    with pytest.raises(ProcessExit) as caught:
        await CpuPool.run(pool, cpu_jobs.spin, 600, timeout=0.5)
    assert caught.value.reason == ("timeout", ("CpuPool.run", pool, 0.5))
    await gone(worker)
    info = await ready(pool, 1, replaced=1)
    assert info["os_pids"] != [worker]
    assert await CpuPool.run(pool, cpu_jobs.square, 5) == 25


async def test_the_callers_death_kills_the_os_worker_running_its_job() -> None:
    _, pool = await CpuPool.start_link(1)
    [worker] = (await ready(pool, 1))["os_pids"]

    async def caller() -> None:
        await CpuPool.run(pool, cpu_jobs.spin, 600)

    pid, ref = spawn_monitor(caller)
    await wait_all_blocked()
    assert (await CpuPool.info(pool))["busy"] == 1
    Process.exit(pid, "kill")
    assert await receive() == Down(ref, "process", pid, "killed")
    await gone(worker)
    info = await ready(pool, 1, replaced=1)
    assert info["busy"] == 0 and info["os_pids"] != [worker]


async def test_a_job_that_takes_its_interpreter_down_raises_brokenprocesspool() -> None:
    _, pool = await CpuPool.start_link(1)
    with pytest.raises(BrokenProcessPool, match="the CPU worker running the job exited"):
        await CpuPool.run(pool, cpu_jobs.crash_interpreter)
    assert await CpuPool.run(pool, cpu_jobs.square, 4) == 16  # on its replacement
    assert (await CpuPool.info(pool))["replaced"] == 1


async def test_async_and_await_as_in_task_and_a_crash_reaches_the_linked_caller() -> None:
    _, pool = await CpuPool.start_link(2)
    task = CpuPool.async_(pool, cpu_jobs.square, 9)
    assert isinstance(task, Task)
    assert await Task.await_(task, timeout=None) == 81
    Process.flag("trap_exit", True)
    task = CpuPool.async_(pool, cpu_jobs.fail, "in a task")
    msg = await receive(Exit(task.pid, ANY))
    assert isinstance(msg.reason, ValueError) and str(msg.reason) == "in a task"


async def test_async_stream_fans_out_over_every_worker_in_input_order() -> None:
    _, pool = await CpuPool.start_link(2)
    await ready(pool, 2)
    async with CpuPool.async_stream(pool, cpu_jobs.square, range(20), timeout=None) as results:
        assert [r async for r in results] == [("ok", i * i) for i in range(20)]
    # Two jobs that each take a while run at once, one per worker.
    async with CpuPool.async_stream(pool, cpu_jobs.spin, [0.3, 0.3], timeout=None) as results:
        workers = {pid async for _, pid in results}
    assert workers == set((await CpuPool.info(pool))["os_pids"])


async def test_async_stream_kill_task_kills_the_worker_of_a_late_job() -> None:
    _, pool = await CpuPool.start_link(1)
    [worker] = (await ready(pool, 1))["os_pids"]
    stream = CpuPool.async_stream(pool, cpu_jobs.spin, [600], timeout=0.5, on_timeout="kill_task")
    assert [r async for r in stream] == [("exit", "timeout")]
    await gone(worker)
    assert (await ready(pool, 1, replaced=1))["os_pids"] != [worker]


async def test_stopping_the_pool_kills_its_workers() -> None:
    _, pool = await CpuPool.start_link(2)
    workers = (await ready(pool, 2))["os_pids"]
    assert await CpuPool.stop(pool) == "ok"
    for w in workers:
        await gone(w)


async def test_a_pool_is_a_supervisors_child() -> None:
    _, sup = await Supervisor.start_link([CpuPool.child_spec(1, name="cpu")])
    [(child_id, pid, kind, _)] = await Supervisor.which_children(sup)
    assert (child_id, kind) == (CpuPool, "worker")
    assert Process.whereis("cpu") == pid
    assert await CpuPool.run("cpu", cpu_jobs.square, 6) == 36
    [worker] = (await ready("cpu", 1))["os_pids"]
    await Supervisor.stop(sup)
    await gone(worker)


async def test_bad_arguments_are_refused_before_anything_starts() -> None:
    async def not_plain() -> None:
        pass

    with pytest.raises(ValueError, match="size must be an int >= 1"):
        await CpuPool.start_link(0)
    with pytest.raises(TypeError, match="is an async function"):
        await CpuPool.run(tether.self(), not_plain)
    with pytest.raises(TypeError, match="fun must be a picklable plain function"):
        CpuPool.async_(tether.self(), 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout must be >= 0"):
        await CpuPool.run(tether.self(), cpu_jobs.square, 1, timeout=-1)
    assert Process.info(tether.self(), "links") == []  # nothing was started
