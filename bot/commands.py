"""The work behind each `wanbot` subcommand (argument parsing lives in `bot.cli`)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app import check_front_ends
from bot.archive import Archive, make_record
from bot.cli import job_inputs, print_json
from bot.config import Config, HostConfig, parse_config
from bot.errors import UserError
from bot.params import resolve_params
from bot.prepare import PreparedJob, prepare_job, prepare_request
from bot.progress import ProgressBar
from bot.request import InputFiles, JobRequest, Mode
from bot.runner import (
    build_workflow,
    collect_result,
    ensure_runnable,
    plan_uploads,
    submit_job,
)
from comfy.client import ComfyClient
from comfy.errors import ComfyError
from workflows.builder import UploadedInputs, build_prompt
from workflows.schema import bundled_object_info, choices
from workflows.validate import validate_prompt


def _client(host: HostConfig, config: Config) -> ComfyClient:
    return ComfyClient(
        host.url,
        token=host.token,
        timeout=config.comfy.request_timeout,
        upload_timeout=config.comfy.upload_timeout,
    )


def schedulers_of(object_info: dict[str, Any]) -> list[str]:
    """The schedulers the host's `WanVideoSampler` offers."""
    return choices(object_info, "WanVideoSampler", "scheduler")


async def _prepare(
    args: argparse.Namespace, config: Config, object_info: dict[str, Any], work: Path
) -> PreparedJob:
    if getattr(args, "from_json", None):
        record = Archive.load(args.from_json)
        return await prepare_request(record.request, config, work)
    mode, inputs, prompt, overrides = job_inputs(args)
    return await prepare_job(
        mode, inputs, prompt, overrides, config, schedulers_of(object_info), work
    )


async def generate(args: argparse.Namespace, config: Config | None) -> int:
    """Run one job on a host with a progress bar; archive it; print the MP4's path."""
    assert config is not None
    host = config.host(args.host)
    queued_at = datetime.now(UTC)
    async with _client(host, config) as client:
        object_info = await client.object_info()
        with tempfile.TemporaryDirectory(prefix="wanbot-") as tmp:
            work = Path(tmp)
            job = await _prepare(args, config, object_info, work)
            for note in job.request.notes:
                print(f"note: {note}", file=sys.stderr)
            submission = await submit_job(job, client, host, config, object_info)
            started = time.monotonic()
            started_at = datetime.now(UTC)
            bar = ProgressBar(sys.stderr)
            video = await collect_result(
                client, submission.prompt_id, work / "result.mp4", bar.update
            )
            bar.close()
            gpu_seconds = time.monotonic() - started
            record = await make_record(
                video,
                job.request,
                host,
                config,
                prompt_id=submission.prompt_id,
                workflow=submission.workflow,
                queued_at=queued_at,
                started_at=started_at,
                gpu_seconds=gpu_seconds,
            )
            path = await Archive(config.storage.outputs).save(video, record)
    print(path)
    return 0


async def workflow(args: argparse.Namespace, config: Config | None) -> int:
    """Print the API-format prompt, inputs named by their base file names, offline."""
    if config is None:
        config = parse_config(
            {"comfy": {"hosts": [{"name": "local", "url": "http://127.0.0.1:8188"}]}}
        )
    host = config.host(args.host)
    object_info = bundled_object_info()
    originals = _original_names(args)
    with tempfile.TemporaryDirectory(prefix="wanbot-") as tmp:
        job = await _prepare(args, config, object_info, Path(tmp))
        uploaded = plan_uploads(job, lambda p: originals.get(p.name, p.name))
        prompt = build_workflow(job, host, config, uploaded)
    ensure_runnable(prompt, object_info, host.name)
    for note in job.request.notes:
        print(f"note: {note}", file=sys.stderr)
    print_json(prompt)
    return 0


def _original_names(args: argparse.Namespace) -> dict[str, str]:
    """Prepared file name -> the user's own file name, for image, audio and background."""
    names = {"image.png": args.image.name if args.image else "image.png"}
    if args.audio:
        names["audio.wav"] = args.audio.name
    if args.background:
        names["background.png"] = args.background.name
    return names


async def check(args: argparse.Namespace, config: Config | None) -> int:
    """Validate the config, report for each host whether it is reachable and what is missing,
    then for each chat section whether it can connect."""
    assert config is not None
    print(f"config {args.config}: ok ({len(config.comfy.hosts)} host(s))")
    ok = True
    for host in config.comfy.hosts:
        try:
            async with _client(host, config) as client:
                await client.system_stats()
                object_info = await client.object_info()
        except ComfyError as exc:
            print(f"host {host.name} ({host.url}): unreachable: {exc}")
            ok = False
            continue
        problems = _missing_for_modes(host, config, object_info)
        if problems:
            ok = False
            print(f"host {host.name} ({host.url}): reachable, but:")
            for line in problems:
                print(f"  - {line}")
        else:
            print(f"host {host.name} ({host.url}): ready for {', '.join(m.value for m in Mode)}")
    for works, line in await check_front_ends(config):
        print(line)
        ok = ok and works
    return 0 if ok else 1


def _missing_for_modes(host: HostConfig, config: Config, object_info: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    uploaded = UploadedInputs(
        image="x.png", audio="x.wav", pose_video="x.mp4", face_video="y.mp4", background="z.png"
    )
    schedulers = schedulers_of(object_info) or ["unipc"]
    for mode in Mode:
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
