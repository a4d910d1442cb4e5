"""`bot.memory.tune`: large blocks stay out of malloc's arenas after a large one was freed."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.memory import OWN_SETTINGS, tune

ROOT = Path(__file__).resolve().parents[2]

# In a process of its own (malloc's settings are the process's): free a 4 MiB block, which
# glibc maps on its own, then ask for 1 MiB and print how many mapped blocks that added.
# By default the first free raised the threshold to 4 MiB, so the 1 MiB came from an arena,
# where it would leave a hole when freed; tuned, it is mapped on its own and unmapped whole.
PROBE = """
import ctypes, ctypes.util, sys
from bot.memory import tune

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = Info
tuned = sys.argv[1] == "tuned" and tune({})
libc.free(libc.malloc(4 << 20))
before = libc.mallinfo2().hblks
block = libc.malloc(1 << 20)
print(tuned, libc.mallinfo2().hblks - before)
libc.free(block)
"""


def glibc() -> bool:
    name = ctypes.util.find_library("c")
    return name is not None and hasattr(ctypes.CDLL(name), "mallinfo2")


def probe(variant: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in OWN_SETTINGS}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, variant],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.mark.skipif(not glibc(), reason="malloc settings are glibc's (2.33 or later)")
def test_tuned_malloc_maps_a_large_block_even_after_a_larger_one_was_freed() -> None:
    assert probe("default") == "False 0"  # glibc's rising threshold: the block is in an arena
    assert probe("tuned") == "True 1"


@pytest.mark.parametrize("name", OWN_SETTINGS)
def test_an_operators_own_malloc_setting_is_left_alone(name: str) -> None:
    assert tune({name: "4"}) is False
