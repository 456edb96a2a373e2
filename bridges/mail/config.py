# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of the mail bridge (a YAML file of its own, `--config`).

Keys:
  server_name (string, required): the homeserver's server name.
  homeserver_url (string, required): where the bridge reaches the homeserver's client
      API, e.g. http://127.0.0.1:8008.
  bridge_url (string, required): where the homeserver reaches the bridge (the
      registration's `url`); `run` listens on its host and port, which also serve the
      officers' mail API (/_jwwx/mail/v1/, put behind the same reverse proxy as the
      homeserver).
  registration_id (string, default "jwwx_mail"): the application service's id.
  as_token_file, hs_token_file (paths, required): the application service's two secrets;
      `python -m bridges.mail registration` creates them (mode 0600) when missing.
  sender_localpart (string, default "jwwx_mail"): the bot that brings reminders.
  display_name (string, default "邮件助手"): its name in chats.
  seal_key_file (path, required): 32 hex digits, the SM4 key that seals the officers'
      mail passwords at rest (`python -m bridges.mail registration` creates it, 0600,
      when missing); losing it means officers bind their mailboxes again.
  state_database (path, required): the bridge's own SQLite file: per officer the
      mailbox login, the sealed password, the reminder chat and the last UID reminded
      of. Never a mail, header or body.
  imap (mapping, required): the bureau's IMAP server:
      host (string, required), port (int, default 993 with ssl, else 143),
      security ("ssl" | "starttls" | "none", default "ssl"; "none" only for a server
          on the same host or a trusted segment),
      timeout_seconds (number, default 20), mailbox (string, default "INBOX").
  smtp (mapping, required): the bureau's SMTP submission server for quick replies:
      host (string, required), port (int, default 465 with ssl, 587 with starttls,
          else 25), security (as imap's, default "starttls"),
      timeout_seconds (number, default 20).
  address_domain (string, optional): an officer's address is login@address_domain
      when his login has no "@"; without it the login must be an address.
  poll_interval_seconds (number 5..3600, default 60): how often each bound mailbox is
      checked for new mail — with `idle`, only the mailboxes without a live IDLE
      session (a server without IDLE, more than idle_max_sessions, a session being
      opened again); each round also starts and ends sessions to match the bindings.
  idle (bool, default true): keep an IMAP IDLE session (RFC 2177) open per bound
      mailbox, so that a new mail is reminded of the moment the server has it instead
      of at the next poll (bridges/mail/idle.py). A server that does not offer IDLE
      is polled. Each session is a connection to the IMAP server held open: the
      bridge's open-file limit (`ulimit -n`) must be above idle_max_sessions.
  idle_renew_seconds (number 60..1740, default 1500): an IDLE is ended and sent again
      this often (servers end one after 30 minutes; a connection that died silently
      is found then).
  idle_max_sessions (int 1..200000, default 10000): at most this many IDLE sessions;
      mailboxes beyond are polled.
  check_concurrency (int 1..32, default 4): how many mailboxes are checked at once (each
      check is one IMAP session in a thread of its own).
  reminder (string, default "subject"): what a new-mail reminder shows: "subject"
      (sender and subject) or "count" (only how many new mails: nothing of a mail is
      written into the chat). The default: an officer may choose his own (chat
      command 提醒 主题|数量, PUT /_jwwx/mail/v1/account/reminder).
  max_body_chars (int 1000..1000000, default 200000): a longer text part is cut when
      read.
  max_attachment_bytes (int 1024..104857600, default 26214400): a larger attachment
      is refused (413 CN_JWWX_MAIL_ATTACHMENT_TOO_LARGE) rather than handed on.
Relative paths are relative to the config file's directory.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridges.common.config import load_yaml_config, localpart_key, path_key, url_key
from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError

MODULE = "bridges.mail"
SECURITY = ("ssl", "starttls", "none")
REMINDERS = ("subject", "count")


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    security: str
    timeout_seconds: float = 20.0
    mailbox: str = "INBOX"


@dataclass(frozen=True)
class MailConfig:
    server_name: str
    homeserver_url: str
    bridge_url: str
    as_token_file: Path
    hs_token_file: Path
    seal_key_file: Path
    state_database: Path
    imap: ServerConfig
    smtp: ServerConfig
    registration_id: str = "jwwx_mail"
    sender_localpart: str = "jwwx_mail"
    display_name: str = "邮件助手"
    address_domain: str | None = None
    poll_interval_seconds: float = 60.0
    check_concurrency: int = 4
    reminder: str = "subject"
    max_body_chars: int = 200000
    max_attachment_bytes: int = 25 * 1024 * 1024
    idle: bool = True
    idle_renew_seconds: float = 1500.0
    idle_max_sessions: int = 10000

    @property
    def bot_user_id(self) -> str:
        return f"@{self.sender_localpart}:{self.server_name}"


def _server(raw: Any, key: str, default_security: str) -> ServerConfig:
    where = f"{MODULE}.{key}"
    if raw is None:
        raise ConfigError(f"{where}: required (the bureau's {key.upper()} server)")
    reader = ConfigReader(raw, where)
    security = reader.string("security", default_security)
    if security not in SECURITY:
        raise ConfigError(
            f"{where}.security: must be one of {', '.join(SECURITY)}, got {security!r}"
        )
    ports = {
        "imap": {"ssl": 993, "starttls": 143, "none": 143},
        "smtp": {"ssl": 465, "starttls": 587, "none": 25},
    }[key]
    config = ServerConfig(
        host=reader.string("host", required=True),
        port=reader.integer("port", ports[security], minimum=1, maximum=65535),
        security=security,
        timeout_seconds=reader.number("timeout_seconds", 20.0, minimum=1.0),
        mailbox=reader.string("mailbox", "INBOX") if key == "imap" else "INBOX",
    )
    reader.finish()
    return config


def parse_config(raw: Any, base: Path) -> MailConfig:
    reader = ConfigReader(raw, MODULE)
    imap_raw = reader.mapping_or_none("imap")
    smtp_raw = reader.mapping_or_none("smtp")
    reminder = reader.string("reminder", "subject")
    if reminder not in REMINDERS:
        raise ConfigError(
            f"{MODULE}.reminder: must be one of {', '.join(REMINDERS)}, "
            f"got {reminder!r}"
        )
    domain = reader.optional_string("address_domain")
    if domain is not None and ("@" in domain or "." not in domain):
        raise ConfigError(f"{MODULE}.address_domain: a domain like police.local")
    config = MailConfig(
        server_name=reader.string("server_name", required=True),
        homeserver_url=url_key(reader, "homeserver_url", MODULE),
        bridge_url=url_key(reader, "bridge_url", MODULE),
        as_token_file=path_key(reader, "as_token_file", base),
        hs_token_file=path_key(reader, "hs_token_file", base),
        seal_key_file=path_key(reader, "seal_key_file", base),
        state_database=path_key(reader, "state_database", base),
        imap=_server(imap_raw, "imap", "ssl"),
        smtp=_server(smtp_raw, "smtp", "starttls"),
        registration_id=localpart_key(reader, "registration_id", "jwwx_mail", MODULE),
        sender_localpart=localpart_key(reader, "sender_localpart", "jwwx_mail", MODULE),
        display_name=reader.string("display_name", "邮件助手"),
        address_domain=domain,
        poll_interval_seconds=reader.number("poll_interval_seconds", 60.0, minimum=5.0),
        check_concurrency=reader.integer("check_concurrency", 4, minimum=1, maximum=32),
        reminder=reminder,
        max_body_chars=reader.integer(
            "max_body_chars", 200000, minimum=1000, maximum=1000000
        ),
        max_attachment_bytes=reader.integer(
            "max_attachment_bytes", 25 * 1024 * 1024, minimum=1024, maximum=100 << 20
        ),
        idle=reader.boolean("idle", True),
        idle_renew_seconds=reader.number("idle_renew_seconds", 1500.0, minimum=60.0),
        idle_max_sessions=reader.integer(
            "idle_max_sessions", 10000, minimum=1, maximum=200000
        ),
    )
    reader.finish()
    if config.poll_interval_seconds > 3600:
        raise ConfigError(f"{MODULE}.poll_interval_seconds: at most 3600")
    if config.idle_renew_seconds > 1740:
        raise ConfigError(
            f"{MODULE}.idle_renew_seconds: at most 1740 (29 minutes, RFC 2177)"
        )
    return config


def load_config(path: Path) -> MailConfig:
    return load_yaml_config(path, MODULE, parse_config)
