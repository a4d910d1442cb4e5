"""The `wanbot` arguments: the parser, and a job's mode, files and parameters from them."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import UserError

if TYPE_CHECKING:
    from bot.request import Ask, Mode

# The job flags come from `bot.params` (and pydantic models); they are imported where they
# are needed, so that `wanbot --help` answers without loading them.

DEFAULT_CONFIG = Path("config.toml")
# Phones and word processors turn "--" into an em or en dash; the chats accept both (as
# `bot.flags` does), and so does the command line.
_DASHES = ("\u2014", "\u2013")


class _Once(argparse.Action):
    """An option that may be given once: of two values, which one was meant is a guess."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        before = getattr(namespace, self.dest, None)
        if before is not None and before != self.default:
            parser.error(f"{option_string} is given twice ({before} and {values}): give it once")
        setattr(namespace, self.dest, values)


def normalize_dashes(argv: Sequence[str]) -> list[str]:
    """`—steps 4` as `--steps 4`: a leading em or en dash before a letter is an option."""
    out = []
    for arg in argv:
        if arg[:1] in _DASHES and arg[1:2].isalpha():
            arg = "--" + arg[1:]
        out.append(arg)
    return out


def _add_verbose(parser: argparse.ArgumentParser) -> None:
    """`-v` before or after the command (`wanbot -v serve`, `wanbot serve -v`)."""
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log debug details"
    )


def _add_job_arguments(parser: argparse.ArgumentParser) -> None:
    from bot.params import PARAMS
    from bot.request import Mode

    parser.add_argument(
        "image",
        nargs="?",
        type=Path,
        help="reference image or portrait (generate: several images make one job each)",
    )
    parser.add_argument("prompt", nargs="*", help="what should happen in the video")
    parser.add_argument(
        "--mode", choices=[m.value for m in Mode], action=_Once, help=f"default: {Mode.I2V.value}"
    )
    parser.add_argument("--audio", type=Path, action=_Once, help="speech for InfiniteTalk")
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
    parser.add_argument(
        "--background", type=Path, action=_Once, help="background image for WanAnimate"
    )
    parser.add_argument(
        "--video",
        type=Path,
        action=_Once,
        help="a video of someone moving, for --mode animate2 (Wan-Animate-2)",
    )
    parser.add_argument("--end", type=Path, action=_Once, help="last frame for image to video")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument(
        "--host", action=_Once, help="name of the ComfyUI host (default: the first)"
    )
    params = parser.add_argument_group("parameters")
    for param in PARAMS:
        params.add_argument(
            f"--{param.name}",
            dest=f"flag_{param.key}",
            metavar=param.metavar,
            help=param.help,
            action=_Once,
        )


def top_level_help(argv: Sequence[str]) -> bool:
    """Whether `argv` asks only for the list of commands (no command named before -h)."""
    for arg in argv:
        if arg in ("-h", "--help"):
            return True
        if not arg.startswith("-"):
            return False
    return not argv


def build_parser(*, job_flags: bool = True) -> argparse.ArgumentParser:
    """The whole command line; without `job_flags`, generate and workflow lack their flags
    (enough for the top-level help, and fast: see `top_level_help`)."""
    parser = argparse.ArgumentParser(prog="wanbot", description="Wan video generation bot")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="json: one JSON object per line, with the job, user and host on a job's lines",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="run one job on a host and archive the MP4")
    if job_flags:
        _add_job_arguments(gen)
    gen.set_defaults(usage=gen)
    gen.add_argument(
        "--from",
        dest="from_json",
        type=Path,
        metavar="JSON",
        help="re-run an archived job from its JSON file",
    )
    gen.add_argument(
        "--extend",
        dest="extend_json",
        type=Path,
        metavar="JSON",
        help="continue an archived image-to-video job from its last frame and archive both "
        "joined; words after it are the new prompt",
    )
    gen.add_argument(
        "--preview",
        dest="preview_dir",
        type=Path,
        metavar="DIR",
        help="write the newest preview of the running job to DIR/preview.jpg as it arrives",
    )
    wf = sub.add_parser(
        "workflow", help="print the API-format prompt (checked offline, or on --host NAME)"
    )
    if job_flags:
        _add_job_arguments(wf)
    wf.set_defaults(usage=wf)
    wf.add_argument(
        "--inputs-dir",
        type=Path,
        metavar="DIR",
        help="write the prepared input files here and name them in the prompt "
        "(required for --mode animate)",
    )
    check = sub.add_parser("check", help="validate config and probe every host")
    check.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    serve = sub.add_parser("serve", help="run the job engine and the configured chat front ends")
    serve.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    queue = sub.add_parser("queue", help="print the job queue from the database (operators)")
    queue.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    queue.add_argument("--limit", type=int, default=50, help="finished jobs to show (default 50)")
    init = sub.add_parser("init", help="write a commented config.toml to edit")
    init.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    for command in sub.choices.values():
        _add_verbose(command)
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


_INPUTS_FROM_ARCHIVE = (
    "image", "prompt", "mode", "audio", "pose", "face", "background", "end", "video"
)  # fmt: skip


def check_usage(args: argparse.Namespace) -> None:
    """Exit with status 2 and the usage for argument combinations that cannot work."""
    parser: argparse.ArgumentParser | None = getattr(args, "usage", None)
    if parser is None:
        return
    if getattr(args, "extend_json", None) is not None:
        if args.from_json is not None:
            parser.error("use either --from or --extend")
        if any(getattr(args, n) for n in _INPUTS_FROM_ARCHIVE if n not in ("image", "prompt")):
            parser.error(
                "--extend continues the archived video: leave out --mode, --audio, --pose, "
                "--face, --background and --end (a new prompt may follow)"
            )
        return
    if getattr(args, "from_json", None) is not None:
        if any(getattr(args, name) for name in _INPUTS_FROM_ARCHIVE):
            parser.error(
                "--from re-runs the archived image, prompt and mode: leave out IMAGE, PROMPT, "
                "--mode, --audio, --pose, --face, --background and --end (parameter options "
                "such as --seed or --steps are applied)"
            )
        return
    if args.image is None:
        parser.error("an IMAGE is required")
    _check_inputs_for_mode(parser, args)
    if args.command == "workflow" and args.mode in ("animate", "animate2") and not args.inputs_dir:
        parser.error(
            f"--mode {args.mode} needs --inputs-dir DIR: the pose (and face) clip is made from "
            "your "
            "files, and the printed prompt names it, so it must be written where you can copy "
            "it to ComfyUI's input folder"
        )


# The inputs only one mode uses; given with another mode they would be left out unsaid.
# (`--end` with another mode is refused by `bot.intake`, as in the chats.)
_MODE_INPUTS = {
    "audio": "infinitetalk",
    "pose": "animate",
    "face": "animate",
    "background": "animate",
    "video": "animate2",
}


def _check_inputs_for_mode(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    mode = args.mode or "i2v"
    for name, needs in _MODE_INPUTS.items():
        if getattr(args, name) and mode != needs:
            parser.error(
                f"--{name} is for --mode {needs}, and this job is --mode {mode}: "
                f"add --mode {needs}, or leave out --{name}"
            )


def flag_overrides(args: argparse.Namespace, mode: Mode) -> dict[str, Any]:
    """The parameter options given on the command line, typed and checked for `mode`."""
    from bot.flags import convert_flag
    from bot.params import PARAMS

    overrides: dict[str, Any] = {}
    for param in PARAMS:
        value = getattr(args, f"flag_{param.key}")
        if value is not None:
            field, typed = convert_flag(param.name, value, mode)
            overrides[field] = typed
    return overrides


def _check_files(args: argparse.Namespace) -> None:
    from bot.media.decode import FORMATS_TEXT  # late: Pillow is slow to import for --help

    kinds = {
        "image": f"an image file ({FORMATS_TEXT})",
        "audio": "an audio file (WAV, MP3, M4A or OGG)",
        "background": f"an image file ({FORMATS_TEXT})",
        "end": f"an image file ({FORMATS_TEXT})",
        "video": "a video file (MP4, MOV, WebM or GIF)",
    }
    for kind, expected in kinds.items():
        path: Path | None = getattr(args, kind)
        if path is not None and path.is_dir():
            raise UserError(f"{path} is a folder: give {expected} as the {kind}.")
    singles = [args.image, args.audio, args.background, args.end, args.video]
    for path in [*singles, *args.pose, *args.face]:
        if path is not None and not path.exists():
            raise UserError(f"File not found: {path}.")


def job_ask(args: argparse.Namespace) -> Ask:
    """Mode, input files, prompt and typed parameter overrides from parsed arguments."""
    from bot.request import Ask, InputFiles, Mode

    mode = Mode(args.mode or Mode.I2V.value)
    if args.image is None:
        raise UserError("An image is required: wanbot generate IMAGE [PROMPT] [options].")
    _check_files(args)
    overrides = flag_overrides(args, mode)
    inputs = InputFiles(
        image=args.image.resolve(),
        audio=args.audio.resolve() if args.audio else None,
        pose=[p.resolve() for p in [*_expand(args.pose), *([args.video] if args.video else [])]],
        face=[p.resolve() for p in _expand(args.face)],
        background=args.background.resolve() if args.background else None,
        end=args.end.resolve() if args.end else None,
    )
    return Ask(mode, " ".join(args.prompt).strip(), inputs, overrides)
