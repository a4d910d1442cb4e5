"""After delivery: Reroll and Details survive a restart; oversize videos are re-encoded."""

from __future__ import annotations

import re

from bot.params import DEFAULT_NEGATIVE
from fakes.media import png_bytes, probe
from tests.telegram.conftest import HarnessFactory


def seed_of(caption: str) -> str:
    match = re.search(r"seed\D*(\d+)", caption, re.I)
    assert match, caption
    return match.group(1)


async def test_reroll_and_details_work_after_a_restart(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        sent = await tg.send_message(
            photo=tg.photo(png_bytes(320, 240), 320, 240), caption="/i2v a red kite --steps 3"
        )
        first = await tg.wait_for("sendVideo")
        await h.engine.drain()
        await h.restart()

        markup = first.fields["reply_markup"]["inline_keyboard"][0]
        data = [b["callback_data"] for b in markup]
        reroll, details = data[0], data[-1]
        assert [d.split(":")[0] for d in data] == ["reroll", "extend", "details"]
        query = await tg.press_button(first.response, reroll)
        answer = await tg.wait_for(
            "answerCallbackQuery", lambda c: c.fields["callback_query_id"] == query
        )
        assert "Rerolling" in answer.fields["text"]
        second = await tg.wait_for("sendVideo", count=2)
        assert second.fields["reply_parameters"]["message_id"] == sent["message_id"]
        assert "a red kite" in second.fields["caption"]
        assert seed_of(second.fields["caption"]) != seed_of(first.fields["caption"])
        assert len(h.comfy.prompts) == 2
        # The re-roll got its own status message; the first job's one still says done.
        acks = [c for c in tg.of("sendMessage") if "Accepted" in str(c.fields["text"])]
        assert len(acks) == 1

        query = await tg.press_button(first.response, details)
        info = await tg.wait_for("sendMessage", lambda c: str(c.fields["text"]).startswith("Job "))
        assert "a red kite" in info.fields["text"]
        assert "seed" in info.fields["text"]
        assert info.fields["reply_parameters"]["message_id"] == first.response["message_id"]


async def test_oversize_video_is_reencoded_to_fit(harness: HarnessFactory) -> None:
    async with harness(comfy={"scale": 1.0}, upload_limit=40_000) as h:
        tg = h.tg
        await tg.send_message(
            photo=tg.photo(png_bytes(640, 360), 640, 360),
            caption="/i2v noisy waves --steps 3 --size 832x480",
        )
        video = await tg.wait_for("sendVideo")
        archived = h.archived_videos()[0].read_bytes()
        assert len(archived) > 40_000, "the fake's video must be over the limit for this test"
        assert len(video.file("video")) <= 40_000
        assert "Re-encoded" in video.fields["caption"]


async def test_video_that_cannot_fit_is_named(harness: HarnessFactory) -> None:
    async with harness(upload_limit=1024) as h:
        tg = h.tg
        await tg.send_message(
            photo=tg.photo(png_bytes(320, 240), 320, 240), caption="/i2v a kite --steps 3"
        )
        message = await tg.wait_text("too large to send here")
        assert "i2v" in message.fields["text"]
        assert tg.of("sendVideo") == []


async def test_extend_continues_the_video_and_sends_both_joined(harness: HarnessFactory) -> None:
    async with harness(comfy={"scale": 1.0}) as h:
        tg = h.tg
        await tg.send_message(
            photo=tg.photo(png_bytes(320, 240), 320, 240),
            caption="/i2v a red kite --steps 3 --frames 9 --size 256x192",
        )
        first = await tg.wait_for("sendVideo")
        await h.engine.drain()
        extend = first.fields["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
        query = await tg.press_button(first.response, extend)
        answer = await tg.wait_for(
            "answerCallbackQuery", lambda c: c.fields["callback_query_id"] == query
        )
        second = await tg.wait_for("sendVideo", count=2)
        await h.engine.drain()
        job = extend.split(":")[1]
        await tg.send_message(text=f"/extend {job} the kite flies away")
        third = await tg.wait_for("sendVideo", count=3)
        await h.engine.drain()
    assert "Extending as job" in answer.fields["text"]
    frames = [probe(c.file("video")).frames for c in (first, second, third)]
    assert frames == [9, 17, 17]  # each extension: the original and 8 new frames
    assert "the kite flies away" in third.fields["caption"]


async def test_the_caption_is_the_prompt_and_one_line_and_details_use_the_flag_names(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        tg = h.tg
        await tg.send_message(
            photo=tg.photo(png_bytes(320, 240), 320, 240), caption="/i2v a red kite --steps 3"
        )
        plain = await tg.wait_for("sendVideo")
        await tg.send_message(
            photo=tg.photo(png_bytes(320, 240), 320, 240),
            caption='/i2v a blue kite --steps 3 --neg "rain, fog"',
        )
        own = await tg.wait_for("sendVideo", count=2)
        await h.engine.drain()
        details = plain.fields["reply_markup"]["inline_keyboard"][0][-1]["callback_data"]
        await tg.press_button(plain.response, details)
        info = await tg.wait_for("sendMessage", lambda c: str(c.fields["text"]).startswith("Job "))

    # The prompt, then one line of what matters; the negative prompt only in Details.
    prompt, line = plain.fields["caption"].split("\n")
    assert prompt == "a red kite"
    assert re.fullmatch(r"832x480 · [\d.]+ s · seed \d+ · 3 steps · \w+ quality · GPU .+", line)
    assert own.fields["caption"].startswith("a blue kite\n832x480 · ")
    assert "rain" not in own.fields["caption"] and "Negative" not in plain.fields["caption"]
    # Plain text: nothing a user types (Markdown, HTML) is rendered in a public message.
    assert "parse_mode" not in plain.fields and "parse_mode" not in info.fields
    assert DEFAULT_NEGATIVE[:40] not in plain.fields["caption"]
    text = info.fields["text"]
    for line in ("--steps 3", "--frames 81 frames (5.1 s)", "--fps 16 fps", "--cfg 6"):
        assert f"\n{line}\n" in text
    assert "\n--size 832x480 pixels\n" in text
    assert f"--neg (default) {DEFAULT_NEGATIVE}" in text
    for internal in ("size_from_user", "negative_prompt", "frame_window", "params:"):
        assert internal not in text
