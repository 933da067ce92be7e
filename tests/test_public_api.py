"""The public surface: every name exported once, documented, and nothing private leaks."""

from __future__ import annotations

import inspect

import tether
import tether.testing


def test_every_exported_name_exists_and_has_a_docstring() -> None:
    assert len(tether.__all__) == len(set(tether.__all__))
    for name in tether.__all__:
        obj = getattr(tether, name)
        doc = inspect.getdoc(obj if not isinstance(obj, tether.Atom) else type(obj))
        assert doc, f"tether.{name} has no docstring"


def test_every_process_function_has_a_docstring() -> None:
    for name, fn in vars(tether.Process).items():
        if not name.startswith("_") and isinstance(fn, staticmethod):
            assert inspect.getdoc(fn.__func__), f"Process.{name} has no docstring"


def test_testing_names_are_documented() -> None:
    for name in tether.testing.__all__:
        assert inspect.getdoc(getattr(tether.testing, name)), name


def test_contract_names_are_all_present() -> None:
    for name in [
        "spawn", "spawn_link", "spawn_monitor", "send", "receive", "self", "exit", "run",
        "pid", "node", "Process", "Pid", "Ref", "Atom", "Down", "Exit", "ANY",
        "ProcessExit", "NoProcError", "TimerRef",
    ]:  # fmt: skip
        assert name in tether.__all__, name
    for name in [
        "exit", "link", "unlink", "monitor", "demonitor", "flag", "info", "alive",
        "register", "unregister", "whereis", "registered", "list", "sleep",
        "send_after", "cancel_timer",
    ]:  # fmt: skip
        assert callable(getattr(tether.Process, name)), name
