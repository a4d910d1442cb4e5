"""Admin commands on Telegram: /hosts, /pause, /resume, /drain, /block, /unblock.

Admins are the `queue.admins` entries of the form `telegram:<user id>`; anyone else gets a
polite refusal. Users to block are named by id (`/block 12345`, or `discord:123` for another
platform's user) or by replying to one of their messages. Every action is logged by the engine
with who did it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import Message

from adapters.telegram import texts
from adapters.telegram.frontend import PLATFORM
from adapters.telegram.parse import Command
from bot.frontend import Config, UserError, host_lines, user_key

if TYPE_CHECKING:
    from bot.frontend import EngineAPI

ADMIN_COMMANDS = frozenset({"hosts", "pause", "resume", "drain", "block", "unblock"})
Answer = Callable[[Message, str], Awaitable[object]]


class AdminCommands:
    def __init__(self, engine: EngineAPI, config: Config, answer: Answer) -> None:
        self.engine = engine
        self.config = config
        self.answer = answer

    def is_admin(self, user_id: int) -> bool:
        return user_key(PLATFORM, str(user_id)) in self.config.queue.admins

    async def handle(self, message: Message, command: Command) -> None:
        user = message.from_user
        if user is None or not self.is_admin(user.id):
            raise UserError(texts.ADMIN_ONLY)
        by = user_key(PLATFORM, str(user.id))
        admin = self.engine.admin
        arg = command.args.strip().split()[0] if command.args.strip() else ""
        if command.name == "hosts":
            lines = host_lines(await admin.hosts())
            state = texts.DRAINING if admin.draining else texts.TAKING_JOBS
            await self.answer(message, "\n".join([*lines, state]))
        elif command.name == "pause":
            view = await admin.pause(_needed(arg, texts.PAUSE_USAGE), by)
            await self.answer(message, texts.PAUSED.format(host=view.name))
        elif command.name == "resume" and arg:
            view = await admin.resume(arg, by)
            await self.answer(message, texts.RESUMED.format(host=view.name))
        elif command.name == "resume":
            admin.undrain(by)
            await self.answer(message, texts.UNDRAINED)
        elif command.name == "drain":
            admin.drain(by)
            await self.answer(message, texts.DRAINING_NOW)
        else:
            await self._block(message, command.name, arg, by)

    async def _block(self, message: Message, name: str, arg: str, by: str) -> None:
        admin = self.engine.admin
        if not arg and message.reply_to_message is None and name == "block":
            blocked = [b.user for b in admin.blocked()]
            await self.answer(message, texts.BLOCKED_LIST.format(users=", ".join(blocked) or "—"))
            return
        target = _target(message, arg)
        if name == "block":
            await admin.block(target, by)
            await self.answer(message, texts.BLOCKED.format(user=target))
        else:
            await admin.unblock(target, by)
            await self.answer(message, texts.UNBLOCKED.format(user=target))


def _needed(arg: str, usage: str) -> str:
    if not arg:
        raise UserError(usage)
    return arg


def _target(message: Message, arg: str) -> str:
    """The user key named by `arg` (an id, or "platform:id"), or the replied-to sender."""
    if arg:
        if ":" in arg:
            return arg
        if arg.isdigit():
            return user_key(PLATFORM, arg)
        raise UserError(texts.BLOCK_USAGE)
    reply = message.reply_to_message
    if reply is None or reply.from_user is None:
        raise UserError(texts.BLOCK_USAGE)
    return user_key(PLATFORM, str(reply.from_user.id))
