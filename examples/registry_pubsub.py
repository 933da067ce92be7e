"""Registry: find processes by key, keep a value beside each, publish to subscribers.

Two registries under one supervisor (Elixir's ``{Registry, keys: :unique, name:
Jobs}`` one-liners): ``Jobs`` names agents through ``via`` names that carry a
value, ``Topics`` (duplicate keys) is a small PubSub.  Run it with
``uv run python examples/registry_pubsub.py``.
"""

import tether
from tether import ANY, Agent, Process, Registry, Supervisor, receive, self, send, spawn

Var = Registry.Var


async def subscriber(parent: tether.Pid, topic: str, tag: str) -> None:
    Registry.register("Topics", topic, tag)
    send(parent, ("subscribed", tag))
    while True:
        print(f"{tag} got {await receive()!r}")


async def main() -> None:
    await Supervisor.start_link(
        [
            Registry.child_spec(keys="unique", name="Jobs"),
            Registry.child_spec(keys="duplicate", name="Topics"),
        ],
        strategy="one_for_one",
    )

    # A via name finds the agent by key; its third part is the value kept beside it.
    job = ("via", Registry, ("Jobs", "job-7", {"owner": "ana"}))
    _, agent = await Agent.start_link(lambda: 0, name=job)
    await Agent.update(job, lambda n: n + 1)
    print("job-7 count:", await Agent.get(job, lambda n: n))
    print(
        "lookup finds the agent:", Registry.lookup("Jobs", "job-7") == [(agent, {"owner": "ana"})]
    )
    print(
        "already started:",
        (await Agent.start(lambda: 0, name=job))[1] == ("already_started", agent),
    )

    # Match specs: ANY matches anything, a Var binds what it meets.
    key, owner = Var("key"), Var("owner")
    print(
        "jobs by owner:",
        Registry.select("Jobs", [((key, ANY, {"owner": owner}), [], (key, owner))]),
    )

    # PubSub: each subscriber registers under the topic; dispatch sends to them all.
    pids: dict[str, tether.Pid] = {}
    for tag in ("a", "b", "c"):
        pids[tag] = spawn(subscriber, self(), "news", tag)
        await receive(("subscribed", tag))
    print("subscribers:", Registry.count_match("Topics", "news", ANY))

    def publish(entries: list[tuple[tether.Pid, str]]) -> None:
        for pid, _tag in entries:
            send(pid, ("news", "hello"))

    await Registry.dispatch("Topics", "news", publish)
    await Process.sleep(0.01)

    # A subscriber that dies is dropped from the registry by its partition.
    Process.exit(pids["b"], "kill")
    await Process.sleep(0.01)
    print("after b died:", sorted(tag for _pid, tag in Registry.lookup("Topics", "news")))


if __name__ == "__main__":
    tether.run(main)
