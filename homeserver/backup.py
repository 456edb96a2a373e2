# SPDX-License-Identifier: AGPL-3.0-or-later
"""`python -m homeserver backup`: one tar file holding everything a server needs back.

  database.pgdump   PostgreSQL: pg_dump's custom format (a consistent snapshot; the
                    server may keep running)
  homeserver.db     SQLite: the online backup API's consistent copy
  data/...          the data directory without the database, logs, run state and the
                    transient plaintext of media_store/: the config (homeserver.yaml,
                    conf.d/, workers/, nginx/, log configs), keys/ (signing key, the
                    audit, media, directory and account keys, secrets) and
                    media_encrypted/ (media as stored: SM4-encrypted)
  manifest.json     what the file holds, with each member's size and SHA-256

The database is copied before the media: every media row in it has its file already
(uploads are encrypted before Synapse records them). `backup --verify FILE` checks the
hashes. Each backup and each verification is appended to DATA/backup-history.jsonl,
which the inspection report reads. The file holds the keys: keep it as secret as the
server itself. docs/backup.md.
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from homeserver.config_file import ServerConfig, load_server_config
from homeserver.errors import LauncherError

FORMAT = 1
MANIFEST = "manifest.json"
PG_DUMP = "database.pgdump"
SQLITE_DB = "homeserver.db"
DATA_PREFIX = "data/"
HISTORY_FILE = "backup-history.jsonl"

# Not backed up: the database (dumped on its own), what the running server writes for
# itself, and Synapse's plaintext working copies of media (media_crypto removes them).
SKIPPED_TOP = {
    SQLITE_DB,
    f"{SQLITE_DB}-wal",
    f"{SQLITE_DB}-shm",
    f"{SQLITE_DB}-journal",
    "homeserver.pid",
    "run",
    "media_store",
    HISTORY_FILE,
    "backups",
}


@dataclass(frozen=True)
class Database:
    engine: str  # "postgres" or "sqlite"
    args: dict[str, Any]

    @staticmethod
    def of(config: ServerConfig) -> "Database":
        database = config.raw.get("database") or {}
        args = dict(database.get("args") or {})
        if database.get("name") == "psycopg2":
            return Database("postgres", args)
        if database.get("name") == "sqlite3":
            return Database("sqlite", args)
        raise LauncherError(f"unknown database engine {database.get('name')!r}")

    def libpq_env(self) -> dict[str, str]:
        """The environment pg_dump / pg_restore connect with (no password on argv)."""
        env = dict(os.environ)
        keys = {
            "host": "PGHOST",
            "port": "PGPORT",
            "user": "PGUSER",
            "password": "PGPASSWORD",
            "dbname": "PGDATABASE",
        }
        for key, variable in keys.items():
            if self.args.get(key) not in (None, ""):
                env[variable] = str(self.args[key])
        return env


class _HashingReader(io.RawIOBase):
    """Reads a file for tarfile while hashing what it reads."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self.sha256.update(chunk)
        return chunk


def run_tool(argv: list[str], env: dict[str, str], what: str) -> None:
    tool = shutil.which(argv[0])
    if tool is None:
        raise LauncherError(
            f"{argv[0]} is not installed: {what} needs PostgreSQL's client tools "
            "(apt-get install postgresql-client)"
        )
    result = subprocess.run(
        [tool, *argv[1:]], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise LauncherError(f"{what} failed: {result.stderr.strip()[-2000:]}")


def _data_files(data_dir: Path) -> Iterator[Path]:
    for top in sorted(data_dir.iterdir()):
        if top.name in SKIPPED_TOP or top.name.endswith(".log"):
            continue
        if top.is_dir():
            for dirpath, dirnames, files in os.walk(top):
                dirnames.sort()
                for name in sorted(files):
                    yield Path(dirpath) / name
        elif top.is_file():
            yield top


def _dump_database(database: Database, into: Path) -> str:
    """Write the database snapshot into the folder; return its member name."""
    if database.engine == "postgres":
        target = into / PG_DUMP
        run_tool(
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(target)],
            database.libpq_env(),
            "pg_dump",
        )
        return PG_DUMP
    source = sqlite3.connect(str(database.args["database"]))
    target_db = sqlite3.connect(str(into / SQLITE_DB))
    try:
        source.backup(target_db)
    finally:
        target_db.close()
        source.close()
    return SQLITE_DB


def _add(tar: tarfile.TarFile, path: Path, name: str) -> dict[str, Any]:
    info = tar.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as f:
        reader = _HashingReader(f)
        tar.addfile(info, reader)
    return {"name": name, "size": info.size, "sha256": reader.sha256.hexdigest()}


def record_history(data_dir: Path, entry: dict[str, Any]) -> None:
    with (data_dir / HISTORY_FILE).open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def backup(data_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Write one backup file into out_dir; return its manifest (with `file`)."""
    config = load_server_config(data_dir)
    database = Database.of(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = out_dir / f"jwwx-backup-{config.server_name}-{stamp}.tar"
    partial = target.with_suffix(".tar.partial")
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="jwwx-backup-") as scratch:
        dump_name = _dump_database(database, Path(scratch))
        members = []
        with tarfile.open(partial, "w") as tar:
            members.append(_add(tar, Path(scratch) / dump_name, dump_name))
            for path in _data_files(data_dir):
                relative = path.relative_to(data_dir).as_posix()
                members.append(_add(tar, path, DATA_PREFIX + relative))
            manifest = {
                "format": FORMAT,
                "server_name": config.server_name,
                "engine": database.engine,
                "database": dump_name,
                "data_dir": str(data_dir.resolve()),
                "created_ts": int(started * 1000),
                "members": members,
            }
            encoded = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(encoded)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(encoded))
    os.replace(partial, target)
    summary = {
        "file": str(target.resolve()),
        "engine": database.engine,
        "members": len(members),
        "bytes": target.stat().st_size,
        "seconds": round(time.time() - started, 2),
        "media_files": sum(
            1 for m in members if m["name"].startswith(DATA_PREFIX + "media_encrypted/")
        ),
    }
    record_history(data_dir, {"action": "backup", "ts": int(started * 1000), **summary})
    return summary


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise LauncherError(
            "not a backup of this launcher (no manifest.json)"
        ) from None
    handle = tar.extractfile(member)
    assert handle is not None
    manifest: dict[str, Any] = json.loads(handle.read())
    if manifest.get("format") != FORMAT:
        raise LauncherError(f"backup format {manifest.get('format')!r} is not {FORMAT}")
    return manifest


def verify_backup(path: Path) -> dict[str, Any]:
    """Check every member against the manifest; LauncherError on the first mismatch."""
    try:
        tar = tarfile.open(path, "r")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as e:
        raise LauncherError(f"cannot read {path}: {e}") from e
    with tar:
        manifest = read_manifest(tar)
        for expected in manifest["members"]:
            try:
                handle = tar.extractfile(expected["name"])
            except KeyError:
                raise LauncherError(f"{path}: {expected['name']} is missing") from None
            assert handle is not None
            digest = hashlib.sha256()
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
            if digest.hexdigest() != expected["sha256"]:
                raise LauncherError(f"{path}: {expected['name']} does not match")
    return {
        "file": str(path.resolve()),
        "ok": True,
        "server_name": manifest["server_name"],
        "engine": manifest["engine"],
        "created_ts": manifest["created_ts"],
        "members": len(manifest["members"]),
    }
