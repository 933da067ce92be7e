"""Normalise a trace: pids, refs and ports named by order of first appearance."""

from __future__ import annotations

import re

_PID = re.compile(r"#PID<\d+\.\d+\.\d+>")
_REF = re.compile(r"#Reference<[\d.]+>")
_PORT = re.compile(r"#Port<\d+\.\d+>")


def normalize(text: str) -> str:
    names: dict[str, str] = {}

    def name(kind: str) -> object:
        def sub(m: re.Match[str]) -> str:
            key = m.group(0)
            if key not in names:
                names[key] = (
                    f"<{kind}{sum(1 for v in names.values() if v.startswith('<' + kind)) + 1}>"
                )
            return names[key]

        return sub

    text = _PID.sub(name("pid"), text)  # type: ignore[arg-type]
    text = _REF.sub(name("ref"), text)  # type: ignore[arg-type]
    text = _PORT.sub(name("port"), text)  # type: ignore[arg-type]
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"
