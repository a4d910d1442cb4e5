"""Local ports a test holds itself, so that no test depends on what else runs on the machine."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def refusing_port() -> Iterator[int]:
    """A local port that refuses connections while the block runs: bound here (nothing else
    can take it) and never listening, so a connection gets a reset at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
