from __future__ import annotations

import pytest

from adapters.telegram import texts
from bot.media.units import duration_text, size_text, sizes_apart


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (512, "512 bytes"),
        (600 * 1024, "600 KB"),
        (19_968, "20 KB"),
        (9_728, "9.5 KB"),
        (1000 * 1024, "1000 KB"),  # once printed as "1e+03 KB"
        (1024 * 1024 + 512 * 1024, "1.5 MB"),
        (25 * 1024 * 1024, "25 MB"),
        (2000 * 1024 * 1024, "2000 MB"),  # once printed as "2e+03 MB"
    ],
)
def test_size_text(size: int, text: str) -> None:
    assert size_text(size) == text


def test_sizes_apart_never_reads_as_equal() -> None:
    limit = 20 * 1024 * 1024
    assert sizes_apart(25 * 1024 * 1024, limit) == ("25 MB", "20 MB")
    assert sizes_apart(limit + 1, limit) == ("20,971,521 bytes", "20,971,520 bytes")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (2.5, "2.5 s"),
        (3.0, "3 s"),
        (9.96, "10 s"),
        (45, "45 s"),
        (59.6, "1 min"),
        (60, "1 min"),
        (70, "1 min 10 s"),
        (600, "10 min"),
        (3599.7, "1 h"),
        (3900, "1 h 5 min"),
    ],
)
def test_duration_text(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_duration_text_of_nonsense_never_raises() -> None:
    assert duration_text(float("nan")) == "unknown"
    assert duration_text(-0.2) == "0 s"


@pytest.mark.parametrize(("size", "text"), [(300 * 1024, "300 KB"), (25 * 1024 * 1024, "25 MB")])
def test_telegram_too_big_text_uses_the_shared_sizes(size: int, text: str) -> None:
    # "That file is 0 MB": the Telegram texts rounded every size to whole megabytes.
    message = texts.TOO_BIG.format(size=texts.mib(size), limit=texts.mib(20 * 1024 * 1024))
    assert message.startswith(f"That file is {text} — ")
