# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.audit (homeserver.yaml → modules → modules.audit.AuditModule).

Keys:
  keys (mapping key id → file path, required): SM4 keys of the archive. Each file holds
      secret material (e.g. what `python -m homeserver init` writes to keys/audit_key);
      the 16-byte SM4 key is derived from it with SM3. Keep old keys listed: records
      carry the id of the key that sealed them.
  current_key_id (string, required): the key that seals new records.
  audit_admins: removed (issue 16). Audit admins (审计管理员) are the accounts given
      the `audit` role at run time (PUT /_jwwx/admin/v1/admins/roles/{user_id}
      {"roles": ["audit"]}, docs/admin.md). A non-empty list stops the server with an
      error saying so; an empty list (what `init` rendered before) is ignored with a
      warning, for one release.
  poll_interval_seconds (number ≥ 0.05, default 1): how often the archiver reads the
      event stream and the hook inbox.
  batch_size (int 1..5000, default 200): events archived per transaction.
  hash_max_bytes (int ≥ 0, default 52428800): media up to this size are read and
      hashed (SHA-256, and a perceptual hash for images) when archived; 0 disables.
  phash_max_distance (int 0..64, default 10): Hamming distance up to which an image
      counts as a near-duplicate in the image search.
  search_max_records (int ≥ 100, default 100000): records one search decrypts at most;
      a longer range answers with `complete: false` and where to continue.
  exporters (list, default []): push exporters, each a mapping:
      name (string, required, unique): also the durable cursor's name.
      kinds (list of record kinds, default all).
      syslog: {host, port}  RFC 5424 over TCP with octet-counting framing, or
      http: {url}            HTTP POST of JSON lines (2xx = delivered).
      batch_size (int, default 500), retry_initial_seconds (default 1),
      retry_max_seconds (default 60), timeout_seconds (default 10).
  pull_consumers (list, default []): the export credentials of pull consumers (the
      bureau's log system pulling GET export/{kind}), each a mapping:
      name (string, required, unique; 1-64 of A-Z a-z 0-9 _ . -): the consumer, whose
          cursor only this credential moves.
      token_file (string, required): a file holding the consumer's secret token (at
          least 32 characters); it is sent as `Authorization: Bearer <token>`. Only
          its SHA-256 is kept in memory.
  jobs_instance (string, optional): the worker_name of the process that runs this
      module's background jobs, "main" for the main process (modules/common/jobs.py).
"""

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modules.common.config import ConfigReader
from modules.common.jobs import read_jobs_instance
from modules.common.keyfiles import derive_sm4_key, read_key_ring
from modules.common.synapse.errors import ConfigError

logger = logging.getLogger(__name__)

MODULE = "modules.audit"
KINDS = ("message", "group", "admin", "usage", "app", "audit", "document")
_KEY_LABEL = b"jwwx-audit-sm4-key:"


def derive_key(material: bytes) -> bytes:
    """The 16-byte SM4 key of a key file (any length of secret material)."""
    return derive_sm4_key(_KEY_LABEL, material)


@dataclass(frozen=True)
class ExporterConfig:
    name: str
    kinds: tuple[str, ...]
    syslog_host: str | None = None
    syslog_port: int = 0
    http_url: str | None = None
    batch_size: int = 500
    retry_initial_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class PullConsumer:
    name: str
    token_sha256: bytes


@dataclass(frozen=True)
class AuditConfig:
    keys: Mapping[str, bytes]
    current_key_id: str
    poll_interval_seconds: float = 1.0
    batch_size: int = 200
    hash_max_bytes: int = 50 * 1024 * 1024
    phash_max_distance: int = 10
    search_max_records: int = 100_000
    exporters: tuple[ExporterConfig, ...] = field(default=())
    pull_consumers: tuple[PullConsumer, ...] = field(default=())
    jobs_instance: str | None = None  # modules/common/jobs.py

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current_key_id]

    @staticmethod
    def parse(raw: Any) -> "AuditConfig":
        reader = ConfigReader(raw, MODULE)
        ring = read_key_ring(reader, MODULE, _KEY_LABEL)
        _refuse_audit_admins(reader._get("audit_admins", None))
        d = AuditConfig(keys={}, current_key_id="")
        raw_exporters = reader._get("exporters", [])
        raw_consumers = reader._get("pull_consumers", [])
        config = AuditConfig(
            keys=ring.keys,
            current_key_id=ring.current_key_id,
            poll_interval_seconds=reader.number(
                "poll_interval_seconds", d.poll_interval_seconds, minimum=0.05
            ),
            batch_size=reader.integer(
                "batch_size", d.batch_size, minimum=1, maximum=5000
            ),
            hash_max_bytes=reader.integer(
                "hash_max_bytes", d.hash_max_bytes, minimum=0
            ),
            phash_max_distance=reader.integer(
                "phash_max_distance", d.phash_max_distance, minimum=0, maximum=64
            ),
            search_max_records=reader.integer(
                "search_max_records", d.search_max_records, minimum=100
            ),
            exporters=_parse_exporters(raw_exporters),
            pull_consumers=_parse_pull_consumers(raw_consumers),
            jobs_instance=read_jobs_instance(reader),
        )
        reader.finish()
        return config


def _refuse_audit_admins(raw: Any) -> None:
    """The audit_admins list is gone: audit admins are a role given at run time."""
    if raw is None:
        return
    if raw == []:
        logger.warning(
            "%s.audit_admins is obsolete and ignored: audit admins are the accounts "
            "given the audit role (docs/admin.md); remove the key",
            MODULE,
        )
        return
    raise ConfigError(
        f"{MODULE}.audit_admins: removed. Audit admins are now a role given at run "
        "time by the super admin: PUT /_jwwx/admin/v1/admins/roles/{user_id} "
        '{"roles": ["audit"]} for each of them (docs/admin.md), then delete this key'
    )


def _parse_exporters(raw: Any) -> tuple[ExporterConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{MODULE}.exporters: must be a list")
    out: list[ExporterConfig] = []
    for index, item in enumerate(raw):
        where = f"exporters[{index}]"
        reader = ConfigReader(item, f"{MODULE}.{where}")
        name = reader.string("name", required=True)
        if any(e.name == name for e in out):
            raise ConfigError(f"{MODULE}.{where}.name: {name!r} is used twice")
        kinds = tuple(reader.string_list("kinds", KINDS))
        for kind in kinds:
            if kind not in KINDS:
                raise ConfigError(
                    f"{MODULE}.{where}.kinds: {kind!r} is not one of {', '.join(KINDS)}"
                )
        syslog = reader.mapping_or_none("syslog")
        http = reader.mapping_or_none("http")
        if (syslog is None) == (http is None):
            raise ConfigError(f"{MODULE}.{where}: give exactly one of syslog, http")
        host, port, url = None, 0, None
        if syslog is not None:
            target = ConfigReader(syslog, f"{MODULE}.{where}.syslog")
            host = target.string("host", required=True)
            port = target.integer("port", 0, minimum=1, maximum=65535)
            target.finish()
        if http is not None:
            target = ConfigReader(http, f"{MODULE}.{where}.http")
            url = target.string("url", required=True)
            target.finish()
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"{MODULE}.{where}.http.url: must be http(s)://")
        d = ExporterConfig(name="", kinds=())
        out.append(
            ExporterConfig(
                name=name,
                kinds=kinds,
                syslog_host=host,
                syslog_port=port,
                http_url=url,
                batch_size=reader.integer(
                    "batch_size", d.batch_size, minimum=1, maximum=10000
                ),
                retry_initial_seconds=reader.number(
                    "retry_initial_seconds", d.retry_initial_seconds, minimum=0.05
                ),
                retry_max_seconds=reader.number(
                    "retry_max_seconds", d.retry_max_seconds, minimum=0.05
                ),
                timeout_seconds=reader.number(
                    "timeout_seconds", d.timeout_seconds, minimum=0.1
                ),
            )
        )
        reader.finish()
    return tuple(out)


_CONSUMER_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def _parse_pull_consumers(raw: Any) -> tuple[PullConsumer, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{MODULE}.pull_consumers: must be a list")
    out: list[PullConsumer] = []
    for index, item in enumerate(raw):
        where = f"{MODULE}.pull_consumers[{index}]"
        reader = ConfigReader(item, where)
        name = reader.string("name", required=True)
        if not _CONSUMER_NAME.match(name):
            raise ConfigError(f"{where}.name: 1-64 of A-Z a-z 0-9 _ . -")
        if any(c.name == name for c in out):
            raise ConfigError(f"{where}.name: {name!r} is used twice")
        path = reader.string("token_file", required=True)
        reader.finish()
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{where}.token_file: cannot read {path}: {e}") from e
        if len(token) < 32 or any(ch.isspace() for ch in token):
            raise ConfigError(
                f"{where}.token_file: {path} must hold a token of at least 32"
                " characters without spaces"
            )
        digest = hashlib.sha256(token.encode("utf-8")).digest()
        if any(c.token_sha256 == digest for c in out):
            raise ConfigError(f"{where}.token_file: the same token as another consumer")
        out.append(PullConsumer(name, digest))
    return tuple(out)
