# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.directory (homeserver.yaml → modules → modules.directory.DirectoryModule).

Keys:
  secret_path (string, required): a file with a long random secret (`init` writes
      keys/directory_secret). Keys derived from it hash initial passwords (HMAC-SM3) and
      seal queued e-mails (SM4). Changing it invalidates unused initial passwords.
  initial_password_length (int 10..64, default 12): length of generated initial passwords.
  default_page_size (int, default 50) and max_page_size (int, default 500): listing limits.
  search_limit_max (int, default 100): most results one search returns.
  serve_user_directory_search (bool, default true): Synapse's own user search
      (POST /_matrix/client/v3/user_directory/search, Element's "start chat" and invite
      dialogs) answers from the directory: Chinese name substrings, full pinyin and
      initials, with the directory's visibility; Synapse's own search answers when the
      directory finds nobody (bots, remote users). false: Synapse's search only (it
      cannot find a Chinese substring), still filtered by visibility.
  provisioning_batch_size (int, default 100): accounts created per round of the job.
  provisioning_interval_seconds (number, default 1): pause between rounds; while rounds
      find nothing it doubles, up to 5 s (a member written on this process starts a
      round at once).
  provisioning_pause_seconds (number, default 0): pause after each account the job
      creates, to leave the server to interactive work (SQLite's one writer); officers
      can log in before their account is created (provisioning.py), so slowing the job
      delays only who is reachable before their first login.
  mail (mapping, optional): SMTP settings of the initial-password e-mail; keys in
      modules/directory/mailer.py (MailSettings). Absent: no e-mail is sent; admins hand
      out initial passwords from the admin API.
  mail_max_attempts (int, default 6) and mail_retry_seconds (number, default 30): a
      failed e-mail is retried with doubling delays, then marked failed for admins.
  visible_fields (list, default all): profile fields ordinary officers may see until an
      admin changes the setting; choose from FIELD_CHOICES.
  delegated_readers (list of strings, default none): ids of application services (their
      registration's `id`, e.g. "jwwx_assistant") that may read the directory on an
      officer's behalf: a GET of the client API with `?on_behalf_of=@officer:server`
      answers with that officer's visibility, as if he had asked himself. Any other
      caller giving on_behalf_of is refused (403 M_FORBIDDEN).
  jobs_instance (string, optional): the worker_name of the process that runs this
      module's background jobs, "main" for the main process (modules/common/jobs.py).
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modules.common.config import ConfigReader
from modules.common.jobs import read_jobs_instance
from modules.common.synapse.errors import ConfigError
from modules.directory.mailer import MailSettings

MODULE = "modules.directory"
FIELD_CHOICES = (
    "gender",
    "mobile",
    "telephone",
    "email",
    "position",
    "avatar",
    "departments",
)


@dataclass(frozen=True)
class DirectoryConfig:
    secret_path: str
    initial_password_length: int = 12
    default_page_size: int = 50
    max_page_size: int = 500
    search_limit_max: int = 100
    serve_user_directory_search: bool = True
    provisioning_batch_size: int = 100
    provisioning_interval_seconds: float = 1.0
    provisioning_pause_seconds: float = 0.0
    mail: MailSettings | None = None
    mail_max_attempts: int = 6
    mail_retry_seconds: float = 30.0
    visible_fields: tuple[str, ...] = field(default=FIELD_CHOICES)
    delegated_readers: tuple[str, ...] = ()
    jobs_instance: str | None = None  # modules/common/jobs.py

    @staticmethod
    def parse(raw: Any) -> "DirectoryConfig":
        reader = ConfigReader(raw, MODULE)
        secret_path = reader.string("secret_path", required=True)
        mail_raw = reader.mapping_or_none("mail")
        visible = reader.string_list("visible_fields", FIELD_CHOICES)
        for index, name in enumerate(visible):
            if name not in FIELD_CHOICES:
                raise ConfigError(
                    f"{MODULE}.visible_fields[{index}]: {name!r} is not one of {', '.join(FIELD_CHOICES)}"
                )
        config = DirectoryConfig(
            secret_path=secret_path,
            initial_password_length=reader.integer(
                "initial_password_length", 12, minimum=10, maximum=64
            ),
            default_page_size=reader.integer(
                "default_page_size", 50, minimum=1, maximum=5000
            ),
            max_page_size=reader.integer("max_page_size", 500, minimum=1, maximum=5000),
            search_limit_max=reader.integer(
                "search_limit_max", 100, minimum=1, maximum=1000
            ),
            serve_user_directory_search=reader.boolean(
                "serve_user_directory_search", True
            ),
            provisioning_batch_size=reader.integer(
                "provisioning_batch_size", 100, minimum=1, maximum=10000
            ),
            provisioning_interval_seconds=reader.number(
                "provisioning_interval_seconds", 1.0, minimum=0.05
            ),
            provisioning_pause_seconds=reader.number(
                "provisioning_pause_seconds", 0.0, minimum=0.0
            ),
            mail=None
            if mail_raw is None
            else MailSettings.parse(mail_raw, f"{MODULE}.mail"),
            mail_max_attempts=reader.integer(
                "mail_max_attempts", 6, minimum=1, maximum=100
            ),
            mail_retry_seconds=reader.number("mail_retry_seconds", 30.0, minimum=0.1),
            visible_fields=tuple(visible),
            delegated_readers=tuple(reader.string_list("delegated_readers")),
            jobs_instance=read_jobs_instance(reader),
        )
        reader.finish()
        if config.default_page_size > config.max_page_size:
            raise ConfigError(
                f"{MODULE}.default_page_size must not exceed max_page_size"
            )
        if not Path(secret_path).is_file():
            raise ConfigError(
                f"{MODULE}.secret_path: {secret_path} is not a readable file"
            )
        return config

    def secret(self) -> bytes:
        return Path(self.secret_path).read_bytes().strip()
