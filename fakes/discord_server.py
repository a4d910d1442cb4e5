"""A fake Discord: REST API v10, gateway and CDN on one real aiohttp server on 127.0.0.1.

The real discord.py client talks to it unmodified once `discord_pointed_at(fake)` has pointed
`discord.http.Route.BASE` and the default gateway URL at it (restored on exit); attachment URLs
already lead to the fake's CDN. Tests act as users (`slash`, `autocomplete`, `message_command`,
`click`, `submit_modal`, plus `attachment`, `user_message`, `voice_message` to put files and
messages "on Discord"), then wait for what the bot sent (`wait_for`, `response_to`) and assert
on the recorded `calls` and on the stored `messages` and `commands`. Faults: `fail_next`
answers an endpoint's next calls with 429 (with `retry_after`), 403 50013, 413 40005, 404 10008
or any status; `denied_channels`, `closed_dms`, `Interaction.expired`, `cdn_expired` and
`upload_limit` make Discord refuse as it would. Who asks: `member_roles` (with the guild's
`roles`), a user id, and a channel (the test guild's text channel, or `dm_with(user_id)`).
See `discord_state` for the endpoints, `discord_gateway` for what the gateway speaks.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import yarl
from aiohttp import web

from fakes import discord_interactions as build
from fakes.discord_gateway import Gateway, Session
from fakes.discord_objects import (
    APP_ID,
    CHANNEL_ID,
    GUILD_ID,
    TOKEN,
    USER_ID,
    Call,
    application,
    bot_user,
    error,
    guild,
    json_response,
    rate_limited,
    user,
)
from fakes.discord_responses import DiscordResponses
from fakes.discord_state import Interaction
from fakes.forms import read_form

__all__ = ["APP_ID", "CHANNEL_ID", "GUILD_ID", "TOKEN", "USER_ID", "Call", "FakeDiscord"]

_MESSAGES = "/channels/{channel_id}/messages/{message_id}"
_WEBHOOK = "/webhooks/{application_id}/{token}/messages/{message_id}"
_COMMANDS = "/applications/{application_id}"
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/gateway/bot", "get_gateway_bot"),
    ("GET", "/users/@me", "get_current_user"),
    ("GET", "/oauth2/applications/@me", "get_current_application"),
    ("PUT", _COMMANDS + "/commands", "bulk_overwrite_global_commands"),
    ("GET", _COMMANDS + "/commands", "get_global_commands"),
    ("PUT", _COMMANDS + "/guilds/{guild_id}/commands", "bulk_overwrite_guild_commands"),
    ("GET", _COMMANDS + "/guilds/{guild_id}/commands", "get_guild_commands"),
    ("POST", "/interactions/{interaction_id}/{token}/callback", "create_interaction_response"),
    ("POST", "/webhooks/{application_id}/{token}", "create_followup_message"),
    ("GET", _WEBHOOK, "get_webhook_message"),
    ("PATCH", _WEBHOOK, "edit_webhook_message"),
    ("DELETE", _WEBHOOK, "delete_webhook_message"),
    ("POST", "/channels/{channel_id}/messages", "create_message"),
    ("GET", _MESSAGES, "get_message"),
    ("PATCH", _MESSAGES, "edit_message"),
    ("DELETE", _MESSAGES, "delete_message"),
    ("GET", "/channels/{channel_id}", "get_channel"),
    ("POST", "/channels/{channel_id}/typing", "trigger_typing"),
    ("POST", "/users/@me/channels", "create_dm"),
    ("GET", "/users/{user_id}", "get_user"),
]
# Interaction tokens authorize these; discord.py sends no bot token with them.
TOKEN_AUTHORIZED = {
    "create_interaction_response",
    "create_followup_message",
    "get_webhook_message",
    "edit_webhook_message",
    "delete_webhook_message",
}


def _public_name(handler: str, request: web.Request) -> str:
    """Discord's name for the endpoint: a webhook message is the original response or a
    follow-up (`edit_original_interaction_response`, `edit_followup_message`)."""
    if not handler.endswith("_webhook_message"):
        return handler
    verb = handler.split("_")[0]
    if request.match_info["message_id"] == "@original":
        return f"{verb}_original_interaction_response"
    return f"{verb}_followup_message"


@contextmanager
def discord_pointed_at(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base URL and default gateway at `fake`; restore them after."""
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.api_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


class FakeDiscord(DiscordResponses):
    """The fake server and its state. Use `async with FakeDiscord() as discord:`."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.calls: list[Call] = []
        self._faults: dict[str, list[tuple[int, float, int | None, str | None]]] = {}
        self._changed = asyncio.Condition()
        self.gateway = Gateway(token, self._ready, self._guilds, self._changed)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=1 << 30)
        for method, path, endpoint in ROUTES:
            app.router.add_route(method, "/api/v10" + path, self._endpoint(endpoint))
        app.router.add_route("*", "/api/v10/{rest:.*}", self._unknown)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._cdn)
        app.router.add_get("/", self.gateway.handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.cdn_base = f"http://127.0.0.1:{self.port}"
        self.gateway.url = self.gateway_url

    async def close(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    # -- what users do -----------------------------------------------------------------------

    def command(self, name: str, kind: int = 1, guild_id: int = GUILD_ID) -> dict[str, Any]:
        """The command the bot registered under `name` (its guild's first, then global)."""
        for commands in (self.commands.get(guild_id, []), self.commands.get(None, [])):
            for command in commands:
                if command["name"] == name and command.get("type", 1) == kind:
                    return command
        known = [c["name"] for cs in self.commands.values() for c in cs]
        raise LookupError(f"the bot registered no command {name!r} of type {kind}: {known}")

    async def slash(
        self, name: str, *, user_id: int = USER_ID, channel_id: int = CHANNEL_ID, **options: Any
    ) -> Interaction:
        """A user runs `/name` with `options` (attachment options take `attachment(...)`)."""
        data = build.command_data(self.command(name), options)
        return await self.interact(build.APPLICATION_COMMAND, data, user_id, channel_id)

    async def autocomplete(
        self, name: str, focused: str, *, user_id: int = USER_ID, **options: Any
    ) -> Interaction:
        """A user types into option `focused` of `/name` (its value is `options[focused]`)."""
        data = build.command_data(self.command(name), options, focused=focused)
        return await self.interact(build.AUTOCOMPLETE, data, user_id, CHANNEL_ID)

    async def message_command(
        self, name: str, target: dict[str, Any], *, user_id: int = USER_ID
    ) -> Interaction:
        """A user runs the message context-menu command `name` on `target`."""
        data = build.message_command_data(self.command(name, kind=3), target)
        channel_id = int(target["channel_id"])
        return await self.interact(build.APPLICATION_COMMAND, data, user_id, channel_id)

    async def click(
        self,
        on: dict[str, Any] | int,
        custom_id: str,
        *,
        values: list[str] | None = None,
        user_id: int = USER_ID,
    ) -> Interaction:
        """A user clicks component `custom_id` on a message as Discord now shows it."""
        message_id = int(on if isinstance(on, int) else on["id"])
        shown = self.messages[message_id]
        data = build.component_data(shown, custom_id, values)
        channel_id = int(shown["channel_id"])
        return await self.interact(build.COMPONENT, data, user_id, channel_id, message=shown)

    async def submit_modal(
        self, opened_by: Interaction, answers: dict[str, Any], *, user_id: int = USER_ID
    ) -> Interaction:
        """A user fills in and submits the modal the bot answered `opened_by` with."""
        callback = opened_by.callback
        if callback is None or callback.payload.get("type") != 9:
            raise LookupError(f"the bot did not answer interaction {opened_by.id} with a modal")
        data = build.modal_submit_data(callback.payload["data"], answers)
        channel_id = int(opened_by.payload["channel_id"])
        clicked = opened_by.payload.get("message")
        return await self.interact(build.MODAL_SUBMIT, data, user_id, channel_id, message=clicked)

    async def interact(
        self,
        kind: int,
        data: dict[str, Any],
        user_id: int,
        channel_id: int,
        *,
        message: dict[str, Any] | None = None,
    ) -> Interaction:
        """Dispatch an INTERACTION_CREATE of `kind` with `data`; returns its record."""
        interaction_id = self.ids.next()
        payload = build.interaction(
            kind,
            interaction_id,
            f"aW50ZXJhY3Rpb24.{interaction_id:x}.token",
            user=user(user_id),
            channel=self.channels[channel_id],
            size_limit=self.attachment_size_limit,
            roles=self.member_roles.get(user_id),
            data=data,
            message=message,
        )
        record = Interaction(payload)
        self.interactions[interaction_id] = record
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return record

    def fail_next(
        self,
        endpoint: str,
        status: int = 429,
        *,
        retry_after: float = 0.01,
        times: int = 1,
        code: int | None = None,
        text: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `endpoint` with `status` (429: with `retry_after`).

        Avoid 5xx for discord.py: both its clients retry those after sleeping 1 s and more.
        """
        self._faults.setdefault(endpoint, []).extend([(status, retry_after, code, text)] * times)

    # -- waiting and asserting ---------------------------------------------------------------

    def of(self, endpoint: str) -> list[Call]:
        return [c for c in self.calls if c.endpoint == endpoint]

    async def wait_until(self, condition: Callable[[], bool], *, within: float = 20.0) -> None:
        """Wait until `condition()` holds; it is checked after every request and gateway frame."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)

    async def wait_for(
        self,
        endpoint: str,
        where: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        within: float = 20.0,
    ) -> Call:
        """The `count`-th recorded call of `endpoint` matching `where`, waiting as needed."""

        def found() -> list[Call]:
            return [c for c in self.of(endpoint) if where is None or where(c)]

        await self.wait_until(lambda: len(found()) >= count, within=within)
        return found()[count - 1]

    async def response_to(self, interaction: Interaction, *, within: float = 20.0) -> Call:
        """The bot's first callback to `interaction` (whatever its status)."""
        return await self.wait_for(
            "create_interaction_response",
            lambda c: c.params["interaction_id"] == str(interaction.id),
            within=within,
        )

    def messages_in(self, channel_id: int = CHANNEL_ID) -> list[dict[str, Any]]:
        """Messages now in the channel, oldest first (ephemeral ones included)."""
        return [m for m in self.messages.values() if m["channel_id"] == str(channel_id)]

    # -- the server --------------------------------------------------------------------------

    def _endpoint(self, handler: str) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            call = await self._read(request, _public_name(handler, request))
            response = self._refusal(request, call, by_token=handler in TOKEN_AUTHORIZED)
            if response is None:
                response = self._answer(handler, call)
            call.status = response.status
            body = response.body if isinstance(response.body, bytes) else b""
            call.response = (
                json.loads(body) if response.content_type == "application/json" else None
            )
            await self._record(call)
            return response

        return handle

    def _answer(self, handler: str, call: Call) -> web.Response:
        try:
            result = getattr(self, f"_e_{handler}")(call)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # A body the fake cannot read: Discord answers 400, and a 5xx would make discord.py
            # retry after sleeping instead of failing the test at once.
            return error(400, 50035, f"Invalid Form Body ({type(exc).__name__}: {exc})")
        return result if isinstance(result, web.Response) else json_response(result)

    async def _read(self, request: web.Request, endpoint: str) -> Call:
        payload: Any = None
        files = []
        if request.content_type == "application/json":
            payload = await request.json()
        elif request.content_type == "multipart/form-data":
            form = await read_form(request)
            payload = json.loads(form.fields.get("payload_json", "null"))
            indexed = {int(re.sub(r"\D", "", name) or 0): up for name, up in form.files.items()}
            files = [indexed[i] for i in sorted(indexed)]
        return Call(endpoint, dict(request.match_info), dict(request.query), payload, files)

    def _refusal(self, request: web.Request, call: Call, *, by_token: bool) -> web.Response | None:
        """An answer that replaces the endpoint's own: no valid bot token, or a queued fault."""
        if not by_token and request.headers.get("Authorization") != f"Bot {self.token}":
            return error(401)
        pending = self._faults.get(call.endpoint)
        if not pending:
            return None
        status, retry_after, code, text = pending.pop(0)
        if status == 429:
            return rate_limited(retry_after, bucket=f"fake-{call.endpoint}")
        return error(status, code, text)

    async def _unknown(self, request: web.Request) -> web.Response:
        await self._record(Call("unknown", {"path": request.path}, dict(request.query), None))
        return error(404, 0, "404: Not Found")

    async def _cdn(self, request: web.Request) -> web.Response:
        params = dict(request.match_info)
        data = self.cdn.get(params["attachment_id"])
        status = 404 if data is None or self.cdn_expired else 200
        await self._record(
            Call("download_attachment", params, dict(request.query), None, [], status)
        )
        if status == 404:
            return web.Response(status=404, text="This content is no longer available.")
        return web.Response(body=data, content_type="application/octet-stream")

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _ready(self, session: Session) -> dict[str, Any]:
        ready = {
            "v": 10,
            "user": bot_user(),
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
        }
        if "shard" in session.identify:
            ready["shard"] = session.identify["shard"]
        return ready

    def _guilds(self) -> list[dict[str, Any]]:
        channels = [c for c in self.channels.values() if c.get("guild_id") == str(GUILD_ID)]
        return [guild(GUILD_ID, channels, self.roles)]

    def _e_get_gateway_bot(self, call: Call) -> Any:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}

    def _e_get_current_user(self, call: Call) -> Any:
        return bot_user()

    def _e_get_user(self, call: Call) -> Any:
        return user(int(call.params["user_id"]))

    def _e_get_current_application(self, call: Call) -> Any:
        return application()
