"""Logging for every `wanbot` command: the format, quiet HTTP libraries, and no secret in any log.

`setup()` configures the root logger once. `hide_secrets(config)` then puts one
`RedactingFilter` on each root handler, holding every secret the config carries (chat tokens,
ComfyUI host tokens, webhook secrets, the user info of URLs such as `http://user:pass@host/`);
the user info of any URL is replaced too, known or not. `redact(text)` does the same for what
is printed rather than logged (one-line errors, `wanbot check`). `bot.app` adds each chat
section's secrets as its adapter reads them, also those taken from the environment. A filter
on the handlers, not on loggers, sees the records of every logger, third-party ones included:
the Telegram token is part of every Bot API URL, and HTTP clients log URLs.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from urllib.parse import quote

from pydantic import BaseModel

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
# Loggers that log each request's URL (the Telegram token is in it) even at INFO.
REQUEST_LOGGERS = ("httpx", "httpcore", "telegram.request")
# The job a task works on ({"job": id, "user": "platform:id", "host": name}); set where a
# job's run starts, so every line logged while it runs names it (see `JsonFormatter`).
JOB_CONTEXT: ContextVar[dict[str, str] | None] = ContextVar("wanbot_job", default=None)
# Config fields that hold secrets, by name; a future section's `token` is covered as well.
SECRET_FIELDS = frozenset({"token", "webhook_secret"})
# The user info of a URL ("user:password@" after "scheme://"): a password behind a proxy.
TOKEN_LIKE = 16  # characters: a longer user name alone is taken for a token, and hidden
USERINFO = re.compile(r"(?<=://)[^/?#@\s]+@")


def hide_userinfo(text: str) -> str:
    """`text` with the user info of every URL in it replaced: `http://[redacted]@host/`."""
    return USERINFO.sub(REDACTED + "@", text)


def userinfo_secrets(text: str) -> list[str]:
    """The user info of each URL in `text` with a password (`user:password`, and the password
    alone), or without one when it is long enough to be a token rather than a user name."""
    found: list[str] = []
    for match in USERINFO.finditer(text):
        userinfo = match.group()[:-1]
        password = userinfo.partition(":")[2]
        if password:
            found += [userinfo, password]
        elif len(userinfo) >= TOKEN_LIKE:
            found.append(userinfo)
    return found


class RedactingFilter(logging.Filter):
    """Replaces each known secret in a record's message, arguments and traceback text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("wanbot-secrets")
        self._secrets: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if secret:
                # Also as it would appear percent-encoded in a URL (the token has a colon).
                self._secrets.update({secret, quote(secret, safe="")})

    def redact(self, text: str) -> str:
        # Longest first, so a secret that contains another is replaced whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return hide_userinfo(text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging would print the arguments as they are
            message = f"{record.msg} {record.args!r}"
        redacted = self.redact(message)
        if redacted != message:  # else the record stays as it came, its arguments too
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the job's id, user and host
    when the line comes from a job's work, and the traceback. Secrets are already replaced by
    the handler's `RedactingFilter`, which runs before formatting."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(JOB_CONTEXT.get() or {})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["traceback"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)


def setup(verbose: bool = False, json_lines: bool = False) -> None:
    """Log to stderr (debug details with `verbose`; one JSON object per line with
    `json_lines`); keep the HTTP libraries' request lines out."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format=FORMAT)
    if json_lines:
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    for name in REQUEST_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    quiet_voice_warnings()


# discord.py warns at every start that its voice support lacks PyNaCl and davey; WanBot does
# no voice, so those two lines (and only those) are noise.
VOICE_LOGGER = "discord.client"
VOICE_WARNING = "voice will NOT be supported"


def _not_about_voice(record: logging.LogRecord) -> bool:
    return VOICE_WARNING not in str(record.msg)


def quiet_voice_warnings() -> None:
    """Drop discord.py's "... is not installed, voice will NOT be supported" warnings."""
    logger = logging.getLogger(VOICE_LOGGER)
    if _not_about_voice not in logger.filters:
        logger.addFilter(_not_about_voice)


def secrets_of(value: object) -> list[str]:
    """Every non-empty secret in `value`: the fields named in `SECRET_FIELDS` of a model or a
    table (a chat section as read), at any depth."""
    if isinstance(value, list):
        return [secret for item in value for secret in secrets_of(item)]
    if isinstance(value, BaseModel):
        fields = [(name, getattr(value, name)) for name in type(value).model_fields]
    elif isinstance(value, dict):
        fields = [(str(name), item) for name, item in value.items()]
    else:
        return []
    found: list[str] = []
    for name, item in fields:
        if name in SECRET_FIELDS and isinstance(item, str) and item:
            found.append(item)
        elif isinstance(item, str):
            found.extend(userinfo_secrets(item))  # a URL with a password in it
        found.extend(secrets_of(item))
    return found


def redact(text: str, root: logging.Logger | None = None) -> str:
    """`text` as a log line would show it: the known secrets and any URL's user info replaced."""
    shared = _shared_filter(logging.getLogger() if root is None else root)
    return shared.redact(text) if shared is not None else hide_userinfo(text)


def _shared_filter(root: logging.Logger) -> RedactingFilter | None:
    return next(
        (f for h in root.handlers for f in h.filters if isinstance(f, RedactingFilter)),
        None,
    )


def hide_secrets(config: BaseModel, root: logging.Logger | None = None) -> RedactingFilter:
    """Redact `config`'s secrets in all the root handlers emit; returns their one shared filter.

    Called again (another config), it adds to the same filter instead of stacking a second one.
    """
    root = logging.getLogger() if root is None else root
    shared = _shared_filter(root)
    if shared is None:
        shared = RedactingFilter()
    shared.add(secrets_of(config))
    for handler in root.handlers:
        if shared not in handler.filters:
            handler.addFilter(shared)
    return shared


def announce(text: str, level: int = logging.INFO) -> None:
    """A line every run shows, whatever the log level: `serve`'s start-up and stop, a
    command's one-line error. `wanbot: text` on stderr, or one JSON object like every other
    line with `--log-format json`; secrets replaced in both."""
    root = logging.getLogger()
    if any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        logger = logging.getLogger("wanbot")
        # `handle`, not `log`: the level check is skipped, the handlers' filters still run.
        logger.handle(logger.makeRecord(logger.name, level, "(wanbot)", 0, text, (), None))
    else:
        print(f"wanbot: {redact(text)}", file=sys.stderr, flush=True)
