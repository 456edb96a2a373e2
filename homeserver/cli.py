# SPDX-License-Identifier: AGPL-3.0-or-later
"""Command line of the launcher: init, run, create-admin, check, load-sample,
check-config, audit-verify, backup, restore, report."""

import argparse
import sys
from pathlib import Path

from homeserver.admin import create_admin
from homeserver.bridges import prepare as prepare_bridges
from homeserver.config_file import check_module_configs, load_server_config
from homeserver.database import postgres_from_dsn, sqlite_database
from homeserver.errors import LauncherError
from homeserver.health import wait_healthy
from homeserver.init import InitOptions, run_init
from homeserver.runner import run_foreground
from homeserver.supervisor import has_workers, run_supervised


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One clear line and exit code 2, like every other launcher error.
        self.exit(2, f"homeserver: {message} (see --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m homeserver", description="警务微信 homeserver launcher"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def data_dir_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--data-dir", type=Path, default=Path("data"), help="default: ./data"
        )

    init = sub.add_parser("init", help="create the data directory, keys and config")
    data_dir_arg(init)
    init.add_argument("--server-name", default="localhost")
    init.add_argument("--bind", default="127.0.0.1", help="listener address")
    init.add_argument("--port", type=int, default=8008)
    init.add_argument("--public-baseurl", help="URL clients reach (behind nginx)")
    db = init.add_mutually_exclusive_group()
    db.add_argument("--database-url", help="postgresql://user[:pw]@host[:port]/db")
    db.add_argument("--pg-db", help="PostgreSQL database (with --pg-host/--pg-user)")
    init.add_argument("--pg-host", default="127.0.0.1")
    init.add_argument("--pg-port", type=int, default=5432)
    init.add_argument("--pg-user", default="postgres")
    init.add_argument("--pg-password", default="")
    init.add_argument(
        "--federation-allow",
        action="append",
        metavar="DOMAIN",
        help="allow federation with DOMAIN (repeatable); no domain: federation off",
    )
    init.add_argument(
        "--metrics-port", type=int, help="expose Prometheus metrics on 127.0.0.1"
    )
    init.add_argument("--redis-host", help="enable Redis (needed by workers)")
    init.add_argument("--redis-port", type=int, default=6379)
    init.add_argument(
        "--keyword", action="append", default=[], help="a filtered keyword"
    )
    init.add_argument(
        "--smtp-host", help="send initial passwords by e-mail through this SMTP server"
    )
    init.add_argument("--smtp-port", type=int, default=25)
    init.add_argument("--mail-from", default="noreply@localhost", help="sender address")
    init.add_argument(
        "--client-download-url",
        default="https://im.police.example/download",
        help="the client download link in account e-mails",
    )
    init.add_argument(
        "--workers",
        metavar="PROFILE",
        help="Synapse workers: small or bureau (needs PostgreSQL and Redis; "
        "docs/deployment.md)",
    )
    init.add_argument(
        "--worker-base-port",
        type=int,
        help="first of the workers' loopback ports (default: --port + 100)",
    )
    init.add_argument(
        "--nginx-listen",
        default="80",
        help="where the rendered nginx/jwwx.conf listens (PORT or ADDRESS:PORT)",
    )
    init.add_argument(
        "--admin-network",
        action="append",
        default=[],
        metavar="CIDR",
        help="where admins work from (repeatable): admin_api's allowed_networks and "
        "the only addresses nginx lets reach Synapse's /_synapse/admin/ (besides "
        "loopback); none: the admin API from anywhere, /_synapse/admin/ from loopback",
    )
    init.add_argument(
        "--tls-cert",
        type=Path,
        help="PEM certificate chain: nginx serves TLS with it (docs/security.md)",
    )
    init.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    init.add_argument(
        "--federation-listen",
        default="8448",
        help="with TLS and federation: nginx's federation port (PORT or ADDRESS:PORT)",
    )
    init.add_argument(
        "--tls-port",
        type=int,
        help="Synapse itself serves HTTPS here with --tls-cert/--tls-key (client API "
        "and, with federation, the federation API), for a bureau without nginx",
    )
    init.add_argument(
        "--federation-ca",
        action="append",
        default=[],
        type=Path,
        metavar="PEM",
        help="trust only these CAs for the peers' federation certificates "
        "(repeatable; default: the system's trust store)",
    )
    init.add_argument(
        "--federation-network",
        action="append",
        default=[],
        metavar="CIDR",
        help="private or loopback networks the peers' servers are in (repeatable): "
        "Synapse refuses to contact such addresses otherwise",
    )
    init.add_argument("--log-level", default="INFO")
    init.add_argument("--log-file", help="also log to this file, rotated daily")
    init.add_argument(
        "--force-config", action="store_true", help="re-render the config files"
    )

    run = sub.add_parser(
        "run",
        help="start Synapse with all modules in the foreground (with its workers, "
        "supervised, after init --workers)",
    )
    data_dir_arg(run)
    run.add_argument(
        "--init", action="store_true", help="run init first if there is no config"
    )
    run.add_argument(
        "--bootstrap-admin",
        action="store_true",
        help="once healthy, create the admin account if it has no password file yet",
    )

    admin = sub.add_parser(
        "create-admin", help="create or reset the super admin account"
    )
    data_dir_arg(admin)
    admin.add_argument("--user", default="admin", help="localpart, default: admin")

    check = sub.add_parser(
        "check", help="exit 0 only if the server and all modules are healthy"
    )
    data_dir_arg(check)
    check.add_argument(
        "--wait", type=float, default=0.0, help="keep trying for this many seconds"
    )

    sample = sub.add_parser("load-sample", help="import a small generated directory")
    data_dir_arg(sample)
    sample.add_argument("--departments", type=int, default=40)
    sample.add_argument("--members", type=int, default=300)
    sample.add_argument("--seed", type=int, default=1)

    validate = sub.add_parser(
        "check-config", help="validate the config files without starting"
    )
    data_dir_arg(validate)

    backup = sub.add_parser(
        "backup",
        help="write a backup file: database, keys, config, encrypted media "
        "(docs/backup.md)",
    )
    data_dir_arg(backup)
    backup.add_argument(
        "--out", type=Path, default=Path("backups"), help="folder, default ./backups"
    )
    backup.add_argument(
        "--verify",
        type=Path,
        metavar="FILE",
        help="only check FILE against its manifest (exit 0 intact, 2 with the reason)",
    )

    restore = sub.add_parser(
        "restore", help="restore a backup file into a new data directory"
    )
    restore.add_argument("backup_file", type=Path, metavar="FILE")
    restore.add_argument("--data-dir", type=Path, required=True)
    restore.add_argument(
        "--database-url",
        help="restore a PostgreSQL backup into this (empty) database instead of "
        "the one its config names",
    )

    report = sub.add_parser(
        "report", help="the inspection report as HTML and PDF (docs/reports.md)"
    )
    data_dir_arg(report)
    kind = report.add_mutually_exclusive_group(required=True)
    kind.add_argument("--weekly", action="store_true", help="the last 7 days")
    kind.add_argument("--quarterly", action="store_true", help="the last 91 days")
    report.add_argument(
        "--prometheus",
        default="http://127.0.0.1:9090",
        help="Prometheus's base URL (default http://127.0.0.1:9090)",
    )
    report.add_argument(
        "--out", type=Path, default=Path("reports"), help="folder, default ./reports"
    )

    audit = sub.add_parser(
        "audit-verify",
        help="verify the audit hash chain offline (exit 0 intact, 1 broken, 2 error)",
    )
    audit.add_argument("--data-dir", type=Path, required=True)
    audit.add_argument("--from-seq", type=int, default=1)

    docs = sub.add_parser(
        "docs-verify",
        help="verify documents' revision chains offline (exit 0 intact, 1 broken, 2 error)",
    )
    docs.add_argument("--data-dir", type=Path, required=True)
    docs.add_argument("doc_ids", nargs="*", help="default: every document")
    return parser


def _init_options(args: argparse.Namespace) -> InitOptions:
    if args.database_url:
        database = postgres_from_dsn(args.database_url)
    elif args.pg_db:
        database = {
            "engine": "psycopg2",
            "user": args.pg_user,
            "password": args.pg_password,
            "host": args.pg_host,
            "port": args.pg_port,
            "dbname": args.pg_db,
        }
    else:
        database = sqlite_database()
    return InitOptions(
        data_dir=args.data_dir,
        server_name=args.server_name,
        bind=args.bind,
        port=args.port,
        public_baseurl=args.public_baseurl,
        database=database,
        federation_allow=args.federation_allow,
        metrics_port=args.metrics_port,
        redis_host=args.redis_host,
        redis_port=args.redis_port,
        keywords=args.keyword,
        smtp_host=args.smtp_host,
        smtp_port=args.smtp_port,
        mail_from=args.mail_from,
        client_download_url=args.client_download_url,
        log_level=args.log_level,
        log_file=args.log_file,
        force_config=args.force_config,
        workers=args.workers,
        worker_base_port=args.worker_base_port,
        nginx_listen=args.nginx_listen,
        admin_networks=args.admin_network,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        federation_listen=args.federation_listen,
        tls_port=args.tls_port,
        federation_ca=args.federation_ca,
        federation_networks=args.federation_network,
    )


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "init":
        created = run_init(_init_options(args))
        done = ", ".join(created) if created else "nothing (already initialised)"
        print(f"homeserver: initialised {args.data_dir}: created {done}")
        return 0
    if args.command == "run":
        if args.init and not (args.data_dir / "homeserver.yaml").exists():
            run_init(InitOptions(data_dir=args.data_dir))
        config = load_server_config(args.data_dir)

        def announce() -> None:
            base = config.client_base_url
            print(
                f"\nhomeserver: 警务微信 is running at {base} (server name {config.server_name})"
            )
            if args.bootstrap_admin:
                try:
                    print(
                        "homeserver: "
                        + create_admin(config, "admin", only_if_missing=True)
                    )
                except LauncherError as e:
                    print(f"homeserver: {e}", file=sys.stderr)
            print(
                f"homeserver: log in with any Matrix client (e.g. Element), homeserver URL {base}\n"
            )

        bridges = prepare_bridges(config.raw, config.data_dir)
        if has_workers(config) or bridges:
            return run_supervised(config, on_healthy=announce, bridges=bridges)
        return run_foreground(config, on_healthy=announce)
    if args.command == "create-admin":
        config = load_server_config(args.data_dir)
        print("homeserver: " + create_admin(config, args.user, only_if_missing=False))
        return 0
    if args.command == "check":
        config = load_server_config(args.data_dir)
        healthy, why = wait_healthy(config, args.wait)
        print(f"homeserver: {why}", file=sys.stdout if healthy else sys.stderr)
        return 0 if healthy else 1
    if args.command == "load-sample":
        from homeserver.sample import load_sample

        if not 1 <= args.departments <= 50000 or not 0 <= args.members <= 100000:
            raise LauncherError(
                "--departments must be 1..50000 and --members 0..100000"
            )
        config = load_server_config(args.data_dir)
        print(
            "homeserver: "
            + load_sample(config, args.departments, args.members, args.seed)
        )
        return 0
    if args.command == "audit-verify":
        from homeserver.audit_verify import audit_verify

        return audit_verify(args.data_dir, args.from_seq)
    if args.command == "docs-verify":
        from homeserver.docs_verify import docs_verify

        return docs_verify(args.data_dir, args.doc_ids)
    if args.command == "backup":
        import json

        from homeserver.backup import backup, record_history, verify_backup

        if args.verify is not None:
            checked = verify_backup(args.verify)
            if (args.data_dir / "homeserver.yaml").exists():
                record_history(
                    args.data_dir, {"action": "verify", "ts": _now_ms(), **checked}
                )
            print(json.dumps(checked, ensure_ascii=False, indent=1))
            return 0
        print(json.dumps(backup(args.data_dir, args.out), ensure_ascii=False, indent=1))
        return 0
    if args.command == "restore":
        import json

        from homeserver.restore import restore

        target = postgres_from_dsn(args.database_url) if args.database_url else None
        summary = restore(args.backup_file, args.data_dir, target)
        print(json.dumps(summary, ensure_ascii=False, indent=1))
        return 0
    if args.command == "report":
        import json

        from homeserver.report import make_report

        made = make_report(
            args.data_dir,
            "weekly" if args.weekly else "quarterly",
            args.prometheus,
            args.out,
        )
        print(json.dumps(made, ensure_ascii=False, indent=1))
        return 0
    if args.command == "check-config":
        config = load_server_config(args.data_dir)
        check_module_configs(config)
        print(f"homeserver: {args.data_dir}/homeserver.yaml is valid")
        return 0
    raise AssertionError(args.command)


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except LauncherError as e:
        print(f"homeserver: {e}", file=sys.stderr)
        return 2
