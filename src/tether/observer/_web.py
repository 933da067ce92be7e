"""The web observer: an aiohttp server on the node's own event loop, pushing samples.

Design
------
The observer is one tether process (:func:`observer_main`).  It serves HTTP and
a websocket with aiohttp (chosen because its server runs on any asyncio loop,
with websockets built in: one well-kept package, no ASGI server beside it), and
runs the sampling loop itself: every ``interval`` seconds it samples its
:class:`~tether.observer._model.Model` and pushes the result to every open
page.  Requests that need a fresh answer (a process page, a graph, sending,
exiting) come from aiohttp's handlers, which are asyncio tasks, not processes:
they run their work as short-lived processes through a bridge
(:class:`tether.RunningNode`), so an rpc to a remote node has the process it
needs and a slow one blocks nobody.

The page (``static/``) is plain HTML, CSS and JavaScript with one vendored,
pinned library, uPlot (MIT; ``static/vendor``), for the charts: no build step
and nothing fetched at run time.  The link/monitor graph around one process is
a radial SVG drawn by the page (a centre and its neighbours need no layout
engine).

Security: the server listens on loopback by default, and every request must
carry the random token printed in the observer's URL (``?token=`` on the page
and the websocket, the ``X-Tether-Token`` header on the API; a cross-site page
can send neither), so another local user or a web page in the browser cannot
read the node or act on it.  Exiting and sending are refused unless the
observer was started with ``actions=True`` (and, for a remote tether node, that
node called :func:`tether.observer.allow_actions`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from pathlib import Path
from typing import Any, Final

from aiohttp import WSMsgType, web

from .._embed import RunningNode, _bridge_body
from .._runtime import _node as _n
from .._runtime._api import Process, receive, send, spawn_link
from .._runtime._api import self as self_pid
from .._runtime._format import inspect
from .._runtime._types import Atom, Pid, ProcessExit
from ._model import Model
from ._source import LocalSource, Source, connect

logger: Final = logging.getLogger("tether.observer")
STATIC: Final = Path(__file__).parent / "static"
_TOKEN_HEADER: Final = "X-Tether-Token"


def to_json(value: Any, pids: dict[str, Pid] | None = None) -> Any:
    """Terms as JSON: pids as ``#PID<a.b.c>`` (noted in ``pids``, text to pid),
    atoms and strings as strings, tuples as lists, anything else rendered with
    ``inspect``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Pid):
        text = repr(value)
        if pids is not None:
            pids[text] = value
        return text
    if isinstance(value, dict):
        return {str(k): to_json(v, pids) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v, pids) for v in value]
    return inspect(value)


def _pid_of(text: str) -> Pid:
    from .._runtime._api import pid

    return pid(text)


class Observer:
    """The state of one running web observer (inside its process)."""

    def __init__(self, source: Source, actions: bool, token: str, interval: float) -> None:
        self.source = source
        self.model = Model(source)
        self.actions = actions
        self.token = token
        self.interval = interval
        self.sockets: set[web.WebSocketResponse] = set()
        self.bridge: RunningNode | None = None
        # The pids the page was shown, by their text: a remote pid's text lacks
        # its node's creation, so the page's pid is looked up here, not parsed.
        self.pids: dict[str, Pid] = {}

    # -- the app ------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC, show_index=False)
        app.router.add_get("/ws", self._ws)
        app.router.add_get("/api/snapshot", self._snapshot)
        app.router.add_get("/api/process/{pid}", self._process)
        app.router.add_get("/api/graph/{pid}", self._graph)
        app.router.add_post("/api/process/{pid}/exit", self._exit)
        app.router.add_post("/api/process/{pid}/send", self._send)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            response: web.StreamResponse = await handler(request)
            return response  # the page's own files hold nothing of the node
        given = request.headers.get(_TOKEN_HEADER) or request.query.get("token", "")
        if request.method != "GET" and request.headers.get(_TOKEN_HEADER) is None:
            given = ""  # actions need the header: a cross-site form cannot set it
        if not secrets.compare_digest(given, self.token):
            raise web.HTTPForbidden(text="tether observer: open the URL with its ?token=")
        answer: web.StreamResponse = await handler(request)
        return answer

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    def snapshot(self, since: int = 0) -> dict[str, Any]:
        m = self.model
        if len(self.pids) > 200_000:
            self.pids.clear()
        data: dict[str, Any] = to_json(
            {
                "type": "snapshot",
                "node": self.source.node,
                "kind": self.source.kind,
                "actions": self.actions and bool((m.overview or {}).get("actions")),
                "overview": m.overview,
                "history": list(m.history),
                "processes": m.processes,
                "tree": m.tree,
                "events": m.events_since(since),
                "time": time.time(),
            },
            self.pids,
        )
        return data

    async def _snapshot(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.snapshot())

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            if self.model.overview is not None:
                await ws.send_str(json.dumps(self.snapshot()))
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.sockets.discard(ws)
        return ws

    async def _in_node(self, fn: Any, *args: Any) -> Any:
        assert self.bridge is not None
        return await self.bridge.run(fn, *args)

    async def _process(self, request: web.Request) -> web.StreamResponse:
        pid = self._pid(request)
        page = await self._in_node(self.source.process, pid)
        if page is None:
            raise web.HTTPNotFound(text=f"{pid!r} is not alive")
        return web.json_response(to_json(page, self.pids))

    async def _graph(self, request: web.Request) -> web.StreamResponse:
        pid = self._pid(request)
        graph = await self._in_node(self.source.graph, pid)
        if graph is None:
            raise web.HTTPNotFound(text=f"{pid!r} is not alive")
        return web.json_response(to_json(graph, self.pids))

    def _pid(self, request: web.Request) -> Pid:
        text = request.match_info["pid"]
        if text in self.pids:
            return self.pids[text]
        try:
            return _pid_of(text)
        except (TypeError, ValueError) as e:
            raise web.HTTPBadRequest(text=str(e)) from None

    async def _act(self, request: web.Request, what: str) -> web.StreamResponse:
        if not self.actions:
            raise web.HTTPForbidden(
                text="this observer is read-only (start it with actions=True / without --read-only)"
            )
        pid = self._pid(request)
        body = await request.json()
        text = body.get("reason" if what == "exit" else "message")
        if not isinstance(text, str) or not text.strip():
            raise web.HTTPBadRequest(text=f"give the {what} as text")
        fn = self.source.exit_process if what == "exit" else self.source.send_message
        try:
            await self._in_node(fn, pid, text)
        except (ValueError, TypeError) as e:
            raise web.HTTPBadRequest(text=str(e)) from None
        except Exception as e:  # the remote node refused (no allow_actions there)
            raise web.HTTPForbidden(text=f"the node refused: {inspect(e)}") from None
        self.model.add_event(
            "notice", "action", f"observer: {what} {pid!r} with {text.strip()}", pid
        )
        return web.json_response({"ok": True})

    async def _exit(self, request: web.Request) -> web.StreamResponse:
        return await self._act(request, "exit")

    async def _send(self, request: web.Request) -> web.StreamResponse:
        return await self._act(request, "send")

    # -- pushing ------------------------------------------------------------------------

    def push(self, last_seq: int) -> None:
        """Send a snapshot to every page (without waiting for slow ones)."""
        if not self.sockets:
            return
        data = json.dumps(self.snapshot(last_seq))
        for ws in list(self.sockets):
            if ws.closed:
                self.sockets.discard(ws)
                continue
            task = asyncio.ensure_future(ws.send_str(data))
            task.add_done_callback(_ignore)


def _ignore(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


STOP: Final = Atom("stop")


async def observer_main(
    parent: Pid,
    tag: Any,
    host: str,
    port: int,
    node: str | None,
    actions: bool,
    token: str | None,
    interval: float,
) -> None:
    """The observer's process: serve, sample, push, until stopped (message
    ``"stop"``) or killed."""
    try:
        source = LocalSource() if node is None else await connect(node)
    except ConnectionError as e:
        send(parent, (tag, ("error", str(e))))
        return
    obs = Observer(source, actions, token or secrets.token_urlsafe(18), interval)
    node_ = _n.NODE
    assert isinstance(node_, _n.Node)
    bridge = spawn_link(_bridge_body)
    obs.bridge = RunningNode(node_, node_.table[bridge])
    # A short shutdown: the process unwinds within the runtime's grace period
    # (UNWIND_GRACE), and an open page's requests need not be waited for.
    runner = web.AppRunner(obs.app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as e:
            send(parent, (tag, ("error", f"cannot listen on {host}:{port}: {e}")))
            return
        bound = runner.addresses[0][1]
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{bound}/?token={obs.token}"
        Process.register(self_pid(), "tether_observer")
        send(parent, (tag, ("ok", url)))
        seq = 0
        failed = ""
        while True:
            try:
                await obs.model.sample()
                failed = ""
            except (Exception, ProcessExit) as e:  # the node went away, a call timed out
                if inspect(e) != failed:
                    failed = inspect(e)
                    logger.warning("tether observer: sampling %s failed: %s", node, failed)
                    obs.model.add_event("warning", "observer", f"sampling failed: {failed}")
            obs.push(seq)
            seq = obs.model.seq
            try:
                await receive(lambda m: m == STOP, timeout=interval)
            except TimeoutError:
                continue
            break
    finally:
        for ws in list(obs.sockets):
            with contextlib.suppress(Exception):
                await ws.close()
        await runner.cleanup()
