"""How a platform renders the shared texts: code spans and literal user text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class Markup:
    """A platform's markup hook. `code` marks an id or a command the user may copy (Discord:
    a code span); `escape` makes user text literal where the platform renders markup (a prompt
    with `*stars*` is shown, not rendered). Plain text (Telegram without a parse mode) needs
    neither: `PLAIN`."""

    code: Callable[[str], str] = _same
    escape: Callable[[str], str] = _same


PLAIN = Markup()
