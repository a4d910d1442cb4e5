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

from adapters.chat import texts as shared
from adapters.chat.admin import AdminActions
from adapters.chat.markup import PLAIN
from adapters.telegram import texts
from adapters.telegram.frontend import PLATFORM
from adapters.telegram.parse import Command
from bot.frontend import Config, UserError, user_key

if TYPE_CHECKING:
    from bot.frontend import EngineAPI

ADMIN_COMMANDS = frozenset({"hosts", "pause", "resume", "drain", "block", "unblock", "refetch"})
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
            raise UserError(shared.ADMIN_ONLY)
        by = user_key(PLATFORM, str(user.id))
        actions = AdminActions(self.engine, PLAIN)
        arg = command.args.strip().split()[0] if command.args.strip() else ""
        if command.name == "hosts":
            await self.answer(message, await actions.hosts())
        elif command.name == "pause":
            await self.answer(message, await actions.pause(_needed(arg, texts.PAUSE_USAGE), by))
        elif command.name == "resume":
            await self.answer(message, await actions.resume(arg, by))
        elif command.name == "drain":
            await self.answer(message, actions.drain(by))
        elif command.name == "refetch":
            await self.answer(message, await actions.refetch(_needed(arg, texts.REFETCH_USAGE), by))
        else:
            await self._block(message, actions, command.name, arg, by)

    async def _block(
        self, message: Message, actions: AdminActions, name: str, arg: str, by: str
    ) -> None:
        if not arg and message.reply_to_message is None and name == "block":
            blocked = [b.user for b in self.engine.admin.blocked()]
            await self.answer(message, texts.BLOCKED_LIST.format(users=", ".join(blocked) or "—"))
            return
        target = _target(message, arg)
        act = actions.block if name == "block" else actions.unblock
        await self.answer(message, await act(target, by, target))


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
