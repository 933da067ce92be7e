"""Task.async_stream: map a slow function over many inputs, a few at a time.

Each input runs in its own process, at most ``max_concurrency`` at once; results
come back as ``("ok", value)`` or ``("exit", reason)``, in input order unless
``ordered=False``.  A task that outlives ``timeout`` is killed
(``on_timeout="kill_task"``) instead of taking the caller down.
"""

import tether
from tether import Process, Task

# How long each "download" takes, in seconds.
PAGES = {"home": 0.3, "about": 0.1, "blog": 0.2, "shop": 5.0, "faq": 0.15}


async def fetch(page: str) -> str:
    await Process.sleep(PAGES[page])
    return f"{page}: {len(page) * 512} bytes"


async def main() -> None:
    print("in input order, two at a time; the slow page is killed after 1 s:")
    stream = Task.async_stream(
        PAGES, fetch, max_concurrency=2, timeout=1, on_timeout="kill_task", zip_input_on_exit=True
    )
    async for result in stream:
        print("  ", result)

    print("as they finish, all at once:")
    stream = Task.async_stream(
        PAGES, fetch, max_concurrency=5, ordered=False, timeout=1, on_timeout="kill_task"
    )
    async for status, value in stream:
        print("  ", status, value)

    print("the first two to finish, then stop (the others are killed):")
    async with Task.async_stream(PAGES, fetch, max_concurrency=5, ordered=False) as results:
        taken = 0
        async for _status, value in results:
            print("  ", value)
            taken += 1
            if taken == 2:
                break

    print("processes left:", len(Process.list()))


if __name__ == "__main__":
    tether.run(main)
