# SPDX-License-Identifier: AGPL-3.0-or-later
"""The one schema migration runner of our modules.

Each module keeps numbered files in its `schema/` folder:

    0001_keywords.sql               one file for both engines, or
    0002_index.sql.sqlite + 0002_index.sql.postgres   a variant per engine

Versions start at 1 and have no gaps. Applied files are recorded with their SHA-256 in
`jwwx_schema_migrations`; a recorded file that has since changed or disappeared is an
error (fix forward with a new file instead). Statements are separated by `;` at the end
of a line. Everything runs in the caller's transaction, so a failure applies nothing.
"""

import hashlib
import re
import time
from dataclasses import dataclass
from importlib import resources

from modules.common.storage import Txn
from modules.common.synapse.database import engine_of_txn

ENGINES = ("sqlite", "postgres")
ADVISORY_LOCK_ID = 0x6A777778  # "jwwx"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql(?:\.(sqlite|postgres))?$")

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS jwwx_schema_migrations (
    module TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    applied_ts BIGINT NOT NULL,
    PRIMARY KEY (module, version)
)
"""


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    def statements(self) -> list[str]:
        parts = re.split(r";\s*$", self.sql, flags=re.MULTILINE)
        out = []
        for part in parts:
            lines = [ln for ln in part.splitlines() if not ln.strip().startswith("--")]
            stmt = "\n".join(lines).strip()
            if stmt:
                out.append(stmt)
        return out


def select_migrations(files: dict[str, str], engine: str) -> list[Migration]:
    """Choose, from {file name: SQL}, the ordered migrations for one engine."""
    if engine not in ENGINES:
        raise MigrationError(f"unknown engine {engine!r}")
    by_version: dict[int, dict[str | None, tuple[str, str]]] = {}
    for filename, sql in files.items():
        match = _NAME.match(filename)
        if match is None:
            raise MigrationError(
                f"bad schema file name {filename!r} (want NNNN_name.sql)"
            )
        version, name, variant = int(match[1]), match[2], match[3]
        variants = by_version.setdefault(version, {})
        if variant in variants:
            raise MigrationError(f"two schema files for version {version}: {filename}")
        variants[variant] = (name, sql)
    chosen = []
    for expected, version in enumerate(sorted(by_version), start=1):
        if version != expected:
            raise MigrationError(
                f"schema version {expected} is missing (found {version})"
            )
        variants = by_version[version]
        if None in variants and len(variants) > 1:
            raise MigrationError(
                f"version {version} has both a shared and engine files"
            )
        entry = variants.get(None) or variants.get(engine)
        if entry is None:
            raise MigrationError(f"version {version} has no file for {engine}")
        chosen.append(Migration(version, entry[0], entry[1]))
    return chosen


def package_schema_files(package: str) -> dict[str, str]:
    """Read {file name: SQL} from `<package>/schema/`."""
    folder = resources.files(package).joinpath("schema")
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith((".sql", ".sql.sqlite", ".sql.postgres"))
    }


def apply_migrations_txn(txn: Txn, module: str, files: dict[str, str]) -> list[int]:
    """Apply the module's pending migrations in txn; return the versions applied."""
    engine = engine_of_txn(txn)
    migrations = select_migrations(files, engine)
    if engine == "postgres":
        # Modules and workers start together: one transaction at a time creates the
        # bookkeeping table and applies schema; the others wait and find it done.
        txn.execute("SELECT pg_advisory_xact_lock(?)", (ADVISORY_LOCK_ID,))
    txn.execute(CREATE_TABLE)
    txn.execute(
        "SELECT version, name, sha256 FROM jwwx_schema_migrations WHERE module = ?",
        (module,),
    )
    applied = {row[0]: (row[1], row[2]) for row in txn.fetchall()}
    known = {m.version: m for m in migrations}
    for version, (name, digest) in sorted(applied.items()):
        migration = known.get(version)
        if migration is None:
            raise MigrationError(
                f"{module}: applied schema {version:04d}_{name} has no file any more"
            )
        if migration.sha256 != digest:
            raise MigrationError(
                f"{module}: schema {version:04d}_{name} changed after it was applied; "
                "add a new numbered file instead of editing an applied one"
            )
    done = []
    for migration in migrations:
        if migration.version in applied:
            continue
        for statement in migration.statements():
            txn.execute(statement)
        txn.execute(
            "INSERT INTO jwwx_schema_migrations (module, version, name, sha256, applied_ts)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                module,
                migration.version,
                migration.name,
                migration.sha256,
                int(time.time() * 1000),
            ),
        )
        done.append(migration.version)
    return done
