# SPDX-License-Identifier: AGPL-3.0-or-later
"""`init`: create a data directory, its secrets and keys, and render the config.

Secrets and the signing key are generated once and never overwritten; the config files
are rendered when missing (or with --force-config), always from synapse_config/.
"""

import io
import ipaddress
import os
import pwd
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import signedjson.key
import yaml

from homeserver.errors import LauncherError
from homeserver.nginx import NGINX_FILE, render_nginx
from homeserver.render import render_yaml
from homeserver.systemd_units import UNITS_DIR, render_units
from homeserver.worker_files import render_worker_files, template_settings
from homeserver.workers import Deployment, check_ports, plan

SECRET_FILES = (
    "registration_shared_secret",
    "macaroon_secret_key",
    "form_secret",
    "directory_secret",
    "accounts_secret",
    "audit_key",
    "docs_key",
    "media_key",
    "worker_replication_secret",
)
_NGINX_LISTEN = re.compile(r"^(?:[0-9.]{7,15}:|\[[0-9a-fA-F:]+\]:)?\d{1,5}$")
_HOSTNAME = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::\d{1,5})?$"
)


@dataclass
class InitOptions:
    data_dir: Path
    server_name: str = "localhost"
    bind: str = "127.0.0.1"
    port: int = 8008
    public_baseurl: str | None = None
    database: dict[str, Any] = field(default_factory=lambda: {"engine": "sqlite3"})
    federation_allow: list[str] | None = None
    metrics_port: int | None = None
    redis_host: str | None = None
    redis_port: int = 6379
    keywords: list[str] = field(default_factory=list)
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "noreply@localhost"
    client_download_url: str = "https://im.police.example/download"
    log_level: str = "INFO"
    log_file: str | None = None
    force_config: bool = False
    # Synapse workers (homeserver/workers.py): a profile name, or None for one process.
    workers: str | None = None
    worker_base_port: int | None = None  # default: --port + 100
    nginx_listen: str = "80"
    # admin_api's allowed_networks and nginx's allow-list of Synapse's admin API.
    admin_networks: list[str] = field(default_factory=list)
    # TLS in nginx (PEM files, read by nginx): the client listener on nginx_listen and,
    # with federation, the federation port.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    federation_listen: str = "8448"
    # Synapse itself serves HTTPS on this port with --tls-cert/--tls-key (client API
    # and, with federation, the federation API): for a bureau without nginx in front
    # (and the federation tests). None: TLS is nginx's (or there is none).
    tls_port: int | None = None
    # CA certificates (PEM) the peers' federation certificates must chain to; none:
    # the system's trust store.
    federation_ca: list[Path] = field(default_factory=list)
    # Networks the peers' servers are in: Synapse refuses outbound requests to private
    # and loopback addresses unless they are allowed here (its ip_range_whitelist).
    federation_networks: list[str] = field(default_factory=list)


def deployment_of(opts: InitOptions) -> Deployment | None:
    """The worker deployment opts ask for (None: the single process)."""
    if opts.workers is None:
        return None
    if opts.database.get("engine") != "psycopg2":
        raise LauncherError(
            "--workers needs PostgreSQL: Synapse's workers share one database, which "
            "SQLite cannot do. Pass --database-url postgresql://… or --pg-db "
            "(docs/deployment.md)"
        )
    base = opts.worker_base_port if opts.worker_base_port else opts.port + 100
    deployment = plan(
        opts.workers,
        base,
        opts.metrics_port,
        opts.redis_host or "127.0.0.1",
        opts.redis_port,
    )
    check_ports(deployment, {"--port": opts.port, "--metrics-port": opts.metrics_port})
    return deployment


def validate(opts: InitOptions) -> None:
    if not _HOSTNAME.match(opts.server_name):
        raise LauncherError(
            f"--server-name {opts.server_name!r} is not a valid host name"
        )
    try:
        ipaddress.ip_address(opts.bind)
    except ValueError as e:
        raise LauncherError(f"--bind {opts.bind!r} is not an IP address") from e
    ports = (
        ("--port", opts.port),
        ("--metrics-port", opts.metrics_port),
        ("--smtp-port", opts.smtp_port),
    )
    for name, port in ports:
        if port is not None and not 1 <= port <= 65535:
            raise LauncherError(f"{name} {port} is outside 1..65535")
    if opts.metrics_port is not None and opts.metrics_port == opts.port:
        raise LauncherError("--metrics-port must differ from --port")
    for domain in opts.federation_allow or []:
        if not _HOSTNAME.match(domain):
            raise LauncherError(f"--federation-allow {domain!r} is not a host name")
    if opts.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise LauncherError(
            f"--log-level {opts.log_level!r}: choose DEBUG, INFO, WARNING or ERROR"
        )
    if not _NGINX_LISTEN.match(opts.nginx_listen):
        raise LauncherError(
            f"--nginx-listen {opts.nginx_listen!r}: give PORT or ADDRESS:PORT"
        )
    for network in opts.admin_networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as e:
            raise LauncherError(
                f"--admin-network {network!r} is not an IP network such as 10.20.0.0/16"
            ) from e
    if (opts.tls_cert is None) != (opts.tls_key is None):
        raise LauncherError("--tls-cert and --tls-key go together")
    for name, path in (("--tls-cert", opts.tls_cert), ("--tls-key", opts.tls_key)):
        if path is not None and not path.is_file():
            raise LauncherError(f"{name} {path} is not a file")
    if not _NGINX_LISTEN.match(opts.federation_listen):
        raise LauncherError(
            f"--federation-listen {opts.federation_listen!r}: give PORT or ADDRESS:PORT"
        )
    _validate_federation(opts)
    if any(not k.strip() for k in opts.keywords):
        raise LauncherError("--keyword must not be empty")


def _validate_federation(opts: InitOptions) -> None:
    if opts.tls_port is not None:
        if not 1 <= opts.tls_port <= 65535:
            raise LauncherError(f"--tls-port {opts.tls_port} is outside 1..65535")
        if opts.tls_cert is None:
            raise LauncherError("--tls-port needs --tls-cert and --tls-key")
        if opts.tls_port in (opts.port, opts.metrics_port):
            raise LauncherError("--tls-port must differ from --port and --metrics-port")
    federation = bool(opts.federation_allow)
    if (opts.federation_ca or opts.federation_networks) and not federation:
        raise LauncherError(
            "--federation-ca and --federation-network need --federation-allow"
        )
    for path in opts.federation_ca:
        if not path.is_file():
            raise LauncherError(f"--federation-ca {path} is not a file")
    for network in opts.federation_networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as e:
            raise LauncherError(
                f"--federation-network {network!r} is not an IP network such as "
                "10.30.0.0/16"
            ) from e


def _write_once(path: Path, content: str) -> bool:
    """Create path with mode 0600 holding content, unless it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(content)
    return True


def _ensure_secrets(keys_dir: Path) -> list[str]:
    created = []
    for name in SECRET_FILES:
        if _write_once(keys_dir / name, secrets.token_urlsafe(48)):
            created.append(name)
    key_path = keys_dir / "signing.key"
    if not key_path.exists():
        key = signedjson.key.generate_signing_key("a_" + secrets.token_hex(2))
        buffer = io.StringIO()
        signedjson.key.write_signing_keys(buffer, [key])
        if _write_once(key_path, buffer.getvalue()):
            created.append("signing.key")
    return created


def _existing_server_name(config_path: Path) -> str | None:
    try:
        loaded = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return loaded.get("server_name") if isinstance(loaded, dict) else None


def template_context(opts: InitOptions) -> dict[str, Any]:
    deployment = deployment_of(opts)
    data_dir = str(opts.data_dir.resolve())
    host = "127.0.0.1" if opts.bind in ("0.0.0.0", "::") else opts.bind
    if ":" in host:
        host = f"[{host}]"
    return {
        "upstream_host": host,
        "tls": None
        if opts.tls_cert is None or opts.tls_key is None
        else {
            "cert": str(opts.tls_cert.resolve()),
            "key": str(opts.tls_key.resolve()),
            "federation_listen": opts.federation_listen,
        },
        "admin_networks": [
            str(ipaddress.ip_network(n, strict=False)) for n in opts.admin_networks
        ],
        "data_dir": data_dir,
        "server_name": opts.server_name,
        "public_baseurl": opts.public_baseurl or f"http://{host}:{opts.port}/",
        "port": opts.port,
        "bind_addresses": [opts.bind],
        "x_forwarded": opts.public_baseurl is not None,
        "metrics_port": opts.metrics_port,
        "database": opts.database,
        "federation_enabled": bool(opts.federation_allow),
        "federation_allow": opts.federation_allow or [],
        "tls_port": opts.tls_port,
        "federation_ca": [str(p.resolve()) for p in opts.federation_ca],
        "federation_networks": [
            str(ipaddress.ip_network(n, strict=False)) for n in opts.federation_networks
        ],
        # Workers need Redis (Synapse's replication): 127.0.0.1 unless given.
        "redis_host": deployment.redis_host if deployment else opts.redis_host,
        "redis_port": opts.redis_port,
        "workers": template_settings(deployment),
        "jobs_instance": deployment.jobs_instance if deployment else None,
        "process_name": None,
        "keywords": opts.keywords,
        "mail": None
        if not opts.smtp_host
        else {
            "smtp_host": opts.smtp_host,
            "smtp_port": opts.smtp_port,
            "from_address": opts.mail_from,
            "client_download_url": opts.client_download_url,
        },
        "log_level": opts.log_level.upper(),
        "access_log_level": "INFO" if opts.log_level.upper() == "DEBUG" else "WARNING",
        "log_file": opts.log_file,
    }


def run_init(opts: InitOptions) -> list[str]:
    """Initialise opts.data_dir; return a list of what was created (for the report)."""
    validate(opts)
    data_dir = opts.data_dir
    if data_dir.exists() and not data_dir.is_dir():
        raise LauncherError(f"--data-dir {data_dir} exists and is not a directory")
    config_path = data_dir / "homeserver.yaml"
    previous = _existing_server_name(config_path) if config_path.exists() else None
    if previous is not None and previous != opts.server_name:
        raise LauncherError(
            f"{data_dir} belongs to server {previous!r}; the server name cannot change "
            f"(asked for {opts.server_name!r}). Use another --data-dir."
        )
    context = template_context(opts)
    # Render before touching the disk so a bad option leaves nothing behind.
    rendered = {
        "homeserver.yaml": render_yaml("homeserver.yaml.j2", context),
        "log.config": render_yaml("log.config.j2", context),
    }
    deployment = deployment_of(opts)
    rendered[NGINX_FILE] = render_nginx(
        deployment, context, opts.port, opts.nginx_listen, context["admin_networks"]
    )
    # The user running init owns the keys (mode 0600): the units run as that user.
    owner = pwd.getpwuid(os.getuid()).pw_name
    rendered.update(render_units(deployment, Path(context["data_dir"]), owner))
    subdirs = ["", "keys", "media_store", "conf.d", "nginx", UNITS_DIR]
    if deployment is not None:
        rendered.update(render_worker_files(deployment, context))
        subdirs += ["workers"]
    created: list[str] = []
    for sub in subdirs:
        path = data_dir / sub
        if not path.exists():
            path.mkdir(parents=True, mode=0o700)
            created.append(f"{sub or data_dir}/")
    created += _ensure_secrets(data_dir / "keys")
    for name, text in rendered.items():
        path = data_dir / name
        if path.exists() and not opts.force_config:
            continue
        path.write_text(text, encoding="utf-8")
        created.append(name)
    return created
