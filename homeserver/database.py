# SPDX-License-Identifier: AGPL-3.0-or-later
"""Turn the database options of `init` into the template's database context."""

from typing import Any
from urllib.parse import unquote, urlparse

from homeserver.errors import LauncherError


def sqlite_database() -> dict[str, Any]:
    return {"engine": "sqlite3"}


def postgres_from_dsn(dsn: str) -> dict[str, Any]:
    """Parse postgresql://user[:password]@host[:port]/dbname."""
    parsed = urlparse(dsn)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise LauncherError(
            f"--database-url must start with postgresql:// (got {parsed.scheme or dsn!r})"
        )
    dbname = parsed.path.lstrip("/")
    if not dbname:
        raise LauncherError(
            "--database-url names no database (postgresql://.../DBNAME)"
        )
    try:
        port = parsed.port or 5432
    except ValueError as e:
        raise LauncherError(f"--database-url has a bad port: {e}") from e
    return {
        "engine": "psycopg2",
        "user": unquote(parsed.username or "postgres"),
        "password": unquote(parsed.password) if parsed.password else "",
        "host": parsed.hostname or "127.0.0.1",
        "port": port,
        "dbname": unquote(dbname),
    }
