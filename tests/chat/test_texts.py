"""Snapshots of every shared text as each platform renders it: a wording change is a diff here.

Telegram shows plain text (no parse mode); Discord renders Markdown, so ids are code spans and
user text is escaped. The words are the same on both.
"""

from __future__ import annotations

from adapters.chat.markup import PLAIN
from adapters.discord.texts import MARKUP
from tests.chat.render import render, snapshot

TELEGRAM = r"""
[card accepted]
✅ Accepted — job a1b2c3d4e5
Queue position: 3 · ETA ~2 min 5 s
[card waiting]
⏳ Waiting — job a1b2c3d4e5
Queue position: 1 · ETA ~unknown
[card started]
▶️ Started on gpu-1 — job a1b2c3d4e5
[card progress]
🎬 Generating on gpu-1 — job a1b2c3d4e5
▓▓▓▓▓░░░░░░░ 42% · step 12/30
[card started clip]
▶️ Started clip 3 of 7 on gpu-1 — job a1b2c3d4e5
[card progress clip]
🎬 Generating clip 3 of 7 on gpu-1 — job a1b2c3d4e5
▓▓▓▓▓░░░░░░░ 42% · step 12/30
[card finished]
📤 Finished — job a1b2c3d4e5. Sending the video…
[card failed]
❌ Job a1b2c3d4e5 failed: the *host* went away
[card cancelled]
🚫 Job a1b2c3d4e5 cancelled.
[card cancelled by admin]
🚫 Job a1b2c3d4e5 was cancelled by an admin of this bot.
[bar 0]
░░░░░░░░░░░░
[bar 55]
▓▓▓▓▓▓▓░░░░░
[queue empty]
You have no jobs in the queue.
Queue: 4 waiting, 1 running.
[queue]
Your jobs:
a1b2c3d4e5 · i2v · 🎬 running · 40% step 12/30 on gpu-1 · ETA ~1 min 35 s
   “a *cat*”
f0f0f0f0f0 · infinitetalk · ⏳ queued · position 2 · ETA ~1 h 7 min
   “xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…”

Queue: 4 waiting, 1 running.
[caption]
a cat
832x480 · 5.1 s · seed 123 · 30 steps · standard quality · GPU 1 min 2 s
[caption noted]
a *cat* in_the garden
832x480 · 5.1 s · seed 123 · 30 steps · standard quality · ℹ️ notes in Details
[caption cut]
a *cat* in_th… — <@1>
832x480 · 5.1 s · seed 123 · 30 steps · standard quality · GPU 3 s · ℹ️ notes in Details
[done]
✅ Job a1b2c3d4e5 done.
[reroll]
🎲 Rerolling as job a1b2c3d4e5.
[extend]
⏩ Extending as job a1b2c3d4e5.
[settings]
Your defaults: none (the bot's own).
They apply before each job's own options. Change them with steps 20; clear them with reset.
[paused]
⏸ Host gpu-1 finishes its job and takes no new ones. /resume gpu-1 to undo.
[draining]
The bot is draining: no new jobs (/resume to take them again).
[drain]
⏳ Draining: no new jobs; the queue is being finished. /resume to undo.
[not allowed]
Sorry, this bot is private here. Ask its operator to add you.
[not yours]
Sorry, that is someone else's job: only they can use its buttons.
"""

DISCORD = r"""
[card accepted]
✅ Accepted — job `a1b2c3d4e5`
Queue position: 3 · ETA ~2 min 5 s
[card waiting]
⏳ Waiting — job `a1b2c3d4e5`
Queue position: 1 · ETA ~unknown
[card started]
▶️ Started on gpu-1 — job `a1b2c3d4e5`
[card progress]
🎬 Generating on gpu-1 — job `a1b2c3d4e5`
▓▓▓▓▓░░░░░░░ 42% · step 12/30
[card started clip]
▶️ Started clip 3 of 7 on gpu-1 — job `a1b2c3d4e5`
[card progress clip]
🎬 Generating clip 3 of 7 on gpu-1 — job `a1b2c3d4e5`
▓▓▓▓▓░░░░░░░ 42% · step 12/30
[card finished]
📤 Finished — job `a1b2c3d4e5`. Sending the video…
[card failed]
❌ Job `a1b2c3d4e5` failed: the \*host\* went away
[card cancelled]
🚫 Job `a1b2c3d4e5` cancelled.
[card cancelled by admin]
🚫 Job `a1b2c3d4e5` was cancelled by an admin of this bot.
[bar 0]
░░░░░░░░░░░░
[bar 55]
▓▓▓▓▓▓▓░░░░░
[queue empty]
You have no jobs in the queue.
Queue: 4 waiting, 1 running.
[queue]
Your jobs:
`a1b2c3d4e5` · i2v · 🎬 running · 40% step 12/30 on gpu-1 · ETA ~1 min 35 s
   “a \*cat\*”
`f0f0f0f0f0` · infinitetalk · ⏳ queued · position 2 · ETA ~1 h 7 min
   “xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…”

Queue: 4 waiting, 1 running.
[caption]
a cat
832x480 · 5.1 s · seed 123 · 30 steps · standard quality · GPU 1 min 2 s
[caption noted]
a \*cat\* in\_the garden
832x480 · 5.1 s · seed 123 · 30 steps · standard quality · ℹ️ notes in Details
[caption cut]
a \*cat\* in… — <@1>
832x480 · 5.1 s · seed 123 · 30 steps · standard quality · GPU 3 s · ℹ️ notes in Details
[done]
✅ Job `a1b2c3d4e5` done.
[reroll]
🎲 Rerolling as job `a1b2c3d4e5`.
[extend]
⏩ Extending as job `a1b2c3d4e5`.
[settings]
Your defaults: none (the bot's own).
They apply before each job's own options. Change them with steps 20; clear them with reset.
[paused]
⏸ Host gpu-1 finishes its job and takes no new ones. `/resume gpu-1` to undo.
[draining]
The bot is draining: no new jobs (`/resume` to take them again).
[drain]
⏳ Draining: no new jobs; the queue is being finished. `/resume` to undo.
[not allowed]
Sorry, this bot is private here. Ask its operator to add you.
[not yours]
Sorry, that is someone else's job: only they can use its buttons.
"""


def test_telegram_texts() -> None:
    assert snapshot(PLAIN) == TELEGRAM.removeprefix("\n")


def test_discord_texts() -> None:
    assert snapshot(MARKUP) == DISCORD.removeprefix("\n")


def test_both_platforms_say_the_same_words() -> None:
    """Only the markup differs: without backticks and escapes the texts are one (but where an
    escaped prompt is cut shorter to fit)."""

    def bare(text: str) -> str:
        return text.replace("`", "").replace("\\", "")

    plain = render(PLAIN)
    discord = {k: bare(v) for k, v in render(MARKUP).items()}
    assert {k: v for k, v in discord.items() if k != "caption cut"} == {
        k: v for k, v in plain.items() if k != "caption cut"
    }
