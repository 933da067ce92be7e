"""The web observer in a real headless Chromium, against a live tether node.

Real time: the node and the browser are separate OS processes, so waits are for
what the page shows (Playwright's auto-waiting, 20 s per step on a loaded
2-core machine), never for a fixed time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .conftest import DemoNode


def _tree_pid(page: Any, child_id: str) -> str:
    return str(page.locator(f"li.tree-node[data-id=':{child_id}']").get_attribute("data-pid"))


def test_the_tree_shows_the_supervisors_and_a_worker_killed_from_the_page_is_restarted(
    demo: DemoNode, page: Any, shots: Path
) -> None:
    page.goto(demo.url + "#/tree")
    page.locator("#conn-state.good").wait_for()
    counter = page.locator("li.tree-node[data-id=':counter']")
    counter.wait_for()
    # The tree: the root supervisor, its nested supervisor, the workers.
    root = page.locator("#tree-root > ul > li.supervisor").first
    assert "one_for_one · max 3 in 5 s · restarts 0" in root.locator(".row").first.inner_text()
    nested = page.locator("li.tree-node.supervisor[data-id=':workers_sup']")
    assert nested.locator("li.tree-node.worker").count() == 2
    assert page.locator("li.tree-node.worker[data-id=':spare']").count() == 1
    old = _tree_pid(page, "counter")
    assert old.startswith("#PID<0.")
    page.screenshot(path=str(shots / "tree-before.png"), full_page=True)

    page.once("dialog", lambda d: d.accept())
    counter.locator("button.kill").click()
    # The supervisor restarts it: a new pid under the same id, flashing.
    page.wait_for_function(
        "old => { const li = document.querySelector(\"li.tree-node[data-id=':counter']\");"
        " return li && li.dataset.pid && li.dataset.pid !== old; }",
        arg=old,
    )
    new = _tree_pid(page, "counter")
    assert new != old
    page.locator("li.tree-node.restarted[data-id=':counter']").wait_for()
    assert "restarts 1" in nested.locator(".row").first.inner_text()
    page.screenshot(path=str(shots / "tree-restarted.png"), full_page=True)

    # The log has the supervisor's report and the restart the observer saw.
    page.click("nav a[data-tab='log']")
    page.fill("#log-filter", "counter")
    entries = page.locator("#log-list li")
    entries.filter(has_text=f"restarted child :counter: {old} -> {new}").wait_for()
    report = entries.filter(has_text="Child :counter of Supervisor")
    report.first.wait_for()
    assert "** (exit) :killed" in report.first.inner_text()
    page.screenshot(path=str(shots / "log.png"), full_page=True)


def test_a_process_page_shows_the_queued_messages_state_and_info(
    demo: DemoNode, page: Any, shots: Path
) -> None:
    page.goto(demo.url + "#/tree")
    inbox = page.locator("li.tree-node[data-id=':inbox']")
    inbox.wait_for()
    inbox.locator(".pid").click()
    messages = page.locator("#pp-messages li")
    messages.nth(2).wait_for()
    assert messages.all_inner_texts() == ['"first"', '("second", 2)', '{"third": [3]}']
    assert page.inner_text("#pp-message-count") == "(3 queued)"
    info = page.locator("#pp-info tr[data-item='message_queue_len'] td").nth(1)
    assert info.inner_text() == "3"
    assert page.inner_text("#pp-info tr[data-item='registered_name'] td >> nth=1") == ":inbox"
    assert "inbox" in page.inner_text("#pp-stack")
    page.screenshot(path=str(shots / "process-inbox.png"), full_page=True)

    # A GenServer's page shows its state through format_status.
    page.goto(demo.url + "#/tree")
    page.locator("li.tree-node[data-id=':counter'] .pid").click()
    page.wait_for_function(
        "() => document.querySelector('#pp-state').textContent.includes('password')"
    )
    assert page.inner_text("#pp-state") == '{"count": 0, "password": "***"}'

    # Sending a message from the page: it shows up in the inbox's queue.
    page.goto(demo.url + "#/tree")
    page.locator("li.tree-node[data-id=':inbox'] .pid").click()
    page.locator("#pp-messages li").nth(2).wait_for()
    page.fill("#pp-message", '("from", "the page")')
    page.once("dialog", lambda d: d.accept())
    page.click("#pp-send")
    page.locator("#pp-messages li").nth(3).wait_for()
    assert page.inner_text("#pp-message-count") == "(4 queued)"


def test_the_overview_and_the_process_table_update_live(
    demo: DemoNode, page: Any, shots: Path
) -> None:
    page.goto(demo.url)
    page.wait_for_function(
        "() => document.querySelector('#ov-utilisation').textContent.includes('%')"
    )
    assert int(page.inner_text("#ov-processes")) >= 8
    page.locator("#charts .chart canvas").first.wait_for()
    assert page.locator("#charts .chart").count() == 6
    page.screenshot(path=str(shots / "overview.png"), full_page=True)

    page.click("nav a[data-tab='processes']")
    page.locator("#proc-table tbody tr").first.wait_for()
    page.fill("#proc-filter", "inbox")
    rows = page.locator("#proc-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1
    cells = rows.first.locator("td").all_inner_texts()
    assert cells[1] == "inbox" and cells[5] == "3"
    # Sorting by the message queue puts the inbox first.
    page.fill("#proc-filter", "")
    page.click("#proc-table th[data-sort='message_queue_len']")
    assert page.locator("#proc-table tbody tr").first.locator("td").nth(1).inner_text() == "inbox"
    page.screenshot(path=str(shots / "processes.png"), full_page=True)


def test_a_page_without_the_token_is_refused(demo: DemoNode, page: Any) -> None:
    bare = demo.url.split("?")[0]
    response = page.goto(bare)
    assert response is not None and response.status == 403
    assert "token" in page.inner_text("body")
