"""A FastAPI service with a tether node inside: supervised HTTP workers, a cache, jobs.

The node lives in the app's lifespan (``tether.open_node``): its processes run on
uvicorn's own event loop, and request handlers reach them through the node's
bridge (``await node.call(...)``, ``node.cast``, ``node.exit``).  The tree::

    app_sup (rest_for_one: if the registry goes, everything after it restarts)
    ├── Registry "workers"          each fetcher registers under ("fetcher", n)
    ├── Cache "cache"               a GenServer holding fetched items and job results
    ├── DynamicSupervisor "jobs"    one temporary child per submitted job
    └── fetchers (one_for_one)
        └── Fetcher 0 .. WORKERS-1  GenServers with an httpx client for the upstream API

Run it (the upstream API at ``UPSTREAM_URL``)::

    UPSTREAM_URL=http://127.0.0.1:8001 uv run --all-groups uvicorn examples.webapp.app:app

    GET  /items/{item_id}            through the cache, else a fetcher (round robin)
    POST /jobs  {"items": [..]}      fetches them in a supervised job; returns its id
    GET  /jobs/{job_id}              the job's result once done
    GET  /workers                    the fetchers' pids
    POST /chaos/kill-worker/{n}      kill fetcher n: its supervisor replaces it

A killed fetcher is replaced by ``app_sup`` at once; a request that met it in the
act retries on the next one, so requests keep succeeding.  On shutdown (Ctrl-C,
SIGTERM) the node stops gracefully: each fetcher's ``terminate`` closes its client.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request

import tether
from tether import (
    DynamicSupervisor,
    ExitError,
    GenServer,
    NoReply,
    Ok,
    Process,
    Registry,
    Reply,
    Supervisor,
)

UPSTREAM = os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8001")
WORKERS = int(os.environ.get("WORKERS", "4"))


def worker_name(n: int) -> Any:
    """The via name a fetcher registers under."""
    return ("via", Registry, ("workers", ("fetcher", n)))


class Cache(GenServer):
    """Items fetched so far, and the results of finished jobs."""

    def init(self, _arg: Any) -> Any:
        return Ok({})

    def handle_call(self, request: Any, from_: Any, items: Any) -> Any:
        match request:
            case ("get", key):
                return Reply(items.get(key), items)
        return Reply(("error", "unknown call"), items)

    def handle_cast(self, request: Any, items: Any) -> Any:
        match request:
            case ("put", key, value):
                return NoReply({**items, key: value})
        return NoReply(items)


class Fetcher(GenServer):
    """One worker: an HTTP client for the upstream API."""

    async def init(self, n: Any) -> Any:
        Process.flag("trap_exit", True)  # so terminate runs when the tree stops
        # Building a client loads TLS certificates: blocking work, off to a thread.
        client = await asyncio.to_thread(httpx.AsyncClient, base_url=UPSTREAM, timeout=5)
        return Ok((n, client))

    async def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
        _n, client = state
        match request:
            case ("fetch", item_id):
                r = await client.get(f"/items/{item_id}")
                r.raise_for_status()
                return Reply(r.json(), state)
        return Reply(("error", "unknown call"), state)

    async def terminate(self, reason: Any, state: Any) -> Any:
        n, client = state
        await client.aclose()
        print(f"fetcher {n} closed ({reason})", flush=True)

    @classmethod
    def child_spec(cls, n: Any = None) -> dict[str, Any]:
        start = functools.partial(cls.start_link, name=worker_name(n))
        return {**super().child_spec(n), "id": ("fetcher", n), "start": (start, (n,))}


async def fetch(item_id: str) -> Any:
    """An item, from the cache or through the fetchers (retrying on the next one
    if a fetcher dies in the middle of the call: its supervisor replaces it)."""
    cached = await GenServer.call("cache", ("get", item_id))
    if cached is not None:
        return cached
    for n in itertools.islice(_round_robin, WORKERS):
        try:
            item = await GenServer.call(worker_name(n), ("fetch", item_id))
        except tether.ProcessExit:
            continue  # that fetcher is gone (being replaced): try the next
        GenServer.cast("cache", ("put", item_id, item))
        return item
    tether.exit(("no_fetcher", item_id))


_round_robin = itertools.cycle(range(WORKERS))


async def run_job(job_id: str, item_ids: list[str]) -> None:
    """A job: fetch every item, then store the result in the cache."""
    items = [await fetch(i) for i in item_ids]
    GenServer.cast("cache", ("put", ("job", job_id), items))


async def start_job(job_id: str, item_ids: list[str]) -> Any:
    return ("ok", tether.spawn_link(run_job, job_id, item_ids))


async def start_tree() -> Any:
    children = [
        Registry.child_spec(keys="unique", name="workers"),
        {**Cache.child_spec(), "start": (functools.partial(Cache.start_link, name="cache"), ())},
        DynamicSupervisor.child_spec({"name": "jobs"}),
        {
            "id": "fetchers",
            "start": (Supervisor.start_link, ([Fetcher.child_spec(n) for n in range(WORKERS)],)),
            "type": "supervisor",
        },
    ]
    # Not linked to this short-lived process: the tree lives until the node stops.
    return await Supervisor.start(children, strategy="rest_for_one", name="app_sup")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncGenerator[None]:
    async with tether.open_node() as node:
        started = await node.run(start_tree)
        assert started[0] == "ok", started
        app.state.node = node
        yield


app = FastAPI(lifespan=lifespan)


def _node(request: Request) -> tether.RunningNode:
    node: tether.RunningNode = request.app.state.node
    return node


@app.get("/items/{item_id}")
async def get_item(item_id: str, request: Request) -> Any:
    try:
        return await _node(request).run(fetch, item_id)
    except ExitError as e:
        raise HTTPException(502, f"upstream failed: {tether.format_exit(e.reason)}") from e


_job_ids = itertools.count(1)


@app.post("/jobs")
async def post_job(body: dict[str, list[str]], request: Request) -> Any:
    job_id = str(next(_job_ids))
    spec = {"id": job_id, "start": (start_job, (job_id, body["items"])), "restart": "temporary"}
    await _node(request).run(DynamicSupervisor.start_child, "jobs", spec)
    return {"job": job_id}


@app.get("/jobs/{job_id}")
async def get_job(job_id: str, request: Request) -> Any:
    result = await _node(request).call("cache", ("get", ("job", job_id)))
    return {"job": job_id, "done": result is not None, "items": result}


@app.get("/workers")
async def workers(request: Request) -> Any:
    node = _node(request)
    return {str(n): repr(node.whereis(worker_name(n))) for n in range(WORKERS)}


@app.post("/chaos/kill-worker/{n}")
async def kill_worker(n: int, request: Request) -> Any:
    node = _node(request)
    pid = node.whereis(worker_name(n))
    if pid is None:
        raise HTTPException(404, f"no fetcher {n} right now")
    node.exit(pid, "kill")
    return {"killed": repr(pid)}
