"""Refusals and failures: each says what to do; flood control is honoured."""

from __future__ import annotations

import logging

import pytest

from bot.params import PARAMS
from fakes.media import png_bytes
from fakes.telegram_server import EDITS
from tests.telegram.conftest import HarnessFactory


async def test_document_that_is_not_an_image(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        sent = await tg.send_message(
            document=tg.document(b"%PDF-1.4", "application/pdf", name="notes.pdf"),
            caption="/i2v a cat",
        )
        reply = await tg.wait_text("I need a photo")
        assert reply.fields["reply_parameters"]["message_id"] == sent["message_id"]
        assert tg.of("getFile") == []


async def test_image_file_that_does_not_decode(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        await tg.send_message(
            document=tg.document(b"not a png at all", "image/png", name="broken.png"),
            caption="/i2v a cat",
        )
        ack = await tg.wait_for("sendMessage")
        edit = await tg.wait_for(
            EDITS, lambda c: c.fields["message_id"] == ack.response["message_id"]
        )
        assert "image" in str(edit.words).lower()
        assert "Traceback" not in str(edit.words)
        assert h.comfy.prompts == []


async def test_file_over_the_download_limit_is_refused_before_get_file(
    harness: HarnessFactory,
) -> None:
    async with harness(download_limit=20 * 1024 * 1024) as h:
        tg = h.tg
        big = tg.document(b"x", "image/png", name="huge.png", size=25 * 1024 * 1024)
        await tg.send_message(document=big, caption="/i2v a cat")
        reply = await tg.wait_text("at most 20 MB")
        assert "25 MB" in reply.fields["text"]
        assert tg.of("getFile") == []


async def test_bad_flag_is_explained(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        await tg.send_message(
            photo=tg.photo(png_bytes(320, 240), 320, 240), caption="/i2v a cat --stepz 3"
        )
        reply = await tg.wait_text("Unknown option --stepz")
        assert "--steps" in reply.fields["text"]


async def test_user_outside_the_allow_list_is_refused(harness: HarnessFactory) -> None:
    async with harness(allowed_users=[999]) as h:
        tg = h.tg
        await tg.send_message(
            user_id=111, photo=tg.photo(png_bytes(320, 240), 320, 240), caption="/i2v a cat"
        )
        await tg.wait_text("this bot is private")
        await tg.send_message(user_id=999, text="/help")
        help_text = await tg.wait_text("/i2v a cat walking")
        assert help_text.fields["chat_id"] == 999
        assert tg.of("getFile") == []


async def test_group_command_for_another_bot_is_ignored(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        await tg.send_message(chat_id=-100, chat_type="supergroup", text="/help@other_bot")
        await tg.send_message(chat_id=-100, chat_type="supergroup", text="/help@wan_test_bot")
        reply = await tg.wait_text("WanBot turns photos")
        assert reply.fields["chat_id"] == -100
        assert len(tg.of("sendMessage")) == 1


async def test_failed_generation_is_reported_with_the_job_id(harness: HarnessFactory) -> None:
    async with harness(comfy={"fail_with": "CUDA out of memory"}) as h:
        tg = h.tg
        await tg.send_message(
            photo=tg.photo(png_bytes(320, 240), 320, 240), caption="/i2v a cat --steps 3"
        )
        failed = await tg.wait_text("failed")
        assert "Job " in failed.fields["text"]


async def test_unexpected_error_gets_a_reference_not_the_exception(
    harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with harness() as h:
        tg = h.tg

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("secret internals")

        h.engine.status = broken  # type: ignore[method-assign]
        with caplog.at_level(logging.ERROR):
            await tg.send_message(text="/queue")
            reply = await tg.wait_text("Something went wrong")
        assert "secret internals" not in reply.fields["text"]
        assert "reference" in reply.fields["text"]
        assert any(r.exc_info for r in caplog.records)


async def test_flood_control_on_edit_is_honoured(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        tg.fail_next("editMessageText", retry_after=1)
        await tg.send_message(
            photo=tg.photo(png_bytes(320, 240), 320, 240), caption="/i2v a cat --steps 3"
        )
        await tg.wait_for("sendVideo")
        await h.engine.drain()
        edits = tg.of(EDITS)
        refused = next(c for c in edits if c.response == {"retry_after": 1})
        later = [c for c in edits if c.at > refused.at]
        assert later, "the status message must still be updated after the pause"
        assert later[0].at - refused.at >= 0.95
        ack_id = tg.of("sendMessage")[0].response["message_id"]
        assert "done" in tg.shown[(111, ack_id)]
        assert tg.identical_edits == 0


async def test_flood_control_on_a_reply_is_waited_out(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        tg.fail_next("sendMessage", retry_after=1)
        await tg.send_message(text="/help")
        reply = await tg.wait_for("sendMessage", count=2)
        assert "WanBot turns photos" in reply.fields["text"]
        refused = tg.of("sendMessage")[0]
        assert refused.response == {"retry_after": 1}
        assert reply.at - refused.at >= 0.95


async def test_help_lists_every_option_and_a_small_download_limit(
    harness: HarnessFactory,
) -> None:
    async with harness(download_limit=600 * 1024) as h:
        await h.tg.send_message(text="/help")
        text = (await h.tg.wait_text("WanBot turns photos")).fields["text"]
        assert "Photos and audio up to 600 KB." in text  # it said "up to 0 MB"
        for param in PARAMS:
            assert f"--{param.name} {param.metavar}" in text


async def test_file_that_declares_a_small_size_but_is_over_20_mb_is_named_so(
    harness: HarnessFactory,
) -> None:
    async with harness(download_limit=20 * 1024 * 1024) as h:
        tg = h.tg
        liar = tg.document(b"x", "image/png", name="big.png", size=21 * 1024 * 1024, declared=1000)
        await tg.send_message(document=liar, caption="/i2v a cat")
        reply = await tg.wait_text("at most 20 MB")
    assert "That file is over 20 MB" in reply.fields["text"]
    assert "1000 bytes" not in reply.fields["text"]


async def test_expired_file_id_asks_for_the_file_again(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        photo = tg.photo(png_bytes(320, 240), 320, 240)
        for size in photo:
            tg.forget_file(size["file_id"])  # expired, as an old message's file_id may be
        await tg.send_message(photo=photo, caption="/i2v a cat")
        reply = await tg.wait_text("send the file again")
    assert "Something went wrong" not in reply.fields["text"]
    assert h.comfy.prompts == []
