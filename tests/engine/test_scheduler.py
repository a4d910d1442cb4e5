"""The fair queue and host selection, without I/O."""

from __future__ import annotations

import random

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


def _reference_order(jobs: dict[str, list[int]], served: dict[str, int]) -> list[int]:
    """The fair order from scratch: users by (last served, first queued seq), round by round."""
    users = sorted((u for u in jobs if jobs[u]), key=lambda u: (served.get(u, 0), jobs[u][0], u))
    order: list[int] = []
    for round_ in range(max((len(jobs[u]) for u in users), default=0)):
        order += [jobs[u][round_] for u in users if round_ < len(jobs[u])]
    return order


def test_the_kept_rotation_matches_one_sorted_from_scratch() -> None:
    rng = random.Random(7)
    queue = FairQueue()
    jobs: dict[str, list[int]] = {}
    served: dict[str, int] = {}
    seq = tick = 0
    for _ in range(600):
        op = rng.random()
        queued = [s for own in jobs.values() for s in own]
        if op < 0.55 or not queued:
            seq += 1
            user = f"u{rng.randrange(12)}"
            queue.push(Entry(seq, f"j{seq}", user, I2V, queued_at=float(seq)))
            jobs.setdefault(user, []).append(seq)
        elif op < 0.8:  # the fair head starts
            head = _reference_order(jobs, served)[0]
            user = next(u for u, own in jobs.items() if head in own)
            queue.take(f"j{head}")
            jobs[user].remove(head)
            tick += 1
            served[user] = tick
        elif op < 0.9:  # a cancel anywhere
            victim = rng.choice(queued)
            queue.remove(f"j{victim}")
            next(own for own in jobs.values() if victim in own).remove(victim)
        else:  # a job comes back to its place (host lost)
            user = rng.choice(sorted(served)) if served else "u0"
            back = min(queued, default=seq + 1) - 1 if queued else seq + 1
            if back > 0 and all(back not in own for own in jobs.values()):
                queue.push(Entry(back, f"j{back}", user, I2V, queued_at=float(back)))
                jobs.setdefault(user, []).append(back)
                jobs[user].sort()
        expected = [f"j{s}" for s in _reference_order(jobs, served)]
        assert [e.job_id for e in queue.fair_order()] == expected
        for place, job_id in enumerate(expected, start=1):
            assert queue.position(job_id) == place
