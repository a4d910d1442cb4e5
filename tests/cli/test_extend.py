"""`wanbot generate --extend JSON`: continue an archived clip; both archived, joined."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes, probe
from tests.cli.test_cli import wanbot, write_config
from workflows.schema import bundled_object_info


async def test_extend_archives_the_continuation_and_the_joined_video(tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(640, 360))
    async with FakeComfy(object_info=bundled_object_info(), scale=1.0) as fake:
        config = write_config(tmp_path, fake.url)
        common = ("--steps", "3", "--config", config)
        first = await wanbot("generate", image, "a cat", "--frames", "9", *common, cwd=tmp_path)
        assert first.code == 0, first.err
        original = Path(first.out.strip())
        record = original.with_suffix(".json")
        more = await wanbot("generate", "--extend", record, "the cat jumps", *common, cwd=tmp_path)
        assert more.code == 0, more.err
        wrong = await wanbot(
            "generate", "--extend", record, "--from", record, *common, cwd=tmp_path
        )
    continuation, joined = (Path(line) for line in more.out.split())
    assert [probe(p).frames for p in (original, continuation, joined)] == [9, 9, 17]
    data = json.loads(joined.with_suffix(".json").read_text())
    assert Path(data["lineage"]["original"]).name == original.name
    assert data["lineage"]["continuation"] == str(continuation)
    assert data["request"]["prompt"] == "the cat jumps"
    assert (
        json.loads(record.read_text())["request"]["params"]["seed"]
        != data["request"]["params"]["seed"]
    )
    assert wrong.code == 2 and "either --from or --extend" in wrong.err


async def test_the_cli_refuses_what_the_chats_refuse_in_the_same_words(tmp_path: Path) -> None:
    """--extend, --batch and --from go through the engine's own operations."""
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(320, 240))
    async with FakeComfy(object_info=bundled_object_info(), scale=1.0) as fake:
        config = write_config(tmp_path, fake.url)
        common = ("--steps", "3", "--frames", "5", "--config", config)
        first = await wanbot("generate", image, "a cat", *common, cwd=tmp_path)
        record = Path(first.out.strip()).with_suffix(".json")
        await asyncio.to_thread(Path(first.out.strip()).unlink)
        gone = await wanbot("generate", "--extend", record, *common, cwd=tmp_path)
        seeds = await wanbot(
            "generate", image, "a cat", "--seed", str(2**64 - 1), "--batch", "2", *common,
            cwd=tmp_path,
        )  # fmt: skip
    origin = json.loads(record.read_text())["job_id"] or record.stem
    assert gone.code == 1 and gone.err.strip().endswith(
        f"The video of job {origin} is not in the archive (any more), so it cannot be "
        "extended. Extend a finished video, or make a new one."
    )
    assert seeds.code == 1 and "seed 18446744073709551615 leaves no room for 2 seeds" in seeds.err
