"""The inventory application: a stock server under a supervisor.

``shop`` depends on it by name (``applications=["inventory"]``), so starting
``shop`` imports this module and starts this application first.
"""

from typing import Any

import tether
from tether import Application, GenServer, Ok, Reply, Supervisor


class Stock(GenServer):
    def init(self, items: dict[str, int]) -> Any:
        tether.Process.flag("trap_exit", True)  # so that terminate runs on shutdown
        return Ok(dict(items))

    def handle_call(self, request: Any, from_: Any, items: dict[str, int]) -> Any:
        _take, item = request
        if items.get(item, 0) == 0:
            return Reply("sold_out", items)
        items[item] -= 1
        return Reply("ok", items)

    def terminate(self, reason: Any, items: dict[str, int]) -> None:
        print(f"stock: closing ({reason}), left: {items}")


async def start_stock(items: dict[str, int]) -> Any:
    return await Stock.start_link(items, name="stock")


class Inventory(Application, description="the shop's stock", vsn="1.0.0", env={"stock": {}}):
    async def start(self, start_type: str, args: Any) -> Any:
        stock = Application.get_env("inventory", "stock")
        print(f"inventory: start({start_type}) with stock {stock}")
        return await Supervisor.start_link(
            [{"id": "stock", "start": (start_stock, (stock,))}], strategy="one_for_one"
        )

    def stop(self, state: Any) -> None:
        print("inventory: stopped")
