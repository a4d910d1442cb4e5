"""How the fake Discord answers interactions: the callback and the token's webhook messages.

Follows Discord's rules: one callback per interaction, of a type allowed for its kind (4 message,
5 deferred, 6 deferred update, 7 update, 8 autocomplete, 9 modal), within the token's life
(`Interaction.expired`); `?with_response=1` returns the interaction callback object discord.py
2.7 reads. Follow-ups need an acknowledged interaction, and the first follow-up after a deferred
response edits the loading message and keeps the defer's visibility: an "ephemeral" follow-up to
a public defer shows publicly, as on Discord. Ephemeral messages are not reachable through the
channel endpoints.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from fakes.discord_objects import APP_ID, EPHEMERAL, LOADING, Call, bot_user, error, message
from fakes.discord_state import ALLOWED_CALLBACKS, DiscordState, Interaction

MESSAGE, DEFERRED, DEFERRED_UPDATE, UPDATE, AUTOCOMPLETE_RESULT, MODAL = 4, 5, 6, 7, 8, 9


class DiscordResponses(DiscordState):
    """The interaction endpoints on top of the stored state."""

    def _metadata(self, record: Interaction) -> dict[str, Any]:
        payload = record.payload
        who = payload.get("member", {}).get("user") or payload.get("user")
        return {
            "id": str(record.id),
            "type": payload["type"],
            "user": who,
            "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
        }

    def _e_create_interaction_response(self, call: Call) -> Any:
        record = self.interactions.get(int(call.params["interaction_id"]))
        if record is None or record.token != call.params["token"] or record.expired:
            return error(404, 10062, "Unknown interaction")
        if record.callback is not None:
            return error(400, 40060, "Interaction has already been acknowledged.")
        kind = int(call.payload.get("type", 0))
        if kind not in ALLOWED_CALLBACKS[int(record.payload["type"])]:
            return error(400, 50035, f"Invalid Form Body: callback type {kind} not allowed here")
        inner = replace(call, payload=call.payload.get("data") or {})
        result = self._respond(record, kind, inner)
        if isinstance(result, web.Response):
            return result
        record.callback = call
        if call.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        flags = int((result or {}).get("flags") or 0)
        answer: dict[str, Any] = {
            "interaction": {"id": str(record.id), "type": record.payload["type"]}
        }
        answer["resource"] = {"type": kind}
        if result is not None:
            answer["interaction"].update(
                response_message_id=result["id"],
                response_message_loading=bool(flags & LOADING),
                response_message_ephemeral=bool(flags & EPHEMERAL),
            )
            answer["resource"]["message"] = result
        return answer

    def _respond(self, record: Interaction, kind: int, inner: Call) -> Any:
        """The message a callback created or updated (None if none), or an error."""
        data = inner.payload
        channel_id = int(record.payload["channel_id"])
        clicked = record.payload.get("message")
        if kind == MESSAGE:
            result = self._compose(inner, channel_id, interaction_metadata=self._metadata(record))
        elif kind == DEFERRED:
            result = message(
                self.ids.next(),
                channel_id,
                bot_user(),
                flags=LOADING | (int(data.get("flags") or 0) & EPHEMERAL),
                interaction_metadata=self._metadata(record),
                webhook_id=str(APP_ID),
            )
            self.messages[int(result["id"])] = result
        elif kind in (DEFERRED_UPDATE, UPDATE):
            if clicked is None:
                return error(400, 50035, "Invalid Form Body: there is no message to update")
            stored = self.messages.setdefault(int(clicked["id"]), dict(clicked))
            result = stored if kind == DEFERRED_UPDATE else self._edit(stored, inner)
        elif kind == AUTOCOMPLETE_RESULT:
            if len(data.get("choices") or []) > 25:
                return error(400, 50035, "Invalid Form Body: at most 25 choices")
            return None
        else:
            if not data.get("custom_id") or not data.get("title"):
                return error(400, 50035, "Invalid Form Body: a modal needs custom_id and title")
            if not 1 <= len(data.get("components") or []) <= 5:
                return error(400, 50035, "Invalid Form Body: a modal has 1 to 5 components")
            return None
        if isinstance(result, dict):
            record.original = int(result["id"])
        return result

    def _by_token(self, call: Call) -> Interaction | web.Response:
        found = [i for i in self.interactions.values() if i.token == call.params["token"]]
        if int(call.params["application_id"]) != APP_ID or not found:
            return error(404, 10015, "Unknown Webhook")
        if found[0].expired:
            return error(401, 50027, "Invalid Webhook Token")
        if found[0].callback is None:
            return error(404, 10015, "Unknown Webhook")  # not acknowledged yet
        return found[0]

    def _e_create_followup_message(self, call: Call) -> Any:
        record = self._by_token(call)
        if isinstance(record, web.Response):
            return record
        original = self.messages.get(record.original or 0)
        if original is not None and int(original["flags"]) & LOADING:
            # Discord: this edits the loading message; its visibility is the defer's.
            kept = {k: v for k, v in (call.payload or {}).items() if k != "flags"}
            result = self._edit(original, replace(call, payload=kept))
        else:
            channel_id = int(record.payload["channel_id"])
            result = self._compose(
                call,
                channel_id,
                interaction_metadata=self._metadata(record),
                webhook_id=str(APP_ID),
            )
            if isinstance(result, dict):
                record.followups.append(int(result["id"]))
        if call.query.get("wait") in (None, "0", "false") and isinstance(result, dict):
            return web.Response(status=204)
        return result

    def _webhook_message(self, call: Call) -> tuple[Interaction, dict[str, Any]] | web.Response:
        record = self._by_token(call)
        if isinstance(record, web.Response):
            return record
        wanted = call.params["message_id"]
        message_id = record.original if wanted == "@original" else int(wanted)
        ours = message_id is not None and (
            message_id == record.original or message_id in record.followups
        )
        found = self.messages.get(message_id or 0)
        if not ours or found is None:
            return error(404)
        return record, found

    def _e_get_webhook_message(self, call: Call) -> Any:
        found = self._webhook_message(call)
        return found if isinstance(found, web.Response) else found[1]

    def _e_edit_webhook_message(self, call: Call) -> Any:
        found = self._webhook_message(call)
        return found if isinstance(found, web.Response) else self._edit(found[1], call)

    def _e_delete_webhook_message(self, call: Call) -> Any:
        found = self._webhook_message(call)
        if isinstance(found, web.Response):
            return found
        del self.messages[int(found[1]["id"])]
        return web.Response(status=204)
