"""For operators: health and Prometheus metrics over HTTP (`[ops] listen`, or the environment
variable WANBOT_OPS_LISTEN), served by `wanbot serve`.

- `/healthz`: the event loop answers (200).
- `/readyz`: 200 when the database takes a write, at least one ComfyUI host is up and every
  chat connection works (as its adapter's `connection_problem()` tells: polling that keeps
  failing, a gateway down for more than a few seconds); else 503 with one line per problem.
  A standby (several processes on PostgreSQL) answers 200 "standby" while the database takes
  a write: it is ready to take over, and a load balancer keeps it in.
- `/metrics`: Prometheus' text format, from a registry of our own (see README "Operations").

`Metrics` hears of every job event, refusal and failed delivery from the engine
(`Engine.observe`); what can be read at scrape time (jobs by status, hosts) is read then.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from bot.config import OPS_LISTEN_ENV
from bot.engine.events import JobEvent, JobFinished, JobStarted
from bot.engine.jobs import Job
from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.engine.core import Engine
    from bot.engine.store import JobStore

log = logging.getLogger(__name__)

# Whether this process leads now (always, alone on a SQLite file).
Leading = Callable[[], bool]
WAIT_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
GPU_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 2400, 4800)
DELIVERY_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)


def _reason(error: Exception) -> str:
    """A refusal's label: its error class without "Error" (limit, quota, input, parameter,
    refused for a blocked user or a draining bot)."""
    name = type(error).__name__.removesuffix("Error")
    return name.lower() or "other"


class Metrics:
    """The engine's observer and the `/metrics` registry."""

    def __init__(self, engine: Engine, store: JobStore, leading: Leading = lambda: True) -> None:
        self._engine = engine
        self._store = store
        self._leading = leading
        self.registry = CollectorRegistry()
        r = self.registry
        self.leader = Gauge(
            "wanbot_leader",
            "1 if this process leads (dispatch, recovery, chat connections), 0 for a standby",
            registry=r,
        )
        self.jobs = Gauge("wanbot_jobs", "Jobs in the database", ["status", "mode"], registry=r)
        self.queue_depth = Gauge("wanbot_queue_depth", "Jobs waiting for a host", registry=r)
        self.wait = Histogram(
            "wanbot_wait_seconds", "Accepted to started", ["mode"], buckets=WAIT_BUCKETS, registry=r
        )
        self.gpu = Histogram(
            "wanbot_gpu_seconds", "GPU time per job", ["mode"], buckets=GPU_BUCKETS, registry=r
        )
        self.delivery = Histogram(
            "wanbot_delivery_seconds",
            "From the GPU's end to the video delivered",
            ["mode"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.host_up = Gauge("wanbot_host_up", "1 if the host answers", ["host"], registry=r)
        self.host_busy = Gauge("wanbot_host_busy", "Jobs running on the host", ["host"], registry=r)
        self.host_paused = Gauge(
            "wanbot_host_paused", "1 if paused by an admin", ["host"], registry=r
        )
        self.switches = Counter(
            "wanbot_model_switches", "Jobs that made a host load another mode", ["host"], registry=r
        )
        self.delivery_failures = Counter(
            "wanbot_delivery_failures", "Failed delivery attempts", ["platform"], registry=r
        )
        self.refusals = Counter("wanbot_refusals", "Refused requests", ["reason"], registry=r)
        self._last_mode: dict[str, str] = {}

    # -- the engine's observer ------------------------------------------------------------

    def on_event(self, job: Job, event: JobEvent) -> None:
        mode = job.mode.value
        now = time.time()
        if isinstance(event, JobStarted):
            self.wait.labels(mode).observe(max(0.0, now - job.created_at))
            last = self._last_mode.get(event.host)
            if last is not None and last != mode:
                self.switches.labels(event.host).inc()
            self._last_mode[event.host] = mode
        elif isinstance(event, JobFinished):
            gpu = event.result.gpu_seconds
            self.gpu.labels(mode).observe(gpu)
            if job.started_at is not None:
                self.delivery.labels(mode).observe(max(0.0, now - job.started_at - gpu))

    def on_refused(self, error: Exception) -> None:
        self.refusals.labels(_reason(error)).inc()

    def on_delivery_failed(self, job: Job) -> None:
        self.delivery_failures.labels(job.platform).inc()

    # -- scraping -------------------------------------------------------------------------

    async def render(self) -> bytes:
        """The registry as Prometheus text, with what is read at scrape time brought up to date."""
        self.leader.set(1 if self._leading() else 0)
        self.jobs.clear()
        for (status, mode), count in (await self._store.counts()).items():
            self.jobs.labels(status, mode).set(count)
        self.queue_depth.set(
            sum(c for (s, _), c in (await self._store.counts()).items() if s == "queued")
        )
        for host in self._engine.hosts.hosts.values():
            self.host_up.labels(host.name).set(1 if host.up else 0)
            self.host_busy.labels(host.name).set(len(host.running))
            self.host_paused.labels(host.name).set(1 if host.paused else 0)
        data: bytes = generate_latest(self.registry)
        return data


# A chat connection's problem now (None: it works).
Ready = Callable[[], str | None]


class OpsServer:
    """The listener: start it after the engine, stop it first."""

    def __init__(
        self,
        listen: str,
        engine: Engine,
        store: JobStore,
        chats: Sequence[tuple[str, Ready]] = (),
        leading: Leading = lambda: True,
    ) -> None:
        host, _, port = listen.rpartition(":")
        self.host, self.port = host or "0.0.0.0", int(port)
        self._engine = engine
        self._store = store
        self._chats = list(chats)
        self._leading = leading
        self.metrics = Metrics(engine, store, leading)
        engine.observe(self.metrics)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            raise ConfigError(
                f"Cannot listen on {self.host}:{self.port} for /healthz and /metrics "
                f"([ops] listen or {OPS_LISTEN_ENV}): {exc.strerror or exc}. Choose a free "
                "port, or stop what uses it (another `wanbot serve`?)."
            ) from exc
        self.port = int(self._runner.addresses[0][1])  # the real one when 0 was asked
        log.info("ops listener on http://%s:%d (/healthz, /readyz, /metrics)", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        problems: list[str] = []
        try:
            await self._store.set_meta("ops:ready", str(time.time()))
        except Exception as exc:  # the database, whatever its error
            problems.append(f"database not writable: {exc}")
        if not self._leading():  # its hosts and chats are not its own yet
            if problems:
                return web.Response(status=503, text="\n".join(problems) + "\n")
            return web.Response(text="standby\n")
        if self._engine.hosts.any_up() is None:
            problems.append("no ComfyUI host is up")
        for name, problem_of in self._chats:
            problem = problem_of()
            if problem is not None:
                problems.append(f"{name}: {problem}")
        if problems:
            return web.Response(status=503, text="\n".join(problems) + "\n")
        return web.Response(text="ready\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        body = await self.metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def readiness_of(adapter: Any) -> Ready:
    """The adapter's `connection_problem()` if it has one, else never a problem."""
    problem = getattr(adapter, "connection_problem", None)
    return problem if callable(problem) else (lambda: None)
