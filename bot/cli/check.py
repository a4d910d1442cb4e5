"""`wanbot check`: the config, the data folder, the ops listener, each ComfyUI host and each
chat, one line (or a few) each; exit 1 when anything would stop `wanbot serve` or a job."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sqlite3
from pathlib import Path
from typing import Any

from bot.app import DEFAULT_HOST, check_front_ends, switched_off
from bot.cli.commands import client_for
from bot.config import Config, HostConfig
from bot.dburl import PostgresUrl
from bot.engine.lock import is_held
from bot.errors import StorageError, UserError
from bot.logs import redact
from bot.params import scheduler_choices
from bot.request import InputFiles, JobRequest
from bot.resolve import resolve_params
from comfy.client import ComfyClient
from comfy.errors import ComfyError, HostUnavailable
from workflows.animate2 import missing_for_animate2
from workflows.builder import TEMPLATE_MODES, build_prompt, missing_for_fast
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.native import backend_of, missing_for_native
from workflows.native_animate import missing_for_native_animate
from workflows.native_talk import missing_for_native_talk
from workflows.svi import missing_for_svi
from workflows.validate import validate_prompt

# Seconds a host has to answer /system_stats here: a host that accepts connections and never
# answers is named at once, not after `request_timeout` (kept for real work).
PROBE_SECONDS = 5.0


def say(line: str) -> None:
    """Print one report line, with secrets (a URL's password) replaced as in the logs."""
    print(redact(line))


async def check(args: argparse.Namespace, config: Config | None) -> int:
    """Validate the config, then report on the storage, the ops listener, each host (reachable
    and what is missing) and each chat section (whether it can connect)."""
    assert config is not None
    if args.config.exists():
        say(f"config {args.config}: ok ({len(config.comfy.hosts)} host(s))")
    else:
        say(
            f"config: no {args.config}, so the defaults: a ComfyUI host at {DEFAULT_HOST}, "
            f"data under {config.storage.data}, chats from WANBOT_TELEGRAM_TOKEN and "
            "WANBOT_DISCORD_TOKEN (`wanbot init` writes a config to edit)"
        )
    _say_chats(config)
    ok = await asyncio.to_thread(_check_storage, config)
    if isinstance(config.storage.database, PostgresUrl):
        ok = await _check_postgres(config.storage.database) and ok
    ok = await asyncio.to_thread(_check_ops, config) and ok
    for host in config.comfy.hosts:
        ok = await _check_host(host, config) and ok
    for works, line in await check_front_ends(config):
        say(line)
        ok = ok and works
    return 0 if ok else 1


def _say_chats(config: Config) -> None:
    off = switched_off(config)
    if off and set(off) == set(config.chats):
        names = ", ".join(f"[{name}]" for name in off)
        say(f"chats: none on ({names} enabled = false), so `wanbot serve` answers nowhere")
    elif not config.chats:
        say(
            "chats: none, so `wanbot serve` answers nowhere: set WANBOT_TELEGRAM_TOKEN or "
            "WANBOT_DISCORD_TOKEN, or add a [telegram] or [discord] section"
        )


def _check_storage(config: Config) -> bool:
    """Whether the data folders can be made and written, and the database opens."""
    storage, database = config.storage, config.storage.database
    folders = [storage.data, storage.outputs, storage.jobs]
    if isinstance(database, Path):
        folders.insert(1, database.parent)
    problems = [p for p in dict.fromkeys(_folder_problem(f) for f in folders) if p]
    if not problems and isinstance(database, Path) and database.exists():
        problems += _database_problems(database)
    if problems:
        say(f"storage ({storage.data}): cannot be used:")
        for problem in problems:
            say(f"  - {problem}")
        return False
    state = "in use by a running `wanbot serve`" if _is_held(database) else "ok"
    say(f"storage: {state} (database {database})")
    return True


def _is_held(database: Path | PostgresUrl) -> bool:
    # PostgreSQL's serve lock is not looked at here: `check` reports on the connection.
    return isinstance(database, Path) and is_held(database)


async def _check_postgres(url: PostgresUrl) -> bool:
    """Whether the PostgreSQL database answers (with the password libpq finds)."""
    from bot.engine.store_pg import connect  # late: psycopg is slow to import, SQLite is usual

    try:
        db = await connect(url)
    except StorageError as exc:
        say(f"database: {exc}")
        return False
    await db.close()
    say(f"database: ok ({url})")
    return True


def _folder_problem(folder: Path) -> str | None:
    """What stops `folder` from being made or written, or None."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder: {folder} cannot be made there"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"this user may not write in {existing}"
    return None


def _database_problems(database: Path) -> list[str]:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            result = db.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        return [f"the database {database} cannot be read: {exc} (damaged, or not WanBot's)"]
    if result is None or result[0] != "ok":
        return [f"the database {database} is damaged: {result[0] if result else 'no answer'}"]
    return []


def _check_ops(config: Config) -> bool:
    """Whether `wanbot serve` can listen at `[ops] listen` (skipped when it is unset)."""
    listen = config.ops.listen
    if not listen:
        return True
    host, _, port = listen.rpartition(":")
    try:
        socket.create_server((host or "0.0.0.0", int(port))).close()
    except OSError as exc:
        if _is_held(config.storage.database):
            say(f"ops: {listen} is taken, presumably by the running `wanbot serve`")
            return True
        say(f"ops: cannot listen on {listen}: {exc.strerror or exc} (choose a free port)")
        return False
    say(f"ops: {listen} is free for /healthz, /readyz and /metrics")
    return True


async def _check_host(host: HostConfig, config: Config) -> bool:
    """One host: answering at all (within `PROBE_SECONDS`), then its nodes and models."""
    name = f"host {host.name} ({host.url})"
    wait = min(PROBE_SECONDS, config.comfy.request_timeout)
    probe = ComfyClient(host.url, token=host.token, timeout=wait)
    try:
        async with probe:
            await probe.system_stats()
        async with client_for(host, config) as client:
            object_info = await client.object_info()
    except ComfyError as exc:
        if isinstance(exc.__cause__, TimeoutError):
            say(f"{name}: not answering: no answer to /system_stats within {wait:g} s")
        else:
            what = "unreachable" if type(exc) is HostUnavailable else "not usable"
            say(f"{name}: {what}: {exc}")
        return False
    models, hardware = host.resolved_models(config.models), host.resolved_hardware()
    if backend_of(object_info, host.backend) == "native":
        return _check_native(name, object_info, models, hardware)
    problems = _missing_for_modes(host, config, object_info)
    modes = ", ".join(m.value for m in TEMPLATE_MODES)
    _say_host(name, "", problems, f"{modes} (ComfyUI-WanVideoWrapper)")
    # Optional: a host without them only gets no fast jobs, or no long videos.
    _say_fast(missing_for_fast(object_info, models, hardware), hardware)
    svi = missing_for_svi(object_info, models, hardware)
    say(f"  long videos (--length, shots; SVI 2.0 Pro): {_ready(svi)}")
    say(f"  {ANIMATE2_LINE}: {_ready(missing_for_animate2(object_info, models, hardware))}")
    return not problems


ANIMATE2_LINE = "Wan-Animate-2 (--mode animate2, /animate2)"


def _ready(missing: list[str]) -> str:
    return "missing " + "; ".join(missing) if missing else "ready"


def _say_fast(missing: list[str], hardware: Hardware) -> None:
    """The fast preset's line, with the sizes the host's preset allows it."""
    sizes = "up to 1280x720" if hardware.fast_720p else "480p (its preset allows no 720p fast)"
    say(f"  fast preset (--quality fast): {_ready(missing)}{'' if missing else ', ' + sizes}")


def _say_host(name: str, kind: str, problems: list[str], ready_for: str) -> None:
    if problems:
        say(f"{name}: reachable{kind}, but:")
        for line in problems:
            say(f"  - {line}")
    else:
        say(f"{name}: ready for {ready_for}")


def _check_native(
    name: str, object_info: dict[str, Any], models: Models, hardware: Hardware
) -> bool:
    """A host on ComfyUI's own nodes: image to video (standard, fast), talking, animating,
    and what it lacks for each."""
    problems = missing_for_native(object_info, models, hardware, quality="standard")
    _say_host(name, " (ComfyUI's own nodes)", problems, "i2v on ComfyUI's own nodes")
    _say_fast(missing_for_native(object_info, models, hardware, quality="fast"), hardware)
    for what, missing in (
        ("infinitetalk", missing_for_native_talk(object_info, models, hardware)),
        ("animate", missing_for_native_animate(object_info, models, hardware)),
        (ANIMATE2_LINE, missing_for_animate2(object_info, models, hardware)),
    ):
        say(f"  {what}: {_ready(missing)}")
    say("  long videos: need ComfyUI-WanVideoWrapper (not on this host)")
    return not problems


def _missing_for_modes(host: HostConfig, config: Config, object_info: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    uploaded = FileSet[str](
        image="x.png", audio="x.wav", pose=["x.mp4"], face=["y.mp4"], background="z.png"
    )
    schedulers = scheduler_choices(object_info)
    for mode in TEMPLATE_MODES:
        try:
            resolved = resolve_params(mode, {}, config, schedulers)
        except UserError as exc:
            lines.append(f"{mode.value}: {exc}")
            continue
        request = JobRequest(
            mode=mode,
            prompt="check",
            negative_prompt=resolved.negative_prompt,
            params=resolved.params,
            inputs=InputFiles(image=Path("x.png")),
        )
        prompt = build_prompt(
            request, uploaded, host.resolved_models(config.models), host.resolved_hardware()
        )
        for problem in validate_prompt(prompt, object_info):
            line = f"{mode.value}: {problem}"
            if line not in lines:
                lines.append(line)
    return lines
