"""A PostgreSQL database as `[storage] database` names it: a libpq URL without a password.

The password never sits in the config (which is shared, shown and backed up): libpq takes it
from `PGPASSWORD` or from its password file (`~/.pgpass`, or the file `PGPASSFILE` names), as
for `psql`. A URL that carries one is refused, and no message shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.logs import REDACTED, hide_userinfo

SCHEMES = ("postgresql://", "postgres://")
NO_PASSWORD = (
    "a password in the URL is not accepted (the config file is no place for it): remove it "
    "and set PGPASSWORD or use a password file (~/.pgpass or PGPASSFILE)"
)

# A password given as a URL's query parameter or a conninfo keyword: `password=...`.
PASSWORD_PARAM = re.compile(r"(\bpassword\s*=\s*)('[^']*'|[^&\s]*)", re.IGNORECASE)


def hide_password(text: str) -> str:
    """`text` with every URL's user info and every `password=` value replaced."""
    return PASSWORD_PARAM.sub(lambda m: m.group(1) + REDACTED, hide_userinfo(text))


@dataclass(frozen=True)
class PostgresUrl:
    """A checked `postgresql://user@host:port/dbname?option=value` URL; `str()` is the URL."""

    url: str

    def __str__(self) -> str:
        return self.url

    def __post_init__(self) -> None:
        """libpq must understand the URL and it must carry no password; else `ValueError`
        whose message does not repeat the URL's user info."""
        # Late: psycopg takes about 0.2 s to import, and most configs name a SQLite file.
        from psycopg import conninfo
        from psycopg.errors import ProgrammingError

        try:
            params = conninfo.conninfo_to_dict(self.url)
        except ProgrammingError as exc:
            raise ValueError(f"not a PostgreSQL URL: {hide_password(str(exc)).strip()}") from None
        if params.get("password"):
            raise ValueError(NO_PASSWORD)


def database_setting(value: object) -> object:
    """`[storage] database` before validation: a PostgreSQL URL becomes a `PostgresUrl`
    (anything else stays as it is: a SQLite file's path)."""
    if isinstance(value, str) and value.startswith(SCHEMES):
        return PostgresUrl(value)
    return value
