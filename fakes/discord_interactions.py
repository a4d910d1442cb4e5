"""INTERACTION_CREATE payloads as a Discord client would produce them from what a user did.

Pure builders: the fake Discord passes in the command the bot registered, the message a user
acted on, or the modal the bot opened, and gets the interaction Discord would dispatch. Like
Discord's own client they refuse what a user could not send (an option the command does not
declare, a value outside its range or choices, a missing required field), so a test cannot
drive the bot with input it would never see.
"""

from __future__ import annotations

from typing import Any

from fakes.discord_objects import APP_ID, member, user, walk

APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
STRING, INTEGER, BOOLEAN, USER, NUMBER, ATTACHMENT = 3, 4, 5, 6, 10, 11
TEXT_INPUT, FILE_UPLOAD, LABEL, ACTION_ROW = 4, 19, 18, 1

_PYTHON_TYPES: dict[int, tuple[type, ...]] = {
    STRING: (str,),
    INTEGER: (int,),
    BOOLEAN: (bool,),
    NUMBER: (int, float),
}


def interaction(
    kind: int,
    interaction_id: int,
    token: str,
    *,
    user: dict[str, Any],
    channel: dict[str, Any],
    size_limit: int,
    roles: list[int] | None = None,
    data: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The common envelope; in a guild channel the user comes as a `member` with `roles`."""
    guild_id = channel.get("guild_id")
    body: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(APP_ID),
        "type": kind,
        "token": token,
        "version": 1,
        "channel": channel,
        "channel_id": channel["id"],
        "locale": "en-US",
        "app_permissions": str((1 << 11) | (1 << 15) | (1 << 14) | (1 << 16)),
        "entitlements": [],
        "attachment_size_limit": size_limit,
        "context": 0 if guild_id else 1,
        "authorizing_integration_owners": {"0": guild_id or "0"},
    }
    if guild_id:
        body["guild_id"] = guild_id
        body["guild_locale"] = "en-US"
        body["guild"] = {"id": guild_id, "locale": "en-US", "features": []}
        body["member"] = member(user, roles)
    else:
        body["user"] = user
    if data is not None:
        body["data"] = data
    if message is not None:
        body["message"] = message
    return body


def command_data(
    command: dict[str, Any], values: dict[str, Any], *, focused: str | None = None
) -> dict[str, Any]:
    """`data` of a chat-input command (or its autocomplete) typed by the registered options.

    Attachment options take an attachment object (from the fake's CDN); it goes into
    `resolved.attachments` and the option's value is its id, as Discord sends it. User options
    take a user id; the user goes into `resolved.users`.
    """
    schema = {o["name"]: o for o in command.get("options", [])}
    options: list[dict[str, Any]] = []
    attachments: dict[str, Any] = {}
    users: dict[str, Any] = {}
    for name, value in values.items():
        if name not in schema:
            raise KeyError(f"/{command['name']} has no option {name!r}; it has {sorted(schema)}")
        spec = schema[name]
        option: dict[str, Any] = {"name": name, "type": spec["type"]}
        if name == focused:
            option["focused"] = True
            option["value"] = str(value)  # what the user has typed so far
        elif spec["type"] == ATTACHMENT:
            attachments[value["id"]] = value
            option["value"] = value["id"]
        elif spec["type"] == USER:
            users[str(value)] = user(int(value))
            option["value"] = str(value)
        else:
            check_value(spec, value)
            option["value"] = value
        options.append(option)
    if focused is None:
        missing = [n for n, s in schema.items() if s.get("required") and n not in values]
        if missing:
            raise ValueError(f"Discord does not send /{command['name']} without {missing}")
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": 1,
        "options": options,
    }
    resolved = {k: v for k, v in (("attachments", attachments), ("users", users)) if v}
    if resolved:
        data["resolved"] = resolved
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    return data


def check_value(spec: dict[str, Any], value: Any) -> None:
    """Refuse a value Discord's client would not let a user enter for this option."""
    name = spec["name"]
    allowed = _PYTHON_TYPES.get(spec["type"])
    wrong_bool = isinstance(value, bool) and spec["type"] != BOOLEAN
    if allowed is not None and (not isinstance(value, allowed) or wrong_bool):
        raise TypeError(f"option {name!r} of type {spec['type']} cannot be {value!r}")
    choices = spec.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ValueError(f"option {name!r} must be one of its choices, not {value!r}")
    low, high = spec.get("min_value"), spec.get("max_value")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"option {name!r} must be within [{low}, {high}], not {value!r}")
    if isinstance(value, str):
        shortest, longest = spec.get("min_length", 0), spec.get("max_length", 6000)
        if not shortest <= len(value) <= longest:
            raise ValueError(f"option {name!r} must be {shortest}..{longest} characters")


def message_command_data(command: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """`data` of a message context-menu command run on `target`."""
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": 3,
        "target_id": target["id"],
        "resolved": {"messages": {target["id"]: target}},
    }
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    return data


def component_data(
    message: dict[str, Any], custom_id: str, values: list[str] | None
) -> dict[str, Any]:
    """`data` of a click on (or a choice in) the component `custom_id` of `message`."""
    found = [c for c in walk(message.get("components", [])) if c.get("custom_id") == custom_id]
    if not found:
        shown = [c["custom_id"] for c in walk(message.get("components", [])) if "custom_id" in c]
        raise KeyError(f"message {message['id']} has no component {custom_id!r}; it has {shown}")
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": found[0]["type"]}
    if values is not None:
        data["values"] = values
    return data


def modal_submit_data(modal: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """`data` of a submitted modal: `answers` maps each field's custom_id to its text, or to a
    list of attachment objects for a file upload (they go into `resolved.attachments`)."""
    unknown = set(answers) - {c["custom_id"] for c in walk(modal["components"]) if "custom_id" in c}
    if unknown:
        raise KeyError(f"modal {modal['custom_id']!r} has no fields {sorted(unknown)}")
    attachments: dict[str, Any] = {}
    components = []
    for component in modal["components"]:
        if component["type"] == ACTION_ROW:
            inner = [_submitted(c, answers, attachments) for c in component["components"]]
            components.append({"type": ACTION_ROW, "id": component.get("id"), "components": inner})
        elif component["type"] == LABEL:
            inner_one = _submitted(component["component"], answers, attachments)
            components.append({"type": LABEL, "id": component.get("id"), "component": inner_one})
    data: dict[str, Any] = {"custom_id": modal["custom_id"], "components": components}
    if attachments:
        data["resolved"] = {"attachments": attachments}
    return data


def _submitted(
    field: dict[str, Any], answers: dict[str, Any], attachments: dict[str, Any]
) -> dict[str, Any]:
    custom_id = field["custom_id"]
    answer = answers.get(custom_id)
    required = field.get("required", True)
    out: dict[str, Any] = {"type": field["type"], "id": field.get("id"), "custom_id": custom_id}
    if field["type"] == FILE_UPLOAD:
        files = list(answer or [])
        lowest = 0 if not required else field.get("min_values") or 1
        highest = field.get("max_values") or 1
        if not lowest <= len(files) <= highest:
            raise ValueError(f"file upload {custom_id!r} takes {lowest}..{highest} files")
        attachments.update({a["id"]: {**a, "ephemeral": True} for a in files})
        out["values"] = [a["id"] for a in files]
    elif field["type"] == TEXT_INPUT:
        if required and not answer:
            raise ValueError(f"Discord does not submit the modal without {custom_id!r}")
        out["value"] = answer or ""
    else:
        out["values"] = list(answer or [])
    return out
