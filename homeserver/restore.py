# SPDX-License-Identifier: AGPL-3.0-or-later
"""`python -m homeserver restore`: a backup (homeserver/backup.py) into a fresh data
directory and database.

The backup is verified first (every member's SHA-256); the data directory must not
exist or be empty, and a PostgreSQL target database must exist (created as Synapse
requires: UTF8, C collation) and hold no tables. Nothing is written before these checks
pass. The config files name the data directory by absolute path: they are rewritten to
the new one. `--database-url` restores a PostgreSQL backup into another database (the
config is rewritten to it); without it, into the database the config names. A SQLite
backup restores to the data directory's homeserver.db (SQLite to PostgreSQL is
Synapse's synapse_port_db, not a restore). docs/backup.md.
"""

import re
import shutil
import sqlite3
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import yaml

from homeserver.backup import (
    DATA_PREFIX,
    PG_DUMP,
    SQLITE_DB,
    Database,
    read_manifest,
    record_history,
    run_tool,
    verify_backup,
)
from homeserver.config_file import load_server_config
from homeserver.errors import LauncherError

# Rendered files that name the data directory by absolute path.
TEXT_SUFFIXES = (".yaml", ".config", ".conf", ".service")
_DATABASE_BLOCK = re.compile(r"^database:\n(?:[ \t]+.*\n|\n(?=[ \t]))*", re.MULTILINE)


def _empty_postgres(database: Database) -> None:
    import psycopg2

    params = {k: v for k, v in database.args.items() if k not in ("cp_min", "cp_max")}
    try:
        connection = psycopg2.connect(**params)
    except psycopg2.Error as e:
        raise LauncherError(
            f"cannot connect to the target database {params.get('dbname')!r}: "
            f"{str(e).strip()} (create it first: UTF8, C collation; README)"
        ) from e
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            (tables,) = cur.fetchone()
    finally:
        connection.close()
    if tables:
        raise LauncherError(
            f"the target database {params.get('dbname')!r} already holds {tables} "
            "tables: restore only into an empty database"
        )


def _rewrite_paths(staging: Path, old: str, new: str) -> None:
    for path in staging.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES and "keys" not in path.parts:
            text = path.read_text(encoding="utf-8")
            if old in text:
                path.write_text(text.replace(old, new), encoding="utf-8")


def _database_yaml(args: dict[str, Any]) -> str:
    return yaml.safe_dump(
        {"database": {"name": "psycopg2", "args": args}}, allow_unicode=True
    )


def _point_config_at(data_dir: Path, target: dict[str, Any]) -> None:
    """Every config file that sets `database` names the target database (pool sizes
    kept)."""
    main = data_dir / "homeserver.yaml"
    overrides = sorted((data_dir / "conf.d").glob("*.yaml"))
    for path in [main, *overrides]:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if "database" not in loaded:
            continue
        args = dict(loaded["database"].get("args") or {})
        for key in ("user", "password", "host", "port", "dbname"):
            args.pop(key, None)
        args = {**{k: v for k, v in target.items() if k != "engine"}, **args}
        if not args.get("password"):
            args.pop("password", None)
        if path == main:
            text = path.read_text(encoding="utf-8")
            replaced, count = _DATABASE_BLOCK.subn(_database_yaml(args), text)
            if count != 1:
                raise LauncherError(f"{path}: cannot find its database block")
            path.write_text(replaced, encoding="utf-8")
        else:
            loaded["database"] = {"name": "psycopg2", "args": args}
            path.write_text(
                yaml.safe_dump(loaded, allow_unicode=True), encoding="utf-8"
            )


def restore(
    backup_file: Path, data_dir: Path, target: dict[str, Any] | None
) -> dict[str, Any]:
    verified = verify_backup(backup_file)
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise LauncherError(
            f"--data-dir {data_dir} exists and is not empty: restore into a new one"
        )
    with tarfile.open(backup_file, "r") as tar:
        manifest = read_manifest(tar)
        if manifest["engine"] == "sqlite" and target is not None:
            raise LauncherError(
                "--database-url: this is a SQLite backup; it restores only to SQLite "
                "(to move to PostgreSQL use Synapse's synapse_port_db afterwards)"
            )
        with tempfile.TemporaryDirectory(prefix="jwwx-restore-") as scratch:
            staging = Path(scratch) / "data"
            for member in tar.getmembers():
                if not member.name.startswith(DATA_PREFIX):
                    continue
                relative = Path(member.name[len(DATA_PREFIX) :])
                if relative.is_absolute() or ".." in relative.parts:
                    raise LauncherError(f"unsafe path in the backup: {member.name}")
            tar.extractall(
                scratch,
                members=[m for m in tar.getmembers() if m.isfile()],
                filter="data",
            )
            _rewrite_paths(staging, manifest["data_dir"], str(data_dir.resolve()))
            if target is not None:
                _point_config_at(staging, target)
            for name in ("media_store",):
                (staging / name).mkdir(mode=0o700, exist_ok=True)
            (staging / "keys").chmod(0o700)
            for key in (staging / "keys").iterdir():
                key.chmod(0o600)
            # The database, then the data directory in place (nothing half-written
            # is left behind when the database refuses).
            staged_config = load_server_config(staging)
            database = Database.of(staged_config)
            if manifest["engine"] == "postgres":
                _empty_postgres(database)
                run_tool(
                    [
                        "pg_restore",
                        "--no-owner",
                        "--exit-on-error",
                        "--single-transaction",
                        "--dbname",
                        str(database.args.get("dbname")),
                        str(Path(scratch) / PG_DUMP),
                    ],
                    database.libpq_env(),
                    "pg_restore",
                )
            else:
                restored = sqlite3.connect(str(Path(scratch) / SQLITE_DB))
                check = restored.execute("PRAGMA integrity_check").fetchone()
                restored.close()
                if check != ("ok",):
                    raise LauncherError(f"the SQLite copy is damaged: {check}")
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            for entry in staging.iterdir():
                shutil.move(str(entry), str(data_dir / entry.name))
            if manifest["engine"] == "sqlite":
                final = Database.of(load_server_config(data_dir)).args["database"]
                shutil.move(str(Path(scratch) / SQLITE_DB), str(final))
    summary = {
        "restored": str(data_dir.resolve()),
        "from": verified["file"],
        "server_name": manifest["server_name"],
        "engine": manifest["engine"],
        "backup_created_ts": manifest["created_ts"],
        "members": verified["members"],
    }
    record_history(data_dir, {"action": "restore", **summary})
    return summary
