"""A parameter set both as a typed option and in `flags` is refused, naming both."""

from __future__ import annotations

from adapters.discord import texts
from fakes.discord_objects import EPHEMERAL
from fakes.media import png_bytes
from tests.discord.conftest import HarnessFactory, answer_to


async def test_steps_as_an_option_and_in_flags_is_refused(harness: HarnessFactory) -> None:
    async with harness() as h:
        fake = h.discord
        image = fake.attachment(png_bytes(320, 240), "in.png")
        run = await fake.slash("i2v", image=image, prompt="a cat", steps=4, flags="--steps 5")
        answer = await answer_to(fake, run)
        assert answer["flags"] & EPHEMERAL
        assert answer["content"] == texts.GIVEN_TWICE.format(
            option="steps", value=4, flag="steps", other=5
        )
        assert "`steps:4` and `--steps 5`" in answer["content"]
        assert h.comfy.prompts == []
