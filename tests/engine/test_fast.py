"""Fast jobs go only to hosts with the fast preset's files; without any, they are refused."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.engine.core import Engine
from bot.engine.store import JobStore
from bot.errors import InputError
from bot.request import Ask, InputFiles, Mode, Order, Sender
from fakes.comfy_server import FakeComfy
from fakes.comfy_validation import with_models
from fakes.frontend import RecordingFrontEnd
from tests.engine.conftest import FAST, make_config, write_inputs
from workflows.hardware import HardwarePreset, Models, fast_needs_720p
from workflows.schema import bundled_object_info

MODELS = Models()
WITH_FAST = with_models(
    bundled_object_info(),
    [MODELS.i2v_fast_high, MODELS.i2v_fast_low],
    [MODELS.fast_lora_high, MODELS.fast_lora_low],
)


async def run_engine(
    tmp: Path, schemas: list[dict], stack: AsyncExitStack, presets: list[str] | None = None
):
    fakes = [await stack.enter_async_context(FakeComfy(object_info=s)) for s in schemas]
    config = make_config(tmp, [f.url for f in fakes], max_queued_per_user=10)
    for host, preset in zip(config.comfy.hosts, presets or [], strict=False):
        host.preset = HardwarePreset(preset)
    store = await JobStore.open(config.storage.database)
    stack.push_async_callback(store.close)
    engine = Engine(config, store, Archive(config.storage.outputs))
    engine.delivery_backoff = 0.0
    front = RecordingFrontEnd()
    engine.register(front)
    await engine.start()
    stack.push_async_callback(engine.stop)
    return fakes, engine, front


def order(tmp: Path, user: str, **overrides: object) -> Order:
    inputs = write_inputs(tmp / "chat")
    ask = Ask(Mode.I2V, "a cat", InputFiles(image=inputs["image"]), {**FAST, **overrides})
    return Order(ask, Sender("test", user, "chat"), {})


async def test_fast_jobs_run_only_where_the_files_are(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        (plain, fast_host), engine, front = await run_engine(
            tmp_path, [bundled_object_info(), WITH_FAST], stack
        )
        jobs = [
            await engine.submit(order(tmp_path, f"user{i}", quality="fast", steps=4))
            for i in range(3)
        ]
        standard = await engine.submit(order(tmp_path, "bob"))
        await engine.drain()
    assert front.delivered_ids() and set(front.delivered_ids()) == {j.id for j in [*jobs, standard]}
    assert {j.host for j in jobs} == {"gpu-2"}
    assert len(fast_host.prompts) >= 3 and all(
        sum(n["class_type"] == "WanVideoSampler" for n in p.values()) == 2
        for p in fast_host.prompts[:3]
    )
    assert all(
        sum(n["class_type"] == "WanVideoSampler" for n in p.values()) == 1 for p in plain.prompts
    )


async def test_without_any_host_with_the_files_a_fast_job_is_refused(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        (plain,), engine, front = await run_engine(tmp_path, [bundled_object_info()], stack)
        with pytest.raises(InputError, match="--quality standard"):
            await engine.submit(order(tmp_path, "alice", quality="fast"))
        job = await engine.submit(order(tmp_path, "alice"))
        await engine.drain()
    assert front.delivered_ids() == [job.id] and len(plain.prompts) == 1


def test_480p_is_832x480_either_way_round_or_the_square_a_square_photo_gets() -> None:
    for small in ((832, 480), (480, 832), (640, 640), (256, 256)):
        assert not fast_needs_720p(*small)
    for large in ((1280, 720), (720, 1280), (960, 544), (656, 656)):
        assert fast_needs_720p(*large)


async def test_720p_fast_jobs_go_only_to_hosts_whose_preset_allows_it(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        (small, large), engine, front = await run_engine(
            tmp_path, [WITH_FAST, WITH_FAST], stack, presets=["rtx3060", "rtx4090"]
        )
        hd = [
            await engine.submit(order(tmp_path, f"user{i}", quality="fast", size=(1280, 720)))
            for i in range(3)
        ]
        sd = [
            await engine.submit(order(tmp_path, f"sd{i}", quality="fast", size=(832, 480)))
            for i in range(3)
        ]
        await engine.drain()
    assert set(front.delivered_ids()) == {j.id for j in [*hd, *sd]}
    assert {j.host for j in hd} == {"gpu-2"}
    sizes = {(p["10"]["inputs"]["width"], p["10"]["inputs"]["height"]) for p in small.prompts}
    assert sizes <= {(832, 480)}  # the 12 GB host made 480p fast jobs at most
    assert len(small.prompts) + len(large.prompts) == 6


async def test_without_a_host_that_allows_720p_fast_it_is_refused(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        (host,), engine, front = await run_engine(tmp_path, [WITH_FAST], stack, ["rtx3060"])
        with pytest.raises(InputError, match=r"1280x720 with --quality fast.*--size 832x480"):
            await engine.submit(order(tmp_path, "alice", quality="fast", size=(1280, 720)))
        fast = await engine.submit(order(tmp_path, "alice", quality="fast", size=(832, 480)))
        standard = await engine.submit(order(tmp_path, "bob", size=(1280, 720)))
        await engine.drain()
    assert sorted(front.delivered_ids()) == sorted([fast.id, standard.id])
    assert len(host.prompts) == 2
