"""Reroll and Details under a delivered video: persistent, and only for the job's owner."""

from __future__ import annotations

import re

from adapters.chat import texts as shared
from adapters.discord import texts
from bot.params import DEFAULT_NEGATIVE
from fakes.discord_objects import EPHEMERAL, USER_ID
from fakes.media import png_bytes, probe
from tests.discord.conftest import HarnessFactory, answer_to, buttons_of, is_video

BOB, ADMIN = USER_ID + 1, USER_ID + 2


async def test_reroll_after_a_restart_makes_a_new_job_with_its_own_card(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        image = fake.attachment(png_bytes(320, 240), "cat.png")
        await fake.slash("i2v", image=image, prompt="a cat", steps=3, seed=11)
        first = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
        await h.restart()  # a new client: the buttons must still work

        video = fake.messages[int(first.response["id"])]
        reroll, _, _ = buttons_of(video)
        click = await fake.click(video, reroll)
        answer = await answer_to(fake, click)
        second = await fake.wait_for("create_message", is_video, count=2)
        await h.engine.drain()

    assert answer["flags"] & EPHEMERAL and "Rerolling as job" in answer["content"]
    old_job = reroll.split(":")[2]
    new_job = answer["content"].split("`")[1]
    assert new_job != old_job
    assert all(new_job in b for b in buttons_of(second.response))  # the new job's video
    assert buttons_of(fake.messages[int(second.response["id"])])[0] == f"wanbot:reroll:{new_job}"
    # The old card still says the old job is done; the new job got a card of its own.
    cards = [m for m in fake.messages_in() if "done" in m["content"]]
    assert sorted(c["content"] for c in cards) == sorted(
        [shared.done(old_job, texts.MARKUP), shared.done(new_job, texts.MARKUP)]
    )
    assert len(h.comfy.prompts) == 2


async def test_details_and_reroll_of_someone_elses_video_are_refused(
    harness: HarnessFactory,
) -> None:
    async with harness(queue={"admins": [f"discord:{ADMIN}"]}) as h:
        fake = h.discord
        image = fake.attachment(png_bytes(320, 240), "cat.png")
        await fake.slash("i2v", image=image, prompt="alice's secret prompt", steps=3)
        call = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
        video = fake.messages[int(call.response["id"])]
        reroll, _, details = buttons_of(video)
        refusals = [
            await answer_to(fake, await fake.click(video, b, user_id=BOB))
            for b in (reroll, details)
        ]
        await h.engine.drain()
        shown = await answer_to(fake, await fake.click(video, details, user_id=ADMIN))

    for refusal in refusals:
        assert refusal["content"] == shared.NOT_YOUR_JOB and refusal["flags"] & EPHEMERAL
    assert len(h.comfy.prompts) == 1
    assert shown["flags"] & EPHEMERAL
    assert shown["content"].startswith("Job ") and "alice's secret prompt" in shown["content"]


async def test_extend_opens_a_form_with_the_prompt_and_delivers_the_joined_video(
    harness: HarnessFactory,
) -> None:
    async with harness(comfy={"scale": 1.0}) as h:
        fake = h.discord
        image = fake.attachment(png_bytes(320, 240), "kite.png")
        await fake.slash("i2v", image=image, prompt="a red kite", steps=3, frames=9, size="256x192")
        first = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
        video = fake.messages[int(first.response["id"])]
        _, extend, details = buttons_of(video)
        opened = await fake.click(video, extend)
        form = (await fake.response_to(opened)).payload["data"]
        submitted = await fake.submit_modal(opened, {"prompt": "the kite flies away"})
        answer = await answer_to(fake, submitted)
        second = await fake.wait_for("create_message", is_video, count=2)
        await h.engine.drain()
        by_command = await answer_to(
            fake, await fake.slash("extend", job=extend.split(":")[2], prompt="it lands")
        )
        third = await fake.wait_for("create_message", is_video, count=3)
        await h.engine.drain()
    assert extend.startswith("wanbot:extend:") and details.startswith("wanbot:details:")
    assert form["components"][0]["component"]["value"] == "a red kite"
    assert "Extending as job" in answer["content"] and answer["flags"] & EPHEMERAL
    assert "Extending as job" in by_command["content"]
    assert "the kite flies away" in second.payload["content"]
    assert [probe(c.file(0)).frames for c in (first, second, third)] == [9, 17, 17]


async def test_the_result_is_the_prompt_and_one_line_and_details_use_the_flag_names(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        image = fake.attachment(png_bytes(320, 240), "cat.png")
        await fake.slash("i2v", image=image, prompt="a cat", steps=3)
        plain = await fake.wait_for("create_message", is_video)
        image = fake.attachment(png_bytes(320, 240), "dog.png")
        await fake.slash("i2v", image=image, prompt="a dog", steps=3, flags='--neg "rain, fog"')
        own = await fake.wait_for("create_message", is_video, count=2)
        await h.engine.drain()
        video = fake.messages[int(plain.response["id"])]
        _, _, details = buttons_of(video)
        shown = await answer_to(fake, await fake.click(video, details))

    # The prompt and who asked, then one line of what matters; the negative only in Details.
    prompt, line = plain.payload["content"].split("\n")
    assert prompt == f"a cat — <@{USER_ID}>"
    assert re.fullmatch(r"832x480 · [\d.]+ s · seed \d+ · 3 steps · \w+ quality · GPU .+", line)
    assert own.payload["content"].startswith("a dog — ")
    assert "rain" not in own.payload["content"] and "Negative" not in plain.payload["content"]
    assert DEFAULT_NEGATIVE[:40] not in plain.payload["content"]
    text = shown["content"]
    for line in (
        "--steps 3",
        "--frames 81 frames (5.1 s)",
        "--size 832x480 pixels",
        "--fps 16 fps",
    ):
        assert f"\n{line}\n" in text
    assert f"--neg (default) {DEFAULT_NEGATIVE}" in text
    for internal in ("size_from_user", "negative_prompt", "frame_window", "params:"):
        assert internal not in text
