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
from adapters.telegram.config import TelegramConfig
from adapters.telegram.connect import (
    FIRST_RETRY,
    api_urls,
    connect_with_retries,
    token_problem,
)
from adapters.telegram.frontend import PLATFORM, TelegramFrontEnd
from adapters.telegram.handlers import Handlers
from adapters.telegram.polling import PollingHealth, WatchedRequest
from bot.frontend import Config, ConfigError, Job, JobEvent, JobResult

if TYPE_CHECKING:
    from bot.frontend import EngineAPI

log = logging.getLogger(__name__)

# Large uploads (up to 2000 MB to a local Bot API server) need far more than PTB's 20 s.
MEDIA_WRITE_TIMEOUT = 600.0
READ_TIMEOUT = 30.0
CONCURRENT_UPDATES = 32


def build_application(
    telegram: TelegramConfig, polling: PollingHealth | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """A PTB Application for `telegram` (no network yet); its getUpdates calls report to
    `polling`."""
    base_url, file_url = api_urls(telegram)
    builder = ApplicationBuilder().token(telegram.token or "").base_url(base_url)
    builder = builder.base_file_url(file_url).local_mode(telegram.local_mode)
    builder = builder.media_write_timeout(MEDIA_WRITE_TIMEOUT).read_timeout(READ_TIMEOUT)
    updates = WatchedRequest(
        polling or PollingHealth(),
        connection_pool_size=1,
        read_timeout=telegram.poll_timeout + READ_TIMEOUT,
    )
    builder = builder.get_updates_request(updates)
    # Downloads and media preparation take seconds; one user's request must not hold up others'.
    builder = builder.concurrent_updates(CONCURRENT_UPDATES)
    return builder.build()


class TelegramBot:
    """The Telegram adapter: a `bot.frontend.Adapter`."""

    platform = PLATFORM
    # Seconds before the first reconnection attempt at start-up; doubled after each failure.
    first_retry = FIRST_RETRY

    def __init__(self, config: Config, telegram: TelegramConfig, engine: EngineAPI) -> None:
        self.config = config
        self.telegram = telegram
        self.engine = engine
        self.polling = PollingHealth()
        self.application = build_application(self.telegram, self.polling)
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

    # -- FrontEnd --------------------------------------------------------------------------

    async def on_event(self, job: Job, event: JobEvent) -> None:
        await self.frontend.on_event(job, event)

    async def deliver(self, job: Job, result: JobResult) -> None:
        await self.frontend.deliver(job, result)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, retrying while Telegram is unreachable; `ConfigError` if it refuses us."""
        problem = token_problem(self.telegram.token)
        if problem is not None:
            raise ConfigError(problem)
        await connect_with_retries(
            self._connect, self._abandon, self.telegram, first_retry=self.first_retry
        )
        log.info(
            "Telegram bot @%s is running (%s)", self.application.bot.username, self.telegram.mode
        )

    async def _connect(self) -> None:
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

    async def _abandon(self) -> None:
        """Undo a failed connection attempt; the HTTP client stays open for the next one."""
        await self._stop_updates()
        if self.application.running:
            await self.application.stop()

    async def _stop_updates(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if self._webhook is not None:
            await self._webhook.cleanup()
            self._webhook = None

    def connection_problem(self) -> str | None:
        """Why updates do not come in (for `/readyz`), or None while they do: not started,
        no webhook served, or getUpdates failing again and again."""
        app = self.application
        if not app.running:
            return "not connected"
        if self.telegram.mode == "webhook":
            return None if self._webhook is not None else "the webhook is not served"
        if app.updater is None or not app.updater.running:
            return "not polling"
        return self.polling.problem()

    async def stop(self) -> None:
        """Disconnect; safe whatever `start` got to (also when it failed or was cancelled)."""
        await self._stop_updates()
        await self.handlers.close()
        if self.application.running:
            await self.application.stop()
        await self.frontend.close()
        await self.application.shutdown()
        # A start that never completed leaves the HTTP client open; this closes it.
        await self.application.bot.shutdown()

    async def _start_webhook(self) -> None:
        """Serve updates from Telegram on our own aiohttp server (PTB's needs tornado)."""
        secret = self.telegram.webhook_secret

        async def receive(request: web.Request) -> web.Response:
            if secret and request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
                return web.Response(status=403)
            try:
                data = await request.json()
            except ValueError:
                data = None
            if not isinstance(data, dict):
                # Not an update Telegram would send: refused, not a traceback in the log.
                log.warning("webhook: a request that is not an update was refused")
                return web.Response(status=400, text="expected a JSON update\n")
            update = Update.de_json(data, self.application.bot)
            await self.application.update_queue.put(update)
            return web.Response()

        server = web.Application()
        server.router.add_post(self.telegram.webhook_path, receive)
        self._webhook = web.AppRunner(server)
        await self._webhook.setup()
        listen, port = self.telegram.webhook_listen, self.telegram.webhook_port
        try:
            await web.TCPSite(self._webhook, listen, port).start()
        except OSError as exc:
            raise ConfigError(
                f"Cannot listen for the webhook on {listen}:{port} ({exc.strerror or exc}): "
                "change telegram.webhook_listen or telegram.webhook_port."
            ) from exc
        await self.application.bot.set_webhook(
            url=self.telegram.webhook_url or "",
            secret_token=secret,
            allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
        )
