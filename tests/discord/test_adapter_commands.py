"""The commands WanBot registers: a snapshot of their schema, guild sync, autocomplete."""

from __future__ import annotations

from typing import Any

from fakes.discord_objects import GUILD_ID
from tests.discord.conftest import HarnessFactory
from workflows.schema import bundled_object_info

# /i2v as Discord's clients show it: (name, type, required, min, max); 11 attachment,
# 3 string, 4 integer, 10 number. Ranges come from the parameter table and `[limits]`.
I2V = [
    ("image", 11, True, None, None),
    ("prompt", 3, True, None, None),
    ("end_image", 11, False, None, None),
    ("shots", 3, False, None, None),
    ("steps", 4, False, 1, 30),
    ("quality", 3, False, None, None),
    ("split", 4, False, None, None),
    ("cfg", 10, False, 0.0, 30.0),
    ("frames", 4, False, 1, 161),
    ("length", 3, False, None, None),
    ("seed", 4, False, 0, 2**53 - 1),
    ("size", 3, False, None, None),
    ("scheduler", 3, False, None, None),
    ("shift", 10, False, 0.0, 100.0),
    ("negative", 3, False, None, None),
    ("denoise", 10, False, 0.01, 1.0),
    ("fps", 10, False, 1.0, 60.0),
    ("batch", 4, False, 1, 4),
    ("flags", 3, False, None, None),
]


def schema(command: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (o["name"], o["type"], o.get("required", False), o.get("min_value"), o.get("max_value"))
        for o in command.get("options", [])
    ]


async def test_the_synced_commands_match_the_snapshot(harness: HarnessFactory) -> None:
    async with harness(limits={"max_steps": 30}, guild_ids=[GUILD_ID]) as h:
        fake = h.discord
    assert None not in fake.commands  # synced to the listed guild only (instant)
    registered = [(c["name"], c["type"]) for c in fake.commands[GUILD_ID]]
    names = ("i2v", "talk", "animate", "animate2", "queue", "cancel", "extend", "quota")
    names = (*names, "settings", "help")
    admin = ("hosts", "pause", "resume", "drain", "block", "unblock", "refetch")
    commands = [(n, 1) for n in (*names, *admin)]
    assert sorted(registered) == sorted([*commands, ("Talking video", 3)])
    i2v = fake.command("i2v")
    assert schema(i2v) == I2V
    scheduler = next(o for o in i2v["options"] if o["name"] == "scheduler")
    assert scheduler["autocomplete"] is True
    assert all(0 < len(o["description"]) <= 100 for o in i2v["options"])
    quality = next(o for o in i2v["options"] if o["name"] == "quality")
    assert [c["value"] for c in quality["choices"]] == ["standard", "fast"]
    assert schema(fake.command("cancel")) == [("job", 3, False, None, None)]
    assert schema(fake.command("block")) == [("user", 6, True, None, None)]
    assert schema(fake.command("refetch")) == [("job", 3, True, None, None)]
    pause = fake.command("pause")["options"]
    assert [c["value"] for c in pause[0]["choices"]] == ["fake"] and pause[0]["required"]
    talk = schema(fake.command("talk"))
    assert talk[:3] == [
        ("image", 11, True, None, None),
        ("audio", 11, True, None, None),
        ("prompt", 3, False, None, None),
    ]
    assert {o[0] for o in talk} >= {"window", "motion_frame", "steps", "fps", "flags"}
    animate = fake.command("animate")
    assert schema(animate)[:5] == [
        ("image", 11, True, None, None),
        ("pose", 11, True, None, None),
        ("prompt", 3, False, None, None),
        ("face", 11, False, None, None),
        ("background", 11, False, None, None),
    ]
    by_name = {o["name"]: o for o in animate["options"]}
    assert (by_name["pose_strength"]["min_value"], by_name["pose_strength"]["max_value"]) == (0, 10)
    assert [c["value"] for c in by_name["color_match"]["choices"]][:2] == ["disabled", "mkl"]
    assert len(animate["options"]) <= 25
    animate2 = fake.command("animate2")
    assert schema(animate2)[:3] == [
        ("image", 11, True, None, None),
        ("video", 11, True, None, None),
        ("prompt", 3, False, None, None),
    ]
    given = {o[0] for o in schema(animate2)}
    assert {"pose_strength", "steps", "scheduler", "flags"} <= given
    assert not given & {"face", "background", "face_strength", "color_match", "quality"}


async def test_the_scheduler_is_autocompleted_from_the_samplers_list(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        typed = await fake.autocomplete("i2v", "scheduler", prompt="a cat", scheduler="unI")
        answer = await fake.response_to(typed)
        everything = await fake.response_to(
            await fake.autocomplete("i2v", "scheduler", prompt="a cat", scheduler="")
        )
    found = [c["value"] for c in answer.payload["data"]["choices"]]
    assert found == ["unipc", "unipc/beta", "vibt_unipc"]  # what starts with it first
    assert answer.payload["type"] == 8
    names = [c["value"] for c in everything.payload["data"]["choices"]]
    assert "unipc" in names and len(names) > 3 and len(names) <= 25


async def test_animate2_offers_the_schedulers_of_comfyuis_own_sampler(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        asked = await fake.autocomplete("animate2", "scheduler", scheduler="")
        answer = await fake.response_to(asked)
    names = [c["value"] for c in answer.payload["data"]["choices"]]
    # The host has the wrapper's sampler; Animate-2 still runs on core's KSampler.
    assert "euler" in names and "unipc" in names
    assert "flowmatch_causvid" not in names and "vibt_unipc" not in names


async def test_the_scheduler_list_comes_from_the_live_host(harness: HarnessFactory) -> None:
    info = bundled_object_info()
    listed = info["WanVideoSampler"]["input"]["required"]["scheduler"]
    listed[0] = [*listed[0], "unipc_custom"]
    async with harness(comfy={"object_info": info}) as h:
        typed = await h.discord.autocomplete("i2v", "scheduler", prompt="a cat", scheduler="cust")
        answer = await h.discord.response_to(typed)
    assert [c["value"] for c in answer.payload["data"]["choices"]] == ["unipc_custom"]
