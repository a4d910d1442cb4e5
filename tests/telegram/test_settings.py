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
        await tg.send_message(user_id=ALICE, text="/settings reset")
        await tg.wait_for("sendMessage", says("Your defaults: none"))
    (prompt,) = h.comfy.prompts
    sampler = next(n for n in prompt.values() if n["class_type"] == "WanVideoSampler")
    assert (sampler["inputs"]["steps"], sampler["inputs"]["cfg"]) == (3, 5.0)
    assert "from your /settings: steps" in str(video.fields.get("caption"))
