"""The bot's error hierarchy.

A `UserError` carries a message written for the person who sent the request: what was wrong
and what to do. Front ends show it verbatim. Any other exception is a bug or an outage: it is
logged with its traceback and the user gets a short generic message with the job id.
"""

from __future__ import annotations


class WanBotError(Exception):
    """Base of every error raised on purpose by WanBot."""


class UserError(WanBotError):
    """A problem with what the user sent; `str(err)` is safe and useful to show them."""


class InputError(UserError):
    """An input file (image, audio, pose frames) cannot be used."""


class ParameterError(UserError):
    """A parameter or flag is unknown or out of range."""


class LimitError(UserError):
    """A queue or size limit was hit."""


class ConfigError(WanBotError):
    """The configuration is invalid; the message names the key and the fix."""


class StorageError(WanBotError):
    """The database or a data folder cannot be used; the message says which and what to do."""


class LostLeadership(StorageError):
    """This process led on a shared database and another one leads now (its lease expired):
    it must not act on any job any more (see `bot.engine.lease`)."""
