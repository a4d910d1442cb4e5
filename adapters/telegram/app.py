"""The Telegram front end as one object: the PTB `Application`, the handlers, the `FrontEnd`.

`TelegramBot` is what `bot.app` starts: `start()` connects (polling, or a webhook served by
aiohttp) and registers the command menu; `stop()` disconnects. It also is the engine's
`FrontEnd` for the "telegram" platform, delegating to `TelegramFrontEnd`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web
from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from adapters.telegram import texts
from adapters.telegram.frontend import PLATFORM, TelegramFrontEnd
from adapters.telegram.handlers import Handlers
from bot.config import Config, TelegramConfig
from bot.errors import ConfigError
from bot.events import JobEvent
from bot.jobs import Job, JobResult

if TYPE_CHECKING:
    from bot.engine import Engine

log = logging.getLogger(__name__)

# Large uploads (up to 2000 MB to a local Bot API server) need far more than PTB's 20 s.
MEDIA_WRITE_TIMEOUT = 600.0
READ_TIMEOUT = 30.0
CONCURRENT_UPDATES = 32


def build_application(telegram: TelegramConfig) -> Application[Any, Any, Any, Any, Any, Any]:
    """A PTB Application for `telegram` (no network yet)."""
    builder = ApplicationBuilder().token(telegram.token or "")
    if telegram.base_url:
        builder = builder.base_url(telegram.base_url)
        builder = builder.base_file_url(
            telegram.base_file_url or telegram.base_url.replace("/bot", "/file/bot", 1)
        )
    elif telegram.base_file_url:
        builder = builder.base_file_url(telegram.base_file_url)
    builder = builder.local_mode(telegram.local_mode)
    builder = builder.media_write_timeout(MEDIA_WRITE_TIMEOUT).read_timeout(READ_TIMEOUT)
    builder = builder.get_updates_read_timeout(telegram.poll_timeout + READ_TIMEOUT)
    # Downloads and media preparation take seconds; one user's request must not hold up others'.
    builder = builder.concurrent_updates(CONCURRENT_UPDATES)
    return builder.build()


class TelegramBot:
    """The Telegram adapter: a `bot.frontend.Adapter`."""

    platform = PLATFORM

    def __init__(self, config: Config, engine: Engine) -> None:
        if config.telegram is None:
            raise ConfigError("The [telegram] section is missing from the config.")
        self.config = config
        self.telegram = config.telegram
        self.engine = engine
        self.application = build_application(self.telegram)
        self.frontend = TelegramFrontEnd(self.application.bot, config, self.telegram)
        self.handlers = Handlers(engine, self.frontend, config, self.telegram)
        app = self.application
        app.add_handler(CallbackQueryHandler(self.handlers.on_callback))
        app.add_handler(
            MessageHandler(
                filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, self.handlers.on_message
            )
        )
        app.add_error_handler(self.handlers.on_error)
        self._webhook: web.AppRunner | None = None
        self._started = False

    # -- FrontEnd --------------------------------------------------------------------------

    async def on_event(self, job: Job, event: JobEvent) -> None:
        await self.frontend.on_event(job, event)

    async def deliver(self, job: Job, result: JobResult) -> None:
        await self.frontend.deliver(job, result)

    async def was_delivered(self, job: Job) -> bool:
        return await self.frontend.was_delivered(job)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        self.handlers.username = app.bot.username
        await app.bot.set_my_commands([BotCommand(c, d) for c, d in texts.COMMANDS])
        await app.start()
        if self.telegram.mode == "webhook":
            await self._start_webhook()
        else:
            assert app.updater is not None
            await app.updater.start_polling(
                poll_interval=0,
                timeout=int(self.telegram.poll_timeout),
                allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
                drop_pending_updates=False,
            )
        self._started = True
        log.info("Telegram bot @%s is running (%s)", app.bot.username, self.telegram.mode)

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if self._webhook is not None:
            await self._webhook.cleanup()
            self._webhook = None
        await self.handlers.close()
        await app.stop()
        await self.frontend.close()
        await app.shutdown()

    async def _start_webhook(self) -> None:
        """Serve updates from Telegram on our own aiohttp server (PTB's needs tornado)."""
        secret = self.telegram.webhook_secret

        async def receive(request: web.Request) -> web.Response:
            if secret and request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
                return web.Response(status=403)
            update = Update.de_json(await request.json(), self.application.bot)
            await self.application.update_queue.put(update)
            return web.Response()

        server = web.Application()
        server.router.add_post(self.telegram.webhook_path, receive)
        self._webhook = web.AppRunner(server)
        await self._webhook.setup()
        site = web.TCPSite(self._webhook, self.telegram.webhook_listen, self.telegram.webhook_port)
        await site.start()
        await self.application.bot.set_webhook(
            url=self.telegram.webhook_url or "",
            secret_token=secret,
            allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
        )
