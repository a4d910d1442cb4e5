"""What admins do from the chat: see the hosts, pause and resume one, drain, block users.

The front end decides who is an admin (config ids; on Discord also roles) and passes who
acted as `by`; every action is logged with it. Paused hosts and blocked users are kept in
the store's meta table, so a restart keeps them. Draining (take no new jobs, finish the
queue) is for a restart and ends with the process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.config import Config
from bot.engine.hosts import Host, HostPool
from bot.engine.store import JobStore
from bot.errors import UserError
from bot.media.units import size_text
from comfy.errors import ComfyError

log = logging.getLogger(__name__)

PAUSED_KEY = "paused_hosts"
BLOCKED_KEY = "blocked_users"
STATS_WAIT = 5.0  # seconds to wait for a host's /system_stats in a report


class AdminError(UserError):
    """An admin command that cannot be done as asked (unknown host, not blocked, ...)."""


class Refused(UserError):
    """The bot does not take this user's job now (blocked, or draining for a restart)."""


@dataclass(frozen=True)
class HostView:
    """One host as `/hosts` shows it."""

    name: str
    up: bool
    paused: bool
    running: tuple[str, ...]  # job ids
    max_concurrent: int
    last_model: str | None  # what the engine last ran there (ComfyUI does not say)
    vram_free: int | None
    vram_total: int | None
    error: str | None


@dataclass(frozen=True)
class Blocked:
    user: str  # "platform:user_id"
    by: str
    at: float


class Admin:
    """The admin actions; `Engine.admin` is one."""

    def __init__(self, config: Config, store: JobStore, hosts: HostPool, wake: asyncio.Event):
        self._config = config
        self._store = store
        self._hosts = hosts
        self._wake = wake
        self._admins = frozenset(config.queue.admins)
        self._blocked: dict[str, Blocked] = {}
        self.draining = False

    async def load(self) -> None:
        """Read the paused hosts and blocked users kept by the last run (hosts started)."""
        for name in json.loads(await self._store.meta(PAUSED_KEY) or "[]"):
            if name in self._hosts:
                self._hosts[name].paused = True
        blocked = json.loads(await self._store.meta(BLOCKED_KEY) or "[]")
        self._blocked = {b["user"]: Blocked(**b) for b in blocked}

    def refuse_barred(self, user: str) -> None:
        """Raise `Refused` if `user` may not start a job now."""
        if user in self._blocked:
            raise Refused("Sorry, you cannot use this bot. Ask its operator if this is a mistake.")
        if self.draining:
            raise Refused(
                "WanBot is finishing its queue before a restart and takes no new jobs now. "
                "Please try again in a few minutes."
            )

    # -- hosts --------------------------------------------------------------------------------

    async def hosts(self) -> list[HostView]:
        """Every host, with its VRAM from `/system_stats` where it answers."""
        hosts = list(self._hosts.hosts.values())
        stats = await asyncio.gather(*(self._vram(h) for h in hosts))
        return [self._view(h, free, total) for h, (free, total) in zip(hosts, stats, strict=True)]

    async def _vram(self, host: Host) -> tuple[int | None, int | None]:
        if not host.up:
            return None, None
        try:
            async with asyncio.timeout(STATS_WAIT):
                stats = await host.client.system_stats()
        except (ComfyError, TimeoutError):
            return None, None
        devices = [d for d in stats.get("devices") or [] if isinstance(d, dict)]
        if not devices:
            return None, None
        free = sum(int(d.get("vram_free") or 0) for d in devices)
        total = sum(int(d.get("vram_total") or 0) for d in devices)
        return (free, total) if total else (None, None)

    def _view(self, host: Host, free: int | None, total: int | None) -> HostView:
        model = None
        if host.last_mode is not None:
            models = host.config.resolved_models(self._config.models)
            model = str(getattr(models, host.last_mode.value))
        return HostView(
            name=host.name,
            up=host.up,
            paused=host.paused,
            running=tuple(sorted(host.running)),
            max_concurrent=host.config.max_concurrent,
            last_model=model,
            vram_free=free,
            vram_total=total,
            error=None if host.up else host.error,
        )

    async def pause(self, name: str, by: str) -> HostView:
        """Let `name` finish what it runs, and give it no new job until resumed."""
        host = self._host(name)
        host.paused = True
        await self._save_paused()
        log.info("admin %s paused host %s", by, name)
        return self._view(host, None, None)

    async def resume(self, name: str, by: str) -> HostView:
        host = self._host(name)
        host.paused = False
        await self._save_paused()
        log.info("admin %s resumed host %s", by, name)
        self._wake.set()
        return self._view(host, None, None)

    def _host(self, name: str) -> Host:
        if name not in self._hosts:
            known = ", ".join(self._hosts.hosts) or "none"
            raise AdminError(f"There is no host {name!r}; the hosts are: {known}.")
        return self._hosts[name]

    async def _save_paused(self) -> None:
        paused = [h.name for h in self._hosts.hosts.values() if h.paused]
        await self._store.set_meta(PAUSED_KEY, json.dumps(paused))

    # -- the whole queue ----------------------------------------------------------------------

    def drain(self, by: str) -> None:
        """Take no new jobs; the queue and the running jobs go on."""
        self.draining = True
        log.info("admin %s started draining: no new jobs", by)

    def undrain(self, by: str) -> None:
        self.draining = False
        log.info("admin %s stopped draining: new jobs are taken again", by)

    # -- users --------------------------------------------------------------------------------

    async def block(self, user: str, by: str) -> None:
        if user in self._admins:
            raise AdminError(f"{user} is an admin in the config; remove them there first.")
        self._blocked[user] = Blocked(user, by, time.time())
        await self._save_blocked()
        log.info("admin %s blocked user %s", by, user)

    async def unblock(self, user: str, by: str) -> None:
        if self._blocked.pop(user, None) is None:
            raise AdminError(f"{user} is not blocked.")
        await self._save_blocked()
        log.info("admin %s unblocked user %s", by, user)

    def blocked(self) -> list[Blocked]:
        return sorted(self._blocked.values(), key=lambda b: b.at)

    async def leader(self) -> str | None:
        """The process that leads on a shared database (hostname:pid), or None (alone)."""
        return await self._store.leader()

    async def _save_blocked(self) -> None:
        rows = [vars(b) for b in self._blocked.values()]
        await self._store.set_meta(BLOCKED_KEY, json.dumps(rows))


def host_lines(views: Iterable[HostView]) -> list[str]:
    """One line per host, for `/hosts` on any platform (plain text)."""
    lines = []
    for v in views:
        state = "up" if v.up else "down"
        if v.paused:
            state += ", paused"
        parts: list[Any] = [f"{v.name}: {state}"]
        parts.append(f"running {len(v.running)} of {v.max_concurrent}")
        if v.running:
            parts[-1] += f" ({', '.join(v.running)})"
        if v.vram_total:
            parts.append(f"VRAM free {size_text(v.vram_free or 0)} of {size_text(v.vram_total)}")
        if v.last_model:
            parts.append(f"last model {v.last_model}")
        if v.error:
            parts.append(f"error: {v.error}")
        lines.append(" · ".join(str(p) for p in parts))
    return lines
