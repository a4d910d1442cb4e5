"""The job store: migrations, round trips, speeds, the stable client id.

Tests taking `database` run on each dialect (a SQLite file, a PostgreSQL database); those
that write an old SQLite file by hand are about SQLite's own upgrades.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bot.dburl import PostgresUrl
from bot.engine.jobs import Batch, Job, JobStatus
from bot.engine.store import JobStore, migrations
from bot.request import FileSet, InputFiles, Mode
from tests.factories import make_params, make_request


def _job(job_id: str, tmp: Path) -> Job:
    params = make_params(width=480, height=320, frames=17, steps=4, seed=7)
    inputs = InputFiles(image=tmp / "in.png")
    request = make_request(params=params, negative_prompt="", inputs=inputs)
    return Job(
        id=job_id,
        platform="test",
        user_id="u1",
        chat_id="c1",
        reply_target={"message_id": 5},
        request=request,
        files=FileSet[Path](image=tmp / "image.png"),
        work_dir=tmp,
        created_at=1.0,
    )


async def test_migrations_are_applied_once(database: Path | PostgresUrl) -> None:
    store = await JobStore.open(database)
    assert await store.schema_version() == len(migrations())
    await store.close()
    store = await JobStore.open(database)
    assert await store.schema_version() == len(migrations())
    await store.close()


async def test_job_round_trip_and_updates(database: Path | PostgresUrl, tmp_path: Path) -> None:
    store = await JobStore.open(database)
    try:
        first = await store.add(_job("aaaa", tmp_path))
        second = await store.add(_job("bbbb", tmp_path))
        assert first.seq < second.seq
        first.status, first.host, first.prompt_id = JobStatus.RUNNING, "gpu", "p-1"
        first.workflow = {"1": {"class_type": "X", "inputs": {}}}
        await store.update(first, "status", "host", "prompt_id", "workflow")
        loaded = await store.get("aaaa")
        assert loaded is not None
        assert (loaded.status, loaded.host, loaded.prompt_id) == (JobStatus.RUNNING, "gpu", "p-1")
        assert loaded.reply_target == {"message_id": 5}
        assert loaded.request == first.request
        assert loaded.files == first.files
        assert loaded.workflow == first.workflow
        assert [j.id for j in await store.active()] == ["aaaa", "bbbb"]
    finally:
        await store.close()


async def test_speeds_average_and_client_id_is_stable(database: Path | PostgresUrl) -> None:
    store = await JobStore.open(database)
    try:
        assert await store.record_speed("gpu", Mode.I2V, 2.0) == 2.0
        assert 2.0 < await store.record_speed("gpu", Mode.I2V, 4.0) < 4.0
        assert set(await store.speeds()) == {("gpu", Mode.I2V)}
        assert await store.client_id() == await store.client_id()
    finally:
        await store.close()


async def test_rows_from_before_the_one_file_set_still_load(tmp_path: Path) -> None:
    """Older rows name the prepared clips `pose_video` and `face_video`."""
    job = _job("cccc", tmp_path)
    job.files = FileSet[Path](image=tmp_path / "image.png", pose=[tmp_path / "pose.mp4"])
    store = await JobStore.open(tmp_path / "db.sqlite")
    try:
        await store.add(job)
        assert (await store.get("cccc")).files == job.files  # type: ignore[union-attr]
    finally:
        await store.close()
    old = {"image": str(tmp_path / "image.png"), "audio": None, "background": None}
    old |= {"pose_video": str(tmp_path / "pose.mp4"), "face_video": None}
    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        db.execute("UPDATE jobs SET files = ? WHERE id = 'cccc'", (json.dumps(old),))
    db.close()
    store = await JobStore.open(tmp_path / "db.sqlite")
    try:
        loaded = await store.get("cccc")
        assert loaded is not None and loaded.files == job.files
    finally:
        await store.close()


async def test_a_database_from_before_the_renames_is_upgraded(tmp_path: Path) -> None:
    """Version 1 named the work folder `input_dir` and ComfyUI's progress `step`/`steps`."""
    number, _, sql = migrations()[0]
    job = _job("dddd", tmp_path)
    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        db.executescript(sql + f"\nPRAGMA user_version = {number};")
        db.execute(
            "INSERT INTO jobs (id, platform, user_id, chat_id, reply_target, mode, request, "
            "files, input_dir, status, step, steps, created_at) "
            "VALUES ('dddd', 'test', 'u1', 'c1', '{}', 'i2v', ?, ?, ?, 'running', 3, 20, 1.0)",
            (job.request.model_dump_json(), job.files.model_dump_json(), str(tmp_path)),
        )
    db.close()
    store = await JobStore.open(tmp_path / "db.sqlite")
    try:
        loaded = await store.get("dddd")
        assert loaded is not None
        assert (loaded.work_dir, loaded.progress_step, loaded.progress_steps) == (tmp_path, 3, 20)
    finally:
        await store.close()


async def test_a_batch_kept_in_the_reply_target_moves_to_the_job(tmp_path: Path) -> None:
    """Before version 4 a job's batch was a key of its reply target; now it is the job's."""
    job = _job("eeee", tmp_path)
    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        for number, _name, sql in migrations()[:3]:
            db.executescript(sql + f"\nPRAGMA user_version = {number};")
        for job_id, target in (
            ("eeee", {"message_id": 5, "batch": ["g1", 1, 3]}),
            ("ffff", {"message_id": 6}),
        ):
            db.execute(
                "INSERT INTO jobs (id, platform, user_id, chat_id, reply_target, mode, request, "
                "files, work_dir, status, created_at) "
                "VALUES (?, 'test', 'u1', 'c1', ?, 'i2v', ?, ?, ?, 'queued', 1.0)",
                (job_id, json.dumps(target), job.request.model_dump_json(),
                 job.files.model_dump_json(), str(tmp_path)),
            )  # fmt: skip
    db.close()
    store = await JobStore.open(tmp_path / "db.sqlite")
    try:
        moved, alone = await store.get("eeee"), await store.get("ffff")
        assert moved is not None and alone is not None
        assert moved.batch == Batch("g1", 1, 3) and moved.reply_target == {"message_id": 5}
        assert alone.batch is None and alone.reply_target == {"message_id": 6}
        pair = [_job("gggg", tmp_path), _job("hhhh", tmp_path)]
        for index, one in enumerate(pair):
            one.batch = Batch("g2", index, 2)
        await store.add_all(pair)
        loaded = [await store.get(j.id) for j in pair]
        assert [j.batch for j in loaded if j is not None] == [j.batch for j in pair]
    finally:
        await store.close()
