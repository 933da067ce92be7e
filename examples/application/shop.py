"""The shop application: a clerk serves the configured orders, then the shop closes.

Run it from this folder, where ``tether.toml`` configures both applications::

    tether run --app shop

The clerk is a significant child: when it is done, its supervisor shuts down
(``auto_shutdown``), so the shop application exits.  ``tether run`` starts its
applications as ``permanent``, so that stops the node, gracefully: ``inventory``
is stopped after it, and the exit status is 1, as the BEAM's would be.
"""

from typing import Any

from tether import Application, GenServer, Supervisor, Task


async def clerk() -> None:
    for item in Application.get_env("shop", "orders"):
        print(f"clerk: {item} -> {await GenServer.call('stock', ('take', item))}")
    print("clerk: done, closing the shop")


class Shop(Application, applications=["inventory"], env={"orders": []}):
    async def start(self, start_type: str, args: Any) -> Any:
        print(f"shop: start({start_type}), {len(Application.get_env('shop', 'orders'))} orders")
        clerk_spec = {**Task.child_spec(clerk), "restart": "transient", "significant": True}
        result = await Supervisor.start_link(
            [clerk_spec], strategy="one_for_one", auto_shutdown="any_significant"
        )
        return (*result, "open")  # ("ok", pid, state)

    def prep_stop(self, state: str) -> str:
        print(f"shop: prep_stop({state!r})")
        return "closing"

    def stop(self, state: str) -> None:
        print(f"shop: stop({state!r})")
