"""/i2v through WanBot's Discord adapter and the real engine: defer, card, edits, the MP4."""

from __future__ import annotations

from fakes.discord_objects import EPHEMERAL, LOADING
from fakes.media import png_bytes
from tests.discord.conftest import HarnessFactory, buttons_of, is_video


async def test_i2v_defers_posts_a_card_edits_it_and_replies_with_the_video(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        image = fake.attachment(png_bytes(640, 360), "cat.png")
        run = await fake.slash("i2v", image=image, prompt="a cat in a garden", steps=4, seed=7)
        video = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
        queued = await fake.wait_for("create_followup_message")

    defer = await fake.response_to(run)
    assert defer.payload["type"] == 5 and defer.flags & EPHEMERAL
    endpoints = [c.endpoint for c in fake.calls]
    first = {e: endpoints.index(e) for e in reversed(endpoints)}
    # The defer first, then the download, the card, and the answer once the engine took the job.
    assert first["create_interaction_response"] < first["download_attachment"]
    assert first["download_attachment"] < first["create_message"]
    assert first["create_message"] < first["create_followup_message"]
    card_call = fake.calls[first["create_message"]]
    card_id = int(card_call.response["id"])
    card = fake.messages[card_id]
    assert "done" in card["content"] and card["edited_timestamp"]
    shown = [
        c.payload["content"]
        for c in fake.of("edit_message")
        if c.params["message_id"] == str(card_id)
    ]
    assert any("Accepted" in t and "Queue position" in t for t in shown)
    assert any("Generating" in t and "%" in t for t in shown)
    assert fake.identical_edits == 0

    answer = fake.messages[run.original or 0]  # the ephemeral "thinking" became the answer
    assert answer["flags"] & EPHEMERAL and not answer["flags"] & LOADING
    assert "queued" in answer["content"] and queued.status == 200

    assert int(video.payload["message_reference"]["message_id"]) == card_id
    (archived,) = h.archived_videos()
    assert video.file(0) == archived.read_bytes()
    content = video.payload["content"]
    assert "a cat in a garden" in content and "7" in content and len(content) <= 2000
    posted = fake.messages[int(video.response["id"])]
    job_id = card["content"].split("`")[1]
    assert buttons_of(posted) == [f"wanbot:{a}:{job_id}" for a in ("reroll", "extend", "details")]
    (prompt,) = h.comfy.prompts
    sampler = next(n for n in prompt.values() if n["class_type"] == "WanVideoSampler")
    assert sampler["inputs"]["steps"] == 4 and sampler["inputs"]["seed"] == 7


async def test_i2v_with_an_end_image_binds_it_as_the_last_frame(harness: HarnessFactory) -> None:
    async with harness() as h:
        fake = h.discord
        image = fake.attachment(png_bytes(640, 360), "first.png")
        end = fake.attachment(png_bytes(640, 360), "last.png")
        await fake.slash("i2v", image=image, end_image=end, prompt="a door opens", steps=3)
        await fake.wait_for("create_message", is_video)
        await h.engine.drain()
    (prompt,) = h.comfy.prompts
    encode = next(n for n in prompt.values() if n["class_type"] == "WanVideoImageToVideoEncode")
    loader = prompt[prompt[encode["inputs"]["end_image"][0]]["inputs"]["image"][0]]
    assert loader["inputs"]["image"] in h.comfy.uploads
    assert sum(n["class_type"] == "LoadImage" for n in prompt.values()) == 2


async def test_a_batch_is_one_card_for_n_jobs_with_consecutive_seeds(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        image = fake.attachment(png_bytes(320, 240), "in.png")
        run = await fake.slash("i2v", image=image, prompt="a cat", steps=2, seed=5, batch=2)
        await fake.wait_for("create_message", is_video, count=2)
        await h.engine.drain()
    answer = fake.messages[run.original or 0]
    assert "Jobs" in answer["content"] and answer["content"].count("`") == 4
    (card,) = [m for m in fake.messages_in() if m["content"].startswith("📦 Batch of 2 jobs")]
    assert card["content"].count("done") == 2
    seeds = sorted(
        n["inputs"]["seed"]
        for p in h.comfy.prompts
        for n in p.values()
        if n["class_type"] == "WanVideoSampler"
    )
    assert seeds == [5, 6]


async def test_user_text_in_the_public_result_is_shown_not_rendered(
    harness: HarnessFactory,
) -> None:
    prompt = "[free nitro](http://evil.example) ||spoiler|| **bold** a_cat"
    async with harness() as h:
        fake = h.discord
        image = fake.attachment(png_bytes(320, 240), "cat.png")
        await fake.slash("i2v", image=image, prompt=prompt, steps=3, flags='--neg "~~gone~~"')
        video = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
    content = video.payload["content"]
    assert content.startswith(
        "\\[free nitro](http://evil.example) \\|\\|spoiler\\|\\| \\*\\*bold\\*\\* a\\_cat — <@"
    )
    assert "gone" not in content  # the negative prompt is in Details only
