"""``tether observer --connect`` on a live Elixir node, driven in headless Chromium.

The observer is the real command in its own OS process; the page is checked by
what it shows (Playwright waits up to 20 s a step), never by a fixed time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.distribution.conftest import COOKIE, Peer, ev, run_node
from tests.distribution.test_observer_remote import ELIXIR_TREE


@pytest.fixture
def elixir_observer(own_ex: Peer, epmd_port: int) -> Iterator[tuple[Peer, str]]:
    built: list[Any] = []

    async def build() -> None:
        built.append(await ev(own_ex, ELIXIR_TREE))

    # In a thread of its own: Playwright's sync API keeps an event loop running
    # in this one, and tether.run wants a thread without one.
    t = threading.Thread(target=run_node, args=(build,))
    t.start()
    t.join()
    assert built == ["ok"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tether", "observer", "--connect", own_ex.name, "--cookie", COOKIE],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "ERL_EPMD_PORT": str(epmd_port)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("tether observer: http://127.0.0.1:"), line
    try:
        yield own_ex, line.split()[-1]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        print(out)  # the observer's own warnings, shown if the test fails


def test_the_observer_of_an_elixir_node_shows_its_tree_restarts_a_killed_worker_and_a_mailbox(
    elixir_observer: tuple[Peer, str], page: Any, shots: Path
) -> None:
    ex, url = elixir_observer
    page.goto(url + "#/tree")
    page.wait_for_function(
        f"() => document.querySelector('#node-name').textContent === '{ex.name}'"
    )
    assert page.inner_text("#node-system").startswith("Erlang/OTP 25, Elixir 1.14")
    worker = page.locator("li.tree-node[data-id=':worker_a']")
    worker.wait_for()
    root = page.locator("li.tree-node.supervisor[data-id='root']")
    assert "one_for_one · max 3 in 5 s" in root.locator(".row").first.inner_text()
    inner = page.locator("li.tree-node.supervisor[data-id=':inner_sup']")
    assert "rest_for_one · max 7 in 9 s" in inner.locator(".row").first.inner_text()
    assert page.locator("li.tree-node.application[data-id='kernel']").count() == 1
    old = str(worker.get_attribute("data-pid"))
    page.screenshot(path=str(shots / "elixir-tree.png"), full_page=True)

    page.once("dialog", lambda d: d.accept())
    worker.locator("button.kill").click()
    page.wait_for_function(
        "old => { const li = document.querySelector(\"li.tree-node[data-id=':worker_a']\");"
        " return li && li.dataset.pid && li.dataset.pid !== old; }",
        arg=old,
    )
    new = str(worker.get_attribute("data-pid"))
    assert new != old
    page.screenshot(path=str(shots / "elixir-restarted.png"), full_page=True)

    page.click("nav a[data-tab='log']")
    entries = page.locator("#log-list li")
    entries.filter(has_text=f"restarted child :worker_a: {old} -> {new}").wait_for()
    entries.filter(has_text=f"Process {old} (child :worker_a of Supervisor").wait_for()
    assert "exited: :killed" in entries.filter(has_text=f"Process {old}").first.inner_text()

    # The process table, then the inbox's page: its queued messages.
    page.click("nav a[data-tab='processes']")
    page.fill("#proc-filter", "inbox")
    page.locator("#proc-table tbody tr").first.click()
    messages = page.locator("#pp-messages li")
    messages.nth(2).wait_for()
    assert messages.all_inner_texts() == [":first", "(:second, 2)", '"third"']
    assert page.inner_text("#pp-message-count") == "(3 queued)"
    page.screenshot(path=str(shots / "elixir-inbox.png"), full_page=True)
