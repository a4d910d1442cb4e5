"""glibc malloc settings that keep `wanbot serve`'s resident memory flat over many jobs.

Each job's media work (PyAV opening, probing and decoding the result, Pillow resizing the
inputs) runs in the default thread pool, so in glibc malloc arenas of those threads. By
default glibc serves a large request (FFmpeg's and Pillow's frame buffers) from its own `mmap`
only until one such block is freed: from then on the threshold rises to that size and later
buffers are cut from the arenas, between small blocks that outlive them. The holes they leave
are seldom big enough for the next buffer, so the arenas grow by a few KiB per job although
the bytes in use stay flat (`bench.soak`: RSS +2 to +4 KiB per job after the first 1,000,
while malloc's bytes in use grew under 0.1 KiB per job; Python's own objects did not grow).

`tune()` fixes the threshold (which also turns its rise off), so those buffers always come
from and go back to the kernel whole, and caps the number of arenas; `wanbot serve` calls it
before any thread starts. A setting the operator made in the environment (`MALLOC_ARENA_MAX`,
`MALLOC_MMAP_THRESHOLD_`, `GLIBC_TUNABLES`) is left as it is. Elsewhere than glibc it does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from collections.abc import Callable, Mapping
from typing import cast

log = logging.getLogger(__name__)

# mallopt(3) parameters, from glibc's <malloc.h>.
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
# Blocks from this size up are mapped on their own and unmapped when freed (glibc's initial
# threshold, kept rather than left to rise up to 32 MiB).
MMAP_THRESHOLD = 128 * 1024
# The event loop's thread, SQLite's and the media workers share these.
ARENAS = 2
# What an operator sets to choose for themselves (glibc reads these at start).
OWN_SETTINGS = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")


def tune(env: Mapping[str, str] | None = None) -> bool:
    """Fix malloc's mmap threshold and cap its arenas (see the module docstring).

    True when both were set; False elsewhere than glibc or when the environment already
    chooses (then nothing is changed)."""
    env = os.environ if env is None else env
    if any(name in env for name in OWN_SETTINGS):
        return False
    mallopt = _mallopt()
    if mallopt is None:
        return False
    done = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    done = mallopt(M_ARENA_MAX, ARENAS) == 1 and done
    if not done:
        log.warning("could not tune malloc: resident memory may grow with the jobs")
    return done


def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's `mallopt`, or None (another C library, or none found)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        if not hasattr(libc, "gnu_get_libc_version"):
            return None  # musl has a mallopt that does nothing
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return cast(Callable[[int, int], int], mallopt)
