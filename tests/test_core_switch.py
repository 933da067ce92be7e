"""The core switch (TETHER_CORE) and what both cores must agree on at their edges.

The suite runs on whichever core is installed (``TETHER_CORE=python`` runs it on
the pure-Python one; CI runs both): these tests pin the switch itself and the few
behaviours where the native core replaces a Python function's calling convention.
"""

from __future__ import annotations

import collections
import gc
import os
import subprocess
import sys
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tether
from tether import ANY, Down, Ref, receive, self, send, spawn, spawn_link, spawn_monitor
from tether._runtime import _api, _core


def test_an_unknown_tether_core_value_is_an_error_that_names_the_variable() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import tether"],
        env={**os.environ, "TETHER_CORE": "fast"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert (
        "ValueError: TETHER_CORE must be 'native', 'python' or unset, got 'fast'; "
        "unset it to use the native core when it is installed"
    ) in done.stderr


def test_tether_core_python_runs_the_pure_python_functions() -> None:
    code = (
        "import tether, tether._runtime._api as a, tether._runtime._core as c;"
        "print(c.NAME, c.native, tether.send is a.send, type(tether.send).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "TETHER_CORE": "python"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout == "python None True function\n"


def test_the_public_send_and_receive_are_the_running_cores() -> None:
    assert tether.send is _api.send and tether.receive is _api.receive
    kind = "builtin_function_or_method" if _core.NAME == "native" else "function"
    assert type(tether.send).__name__ == kind


def test_the_public_spawns_are_the_running_cores() -> None:
    spawns = (tether.spawn, tether.spawn_link, tether.spawn_monitor)
    assert spawns == (_api.spawn, _api.spawn_link, _api.spawn_monitor)
    kind = "builtin_function_or_method" if _core.NAME == "native" else "function"
    assert [type(f).__name__ for f in spawns] == [kind] * 3


async def _child(*args: object) -> None:
    await receive()


async def test_the_spawns_record_what_node_spawn_records_on_either_core() -> None:
    # The native core spawns an async def function from a process in C
    # (_cnode.spawn); the Python core calls Node.spawn: the same records.
    node = tether._runtime._node.NODE
    assert isinstance(node, tether._runtime._node.Node)
    me = self()
    a = spawn(_child)
    b = spawn_link(_child, "b", 2)
    c, ref = spawn_monitor(_child, "c", 3, [4], None)
    pa, pb, pc, mine = (node.table[x] for x in (a, b, c, me))
    assert (b.id, c.id) == (a.id + 1, a.id + 2)  # ids drawn in order, none skipped
    assert [p.initial_call for p in (pa, pb, pc)] == [_child] * 3
    assert (pa.links, pb.links, pc.links, mine.links) == (None, {me}, None, {b})
    assert (type(ref), mine.monitors, pc.monitored_by) == (Ref, {ref: (c, c)}, {ref: me})
    assert [p.coro.cr_frame.f_locals["args"] for p in (pa, pb, pc)] == [  # type: ignore[union-attr]
        (),
        ("b", 2),
        ("c", 3, [4], None),
    ]
    for pid in (a, b, c):
        send(pid, "go")
    assert await receive(Down(ref, ANY, ANY, ANY)) == Down(ref, "process", c, "normal")


async def test_the_spawns_cases_that_the_c_leaves_to_python_behave_as_python() -> None:
    # Keywords, the MFA form and a function that is not async go to _api's
    # functions, whose errors and results they are.
    with pytest.raises(TypeError, match=r"^spawn\(\) got an unexpected keyword argument 'x'$"):
        spawn(_child, x=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"^spawn_link\(\) missing 1 required positional"):
        spawn_link()  # type: ignore[call-overload]
    mfa = spawn_monitor(sys.modules[__name__], "_child", [1, 2])
    assert type(mfa) is tuple and len(mfa) == 2
    send(mfa[0], "go")
    assert await receive(Down(mfa[1], ANY, ANY, ANY)) == Down(mfa[1], "process", mfa[0], "normal")
    with pytest.raises(TypeError) as info:
        spawn(len, [1])  # type: ignore[arg-type]
    assert str(info.value) == (
        "spawn: <built-in function len> is not an async function; a tether process runs "
        "a coroutine, so define it with 'async def' (or wrap it: async def main(): f())"
    )


async def test_send_takes_dest_and_msg_by_keyword_as_its_signature_says() -> None:
    me = self()
    assert send(dest=me, msg=1) == 1
    assert send(me, msg=(2, "two")) == (2, "two")
    assert await receive() == 1
    assert await receive(timeout=None) == (2, "two")


async def test_a_plain_receive_made_before_it_is_awaited_waits_when_awaited() -> None:
    me = self()
    pending = receive()  # nothing runs until it is awaited, as with a coroutine
    send(me, "later")
    assert await pending == "later"


def test_pids_refs_and_ports_hash_to_their_hash_slot_on_both_cores() -> None:
    # The native core installs a C hash (use_slot_hash) that must give exactly
    # what their Python __hash__ gives: the records' fixed _hash.
    from tether._runtime._types import Port, Ref, TimerRef

    made = [tether.pid(0, 7, 0), Ref(), TimerRef(), Port("n@h", 3), Ref(5, "n@h", 2)]
    assert [hash(x) for x in made] == [x._hash for x in made]
    twin = tether.pid(0, 7, 0)  # equal, not identical: found through the hash
    assert twin is not made[0]
    assert {made[0]: "found"}[twin] == "found"
    assert {Ref(9): 1}.get(Ref(9)) == 1


async def test_a_made_ref_hashes_as_its_number_and_equals_its_python_twin() -> None:
    # The native core's new_ref shares one int between n and _hash (hash(n) is
    # n): the ref must still be what Ref(n) makes on the pure core.
    from tether._runtime._types import Ref

    ref = tether.make_ref()
    twin = Ref(ref.n)
    assert type(ref) is Ref
    assert (ref.node, ref.creation, ref._hash, hash(ref)) == (None, 0, hash(ref.n), hash(ref.n))
    assert ref == twin and hash(ref) == hash(twin) and {twin: "found"}[ref] == "found"


async def test_a_processs_message_count_read_earlier_does_not_change() -> None:
    # The native core adds 1 to a process's float counter in place when it holds
    # the only reference: a value read out before must stay what it was.
    from tether._runtime import _node

    me = _node.NODE.current  # type: ignore[union-attr]
    assert me is not None
    send(self(), "one")
    before = me.received
    send(self(), "two")
    assert (before, me.received) == (1.0, 2.0)
    assert [await receive(), await receive()] == ["one", "two"]
    assert (before, me.received) == (1.0, 2.0)


def test_a_ref_subclass_made_later_hashes_like_a_ref() -> None:
    from tether._runtime._types import Ref

    class Tagged(Ref):
        __slots__ = ()

    t = Tagged()
    assert hash(t) == t._hash
    assert {t: 1}[t] == 1


@pytest.mark.skipif(_core.native is None, reason="a function of the native core only")
def test_use_slot_hash_refuses_a_class_without_a_hash_slot() -> None:
    native = _core.native
    assert native is not None

    class Plain:
        def __hash__(self) -> int:
            return 1

    try:
        native.use_slot_hash(Plain)
    except TypeError as e:
        assert str(e) == (
            "use_slot_hash: Plain must define __hash__ and a _hash slot, or inherit both "
            "from a class given before"
        )
    else:
        raise AssertionError("use_slot_hash accepted a class with no _hash slot")
    assert hash(Plain()) == 1  # untouched


async def test_a_pattern_that_raises_when_a_message_is_handed_over_raises_in_the_receiver() -> None:
    # deliver's hand-over (C in the native core, Node._hand_over in Python): the
    # receive's pattern compares the message's first item, whose __eq__ raises.
    # The receiver sees the error in its own receive, and the message stays queued.
    class Bad:
        def __eq__(self, other: object) -> bool:
            raise ValueError("Bad cannot be compared")

        __hash__ = object.__hash__

    me = self()

    async def sender() -> None:
        send(me, (Bad(), 1))

    tether.spawn(sender)
    with pytest.raises(ValueError, match="^Bad cannot be compared$"):
        await receive(("tag", tether.ANY), timeout=30)
    left = await receive(timeout=0)
    assert type(left[0]) is Bad and left[1] == 1


async def test_a_reply_pattern_with_a_timeout_is_handed_its_reply_and_not_the_noise_before_it() -> (
    None
):
    me = self()
    tag = tether.make_ref()

    async def replier() -> None:
        send(me, ("noise", 0))
        send(me, (tag, "answer"))

    tether.spawn(replier)
    assert await receive((tag, tether.ANY), timeout=30) == (tag, "answer")
    assert await receive(timeout=0) == ("noise", 0)


@pytest.mark.skipif(_core.native is None, reason="a function of the native core only")
async def test_the_native_receive_takes_the_runtimes_patterns_and_hands_the_rest_to_python() -> (
    None
):
    # The receives the C awaitable mirrors (the plain one and one tagged pattern,
    # timeout None or a finite float >= 0) against those it hands to _receive,
    # the one implementation of everything else; each still receives the same.
    from tether import ANY, Down, Exit, make_ref

    c_type = type(receive())
    ref, pid = make_ref(), self()
    ours = [
        receive(timeout=1.0),
        receive(("tag", ANY)),
        receive((ref, ANY, ANY), timeout=0.0),
        receive(Exit(pid, ANY)),
        receive(Down(ref, ANY, ANY, ANY), timeout=None),
        receive(_api.reply_filter(ref), timeout=2.5),
    ]
    python = [
        receive(timeout=1),  # an int: check_timeout's conversion
        receive(("tag", 1)),
        receive((ANY, ANY)),
        receive(("tag", ANY), ("other", ANY)),
        receive(Exit(pid, "normal")),
        receive(Down(ref, "process", ANY, ANY)),
        receive(int),
    ]
    assert [type(r) is c_type for r in ours] == [True] * 6
    assert [type(r).__name__ for r in python] == ["generator"] * 7
    for r in ours + python:
        r.close()  # type: ignore[attr-defined]
    send(self(), ("tag", 1))
    assert await receive(("tag", ANY), timeout=1.0) == ("tag", 1)
    with pytest.raises(ValueError) as e:
        await receive(("tag", ANY), timeout=-1.0)
    assert str(e.value) == ("receive: timeout must be >= 0 seconds (or None for forever), got -1.0")


async def test_the_run_queue_is_a_deque_in_the_python_core_and_a_run_queue_in_the_native() -> None:
    node = tether._runtime._node.NODE
    assert isinstance(node, tether._runtime._node.Node)
    expected = "deque" if _core.native is None else "RunQueue"
    assert type(node.runq).__name__ == expected


@pytest.mark.skipif(_core.native is None, reason="a class of the native core only")
@given(st.lists(st.one_of(st.integers(0, 999), st.sampled_from(["pop", "clear", "list"]))))
def test_the_native_run_queue_behaves_as_the_deque_it_replaces(ops: list[int | str]) -> None:
    # A ring buffer that grows from 64 slots: long runs of appends wrap and grow it.
    assert _core.native is not None
    q, model = _core.native.RunQueue(), collections.deque[object]()
    for op in ops * 3:
        if op == "pop":
            if model:
                assert q.popleft() == model.popleft()
            else:
                with pytest.raises(IndexError, match="pop from an empty run queue"):
                    q.popleft()
        elif op == "clear":
            q.clear()
            model.clear()
        elif op == "list":
            assert list(q) == list(model)
        else:
            for i in range(int(op) % 97):
                q.append((op, i))
                model.append((op, i))
        assert (len(q), bool(q)) == (len(model), bool(model))
    assert list(q) == list(model)


@pytest.mark.skipif(_core.native is None, reason="a class of the native core only")
def test_the_native_run_queue_refuses_arguments_and_frees_what_it_holds() -> None:
    assert _core.native is not None
    with pytest.raises(TypeError, match=r"RunQueue\(\) takes no arguments"):
        _core.native.RunQueue([1])  # type: ignore[call-arg]

    class Held:
        pass

    q, held = _core.native.RunQueue(), Held()
    q.append(held)
    it = iter(q)  # a snapshot: later changes do not move it
    q.append(Held())
    assert list(it) == [held]
    gone = weakref.ref(held)
    del held, it
    assert gone() is not None
    q.clear()
    assert gone() is None and len(q) == 0
    # A cycle through the queue is the garbage collector's to free.
    cyclic = Held()
    cyclic.q = _core.native.RunQueue()  # type: ignore[attr-defined]
    cyclic.q.append(cyclic)  # type: ignore[attr-defined]
    gone = weakref.ref(cyclic)
    del cyclic
    gc.collect()
    assert gone() is None
