from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from bot.archive import Archive, ArchiveRecord
from tests.factories import make_request


async def test_same_second_never_overwrites(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "outputs")
    when = datetime(2026, 11, 21, 10, 30, 5)
    sources = []
    for i in range(3):
        src = tmp_path / f"v{i}.mp4"
        src.write_bytes(f"video {i}".encode())
        sources.append(src)
    record = ArchiveRecord(request=make_request(tmp=tmp_path), host="gpu-1")
    paths = await asyncio.gather(*(archive.save(s, record, when) for s in sources))
    names = sorted(p.name for p in paths)
    assert names == [
        "i2v_i2v_20261121_103005.mp4",
        "i2v_i2v_20261121_103005_2.mp4",
        "i2v_i2v_20261121_103005_3.mp4",
    ]
    contents = sorted(p.read_bytes() for p in paths)
    assert contents == [b"video 0", b"video 1", b"video 2"]
    for p in paths:
        assert p.with_suffix(".json").exists()


async def test_record_round_trips(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "outputs")
    src = tmp_path / "v.mp4"
    src.write_bytes(b"x")
    record = ArchiveRecord(
        request=make_request(tmp=tmp_path),
        host="gpu-1",
        prompt_id="p1",
        workflow={"1": {"class_type": "LoadImage", "inputs": {}}},
    )
    video = await archive.save(src, record, datetime(2026, 1, 2, 3, 4, 5))
    assert video.parent == tmp_path / "outputs" / "i2v"
    loaded = Archive.load(video.with_suffix(".json"))
    assert loaded.request == record.request
    assert loaded.request.params.seed == 123
    assert loaded.workflow == record.workflow
