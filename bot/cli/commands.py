"""The work behind each `wanbot` subcommand (argument parsing lives in `bot.cli.main`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from bot.archive import Archive, ArchiveRecord, archive_joined, make_record, record_clips
from bot.chain import (
    ChainPlan,
    ClipMade,
    clip_files,
    clip_job,
    clip_made,
    fetch_latent,
    join_chain,
    plan_chain,
)
from bot.cli.args import flag_overrides, job_ask
from bot.cli.progress import ProgressBar
from bot.config import Config, HostConfig, parse_config
from bot.engine.again import again_request, extended_request, from_last_frame
from bot.errors import UserError
from bot.flags import convert_flag
from bot.intake import PreparedJob, prepare_job, prepare_request
from bot.params import batch_seeds, random_seed, scheduler_choices, take_batch
from bot.runner import (
    Hooks,
    HostSetup,
    RunResult,
    build_workflow,
    ensure_runnable,
    plan_uploads,
    run_job,
)
from comfy.client import ComfyClient
from comfy.errors import ComfyError
from comfy.events import ComfyEvent, Preview
from workflows.schema import bundled_object_info
from workflows.validate import WorkflowInvalid, check_prompt


def client_for(host: HostConfig, config: Config) -> ComfyClient:
    """A client for `host` with the config's timeouts."""
    return ComfyClient(
        host.url,
        token=host.token,
        timeout=config.comfy.request_timeout,
        upload_timeout=config.comfy.upload_timeout,
    )


async def _prepare(
    args: argparse.Namespace,
    config: Config,
    object_info: dict[str, Any],
    work: Path,
    record: ArchiveRecord | None = None,
) -> PreparedJob:
    schedulers = scheduler_choices(object_info)
    if record is None:
        return await prepare_job(job_ask(args), config, schedulers, work)
    overrides = flag_overrides(args, record.request.mode)
    if args.extend_json is not None:
        # The same operation as the chats' Extend: a new seed unless one is given.
        video = Path(args.extend_json).with_suffix(".mp4")
        words = " ".join(([str(args.image)] if args.image else []) + list(args.prompt))
        origin = record.job_id or video.stem
        fresh = {"seed": random_seed(), "length": 0.0, **overrides}  # one clip more
        request = extended_request(record.request, video, origin, words, fresh, config, schedulers)
        return await prepare_request(await from_last_frame(request, work), config, work)
    for path in record.request.inputs.all():
        if not path.exists():
            raise UserError(f"{path}, an input of the archived job, is no longer there.")
    # Checked against today's limits, whether or not options change anything.
    request = again_request(record.request, overrides, config, schedulers)
    return await prepare_request(request, config, work)


def _print_notes(job: PreparedJob) -> None:
    for note in job.request.notes:
        print(f"note: {note}", file=sys.stderr)


async def generate(args: argparse.Namespace, config: Config | None) -> int:
    """Run each job (one per image, times `--batch`) on a host with a progress bar; archive
    it; print each archived MP4's path as it is made."""
    assert config is not None
    host = config.host(args.host)
    # A record that cannot be read is reported before any host is contacted.
    source = args.from_json or args.extend_json
    old = await asyncio.to_thread(Archive.load, source) if source else None
    jobs = _jobs(args, config)
    async with client_for(host, config) as client:
        object_info = await client.object_info()
        for one in jobs:
            for path in await _generate_one(one, config, host, client, object_info, old):
                print(path, flush=True)
    return 0


IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"})


def _jobs(args: argparse.Namespace, config: Config) -> list[argparse.Namespace]:
    """One set of arguments per job: each image given (the prompt starts at the first word
    that is not an image file), `--batch` times with consecutive seeds."""
    given = {} if args.flag_batch is None else dict([convert_flag("batch", args.flag_batch)])
    count = take_batch(given, config.limits)
    images: list[Path | None] = [args.image] if args.image else []
    words = list(args.prompt)
    if args.extend_json is None:
        while (
            words and Path(words[0]).suffix.lower() in IMAGE_SUFFIXES and Path(words[0]).is_file()
        ):
            images.append(Path(words.pop(0)))
    given_seed = None if args.flag_seed is None else convert_flag("seed", args.flag_seed)[1]
    seeds = batch_seeds(count, given_seed)
    jobs = []
    for image in images or [None]:
        for seed in seeds:
            one = argparse.Namespace(**vars(args))
            one.image, one.prompt, one.flag_batch = image, words, None
            if seed is not None:
                one.flag_seed = str(seed)
            jobs.append(one)
    return jobs


def _is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


async def _generate_one(
    args: argparse.Namespace,
    config: Config,
    host: HostConfig,
    client: ComfyClient,
    object_info: dict[str, Any],
    old: ArchiveRecord | None,
) -> list[Path]:
    """One job: prepared, run, archived; its archived videos (an extension: two)."""
    queued_at = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="wanbot-") as tmp:
        work = Path(tmp)
        job = await _prepare(args, config, object_info, work, old)
        _print_notes(job)
        setup = HostSetup.of(host, config, object_info)
        preview_dir = getattr(args, "preview_dir", None)
        plan = plan_chain(job.request)
        if plan is None:
            done = await _run(
                job, client, setup, work / "result.mp4", config.comfy.fetch_retry_seconds,
                preview_dir=preview_dir,
            )  # fmt: skip
            clips: list[ClipMade] = []
        else:
            done, clips = await _run_chain(job, plan, client, setup, work, config, preview_dir)
        record = await make_record(
            done.video,
            job.request,
            host,
            config,
            prompt_id=done.prompt_id,
            workflow=done.workflow or {},
            queued_at=queued_at,
            started_at=done.started_at,
            gpu_seconds=done.gpu_seconds,
        )
        path = await Archive(config.storage.outputs).save(done.video, record)
        if clips:
            await record_clips(path, [clip.as_dict() for clip in clips])
    if job.request.extends is None:
        return [path]
    return [path, await archive_joined(job.request.extends, path)]


async def _run_chain(
    job: PreparedJob,
    plan: ChainPlan,
    client: ComfyClient,
    setup: HostSetup,
    work: Path,
    config: Config,
    preview_dir: Path | None,
) -> tuple[RunResult, list[ClipMade]]:
    """A long video: its clips one after the other (each continuing the last), joined."""
    made: list[ClipMade] = []
    results: list[RunResult] = []
    for index in range(plan.clips):
        print(f"clip {index + 1} of {plan.clips}", file=sys.stderr, flush=True)
        video, latent = clip_files(work, index)
        clip = clip_job(job, plan, made)
        done = await _run(
            clip, client, setup, video, config.comfy.fetch_retry_seconds, preview_dir=preview_dir
        )
        await fetch_latent(client, done.prompt_id, latent)
        made.append(clip_made(job.request, plan, index, done, host=setup.name, work_dir=work))
        results.append(done)
    joined = await join_chain(made, plan, work / "result.mp4")
    gpu = round(sum(clip.gpu_seconds for clip in made), 3)
    first, last = results[0], results[-1]
    return RunResult(joined, gpu, first.started_at, last.prompt_id, last.workflow), made


async def _run(
    job: PreparedJob,
    client: ComfyClient,
    setup: HostSetup,
    dest: Path,
    fetch_window: float,
    *,
    preview_dir: Path | None = None,
) -> RunResult:
    """The run path with a progress bar (and the newest preview in `preview_dir`); a Ctrl-C
    cancels the prompt on the host.

    The bar always ends its line first, so whatever is printed next starts on its own line.
    """
    bar = ProgressBar(sys.stderr)

    async def on_event(event: ComfyEvent) -> None:
        bar.update(event)
        if isinstance(event, Preview) and preview_dir is not None:
            await asyncio.to_thread(write_preview, event, preview_dir)

    async def cancel(prompt_id: str) -> None:
        bar.close()
        try:
            await client.cancel(prompt_id)
        except ComfyError as exc:
            print(f"wanbot: could not cancel prompt {prompt_id}: {exc}", file=sys.stderr)

    try:
        return await run_job(
            job,
            client,
            setup,
            dest,
            # The bar ends with the GPU work: a fetch's warnings start on their own line.
            hooks=Hooks(on_event=on_event, on_generated=bar.close, on_cancelled=cancel),
            fetch_window=fetch_window,
        )
    finally:
        bar.close()


def write_preview(preview: Preview, folder: Path) -> Path:
    """`preview` as `folder/preview.jpg` (`.png` for a PNG), replaced whole so a reader never
    sees half of one."""
    suffix = ".png" if preview.mime == "image/png" else ".jpg"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"preview{suffix}"
    partial = target.with_name(f".{target.name}.part")
    partial.write_bytes(preview.image)
    partial.replace(target)
    return target


async def workflow(args: argparse.Namespace, config: Config | None) -> int:
    """Print the API-format prompt; every file it names exists for the user.

    Without `--host` no host is contacted: the graph is checked against the bundled schema
    and model file names are taken from the config as given. With `--host NAME` it is checked
    against that host's live schema, model files included. Inputs are named by the user's
    own base file names, or, with `--inputs-dir`, written there as prepared (what `generate`
    would upload) and named by those files.
    """
    if config is None:
        config = parse_config(
            {"comfy": {"hosts": [{"name": "local", "url": "http://127.0.0.1:8188"}]}}
        )
    host = config.host(args.host)
    live = args.host is not None
    if live:
        async with client_for(host, config) as client:
            object_info = await client.object_info()
    else:
        object_info = bundled_object_info()
    folder: Path | None = args.inputs_dir
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="wanbot-") as tmp:
        job = await _prepare(args, config, object_info, Path(tmp))
        plan = plan_chain(job.request)
        if plan is not None:  # a long video: its first clip (the others add LoadLatent)
            print(f"note: a long video of {plan.clips} clips; this is clip 1", file=sys.stderr)
            job = clip_job(job, plan, [])
        name_for = _original_names(args) if folder is None else (lambda p: p.name)
        setup = HostSetup.of(host, config, object_info)
        prompt = build_workflow(job, setup, plan_uploads(job, name_for))
        if live:
            ensure_runnable(prompt, object_info, host.name)
        else:
            _check_offline(prompt, object_info)
        if folder is not None:
            written = await asyncio.to_thread(_write_inputs, job, folder)
    _print_notes(job)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    print_json(prompt)
    return 0


def _check_offline(prompt: dict[str, Any], object_info: dict[str, Any]) -> None:
    """The graph against the bundled schema; names no host, since none was asked."""
    try:
        check_prompt(prompt, object_info, model_files=False)
    except WorkflowInvalid as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise UserError(
            f"The workflow does not fit WanBot's bundled node schema: {problems}"
        ) from None


def _original_names(args: argparse.Namespace) -> Callable[[Path], str]:
    """Prepared file -> the user's own file name, for image, audio, background and end."""
    names = {"image.png": args.image.name if args.image else "image.png"}
    if args.audio:
        names["audio.wav"] = args.audio.name
    if args.background:
        names["background.png"] = args.background.name
    if args.end:
        names["end.png"] = args.end.name

    def name_for(path: Path) -> str:
        if path.name not in names:
            raise UserError(f"The prompt needs the prepared {path.name}: add --inputs-dir DIR.")
        return names[path.name]

    return name_for


def _write_inputs(job: PreparedJob, folder: Path) -> list[Path]:
    """Copy the prepared files into `folder`; never over one of the user's own inputs."""
    pairs = [(src, folder / src.name) for src in job.files.all()]
    given = [p for p in job.request.inputs.all() if p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for _, target in pairs:
            if target.exists() and any(target.samefile(p) for p in given):
                raise UserError(
                    f"{target} is one of your inputs: choose another --inputs-dir "
                    "so that it is not overwritten."
                )
        for src, target in pairs:
            shutil.copyfile(src, target)
    except OSError as exc:
        raise UserError(f"Cannot write the inputs to {folder}: {exc.strerror}.") from None
    return [target for _, target in pairs]


def init(args: argparse.Namespace) -> int:
    """Write the commented example config to `--config` (config.toml); never overwrite one
    without `--force`."""
    path: Path = args.config
    if path.exists() and not args.force:
        raise UserError(f"{path} already exists: edit it, or add --force to overwrite it.")
    text = resources.files("bot").joinpath("config.example.toml").read_text(encoding="utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"Cannot write {path}: {exc.strerror}.") from None
    print(f"wrote {path}: set your ComfyUI host and a chat token, then run `wanbot check`")
    return 0


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()
