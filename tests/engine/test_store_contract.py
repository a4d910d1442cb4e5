"""What every store dialect must do alike (run on a SQLite file and on a PostgreSQL database):
each query of the `JobStore` interface, the values a row keeps, and the errors it gives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.chain import ClipMade
from bot.dburl import PostgresUrl
from bot.engine.eta import work
from bot.engine.jobs import Batch, Job, JobStatus
from bot.engine.slim import PREVIEW, needs
from bot.engine.store import JobStore
from bot.request import FileSet, InputFiles
from tests.factories import make_params, make_request

# An epoch time with sub-second detail: a 4-byte float column would round it to minutes.
NOW = 1_765_000_000.123456


def _job(job_id: str, tmp: Path, user: str = "u1", created_at: float = NOW) -> Job:
    params = make_params(width=480, height=320, frames=17, steps=4, seed=7)
    request = make_request(params=params, negative_prompt="", inputs=InputFiles(image=tmp / "i"))
    return Job(
        id=job_id,
        platform="test",
        user_id=user,
        chat_id="c1",
        reply_target={"message_id": 5, "text": "100% ? done"},
        request=request,
        files=FileSet[Path](image=tmp / "image.png"),
        work_dir=tmp,
        created_at=created_at,
    )


@pytest.fixture
async def store(database: Path | PostgresUrl) -> AsyncIterator[JobStore]:
    opened = await JobStore.open(database)
    yield opened
    await opened.close()


async def test_every_updatable_field_round_trips(store: JobStore, tmp_path: Path) -> None:
    job = await store.add(_job("a1", tmp_path))
    clip = ClipMade(0, "c0.mp4", "c0.latent", "a cat", 7, "p-0", "gpu", 12.5)
    job.status, job.host, job.prompt_id, job.attempts = JobStatus.DONE, "gpu", "p-1", 2
    job.progress, job.progress_step, job.progress_steps = 0.75, 3, 4
    job.error, job.started_at, job.finished_at = "oops", NOW + 1.5, NOW + 9.25
    job.output, job.gpu_seconds, job.delivered = tmp_path / "out.mp4", 7.125, True
    job.workflow, job.clips = {"1": {"class_type": "X", "inputs": {"t": "50%"}}}, [clip]
    fields = ("status", "host", "prompt_id", "attempts", "progress", "progress_step")
    more = ("progress_steps", "error", "started_at", "finished_at", "output", "gpu_seconds")
    await store.update(job, *fields, *more, "delivered", "workflow", "clips", "request")
    loaded = await store.get("a1")
    assert loaded is not None
    for name in (*fields, *more, "delivered", "workflow", "clips", "request", "reply_target"):
        assert getattr(loaded, name) == getattr(job, name), name
    assert loaded.created_at == NOW
    assert await store.get("nope") is None
    with pytest.raises(ValueError, match="not updatable"):
        await store.update(job, "id")


async def test_queries_see_the_same_jobs(store: JobStore, tmp_path: Path) -> None:
    jobs = [
        _job(f"j{i}", tmp_path, user="u1" if i < 3 else "u2", created_at=NOW + i) for i in range(5)
    ]
    for index, job in enumerate(jobs[:2]):
        job.batch = Batch("g", index, 2)
    await store.add_all(jobs)
    assert [j.seq for j in jobs] == sorted({j.seq for j in jobs})
    assert [j.batch for j in [await store.get("j0"), await store.get("j1")] if j] == [
        Batch("g", 0, 2),
        Batch("g", 1, 2),
    ]
    jobs[0].status, jobs[0].finished_at = JobStatus.DONE, NOW + 10
    jobs[1].status = JobStatus.FAILED  # no end time: its creation counts
    jobs[2].status, jobs[2].gpu_seconds = JobStatus.RUNNING, 3.5
    for job in jobs[:3]:
        await store.update(job, "status", "finished_at", "gpu_seconds")
    assert [j.id for j in await store.active()] == ["j2", "j3", "j4"]
    assert [j.id for j in await store.recent(limit=1)] == ["j2", "j3", "j4"]
    assert [j.id for j in await store.recent(limit=4)] == ["j1", "j2", "j3", "j4"]
    assert [j.id for j in await store.for_user("test", "u1", limit=2)] == ["j2", "j1"]
    assert await store.usage_since("test", "u1", NOW + 1) == [
        (NOW + 1, "failed", None),
        (NOW + 2, "running", 3.5),
    ]
    assert await store.counts() == {
        ("done", "i2v"): 1,
        ("failed", "i2v"): 1,
        ("running", "i2v"): 1,
        ("queued", "i2v"): 2,
    }
    assert (await store.count(JobStatus.QUEUED), await store.count(JobStatus.CANCELLED)) == (2, 0)
    assert await store.ended_between(NOW, NOW + 11) == [("j1", NOW + 1), ("j0", NOW + 10)]
    assert await store.ended_between(NOW + 2, NOW + 10) == []


async def test_meta_is_kept_and_replaced(store: JobStore) -> None:
    assert await store.meta("k") is None
    await store.set_meta("k", "one ? 100%")
    await store.set_meta("k", "two")
    assert await store.meta("k") == "two"


async def test_a_second_add_of_one_id_fails_and_adds_nothing(
    store: JobStore, tmp_path: Path
) -> None:
    await store.add(_job("x1", tmp_path))
    with pytest.raises(Exception, match=r"(?i)unique"):
        await store.add_all([_job("x2", tmp_path), _job("x1", tmp_path)])
    assert await store.get("x2") is None


async def test_queued_records_and_the_rows_read_whole(store: JobStore, tmp_path: Path) -> None:
    jobs = [_job(f"q{i}", tmp_path, user=f"u{i % 2}", created_at=NOW + i) for i in range(7)]
    jobs[3].request = jobs[3].request.model_copy(update={"prompt": "x" * 500})
    await store.add_all(jobs)
    jobs[1].status = JobStatus.RUNNING
    jobs[2].status = JobStatus.DONE
    jobs[5].status = JobStatus.DELIVERING
    for job in jobs[1:3] + jobs[5:6]:
        await store.update(job, "status")
    # Read a few rows at a time: the records come in order across the chunks.
    records = await store.queued(chunk=2)
    assert [r.id for r in records] == ["q0", "q3", "q4", "q6"]
    first, long = records[0], records[1]
    assert (first.user, first.seq, first.mode, first.created_at) == (
        "test:u0",
        jobs[0].seq,
        jobs[0].mode,
        NOW,
    )
    assert first.work == work(jobs[0].request) and first.needs == needs(jobs[0].request)
    assert first.prompt == jobs[0].request.prompt and long.prompt == "x" * PREVIEW
    assert records[2].user is records[0].user  # one string per user, however many jobs
    assert [j.id for j in await store.unfinished()] == ["q1", "q5"]
