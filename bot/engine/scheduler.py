"""Which queued job runs next, and where: fair between users, sticky to loaded models.

Pure logic, no I/O: the engine keeps one `FairQueue` and asks `select` whenever a host slot is
free. Fairness is round-robin between users: the user served longest ago goes first (a user
never served goes before everyone), each user's own jobs in FIFO order. A user with twenty jobs
therefore gets every other start when a second user shows up, not the next twenty.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field

from bot.request import Mode

# How far down the fair order affinity looks for a job of a host's loaded mode.
AFFINITY_SCAN = 500


@dataclass(order=True, slots=True)
class Entry:
    """One queued job as the scheduler sees it. Ordered by `seq` (FIFO). One per queued job:
    its attributes in slots, not a dict."""

    seq: int
    job_id: str = field(compare=False)
    user: str = field(compare=False)
    mode: Mode = field(compare=False)
    queued_at: float = field(compare=False)
    cost: float = field(default=0.0, compare=False)  # estimated GPU seconds
    needs: frozenset[str] = field(default=frozenset(), compare=False)  # e.g. {"fast"}


@dataclass(frozen=True)
class Slot:
    """A host with room for at least one more job."""

    host: str
    last_mode: Mode | None
    has: frozenset[str] = frozenset()  # what it can run beyond the modes (its `features`)

    def fits(self, entry: Entry) -> bool:
        return entry.needs <= self.has


class FairQueue:
    """Queued jobs grouped by user, served round-robin."""

    def __init__(self) -> None:
        self._by_user: dict[str, list[Entry]] = {}
        self._entries: dict[str, Entry] = {}
        self._last_served: dict[str, int] = {}
        self._tick = 0
        # The rotation, kept sorted as it changes (never re-sorted): (last served, head seq,
        # user) of every user with queued work, and each user's current key.
        self._order: list[tuple[int, int, str]] = []
        self._keys: dict[str, tuple[int, int, str]] = {}
        self._counts: Counter[int] = Counter()  # queued jobs per user -> how many users
        self._version = 0  # bumped by every change
        self._ahead_cache: tuple[int, str, Counter[int]] | None = None
        self.total_cost = 0.0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._entries

    def push(self, entry: Entry) -> None:
        """Add a job; a requeued job goes back to its place by `seq`."""
        if entry.job_id in self._entries:
            return
        own = self._by_user.setdefault(entry.user, [])
        self._recount(len(own), len(own) + 1)
        if not own or own[-1].seq < entry.seq:
            own.append(entry)
        else:
            bisect.insort(own, entry)
        self._entries[entry.job_id] = entry
        self.total_cost += entry.cost
        if own[0] is entry:
            self._rekey(entry.user)

    def remove(self, job_id: str) -> Entry | None:
        entry = self._entries.pop(job_id, None)
        if entry is None:
            return None
        own = self._by_user[entry.user]
        head = own[0] is entry
        self._recount(len(own), len(own) - 1)
        own.remove(entry)
        if not own:
            del self._by_user[entry.user]
        self.total_cost -= entry.cost
        if head:
            self._rekey(entry.user)
        return entry

    def take(self, job_id: str) -> Entry:
        """Remove a job because it starts now; its user moves to the back of the rotation."""
        entry = self.remove(job_id)
        if entry is None:
            raise KeyError(job_id)
        self._tick += 1
        self._last_served[entry.user] = self._tick
        self._rekey(entry.user)
        return entry

    def _recount(self, was: int, now: int) -> None:
        """A user's queue went from `was` jobs to `now`."""
        self._version += 1
        if was:
            self._counts[was] -= 1
            if not self._counts[was]:
                del self._counts[was]
        if now:
            self._counts[now] += 1

    def _rekey(self, user: str) -> None:
        """Move `user` to their place in the rotation (or out of it) after a change."""
        self._version += 1
        old = self._keys.pop(user, None)
        if old is not None:
            del self._order[bisect.bisect_left(self._order, old)]
        own = self._by_user.get(user)
        if own:
            key = (self._last_served.get(user, 0), own[0].seq, user)
            bisect.insort(self._order, key)
            self._keys[user] = key

    def queued_for(self, user: str) -> int:
        return len(self._by_user.get(user, ()))

    def oldest_queued_at(self) -> float | None:
        heads = [own[0].queued_at for own in self._by_user.values()]
        return min(heads) if heads else None

    def _rotation(self, eligible: Callable[[str], bool] | None = None) -> list[str]:
        """Users with queued work, the one to serve first first."""
        if eligible is None:
            return [user for _, _, user in self._order]
        return [user for _, _, user in self._order if eligible(user)]

    def fair_order(self, eligible: Callable[[str], bool] | None = None) -> Iterator[Entry]:
        """Queued jobs in the order they would start: one per user per round.

        `eligible(user)` False skips a user (e.g. at their running cap). Lazy: the engine
        usually needs only the first entry or two.
        """
        rotation = self._rotation(eligible)
        round_ = 0
        while rotation:
            still: list[str] = []
            for user in rotation:
                own = self._by_user[user]
                if round_ < len(own):
                    yield own[round_]
                    if round_ + 1 < len(own):
                        still.append(user)
            rotation = still
            round_ += 1

    def position(self, job_id: str) -> int | None:
        """1-based place of a queued job in `fair_order()`: O(log users) for a user's first
        job, else O(users ahead of its user + distinct queue lengths)."""
        entry = self._entries.get(job_id)
        if entry is None:
            return None
        own = self._by_user[entry.user]
        k = bisect.bisect_left(own, entry)
        # Rounds 0..k-1 serve up to k jobs of every user; in round k the users ahead in the
        # rotation that still have a job go first.
        rank = bisect.bisect_left(self._order, self._keys[entry.user])
        if k == 0:  # one job per user ahead of it: the users before its own in the rotation
            return rank + 1
        # Every other user's min(count, k), from how many users have each count...
        ahead = k + sum(users * min(count, k) for count, users in self._counts.items()) - k
        # ...and the users before its own in the rotation that still have a job in round k.
        ahead += sum(n for count, n in self._lengths_ahead(entry.user, rank).items() if count > k)
        return ahead + 1

    def _lengths_ahead(self, user: str, rank: int) -> Counter[int]:
        """How many users before `user` in the rotation have each queue length; kept until
        the queue changes, as a status asks this for each of one user's jobs in a row."""
        if self._ahead_cache is None or self._ahead_cache[:2] != (self._version, user):
            by_user = self._by_user
            lengths = Counter(len(by_user[u]) for _, _, u in self._order[:rank])
            self._ahead_cache = (self._version, user, lengths)
        return self._ahead_cache[2]

    def positions(self) -> dict[str, int]:
        """Every queued job's 1-based position (O(jobs))."""
        return {e.job_id: i for i, e in enumerate(self.fair_order(), start=1)}

    def users(self) -> list[str]:
        return list(self._by_user)


def select(
    queue: FairQueue,
    slots: Sequence[Slot],
    *,
    now: float,
    affinity_max_wait: float,
    eligible: Callable[[str], bool] | None = None,
    skip: Collection[str] = (),
) -> tuple[Entry, Slot] | None:
    """The next (job, host) to start, or None when nothing can start.

    The fair head goes to a free host that already has its mode loaded, if any. Otherwise,
    while nobody has waited longer than `affinity_max_wait`, a free host with another mode
    loaded takes the fairest job of that mode instead, so models are not swapped back and
    forth. A free host is never left idle while there is work it can take. Jobs in `skip`
    are passed over (already promised elsewhere).
    """
    if not slots:
        return None
    order = queue.fair_order(eligible)
    if skip:
        order = (e for e in order if e.job_id not in skip)
    head = next((e for e in order if any(s.fits(e) for s in slots)), None)
    if head is None:
        return None
    fits = [s for s in slots if s.fits(head)]
    for slot in fits:
        if slot.last_mode == head.mode:
            return head, slot
    oldest = queue.oldest_queued_at()
    patient = oldest is not None and now - oldest < affinity_max_wait
    if patient:
        loaded = {slot.last_mode: slot for slot in slots if slot.last_mode is not None}
        if loaded:
            for _, entry in zip(range(AFFINITY_SCAN), _chain(head, order), strict=False):
                match = loaded.get(entry.mode)
                if match is not None and match.fits(entry):
                    return entry, match
    return head, _fresh_slot(fits)


def _chain(first: Entry, rest: Iterator[Entry]) -> Iterator[Entry]:
    yield first
    yield from rest


def _fresh_slot(slots: Sequence[Slot]) -> Slot:
    """Prefer a host with nothing loaded, so loaded models stay useful."""
    for slot in slots:
        if slot.last_mode is None:
            return slot
    return slots[0]
