"""Per-user defaults: set once, applied before each job's own flags, kept across restarts."""

from __future__ import annotations

import pytest

from bot.errors import ParameterError, UserError
from tests.engine.conftest import WorldFactory


async def test_a_users_defaults_apply_to_their_jobs_only_and_flags_win(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1) as world:
        mine = world.engine.user_defaults
        assert await mine.change("test:alice", "steps 12 --cfg 4.5") == {
            "steps": "12",
            "cfg": "4.5",
        }
        assert await mine.change("test:alice", "shift 3") == {
            "steps": "12",
            "cfg": "4.5",
            "shift": "3",
        }
        await world.restart()  # kept in the store
        job = await world.submit("alice", steps=None)
        own = await world.submit("alice", steps=8)
        other = await world.submit("bob", steps=None)
        await world.drain()
    params = job.request.params
    assert (params.steps, params.cfg, params.shift) == (12, 4.5, 3.0)
    assert any("from your /settings: steps, cfg, shift" in n for n in job.request.notes)
    assert own.request.params.steps == 8 and own.request.params.cfg == 4.5
    assert (other.request.params.steps, other.request.params.cfg) == (30, 6.0)


async def test_bad_settings_are_refused_and_reset_clears(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1) as world:
        mine = world.engine.user_defaults
        await mine.change("test:alice", "steps 20")
        with pytest.raises(ParameterError, match="steps 1000 is out of range"):
            await mine.change("test:alice", "steps 1000")
        with pytest.raises(ParameterError, match="cannot be a default"):
            await mine.change("test:alice", "seed 5")
        with pytest.raises(ParameterError, match="Unknown option --colour"):
            await mine.change("test:alice", "colour blue")
        with pytest.raises(UserError, match="name and value pairs"):
            await mine.change("test:alice", "steps")
        assert await mine.get("test:alice") == {"steps": "20"}  # nothing half-applied
        assert await mine.change("test:alice", "reset") == {}
        job = await world.submit("alice", steps=None)
        await world.drain()
    assert job.request.params.steps == 30 and not any("settings" in n for n in job.request.notes)
