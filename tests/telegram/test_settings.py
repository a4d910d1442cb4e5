"""/settings through the fake Telegram: shown, set, applied to the next job, reset."""

from __future__ import annotations

from fakes.media import png_bytes
from fakes.telegram_server import Call
from tests.telegram.conftest import HarnessFactory

ALICE = 111


def says(needle: str):
    def match(call: Call) -> bool:
        return call.fields.get("chat_id") == ALICE and needle in str(call.fields.get("text", ""))

    return match


async def test_settings_are_shown_set_applied_and_reset(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        await tg.send_message(user_id=ALICE, text="/settings")
        await tg.wait_for("sendMessage", says("Your defaults: none"))
        await tg.send_message(user_id=ALICE, text="/settings steps 3 cfg 4")
        await tg.wait_for("sendMessage", says("Your defaults: steps 3, cfg 4"))
        await tg.send_message(user_id=ALICE, text="/settings steps 999")
        await tg.wait_for("sendMessage", says("out of range"))
        photo = tg.photo(png_bytes(320, 240), 320, 240)
        await tg.send_message(user_id=ALICE, photo=photo, caption="/i2v a cat --cfg 5")
        video = await tg.wait_for("sendVideo")
        await h.engine.drain()
        details = video.fields["reply_markup"]["inline_keyboard"][0][-1]["callback_data"]
        await tg.press_button(video.response, details, user_id=ALICE)
        info = await tg.wait_for("sendMessage", says("Job "))
        await tg.send_message(user_id=ALICE, text="/settings reset")
        await tg.wait_for("sendMessage", says("Your defaults: none"))
    (prompt,) = h.comfy.prompts
    sampler = next(n for n in prompt.values() if n["class_type"] == "WanVideoSampler")
    assert (sampler["inputs"]["steps"], sampler["inputs"]["cfg"]) == (3, 5.0)
    # The caption says there are notes; Details says which.
    assert "notes in Details" in str(video.fields.get("caption"))
    assert "from your /settings: steps" in info.fields["text"]


async def test_quota_shows_what_is_left_and_a_refusal_says_when(harness: HarnessFactory) -> None:
    async with harness() as h:
        h.config.quotas.jobs_per_day = 1
        tg = h.tg
        photo = tg.photo(png_bytes(320, 240), 320, 240)
        await tg.send_message(user_id=ALICE, photo=photo, caption="/i2v a cat --steps 2")
        await tg.wait_for("sendVideo")
        await h.engine.drain()
        await tg.send_message(user_id=ALICE, text="/quota")
        await tg.wait_for("sendMessage", says("Jobs: 1 of 1 used, 0 left."))
        await tg.send_message(user_id=ALICE, photo=photo, caption="/i2v a dog")
        refused = await tg.wait_for("sendMessage", says("You can send more in"))
    assert "UTC" in str(refused.fields["text"]) and len(h.comfy.prompts) == 1


async def test_a_long_setting_is_stored_and_echoed_short(harness: HarnessFactory) -> None:
    negative = "blurry," * 580  # one word of 4,060 characters: with the rest, over 4096
    async with harness() as h:
        tg = h.tg
        await tg.send_message(user_id=ALICE, text=f"/settings steps 3 neg {negative}")
        shown = await tg.wait_for("sendMessage", says("Your defaults"))
        stored = await h.engine.user_defaults.get(f"telegram:{ALICE}")
        await tg.send_message(user_id=ALICE, text="/extend " + "f" * 4080)
        unknown = await tg.wait_for("sendMessage", says("There is no job"))
    assert stored == {"steps": "3", "neg": negative}
    text = str(shown.fields["text"])
    assert text.startswith("Your defaults: steps 3, neg blurry,blurry,")
    assert "…" in text and len(text) <= 4096
    assert len(str(unknown.fields["text"])) < 300
