"""The redacting log filter: no configured secret in any record, from any logger."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.app import read_chats
from bot.config import Config, parse_config
from bot.logs import REDACTED, RedactingFilter, hide_secrets, redact, secrets_of, setup

TOKEN = "123456:AAH-very-secret_token"
HOST_TOKEN = "bearer-of-gpu-1"
ENV_HOST_TOKEN = "bearer-of-gpu-2-from-env"
WEBHOOK = "hook-secret"


def config() -> Config:
    data = {
        "comfy": {
            "hosts": [
                {"name": "gpu-1", "url": "http://127.0.0.1:8188", "token": HOST_TOKEN},
                {"name": "gpu-2", "url": "http://127.0.0.1:8189"},
            ]
        },
        "telegram": {"token": TOKEN, "webhook_secret": WEBHOOK},
    }
    return parse_config(data, env={"WANBOT_COMFY_TOKEN_GPU_2": ENV_HOST_TOKEN})


@pytest.fixture
def root() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger tree standing in for the root logger, with one stream handler."""
    top = logging.getLogger("wanbot-test-root")
    top.propagate = False
    top.setLevel(logging.DEBUG)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    top.addHandler(handler)
    yield top, stream
    top.removeHandler(handler)
    handler.close()


def test_secrets_of_finds_every_configured_secret() -> None:
    assert set(secrets_of(config())) == {TOKEN, HOST_TOKEN, ENV_HOST_TOKEN, WEBHOOK}


def test_records_of_other_loggers_are_redacted_in_args_and_tracebacks(
    root: tuple[logging.Logger, io.StringIO],
) -> None:
    top, stream = root
    hide_secrets(config(), top)
    library = logging.getLogger("wanbot-test-root.httpx")  # a third-party logger below it
    library.info('HTTP Request: POST %s "%s"', f"https://api.telegram.org/bot{TOKEN}/getMe", 200)
    library.debug("percent-encoded: %s", TOKEN.replace(":", "%3A"))
    library.warning("headers %r", {"Authorization": f"Bearer {HOST_TOKEN}"})
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected; secret {WEBHOOK}")
    except RuntimeError:
        library.exception("failed with %s", ENV_HOST_TOKEN)
    library.info("stack", stack_info=True, extra={"unused": TOKEN})
    library.info("a bad format %d", TOKEN)  # logging would print the args as they are
    text = stream.getvalue()
    for secret in (TOKEN, HOST_TOKEN, ENV_HOST_TOKEN, WEBHOOK, "AAH-very-secret_token"):
        assert secret not in text
    assert f"https://api.telegram.org/bot{REDACTED}/getMe" in text
    assert "RuntimeError: The token" in text  # the traceback is kept, redacted
    assert "Traceback" in text


def test_hiding_twice_keeps_one_filter_per_handler(
    root: tuple[logging.Logger, io.StringIO],
) -> None:
    top, stream = root
    first = hide_secrets(config(), top)
    data = {"comfy": {"hosts": [{"name": "x", "url": "http://h", "token": "other-secret"}]}}
    second = hide_secrets(parse_config(data, env={}), top)
    assert first is second
    assert sum(isinstance(f, RedactingFilter) for f in top.handlers[0].filters) == 1
    top.info("%s and %s", TOKEN, "other-secret")
    assert stream.getvalue().strip() == f"{REDACTED} and {REDACTED}"


def test_a_chat_token_from_the_environment_is_hidden_once_its_adapter_reads_it() -> None:
    env_token = "424242:AAH-only-in-the-environment"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    top = logging.getLogger()
    top.addHandler(handler)
    try:
        data = {"comfy": {"hosts": [{"name": "x", "url": "http://h"}]}, "telegram": {}}
        env = {"WANBOT_TELEGRAM_TOKEN": env_token}
        config = parse_config(data, env=env)
        assert env_token not in secrets_of(config)  # the core does not know the variable
        read_chats(config, env=env)
        logging.getLogger("wanbot-test-chat.httpx").warning("GET /bot%s/getMe", env_token)
    finally:
        top.removeHandler(handler)
        handler.close()
    assert stream.getvalue().strip() == f"GET /bot{REDACTED}/getMe"


def test_no_secrets_leaves_records_untouched() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", ("value",), None)
    assert RedactingFilter().filter(record)
    assert record.args == ("value",)


def test_the_password_in_a_url_is_a_secret_and_any_urls_user_info_is_hidden() -> None:
    host = {"name": "proxy", "url": "http://wanbot:pa55word@gpu.example/"}
    found = secrets_of(parse_config({"comfy": {"hosts": [host]}}, env={}))
    assert {"wanbot:pa55word", "pa55word"} <= set(found) and "wanbot" not in found
    shared = RedactingFilter(found)
    record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "auth %s", ("pa55word",), None)
    assert shared.filter(record) and record.getMessage() == f"auth {REDACTED}"
    unknown = "GET https://someone:else@other.example/x failed"
    assert shared.redact(unknown) == f"GET https://{REDACTED}@other.example/x failed"
    assert redact("see http://a:b@c/") == f"see http://{REDACTED}@c/"  # no handler: still hidden


def test_discords_voice_warnings_are_dropped_and_nothing_else(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """WanBot does no voice: discord.py's PyNaCl and davey warnings are noise at every start."""
    import discord

    setup()
    with caplog.at_level(logging.WARNING):
        discord.Client(intents=discord.Intents.default())  # warns once per process, if at all
        client = logging.getLogger("discord.client")
        client.warning("PyNaCl is not installed, voice will NOT be supported")
        client.warning("davey is not installed, voice will NOT be supported")
        client.warning("something else")
        logging.getLogger("discord.gateway").warning("voice will NOT be supported elsewhere")
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "is not installed" in m]
    assert "something else" in messages and "voice will NOT be supported elsewhere" in messages
