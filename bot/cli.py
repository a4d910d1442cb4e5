"""The `wanbot` command line: generate, workflow, check, serve, queue.

Exit codes: 0 on success; 1 with a one-line reason on any failure; 2 for usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot import logs
from bot.config import Config, load_config
from bot.errors import UserError, WanBotError
from bot.params import FLAGS, convert_flag
from bot.request import InputFiles, Mode
from comfy.errors import ComfyError, HostUnavailable

DEFAULT_CONFIG = Path("config.toml")
log = logging.getLogger("wanbot")


def _add_job_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", nargs="?", type=Path, help="reference image or portrait")
    parser.add_argument("prompt", nargs="*", help="what should happen in the video")
    parser.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.I2V.value)
    parser.add_argument("--audio", type=Path, help="speech for InfiniteTalk")
    parser.add_argument(
        "--pose",
        type=Path,
        action="append",
        default=[],
        help="pose video, zip, image folder or image (repeatable)",
    )
    parser.add_argument(
        "--face",
        type=Path,
        action="append",
        default=[],
        help="face video, zip, image folder or image (repeatable)",
    )
    parser.add_argument("--background", type=Path, help="background image for WanAnimate")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--host", help="name of the ComfyUI host (default: the first)")
    params = parser.add_argument_group("parameters")
    for name, flag in FLAGS.items():
        params.add_argument(f"--{name}", dest=f"flag_{flag.field}", metavar="VALUE", help=flag.help)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wanbot", description="Wan video generation bot")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="run one job on a host and archive the MP4")
    _add_job_arguments(gen)
    gen.add_argument(
        "--from", dest="from_json", type=Path, help="re-run an archived job from its JSON file"
    )
    wf = sub.add_parser("workflow", help="print the API-format prompt without a host")
    _add_job_arguments(wf)
    check = sub.add_parser("check", help="validate config and probe every host")
    check.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    serve = sub.add_parser("serve", help="run the job engine and the configured chat front ends")
    serve.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    queue = sub.add_parser("queue", help="print the job queue from the database (operators)")
    queue.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    queue.add_argument("--limit", type=int, default=50, help="finished jobs to show (default 50)")
    return parser


def _expand(paths: Sequence[Path]) -> list[Path]:
    """Folders become their files in name order; files stay as they are."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir() if p.is_file()))
        else:
            out.append(path)
    return out


def job_inputs(args: argparse.Namespace) -> tuple[Mode, InputFiles, str, dict[str, Any]]:
    """Mode, input files, prompt and typed parameter overrides from parsed arguments."""
    mode = Mode(args.mode)
    if args.image is None:
        raise UserError("An image is required: wanbot generate IMAGE [PROMPT] [options].")
    for path in [args.image, args.audio, args.background, *args.pose, *args.face]:
        if path is not None and not path.exists():
            raise UserError(f"File not found: {path}.")
    overrides: dict[str, Any] = {}
    for name, flag in FLAGS.items():
        value = getattr(args, f"flag_{flag.field}")
        if value is not None:
            field, typed = convert_flag(name, value, mode)
            overrides[field] = typed
    inputs = InputFiles(
        image=args.image.resolve(),
        audio=args.audio.resolve() if args.audio else None,
        pose=[p.resolve() for p in _expand(args.pose)],
        face=[p.resolve() for p in _expand(args.face)],
        background=args.background.resolve() if args.background else None,
    )
    return mode, inputs, " ".join(args.prompt).strip(), overrides


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `wanbot` console script."""
    args = build_parser().parse_args(argv)
    logs.setup(args.verbose)
    # Imported late: keeps `wanbot --help` fast.
    from bot import commands, serve

    try:
        config: Config | None = None
        if args.command != "workflow" or args.config.exists():
            config = load_config(args.config)
            logs.hide_secrets(config)
        handler = {
            "generate": commands.generate,
            "workflow": commands.workflow,
            "check": commands.check,
            "serve": serve.serve,
            "queue": serve.queue,
        }[args.command]
        return asyncio.run(handler(args, config))
    except HostUnavailable as exc:
        print(
            f"wanbot: ComfyUI host unreachable: {_one_line(str(exc))} "
            "(is it running? `wanbot check` tests every host)",
            file=sys.stderr,
        )
        return 1
    except (WanBotError, ComfyError) as exc:
        print(f"wanbot: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("wanbot: interrupted", file=sys.stderr)
        return 130


def _one_line(text: str) -> str:
    return " ".join(text.split())


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
