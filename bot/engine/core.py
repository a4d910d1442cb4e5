"""The job engine: a persistent, fair queue over many ComfyUI hosts that never loses a job.

Jobs are rows in the store; the engine keeps the active ones in memory and commits every
state change before acting on it.

Life of a job: queued → running (prompt id committed before the host gets the prompt) →
delivering (archived; the front end sends it) → done, or failed / cancelled. A host that
drops out, or forgets a prompt (ComfyUI restarted), sends its jobs back to the queue, up to
`max_attempts` runs.

This module is the front ends' API and wires the parts: new jobs are taken in by `accept`,
started on free hosts by `dispatch`, kept while active by `ledger`, run on hosts by `runs`,
delivered by `delivery`, and a restart is taken up by `recovery`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from bot.archive import Archive
from bot.chain import plan_chain, wants_chain
from bot.config import Config
from bot.engine import admission, again
from bot.engine.accept import Acceptance, Work
from bot.engine.admin import Admin, AdminError
from bot.engine.admission import Ticket
from bot.engine.chains import Chains
from bot.engine.delivery import Deliveries
from bot.engine.dispatch import Dispatcher
from bot.engine.eta import Estimator
from bot.engine.events import JobCancelled, Notifier
from bot.engine.hosts import Host, HostPool
from bot.engine.jobs import Job, JobStatus, QueueStatus
from bot.engine.ledger import Ledger, Observer
from bot.engine.ports import FrontEnd
from bot.engine.positions import Board
from bot.engine.prefetch import Prefetch
from bot.engine.quotas import Quotas
from bot.engine.recovery import recover
from bot.engine.runs import Runs
from bot.engine.scheduler import FairQueue
from bot.engine.store import JobStore
from bot.errors import LostLeadership
from bot.fetch import made_not_fetched
from bot.intake import PreparedJob, accept_inputs
from bot.request import JobRequest, Order, Sender, user_key
from bot.resolve import requested_size
from bot.user_defaults import UserDefaults

log = logging.getLogger(__name__)


class Engine:
    """Accepts jobs from front ends, runs them on the hosts, delivers the results."""

    def __init__(
        self, config: Config, store: JobStore, archive: Archive, hosts: HostPool | None = None
    ) -> None:
        self.config = config
        self._limits = config.queue
        self._store = store
        self._hosts = hosts or HostPool(config)
        self._admins = frozenset(config.queue.admins)
        self._frontends: dict[str, FrontEnd] = {}
        self._queue = FairQueue()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._estimator = Estimator(config.queue.default_seconds_per_frame)
        self._notifier = Notifier(config.queue.progress_interval, config.queue.preview_interval)
        self._wake = asyncio.Event()
        self._board = Board(self._queue, self._estimator, self._hosts, lambda: self._runs.jobs())
        self._ledger = Ledger(
            store=store,
            queue=self._queue,
            board=self._board,
            notifier=self._notifier,
            estimator=self._estimator,
            frontends=self._frontends,
            wake=self._wake,
            limits=config.queue,
        )
        self._delivery = Deliveries(config, store, archive, self._estimator, self._ledger)
        self._dispatcher = Dispatcher(
            self._queue, self._hosts, self._ledger, self._board, config.queue, self._wake
        )
        self._prefetch = Prefetch(
            self._queue, self._ledger, self._dispatcher.eligible, config.queue
        )
        self._runs = Runs(
            config=config,
            store=store,
            hosts=self._hosts,
            ledger=self._ledger,
            delivery=self._delivery,
            wake=self._wake,
            spawn=self._spawn,
            prefetch=self._prefetch,
            chains=Chains(self._ledger, self._delivery),
        )
        self._dispatcher.bind(self._runs, self._prefetch)
        self.admin = Admin(config, store, self._hosts, self._wake)
        self.user_defaults = UserDefaults(store, config, self.schedulers)
        self.quotas = Quotas(store, config.quotas, self._admins)
        self._accept = Acceptance(
            config, store, self._queue, self._ledger, self._board, self.admin, self.quotas,
            self._wake,
        )  # fmt: skip

    @property
    def hosts(self) -> HostPool:
        return self._hosts

    def observe(self, observer: Observer) -> None:
        """Tell `observer` of every event, refusal and failed delivery (metrics)."""
        self._ledger.observers.append(observer)

    @property
    def delivery_backoff(self) -> float:
        """Seconds before the 2nd and 3rd delivery attempt are this times 1 and 2."""
        return self._delivery.backoff

    @delivery_backoff.setter
    def delivery_backoff(self, seconds: float) -> None:
        self._delivery.backoff = seconds

    # -- lifecycle --------------------------------------------------------------------------

    def register(self, frontend: FrontEnd) -> None:
        """Route jobs of `frontend.platform` to `frontend` (one per platform)."""
        if frontend.platform in self._frontends:
            raise ValueError(f"a front end for {frontend.platform!r} is already registered")
        self._frontends[frontend.platform] = frontend

    async def start(self) -> None:
        """Check the hosts, recover unfinished jobs, then start dispatching."""
        if self._dispatcher.running:
            return
        self._estimator.load(await self._store.speeds())
        client_id = await self._store.client_id()
        await self._hosts.start(client_id, self._host_up, self._runs.host_down)
        up = [h for h in self._hosts.hosts.values() if h.up]
        await asyncio.gather(*(self._hosts.learn_features(h) for h in up))
        await self.admin.load()
        await recover(
            self._store, self._hosts, self._ledger, self._runs, self._delivery, self._spawn
        )
        self._dispatcher.start()

    async def stop(self) -> None:
        """Stop working; unfinished jobs stay in the store for the next start."""
        await self._dispatcher.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._prefetch.close()
        await self._hosts.close()
        await self._notifier.close()

    async def drain(self) -> None:
        """Return once nothing is queued, running or being delivered, and events are sent."""
        while True:
            await self._ledger.idle.wait()
            await self._notifier.idle()
            if self._ledger.idle.is_set():
                return

    # -- front-end API ----------------------------------------------------------------------

    def admission(
        self, sender: Sender, overrides: Sequence[Mapping[str, Any]] = ({},)
    ) -> AbstractAsyncContextManager[Ticket]:
        """Admit the requests with these flags (one per message part; `--batch` counted)
        before their files are fetched: blocked users, a draining bot, the caps and the
        quota are decided here, and the jobs are held against the caps and the quota until
        `submit_all(orders, ticket)` queues them or the block ends. Raises the `UserError`
        that refuses them."""
        return self._accept.admit(sender, overrides)

    async def submit(self, order: Order) -> Job:
        """Accept a request's jobs (see `submit_all`); the first of them."""
        return (await self.submit_all([order]))[0]

    async def submit_all(self, orders: Sequence[Order], ticket: Ticket | None = None) -> list[Job]:
        """Accept the jobs of one message (a `--batch`, several photos): copy and prepare each
        one's files, then store and queue all of them, or none. Without a `ticket` from
        `admission`, they are admitted here first.

        Raises `LimitError` over a cap or quota, `UserError` for unusable input or parameters.
        """
        if ticket is None:
            async with self.admission(orders[0].sender, [o.ask.overrides for o in orders]) as own:
                return await self.submit_all(orders, own)
        jobs = admission.expand(orders, self.config.limits)
        schedulers = await self.schedulers()
        work = [
            Work(order.reply_target, await self._preparer(order, schedulers), batch)
            for order, batch in jobs
        ]
        return await self._accept.accept(ticket, work)

    async def _preparer(self, order: Order, schedulers: list[str]) -> again.Prepare:
        mine = await self.user_defaults.for_job(order.sender.user, order.ask.mode)
        ask = dataclasses.replace(order.ask, user_defaults=mine)
        default = getattr(self.config.defaults, ask.mode.value).quality
        wanted = {**mine, **ask.overrides}
        chain = wants_chain(ask.mode, ask.prompt, float(wanted.get("length") or 0.0))
        size = requested_size(ask.mode, wanted, self.config)
        self._hosts.check_quality(ask.mode, wanted.get("quality", default), chain=chain, size=size)

        async def prepare(job_dir: Path) -> PreparedJob:
            return await accept_inputs(job_dir, ask, self.config, schedulers)

        return prepare

    async def reroll(
        self,
        job_id: str,
        *,
        platform: str,
        user_id: str,
        reply_target: dict[str, Any] | None = None,
        as_admin: bool = False,
    ) -> Job:
        """Queue `job_id` again with the same inputs and parameters and a new seed; it answers
        where the old job did unless the front end gives a new `reply_target`."""

        async def make(old: Job) -> tuple[JobRequest, again.Prepare]:
            return await again.reroll(old, self.config, await self.schedulers())

        sender = Sender(platform, user_id, "", admin=as_admin)
        return await self._again(job_id, "re-roll", sender, reply_target, make)

    async def extend(
        self,
        job_id: str,
        *,
        platform: str,
        user_id: str,
        prompt: str | None = None,
        reply_target: dict[str, Any] | None = None,
        as_admin: bool = False,
    ) -> Job:
        """Continue `job_id`'s clip from its last frame (with `prompt`, or its own); the result
        is delivered joined to the original."""

        async def make(old: Job) -> tuple[JobRequest, again.Prepare]:
            svi = self._hosts.can_run("svi") is True
            return await again.extend(old, prompt, self.config, await self.schedulers(), svi=svi)

        sender = Sender(platform, user_id, "", admin=as_admin)
        return await self._again(job_id, "extend", sender, reply_target, make)

    async def _again(
        self,
        job_id: str,
        verb: str,
        sender: Sender,
        reply_target: dict[str, Any] | None,
        make: Callable[[Job], Awaitable[tuple[JobRequest, again.Prepare]]],
    ) -> Job:
        admin = self._accept.is_admin(sender)
        old = again.owned(await self.get(job_id), job_id, sender.user, admin, verb)
        sender = dataclasses.replace(sender, chat_id=old.chat_id)
        async with self.admission(sender) as ticket:
            request, prepare = await make(old)
            chain = plan_chain(request) is not None
            size = (request.params.width, request.params.height)
            self._hosts.check_quality(old.mode, request.params.quality, chain=chain, size=size)
            # A re-roll of a batch's job stands alone: the batch is not in the reply target.
            target = old.reply_target if reply_target is None else reply_target
            return (await self._accept.accept(ticket, [Work(target, prepare)]))[0]

    async def status(self, platform: str, user_id: str) -> QueueStatus:
        """The user's active jobs with positions and ETAs, and the queue's totals."""
        own = self._ledger.of_user(user_key(platform, user_id))
        views = [self._board.view(job) for job in sorted(own.values(), key=lambda j: j.seq)]
        return QueueStatus(views, queued=len(self._queue), running=len(self._runs))

    async def cancel(
        self, platform: str, user_id: str, job_id: str | None = None, *, as_admin: bool = False
    ) -> Job:
        """Cancel a job: the user's latest active one when `job_id` is None.

        Admins (in the config, or `as_admin` when the front end knows them, as by a Discord
        role) may cancel anyone's job. A queued job is removed; a running one is interrupted
        on its host (or deleted from the host's queue if it has not started there).
        """
        user = user_key(platform, user_id)
        admin = self._accept.is_admin(Sender(platform, user_id, "", admin=as_admin))
        job = await self._cancellable(user, job_id, admin)
        if job.user != user:
            log.info("admin %s cancelled job %s of %s", user, job.id, job.user)
        was = job.status
        job.status, job.finished_at = JobStatus.CANCELLED, time.time()
        job.error = f"cancelled by {user}"
        self._queue.remove(job.id)
        await self._store.update(job, "status", "finished_at", "error")
        if was is JobStatus.RUNNING:
            await self._runs.halt(job)
        self._ledger.emit(job, JobCancelled(by_admin=job.user != user))
        self._ledger.retire(job)
        return job

    async def refetch(self, job_id: str, by: str) -> Job:
        """Fetch again the video of a job that was made but could not be fetched (an admin's
        retry once its host answers again): it follows the same prompt on the same host, so
        nothing runs twice, and is delivered as usual. `by` is the admin, for the log."""
        job = await self.get(job_id)
        if job is None:
            raise AdminError(f"There is no job {job_id}.")
        if job.status is not JobStatus.FAILED or not made_not_fetched(job.error):
            raise AdminError(
                f"Job {job_id} is {job.status.value}; only a video that was made but could not "
                "be fetched can be fetched again."
            )
        host = self._hosts.hosts.get(job.host or "")
        if host is None or not host.up or not job.prompt_id:
            raise AdminError(
                f"The host of job {job_id} ({job.host}) is not up now; try again once it answers."
            )
        log.info("admin %s: fetching job %s again from %s", by, job.id, host.name)
        job.status, job.error, job.finished_at = JobStatus.RUNNING, None, None
        await self._store.update(job, "status", "error", "finished_at")
        self._ledger.track(job)
        self._runs.start(job, host, reattach=True)
        return job

    async def get(self, job_id: str) -> Job | None:
        """The job, live if active, else as stored; None if unknown."""
        job = await self._ledger.full(job_id)
        if job is not None:
            return job
        stored: Job | None = await self._store.get(job_id)
        return stored

    async def schedulers(self) -> list[str]:
        """The sampler's schedulers on a host that is up, else those of the bundled schema."""
        return await self._hosts.schedulers()

    async def _cancellable(self, user: str, job_id: str | None, admin: bool) -> Job:
        if job_id is None:
            job_id = again.newest_active(self._ledger.of_user(user).values()).id
        return again.cancellable(await self.get(job_id), job_id, user, admin)

    def _host_up(self, host: Host) -> None:
        self._wake.set()
        if self._dispatcher.running:  # at start-up, `start` reads them itself
            self._spawn(self._learn_features(host), name=f"features-{host.name}")

    async def _learn_features(self, host: Host) -> None:
        await self._hosts.learn_features(host)
        self._wake.set()  # a fast job may have been waiting for it

    # -- bookkeeping ------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(_unless_stepped_down(coro, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


async def _unless_stepped_down(coro: Coroutine[Any, Any, None], name: str) -> None:
    """Run `coro`; one stopped by a fenced write (another process leads) is not an error: the
    lease says so once, and `serve` stops."""
    try:
        await coro
    except LostLeadership:
        log.info("%s stopped: another process leads now", name)
