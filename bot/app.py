"""The composition root of `wanbot serve`: store, archive, hosts, engine, retention, front ends.

Front ends are chat adapters living in `adapters/<platform>/`. `bot/` never imports them: each
is named here by an import path string and loaded only when its section is present in the
config. To add a platform, add its `[section]` to `bot.config.Config` and one line to
`ADAPTERS`; its factory is called as `factory(config, engine)` and must return a
`bot.frontend.Adapter` (a `FrontEnd` with `start()` and `stop()`). The same module provides
`check(config)` for `wanbot check` (see `ChatCheck`).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from typing import cast

from bot.archive import Archive
from bot.config import Config
from bot.engine.core import Engine
from bot.engine.retention import Retention
from bot.engine.store import JobStore
from bot.errors import ConfigError
from bot.frontend import Adapter

log = logging.getLogger(__name__)

# Config section → "module:factory". The section being set (not None) turns the adapter on.
ADAPTERS: dict[str, str] = {
    "telegram": "adapters.telegram:create",
    "discord": "adapters.discord:create",
}

AdapterFactory = Callable[[Config, Engine], Adapter]
# `module:check` beside each factory: `wanbot check`'s probe of a chat section, as
# (works, one line to print).
ChatCheck = Callable[[Config], Awaitable[tuple[bool, str]]]


def configured_adapters(config: Config, table: dict[str, str] | None = None) -> dict[str, str]:
    """The adapters whose config section is present: section name → import path."""
    table = ADAPTERS if table is None else table
    return {name: path for name, path in table.items() if getattr(config, name, None) is not None}


def load_factory(path: str) -> AdapterFactory:
    """Import `module:attribute` and return it."""
    return cast(AdapterFactory, _load(path))


async def check_front_ends(config: Config) -> list[tuple[bool, str]]:
    """`wanbot check` for each configured chat section: (works, one line saying so)."""
    results: list[tuple[bool, str]] = []
    for name, path in configured_adapters(config).items():
        try:
            check = cast(ChatCheck, _load(path.partition(":")[0] + ":check"))
        except ConfigError as exc:
            results.append((False, f"{name}: {exc}"))
            continue
        results.append(await check(config))
    return results


def _load(path: str) -> object:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"Cannot load the front end {path!r}: {exc}. Install WanBot with its "
            f"dependencies, or remove that section from the config."
        ) from exc


class App:
    """Everything `wanbot serve` runs, started and stopped in the right order."""

    def __init__(self, config: Config, adapters: dict[str, str] | None = None) -> None:
        self.config = config
        self._adapter_paths = configured_adapters(config) if adapters is None else adapters
        self.adapters: list[Adapter] = []
        self.store: JobStore | None = None
        self.engine: Engine | None = None
        self.retention: Retention | None = None

    async def start(self) -> None:
        self.store = await JobStore.open(self.config.storage.database)
        self.engine = Engine(self.config, self.store, Archive(self.config.storage.outputs))
        for name, path in self._adapter_paths.items():
            adapter = load_factory(path)(self.config, self.engine)
            self.engine.register(adapter)
            self.adapters.append(adapter)
            log.info("front end %s loaded", name)
        # Front ends are registered before recovery, which may deliver through them.
        await self.engine.start()
        storage = self.config.storage
        self.retention = Retention(self.store, storage.jobs, storage.keep_job_files_days)
        self.retention.start()
        for adapter in self.adapters:
            await adapter.start()

    async def stop(self) -> None:
        if self.retention is not None:
            await self.retention.stop()
        for adapter in reversed(self.adapters):
            try:
                await adapter.stop()
            except Exception:
                log.exception("front end %s did not stop cleanly", adapter.platform)
        if self.engine is not None:
            await self.engine.stop()
        if self.store is not None:
            await self.store.close()
