"""A supervisor with the rest_for_one strategy: kill worker b and see who is restarted."""

from _supervision import demo

import tether


async def main() -> None:
    await demo("rest_for_one")


if __name__ == "__main__":
    tether.run(main)
