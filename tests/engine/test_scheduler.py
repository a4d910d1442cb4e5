"""The fair queue and host selection, without I/O."""

from __future__ import annotations

from bot.engine.scheduler import Entry, FairQueue, Slot, select
from bot.request import Mode

I2V, TALK = Mode.I2V, Mode.INFINITETALK


def _queue(*jobs: tuple[str, Mode]) -> FairQueue:
    queue = FairQueue()
    for seq, (user, mode) in enumerate(jobs, start=1):
        queue.push(Entry(seq, f"j{seq}", user, mode, queued_at=float(seq), cost=10.0))
    return queue


def test_round_robin_between_users() -> None:
    queue = _queue(*[("a", I2V)] * 4, ("b", I2V), ("c", I2V))
    order = [e.job_id for e in queue.fair_order()]
    assert order == ["j1", "j5", "j6", "j2", "j3", "j4"]


def test_served_user_goes_to_the_back() -> None:
    queue = _queue(*[("a", I2V)] * 3)
    queue.take("j1")  # a's first job started
    queue.push(Entry(10, "b1", "b", I2V, queued_at=10.0))
    assert [e.job_id for e in queue.fair_order()] == ["b1", "j2", "j3"]


def test_position_matches_fair_order() -> None:
    queue = _queue(*[("a", I2V)] * 5, *[("b", I2V)] * 2, ("c", I2V), ("a", I2V), ("b", I2V))
    queue.take("j1")
    expected = queue.positions()
    assert {job_id: queue.position(job_id) for job_id in expected} == expected
    assert sorted(expected.values()) == list(range(1, len(queue) + 1))


def test_requeued_job_returns_to_its_place() -> None:
    queue = _queue(("a", I2V), ("a", I2V), ("a", I2V))
    first = queue.take("j1")
    queue.push(first)
    assert [e.job_id for e in queue.fair_order()] == ["j1", "j2", "j3"]


def test_ineligible_users_are_skipped() -> None:
    queue = _queue(("a", I2V), ("b", I2V))
    assert [e.job_id for e in queue.fair_order(lambda u: u != "a")] == ["j2"]


def test_head_goes_to_the_host_with_its_model_loaded() -> None:
    queue = _queue(("a", TALK))
    slots = [Slot("h1", I2V), Slot("h2", TALK)]
    entry, slot = select(queue, slots, now=1.0, affinity_max_wait=60) or (None, None)
    assert (entry and entry.job_id, slot and slot.host) == ("j1", "h2")


def test_affinity_takes_a_same_mode_job_while_nobody_waited_too_long() -> None:
    queue = _queue(("a", TALK), ("b", I2V))
    choice = select(queue, [Slot("h1", I2V)], now=5.0, affinity_max_wait=60)
    assert choice is not None and choice[0].job_id == "j2"
    # Once the head waited longer than allowed, it goes first whatever is loaded.
    choice = select(queue, [Slot("h1", I2V)], now=100.0, affinity_max_wait=60)
    assert choice is not None and choice[0].job_id == "j1"


def test_no_free_host_no_choice() -> None:
    assert select(_queue(("a", I2V)), [], now=0.0, affinity_max_wait=0) is None
    assert select(FairQueue(), [Slot("h", None)], now=0.0, affinity_max_wait=0) is None
