# SPDX-License-Identifier: AGPL-3.0-or-later
"""PostgreSQL clusters of a test's own (Debian's initdb, pg_ctl, pg_basebackup): a
primary and a streaming replica on loopback ports, for the failover drill
(tests/homeserver/test_failover.py, docs/availability.md). The machine's shared
PostgreSQL is never touched. As root the clusters run as the `postgres` OS user
(PostgreSQL refuses root)."""

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

import psycopg2

PG_TOOLS = ("initdb", "pg_ctl", "pg_basebackup")


def _bindir() -> Path | None:
    """The folder with initdb and pg_ctl (Debian keeps them out of PATH)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


def unavailable_reason() -> str | None:
    bindir = _bindir()
    if bindir is None or not all((bindir / t).exists() for t in PG_TOOLS):
        return "PostgreSQL's server tools (initdb, pg_ctl, pg_basebackup) not found"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres OS user for the clusters"
    return None


def _as_owner(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class Cluster:
    """One PostgreSQL cluster in `path`, listening on 127.0.0.1:`port`."""

    def __init__(self, path: Path, port: int) -> None:
        self.path = path
        self.port = port
        bindir = _bindir()
        assert bindir is not None
        self.bindir = bindir

    def _run(self, *args: str) -> str:
        result = subprocess.run(
            _as_owner([str(self.bindir / args[0]), *args[1:]]),
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}"
                f"\n{self.log_tail()}"
            )
        return result.stdout

    def log_tail(self, lines: int = 20) -> str:
        log = self.path.parent / f"{self.path.name}.log"
        try:
            return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def initdb(self) -> None:
        """A primary: UTF8 with C collation (as Synapse requires), trust on loopback,
        WAL for a streaming replica, commits acknowledged only once the replica named
        `replica1` has them (synchronous replication: no acknowledged write is lost
        when the primary dies)."""
        self._run(
            "initdb",
            "-D",
            str(self.path),
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--auth=trust",
        )
        with (self.path / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# the failover drill\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.path}'\n"
                "wal_level = replica\nmax_wal_senders = 4\n"
                "synchronous_standby_names = 'replica1'\n"
                "synchronous_commit = on\n"
                "max_connections = 40\nshared_buffers = 32MB\n"
                # The machine's own crash safety is not what is drilled here.
                "fsync = off\nfull_page_writes = off\n"
            )
        with (self.path / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")

    def replica_of(self, primary: "Cluster") -> None:
        """A streaming replica from a base backup of the running primary."""
        self._run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(self.path),
            "--wal-method=stream",
            "--write-recovery-conf",
        )
        with (self.path / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"primary_conninfo = 'host=127.0.0.1 port={primary.port} "
                "user=postgres application_name=replica1'\n"
                f"unix_socket_directories = '{self.path}'\n"
            )

    def start(self) -> None:
        log = self.path.parent / f"{self.path.name}.log"
        self._run(
            "pg_ctl",
            "-D",
            str(self.path),
            "-l",
            str(log),
            "-o",
            f"-p {self.port}",
            "-w",
            "start",
        )

    def crash(self) -> None:
        """Stop at once, as a lost machine would (no checkpoint, clients cut off)."""
        self._run("pg_ctl", "-D", str(self.path), "-m", "immediate", "stop")

    def promote(self) -> None:
        """Promote a replica, then stop waiting for a synchronous standby: it inherited
        the old primary's synchronous_standby_names, and with no standby left every
        commit would wait for ever (Patroni's non-strict synchronous_mode does the
        same; a rebuilt standby turns it on again)."""
        self._run("pg_ctl", "-D", str(self.path), "-w", "promote")
        self.query("ALTER SYSTEM SET synchronous_standby_names = ''")
        self.query("SELECT pg_reload_conf()")

    def stop(self) -> None:
        if (self.path / "postmaster.pid").exists():
            subprocess.run(
                _as_owner(
                    [str(self.bindir / "pg_ctl"), "-D", str(self.path), "-m", "fast"]
                    + ["-w", "stop"]
                ),
                capture_output=True,
                check=False,
                timeout=60,
            )

    def connect(self, dbname: str = "postgres") -> "psycopg2.extensions.connection":
        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname
        )
        conn.autocommit = True
        return conn

    def query(self, sql: str, dbname: str = "postgres") -> list[tuple[object, ...]]:
        conn = self.connect(dbname)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return list(cur.fetchall()) if cur.description else []
        finally:
            conn.close()

    def wait_sync_replica(self, timeout: float = 60) -> None:
        """Until the replica streams and counts as synchronous."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.query(
                "SELECT sync_state FROM pg_stat_replication"
                " WHERE application_name = 'replica1'"
            )
            if rows and rows[0][0] == "sync":
                return
            time.sleep(0.1)
        raise RuntimeError(f"no synchronous replica after {timeout}s")


def owned_temp_dir(parent: Path) -> Path:
    """A folder the clusters' OS user may write (root's temp folders are 0700: the
    one above gets the right to pass through)."""
    parent.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chmod(parent.parent, 0o711)
        entry = pwd.getpwnam("postgres")
        os.chown(parent, entry.pw_uid, entry.pw_gid)
    return parent
