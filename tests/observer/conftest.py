"""Fixtures for the observer's tests: a node running demo_node.py, a headless Chromium.

The browser is Debian's ``chromium`` driven by Playwright (no browser download);
CI installs it (``.ci/run``).  Without it the browser tests fail under
``TETHER_REQUIRE_CHROMIUM`` (CI) and are skipped otherwise.  Screenshots go to a
``screenshots`` directory under the pytest tmp path: test artifacts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The live Elixir node and its epmd, for test_browser_elixir.py.
from tests.distribution.conftest import epmd_port, own_ex  # noqa: F401

HERE = Path(__file__).parent
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these the browser tries the network at start, which a closed
    # network refuses (and the page's own connections with it).
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("TETHER_REQUIRE_CHROMIUM"):
            pytest.fail("TETHER_REQUIRE_CHROMIUM is set but chromium is not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


class DemoNode:
    """demo_node.py in its own OS process, and its observer's URL."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url

    def stop(self) -> str:
        try:
            out, _ = self.proc.communicate(input="", timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out or ""


def start_demo(*args: str, env: dict[str, str] | None = None) -> DemoNode:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "demo_node.py"), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("URL "):
            return DemoNode(proc, line.split()[1])
    proc.wait()
    raise RuntimeError("demo node did not start:\n" + "".join(lines))


@pytest.fixture
def demo() -> Iterator[DemoNode]:
    node = start_demo()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module.  Not longer: while Playwright's sync API is
    open it keeps an asyncio loop running in this thread, where tether.run (and
    so every later test) refuses to start."""
    exe = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # A fresh profile (user-data-dir) for every launch: Playwright makes one.
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a test keeps its screenshots (artifacts)."""
    return tmp_path_factory.mktemp("screenshots")
