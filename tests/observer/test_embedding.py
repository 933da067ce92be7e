"""The observer as a package: optional, documented, startable from an embedded node."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import subprocess
import sys
import urllib.request

import tether
import tether.observer as observer


def test_importing_tether_imports_nothing_of_the_observer_extra() -> None:
    code = (
        "import sys, tether; "
        "print(sorted(m for m in ('aiohttp', 'rich', 'tether.observer') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_observer_name_is_documented() -> None:
    assert inspect.getdoc(observer)
    for name in observer.__all__:
        assert inspect.getdoc(getattr(observer, name)), name


def test_an_embedded_node_runs_the_observer_and_stops_it_with_the_node() -> None:
    # Real time: open_node runs on asyncio's own loop.  The snapshot is read over
    # HTTP from a thread (urllib), so the loop keeps serving meanwhile.
    async def main() -> tuple[str, dict[str, object]]:
        async with tether.open_node() as node:
            url = await node.run(functools.partial(observer.start, port=0, interval=0.2))
            base, token = url.split("/?token=")
            request = urllib.request.Request(
                base + "/api/snapshot", headers={"X-Tether-Token": token}
            )
            for _ in range(100):
                body = await asyncio.to_thread(lambda: urllib.request.urlopen(request).read())
                snap = json.loads(body)
                if snap["overview"] is not None:
                    break
                await asyncio.sleep(0.1)
            stopped = await node.run(observer.stop)
            assert stopped is True
            return url, snap

    url, snap = asyncio.run(main())
    assert url.startswith("http://127.0.0.1:")
    assert snap["node"] == "nonode@nohost" and snap["kind"] == "tether"
    assert snap["overview"]["processes"] >= 2  # type: ignore[index]
