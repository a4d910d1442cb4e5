"""The ComfyUI hosts: one client each, which are up, what runs where, what each has loaded.

Each host's live schema (`/object_info`) is cached for `schema_cache_seconds`.

A health loop per host calls `/system_stats` every `health_interval` seconds. A host that
fails `down_after` checks in a row (or that a job found unreachable) is marked down; the
engine then takes its jobs back. A down host keeps being checked and rejoins by itself as
soon as it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.config import Config, HostConfig
from bot.engine.scheduler import Slot
from bot.errors import InputError
from bot.params import scheduler_choices
from bot.request import Mode
from comfy.client import ComfyClient
from comfy.errors import ComfyError
from workflows.animate2 import missing_for_animate2
from workflows.builder import missing_for_fast
from workflows.hardware import Hardware, Models, fast_needs_720p
from workflows.native import backend_of, missing_for_native
from workflows.native_animate import missing_for_native_animate
from workflows.native_talk import missing_for_native_talk
from workflows.schema import bundled_object_info
from workflows.svi import missing_for_svi

log = logging.getLogger(__name__)
Missing = Callable[[dict[str, Any], Models, Hardware], list[str]]
# What a host may run beyond standard image to video, per backend (`Host.features` also holds
# the backend's name), each checked against its schema and models: (feature, what it makes,
# what the host lacks for it). Long videos need the wrapper's nodes.
FEATURES: dict[str, tuple[tuple[str, str, Missing], ...]] = {
    "wrapper": (
        ("fast", "the fast preset", missing_for_fast),
        ("svi", "long videos (SVI 2.0 Pro)", missing_for_svi),
        ("animate2", "Wan-Animate-2", missing_for_animate2),
    ),
    "native": (
        ("fast", "the fast preset on ComfyUI's own nodes", missing_for_native),
        ("infinitetalk", "talking videos on ComfyUI's own nodes", missing_for_native_talk),
        ("animate", "animation on ComfyUI's own nodes", missing_for_native_animate),
        ("animate2", "Wan-Animate-2", missing_for_animate2),
    ),
}
# The modes a job needs as a feature of its host: every wrapper host has them (its graphs
# check the mode's files per job); a native host has each where its files are there.
MODE_FEATURES = frozenset({Mode.INFINITETALK.value, Mode.ANIMATE.value})
# A host whose schema was not read yet is taken for a wrapper host, as before backends.
UNKNOWN = frozenset({"wrapper"}) | MODE_FEATURES

ClientFactory = Callable[[HostConfig, str], ComfyClient]
HostCallback = Callable[["Host"], None]


@dataclass
class SchemaCache:
    """A host's `/object_info`, fetched at most once per `ttl` seconds.

    Callers that find it stale together share one fetch: after a restart every re-attached
    job asks at once, and a real host's schema is megabytes.
    """

    ttl: float
    _value: dict[str, Any] | None = None
    _fetched: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def _fresh(self) -> bool:
        return self._value is not None and time.monotonic() - self._fetched <= self.ttl

    async def get(self, client: ComfyClient) -> dict[str, Any]:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    self._value = await client.object_info()
                    self._fetched = time.monotonic()
        assert self._value is not None
        return self._value

    def clear(self) -> None:
        self._value = None


@dataclass(eq=False)
class Host:
    """One ComfyUI server and what the engine knows about it."""

    config: HostConfig
    client: ComfyClient
    schema: SchemaCache
    up: bool = False
    paused: bool = False  # by an admin: it finishes what it runs and takes nothing new
    running: set[str] = field(default_factory=set)
    last_mode: Mode | None = None
    # What it can run beyond the modes, read from its schema when it comes up ("fast": the
    # fast preset's models and LoRAs); None until known.
    features: frozenset[str] | None = None
    failures: int = 0
    error: str | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def free(self) -> int:
        """Jobs this host can take now."""
        if not self.up or self.paused:
            return 0
        return max(0, self.config.max_concurrent - len(self.running))


class HostPool:
    """Every configured host, its client and its health loop."""

    def __init__(
        self,
        config: Config,
        *,
        client_factory: ClientFactory | None = None,
        down_after: int = 2,
    ) -> None:
        self._config = config
        self._factory = client_factory or self._default_client
        self.down_after = down_after
        self.hosts: dict[str, Host] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._on_up: HostCallback = lambda host: None
        self._on_down: HostCallback = lambda host: None
        self._change = asyncio.Event()
        self._bundled_schedulers: list[str] | None = None

    def _default_client(self, host: HostConfig, client_id: str) -> ComfyClient:
        comfy = self._config.comfy
        return ComfyClient(
            host.url,
            token=host.token,
            client_id=client_id,
            timeout=comfy.request_timeout,
            upload_timeout=comfy.upload_timeout,
            reconnect_window=max(30.0, 3 * self._config.queue.health_interval),
        )

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def __contains__(self, name: object) -> bool:
        return name in self.hosts

    async def start(self, client_id: str, on_up: HostCallback, on_down: HostCallback) -> None:
        """Create the clients, check every host once, then keep checking in the background."""
        self._on_up, self._on_down = on_up, on_down
        ttl = self._config.comfy.schema_cache_seconds
        for host_config in self._config.comfy.hosts:
            client = self._factory(host_config, client_id)
            self.hosts[host_config.name] = Host(host_config, client, SchemaCache(ttl))
        await asyncio.gather(*(self.probe(host) for host in self.hosts.values()))
        self._loops = [
            asyncio.create_task(self._watch(host), name=f"health-{host.name}")
            for host in self.hosts.values()
        ]

    async def close(self) -> None:
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        for host in self.hosts.values():
            with contextlib.suppress(Exception):
                await host.client.close()

    def slots(self) -> list[Slot]:
        """One entry per host that can take a job now."""
        return [
            Slot(h.name, h.last_mode, UNKNOWN if h.features is None else h.features)
            for h in self.hosts.values()
            if h.free > 0
        ]

    def capacity(self) -> int:
        """Jobs the working hosts run at once (all hosts' when none works, for ETAs)."""
        hosts = self.hosts.values()
        up = [h for h in hosts if h.up and not h.paused] or list(hosts)
        return max(1, sum(h.config.max_concurrent for h in up))

    def any_up(self) -> Host | None:
        return next((h for h in self.hosts.values() if h.up), None)

    async def wait_until(self, name: str, *, up: bool) -> None:
        """Wait until host `name` is (or is no longer) up."""
        while self.hosts[name].up is not up:
            change = self._change
            await change.wait()

    def _changed(self) -> None:
        self._change.set()
        self._change = asyncio.Event()

    async def probe(self, host: Host) -> bool:
        """One health check; updates `host.up` and calls back on a change."""
        try:
            # Not `asyncio.wait_for`: on Python 3.11 it swallows a cancellation that arrives
            # as the call completes, and `close()` would then wait forever for this loop.
            async with asyncio.timeout(self._config.comfy.request_timeout):
                await host.client.system_stats()
        except (ComfyError, TimeoutError) as exc:
            host.failures += 1
            host.error = str(exc) or type(exc).__name__
            if host.up and host.failures >= self.down_after:
                self.mark_down(host, host.error)
            elif not host.up and host.failures == 1:
                log.warning("host %s is not answering: %s", host.name, host.error)
            return False
        host.failures, host.error = 0, None
        if not host.up:
            host.up = True
            # It may have restarted with other nodes or models.
            host.schema.clear()
            log.info("host %s is up", host.name)
            self._changed()
            self._on_up(host)
        return True

    async def learn_features(self, host: Host) -> None:
        """Read from the host's schema what it can run beyond the modes (`Host.features`)."""
        try:
            info = await host.schema.get(host.client)
        except ComfyError as exc:
            log.warning("host %s: could not read its schema: %s", host.name, exc)
            return
        models = host.config.resolved_models(self._config.models)
        hardware = host.config.resolved_hardware()
        backend = backend_of(info, host.config.backend)
        features = {backend} | (MODE_FEATURES if backend == "wrapper" else set())
        for feature, what, missing_for in FEATURES[backend]:
            missing = await asyncio.to_thread(missing_for, info, models, hardware)
            if missing:
                log.info("host %s cannot make %s: %s", host.name, what, "; ".join(missing))
            else:
                features.add(feature)
        if "fast" in features and hardware.fast_720p:
            features.add("fast_720p")  # its preset allows fast jobs above 480p
        host.features = frozenset(features)

    async def schedulers(self) -> list[str]:
        """The sampler's schedulers on a host that is up, else those of the bundled schema."""
        host = self.any_up()
        if host is not None:
            with contextlib.suppress(ComfyError):
                return scheduler_choices(await host.schema.get(host.client))
        if self._bundled_schedulers is None:
            info = await asyncio.to_thread(bundled_object_info)
            self._bundled_schedulers = scheduler_choices(info)
        return self._bundled_schedulers

    def check_quality(
        self,
        mode: Mode,
        quality: str | None,
        *,
        chain: bool = False,
        size: tuple[int, int] | None = None,
    ) -> None:
        """Refuse a fast job (or a long video's chain of clips, a talking or animating job, or
        a fast job of `size` above 480p) when every host is known to lack what it needs."""
        if mode is Mode.ANIMATE2 and self.can_run("animate2") is False:
            raise InputError(
                "None of the GPU hosts has Wan-Animate-2's model yet: use /animate with "
                "pose frames, or ask the operator to install it (`wanbot check` says what "
                "each host lacks)."
            )
        if mode.value in MODE_FEATURES and self.can_run(mode.value) is False:
            raise InputError(
                f"None of the GPU hosts can make {mode.value} videos yet: they run ComfyUI's "
                "own nodes without this mode's model files. Ask the operator to install them "
                "or ComfyUI-WanVideoWrapper (`wanbot check` says what each host lacks)."
            )
        if mode is Mode.I2V and chain and self.can_run("svi") is False:
            raise InputError(
                "None of the GPU hosts can make long videos yet (they need the SVI 2.0 Pro "
                "LoRAs): leave out --length and the | between shots, or ask the operator to "
                "install them (`wanbot check` lists them)."
            )
        if mode is Mode.I2V and quality == "fast" and self.can_run("fast") is False:
            raise InputError(
                "None of the GPU hosts has the fast preset's models yet: use --quality "
                "standard, or ask the operator to install them (`wanbot check` lists them)."
            )
        fast = mode is Mode.I2V and (quality == "fast" or chain)
        if fast and size and fast_needs_720p(*size) and self.can_run("fast_720p") is False:
            raise InputError(
                f"No GPU host here can make {size[0]}x{size[1]} with --quality fast (their "
                "cards allow 480p fast videos): use --size 832x480, or --quality standard."
            )

    def can_run(self, feature: str) -> bool | None:
        """Whether some host has `feature` ("fast", "svi"); None while some host is unknown."""
        known = [h.features for h in self.hosts.values()]
        if any(feature in f for f in known if f is not None):
            return True
        return None if None in known else False

    def mark_down(self, host: Host, reason: str) -> None:
        """Stop giving `host` work until a health check succeeds again."""
        host.failures = max(host.failures, self.down_after)
        host.error = reason
        if host.up:
            host.up = False
            log.warning("host %s is down: %s", host.name, reason)
            self._changed()
            self._on_down(host)

    async def _watch(self, host: Host) -> None:
        interval = self._config.queue.health_interval
        while True:
            await asyncio.sleep(interval)
            try:
                await self.probe(host)
            except Exception:
                log.exception("health check of host %s failed", host.name)
