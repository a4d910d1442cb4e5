"""The operators' listener: health, readiness and Prometheus metrics scraped while jobs run;
JSON log lines that name the job and never a secret."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from bot.engine.events import JobStarted
from bot.errors import LimitError
from bot.logs import JOB_CONTEXT, JsonFormatter, RedactingFilter
from bot.ops import OpsServer
from tests.engine.conftest import WorldFactory


def sample(text: str, name: str) -> float:
    """The value of the metric line `name` (with its labels) in Prometheus text."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the metrics")


async def test_metrics_and_readiness_while_jobs_run(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}, max_queued_per_user=1) as world:
        ops = OpsServer("127.0.0.1:0", world.engine, world.store)
        await ops.start()
        base = f"http://127.0.0.1:{ops.port}"
        try:
            async with aiohttp.ClientSession() as http:
                assert (await http.get(f"{base}/healthz")).status == 200
                assert (await http.get(f"{base}/readyz")).status == 200
                job = await world.submit("alice")
                await world.front.wait_for(job.id, JobStarted)
                await world.submit("alice")
                with pytest.raises(LimitError):
                    await world.submit("alice")
                during = await (await http.get(f"{base}/metrics")).text()
                world.release_all()
                await world.drain()
                after = await (await http.get(f"{base}/metrics")).text()
                await world.fakes[0].down()
                await world.engine.hosts.wait_until("gpu-1", up=False)
                unready = await http.get(f"{base}/readyz")
                reason = await unready.text()
        finally:
            await ops.stop()
    assert sample(during, 'wanbot_jobs{mode="i2v",status="running"}') == 1
    assert sample(during, "wanbot_queue_depth") == 1
    assert sample(during, 'wanbot_host_busy{host="gpu-1"}') == 1
    assert sample(during, 'wanbot_refusals_total{reason="limit"}') == 1
    assert sample(after, 'wanbot_jobs{mode="i2v",status="done"}') == 2
    assert sample(after, 'wanbot_gpu_seconds_count{mode="i2v"}') == 2
    assert sample(after, 'wanbot_wait_seconds_count{mode="i2v"}') == 2
    assert sample(after, 'wanbot_delivery_seconds_count{mode="i2v"}') == 2
    assert sample(after, 'wanbot_host_up{host="gpu-1"}') == 1
    assert unready.status == 503 and "no ComfyUI host is up" in reason


def test_json_lines_name_the_job_and_hide_secrets() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter(["sekrit-token-123"]))
    record = logging.LogRecord(
        "bot.x", logging.INFO, __file__, 1, "calling %s", ("sekrit-token-123",), None
    )
    token = JOB_CONTEXT.set({"job": "abc123", "user": "telegram:1", "host": "gpu-1"})
    try:
        assert handler.filter(record)
        line = handler.format(record)
    finally:
        JOB_CONTEXT.reset(token)
    data = json.loads(line)
    assert data["message"] == "calling [redacted]" and "sekrit" not in line
    assert (data["job"], data["user"], data["host"]) == ("abc123", "telegram:1", "gpu-1")
    assert data["level"] == "INFO" and data["logger"] == "bot.x"
