"""Refusals and failures: each answers the user ephemerally with what to do; the next command
still works; Discord's limits (upload size, 429) are honoured."""

from __future__ import annotations

import logging
import re

import pytest

from adapters.chat import texts as shared
from adapters.discord import texts
from fakes.discord_objects import EPHEMERAL, USER_ID
from fakes.discord_server import FakeDiscord
from fakes.media import png_bytes, probe
from tests.discord.conftest import HarnessFactory, answer_to, is_video

BOB = USER_ID + 1


async def i2v(fake: FakeDiscord, user: int = USER_ID, **options: object) -> dict:
    image = options.pop("image", None) or fake.attachment(png_bytes(320, 240), "in.png")
    run = await fake.slash("i2v", image=image, prompt="a cat", user_id=user, **options)
    return await answer_to(fake, run)


async def test_a_text_file_as_image_is_refused_before_downloading(harness: HarnessFactory) -> None:
    async with harness() as h:
        fake = h.discord
        notes = fake.attachment(b"just some notes", "notes.txt")
        answer = await i2v(fake, image=notes)
        assert answer["content"] == texts.NOT_AN_IMAGE.format(name="notes.txt")
        assert answer["flags"] & EPHEMERAL
        assert fake.of("download_attachment") == [] and fake.of("create_message") == []
        # The next command works.
        assert "queued" in (await i2v(fake, steps=3))["content"]
        await fake.wait_for("create_message", is_video)
        await h.engine.drain()


async def test_a_file_that_is_not_really_an_image_is_answered_by_the_engine(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        fake_png = fake.attachment(b"not a png at all", "photo.png")
        answer = await i2v(fake, image=fake_png)
        assert answer["flags"] & EPHEMERAL and "image" in answer["content"].lower()
        assert "Traceback" not in answer["content"]
        assert fake.messages_in() == [answer]  # the card of the refused job was removed
        assert h.comfy.prompts == []


async def test_an_oversize_attachment_is_refused_by_its_reported_size(
    harness: HarnessFactory,
) -> None:
    async with harness(limits={"max_input_bytes": 1024 * 1024}) as h:
        fake = h.discord
        big = fake.attachment(png_bytes(32, 32), "huge.png", size=25 * 1024 * 1024)
        answer = await i2v(fake, image=big)
    assert answer["content"] == texts.TOO_BIG.format(size="25 MB", limit="1 MB")
    assert answer["flags"] & EPHEMERAL and fake.of("download_attachment") == []


async def test_frames_out_of_range_in_flags_is_explained_and_the_next_command_works(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        with pytest.raises(ValueError, match="must be within"):  # Discord's own range check
            await i2v(fake, frames=100000)
        answer = await i2v(fake, flags="--frames 100000")
        assert answer["flags"] & EPHEMERAL
        assert answer["content"].startswith("frames 100000 is out of range")
        words = await i2v(fake, flags="a dog --steps 3")
        assert "put the text “a dog” in `prompt`" in words["content"]
        size = await i2v(fake, size="big")
        assert size["content"].startswith("size 'big' is not valid")
        assert h.comfy.prompts == [] and len(fake.messages_in()) == 3  # only the three answers
        assert "queued" in (await i2v(fake, flags="--steps 3 --seed 5", size="480x320"))["content"]
        video = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
    assert "480x320" in video.payload["content"]


async def test_every_command_checks_the_allow_list(harness: HarnessFactory) -> None:
    """The tree's check, not each handler: /quota and /help once skipped it."""
    async with harness(allowed_users=[BOB]) as h:
        fake = h.discord
        names = ["quota", "help", "queue", "cancel", "settings", "hosts", "drain", "resume"]
        answers = {n: await answer_to(fake, await fake.slash(n, user_id=USER_ID)) for n in names}
        extend = await answer_to(fake, await fake.slash("extend", user_id=USER_ID, job="abc"))
        quota = await answer_to(fake, await fake.slash("quota", user_id=BOB))
    assert {n: a["content"] for n, a in answers.items()} == dict.fromkeys(names, shared.NOT_ALLOWED)
    assert extend["content"] == shared.NOT_ALLOWED
    assert all(a["flags"] & EPHEMERAL for a in answers.values())
    assert quota["content"] != shared.NOT_ALLOWED  # a listed user is served


async def test_an_unexpected_error_gets_a_reference_not_the_exception(
    harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The tree's `on_error` applies the policy Telegram's guard applies."""
    async with harness() as h:

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("secret internals")

        h.engine.status = broken  # type: ignore[method-assign]
        with caplog.at_level(logging.ERROR):
            reply = await answer_to(h.discord, await h.discord.slash("queue"))
    pattern = re.escape(shared.INTERNAL).replace(re.escape("{ref}"), "([0-9a-f]{6})")
    match = re.fullmatch(pattern, reply["content"])
    assert match and reply["flags"] & EPHEMERAL, reply["content"]
    logged = [r for r in caplog.records if r.exc_info and match[1] in r.getMessage()]
    assert logged and "secret internals" not in reply["content"]


async def test_users_outside_the_allow_list_are_refused(harness: HarnessFactory) -> None:
    async with harness(allowed_users=[BOB]) as h:
        fake = h.discord
        refused = await i2v(fake, user=USER_ID)
        queue = await answer_to(fake, await fake.slash("queue", user_id=USER_ID))
        allowed = await i2v(fake, user=BOB, steps=3)
        await fake.wait_for("create_message", is_video)
        await h.engine.drain()
    assert refused["content"] == shared.NOT_ALLOWED == queue["content"]
    assert refused["flags"] & EPHEMERAL
    assert "queued" in allowed["content"] and len(h.comfy.prompts) == 1


async def test_a_429_on_a_card_edit_is_waited_out(harness: HarnessFactory) -> None:
    async with harness() as h:
        fake = h.discord
        fake.fail_next("edit_message", 429, retry_after=0.05, times=2)
        await i2v(fake, steps=3)
        await fake.wait_for("create_message", is_video)
        await h.engine.drain()
    statuses = [c.status for c in fake.of("edit_message")]
    assert statuses[:2] == [429, 429] and set(statuses[2:]) == {200}
    card = fake.messages[int(fake.of("create_message")[0].response["id"])]
    assert "done" in card["content"] and fake.identical_edits == 0


async def test_a_video_over_the_interactions_limit_is_reencoded_to_fit(
    harness: HarnessFactory,
) -> None:
    async with harness(comfy={"scale": 1.0}) as h:
        fake = h.discord
        fake.attachment_size_limit = fake.upload_limit = 80_000
        await i2v(fake, steps=3)
        video = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
        (archived,) = h.archived_videos()
    assert archived.stat().st_size > 80_000 >= len(video.file(0))
    assert "Re-encoded to fit" in video.payload["content"]
    assert probe(video.file(0)).frames > 0


async def test_an_over_reported_limit_steps_down_after_a_413(harness: HarnessFactory) -> None:
    async with harness(comfy={"scale": 1.0}) as h:
        fake = h.discord
        fake.upload_limit = 100_000  # the interactions still say 10 MiB
        await i2v(fake, steps=3)
        video = await fake.wait_for("create_message", lambda c: is_video(c) and c.status == 200)
        await h.engine.drain()
    refused = [c for c in fake.of("create_message") if c.status == 413]
    assert len(refused) == 1 and len(refused[0].file(0)) > 100_000
    assert len(video.file(0)) <= 100_000 and "Re-encoded" in video.payload["content"]
