"""The `wanbot` command line: generate, workflow, check, serve, queue.

Exit codes: 0 on success; 1 with a one-line reason on any failure; 2 for usage errors;
130 when interrupted (Ctrl-C); 141 when the reader of stdout went away (`| head`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.cli.args import (
    DEFAULT_CONFIG,
    build_parser,
    check_usage,
    normalize_dashes,
    top_level_help,
)
from bot.errors import WanBotError
from comfy.errors import ComfyError, HostError, HostUnavailable, NotComfyUI

if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger("wanbot")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `wanbot` console script."""
    argv = normalize_dashes(sys.argv[1:] if argv is None else argv)
    # The list of commands needs none of the job flags (nor pydantic, nor aiohttp): fast.
    args = build_parser(job_flags=not top_level_help(argv)).parse_args(argv)
    check_usage(args)
    # Imported late: keeps `wanbot --help` fast.
    from bot import logs

    logs.setup(args.verbose, json_lines=args.log_format == "json")
    from bot.app import load_config  # the core's, then each chat section by its adapter
    from bot.cli import check, commands, serve

    try:
        if args.command == "init":
            return commands.init(args)
        config: Config | None = None
        if args.command != "workflow" or args.config.exists():
            # Without a config.toml WanBot runs on its defaults; a named file must exist.
            defaults = args.config == DEFAULT_CONFIG
            config = load_config(args.config, defaults_if_missing=defaults)
            logs.hide_secrets(config)
        handler = {
            "generate": commands.generate,
            "workflow": commands.workflow,
            "check": check.check,
            "serve": serve.serve,
            "queue": serve.queue,
        }[args.command]
        import asyncio

        return asyncio.run(handler(args, config))
    except NotComfyUI as exc:
        return _failed(_one_line(str(exc)))
    except HostError as exc:
        return _failed(
            f"the ComfyUI host answered with an error: {_one_line(str(exc))} "
            "(the ComfyUI log on the host says why)"
        )
    except HostUnavailable as exc:
        return _failed(
            f"ComfyUI host unreachable: {_one_line(str(exc))} "
            "(is it running? `wanbot check` tests every host)"
        )
    except (WanBotError, ComfyError) as exc:
        return _failed(_one_line(str(exc)))
    except KeyboardInterrupt:
        return _failed("interrupted", 130)
    except BrokenPipeError:
        log.debug("stdout was closed by its reader", exc_info=True)
        return _reader_gone()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _failed(text: str, code: int = 1) -> int:
    """Say why the command failed, in one line (one JSON object with `--log-format json`,
    secrets replaced either way); return its exit code."""
    from bot.logs import announce

    announce(text, logging.ERROR)
    return code


def _reader_gone() -> int:
    """Stdout's reader quit (`wanbot workflow ... | head`): stop quietly, as Unix tools do."""
    # Point stdout at /dev/null so the interpreter's final flush cannot fail again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + 13  # the status of a process ended by SIGPIPE
