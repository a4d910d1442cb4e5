"""Replies fitted to a platform's message limit: user text echoed short, long answers split.

A platform refuses a message over its limit (Telegram: 4096 characters, Discord: 2000), and a
refused answer reaches the user as "Something went wrong". Every echo of what a user typed
(a settings value, a flag, a command name) goes through `echo`, and every answer through
`fit` or `pieces`, so no reply can exceed the limit however long the user's text was.
"""

from __future__ import annotations

ELLIPSIS = "…"
# An echo names what the user typed; a few lines are enough to recognize it.
ECHO_LIMIT = 200


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` as typed, cut to `limit` characters ending in "…" when longer."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def fit(text: str, limit: int) -> str:
    """`text` whole when it fits in one message of `limit` characters, else cut with "…"."""
    return echo(text, limit)


def pieces(text: str, limit: int) -> list[str]:
    """`text` as messages of at most `limit` characters, split at line ends where possible."""
    out: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a line longer than a message: cut it where it must be
            if current:
                out.append(current)
                current = ""
            out.append(line[:limit])
            line = line[limit:]
        joined = f"{current}\n{line}" if current else line
        if len(joined) <= limit:
            current = joined
        else:
            out.append(current)
            current = line
    if current:
        out.append(current)
    return out
