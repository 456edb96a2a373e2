# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of the app push bridge (a YAML file of its own, `--config`).

Keys:
  server_name (string, required): the homeserver's server name (user ids are
      @localpart:server_name).
  homeserver_url (string, required): where the bridge reaches the homeserver's client
      API, e.g. http://127.0.0.1:8008.
  bridge_url (string, required): where the homeserver reaches the bridge (the
      registration's `url`), e.g. http://127.0.0.1:9010; `run` listens on its host and
      port (TLS in front of it is nginx's, docs/app_push.md).
  corpid (string, required): the open API's corp id (modules.openapi `corpid`); each
      source app delivers through its own open-API app (see agentid below).
  registration_id (string, default "jwwx_app_push"): the application service's id.
  as_token_file, hs_token_file (paths, required): the application service's two secrets;
      `python -m bridges.app_push registration` creates them (mode 0600) when missing.
  sender_localpart (string, default "jwwx_app_push"): the bridge's own bot.
  user_prefix (string, default "jwwx_push_"): each source app speaks as
      @<prefix><app_id>:server_name (the registration claims these ids exclusively).
  max_body_bytes (int 1024..1048576, default 65536): larger pushes are refused (45002).
  clock_skew_seconds (int 30..3600, default 300): a push's timestamp may differ from the
      bridge's clock by this much; its nonce is remembered as long.
  state_file (path, default "app_push_state.jsonl"): the journal of the nonces and
      msgid answers the bridge must remember across a restart (bridges/app_push/memory.py);
      created when missing (mode 0600).
  msgid_window_seconds (int 60..604800, default 86400): a push repeating the msgid of a
      delivered push of the same app within this time is answered again, not delivered.
  apps (list, required, at least one): the source apps, each a mapping:
      app_id (string [a-z0-9_-]{1,32}, required): the id the app sends in X-Jwwx-App.
      name (string, required): shown to officers as the conversation's name.
      secret_file (path, required): the app's signing secret (at least 32 bytes; the
          file's content without surrounding whitespace).
      signature (string "hmac-sm3" | "hmac-sha256", default "hmac-sm3"): the one
          signature method this app may use (no downgrade).
      allow_all (bool, default false): whether the app may push to touser "@all".
      agentid (int, required): the open-API app (自建应用) this source app delivers
          through: its visible range bounds who can be reached, its conversation is
          where officers read the pushes, its statistics count them.
      corpsecret_file (path, required): that open-API app's secret (gettoken).
      workbench (mapping, optional): the app's entry on the officers' workbench (a
          `zone2_app` entry, always behind the data-security prompt): url (string,
          required: the APP's launch link, e.g. jwapp://open?page=…, or http(s)://…),
          category (≤ 16, default 其他), description (≤ 120), icon (an mxc:// image of
          this homeserver). Checked as the workbench checks an admin's entry. Each
          time the bridge starts it hands the workbench the apps that have this
          mapping (name: the app's `name`): new ones appear, the others' entries
          (an app removed, or its mapping removed) leave; admins keep the entries'
          range, order, enabled and prompt (docs/workbench.md).
Relative paths are relative to the config file's directory.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridges.common.config import load_yaml_config, localpart_key, path_key, url_key
from modules.common.config import ConfigReader
from modules.common.inputs import InputError
from modules.common.synapse.errors import ConfigError
from modules.workbench.entries import bridged_entries

MODULE = "bridges.app_push"
SIGNATURES = ("hmac-sm3", "hmac-sha256")
APP_ID = re.compile(r"^[a-z0-9_-]{1,32}$")
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class PushApp:
    app_id: str
    name: str
    secret: bytes
    signature: str = "hmac-sm3"
    allow_all: bool = False
    agentid: int = 0
    corpsecret: str = ""
    # The workbench entry's fields (url, category?, description?, icon?), or None.
    workbench: dict[str, str] | None = None


@dataclass(frozen=True)
class AppPushConfig:
    server_name: str
    homeserver_url: str
    bridge_url: str
    corpid: str
    as_token_file: Path
    hs_token_file: Path
    apps: tuple[PushApp, ...]
    registration_id: str = "jwwx_app_push"
    sender_localpart: str = "jwwx_app_push"
    user_prefix: str = "jwwx_push_"
    max_body_bytes: int = 65536
    clock_skew_seconds: int = 300
    state_file: Path | None = None
    msgid_window_seconds: int = 86400

    def app(self, app_id: str) -> PushApp | None:
        return next((a for a in self.apps if a.app_id == app_id), None)

    def app_user_id(self, app_id: str) -> str:
        return f"@{self.user_prefix}{app_id}:{self.server_name}"

    @property
    def bot_user_id(self) -> str:
        return f"@{self.sender_localpart}:{self.server_name}"

    def workbench_apps(self) -> list[dict[str, str]]:
        """The body's apps of PUT /_jwwx/client/v1/workbench/bridged."""
        return [
            {"app_id": a.app_id, "name": a.name, **a.workbench}
            for a in self.apps
            if a.workbench is not None
        ]


def _path(
    reader: ConfigReader, key: str, base: Path, default: str | None = None
) -> Path:
    if default is None:
        return path_key(reader, key, base)
    path = Path(reader.string(key, default))
    return path if path.is_absolute() else base / path


def _localpart(reader: ConfigReader, key: str, default: str) -> str:
    return localpart_key(reader, key, default, MODULE)


def _url(reader: ConfigReader, key: str) -> str:
    return url_key(reader, key, MODULE)


def _app(raw: Any, index: int, base: Path) -> PushApp:
    reader = ConfigReader(raw, f"{MODULE}.apps[{index}]")
    app_id = reader.string("app_id", required=True)
    if not APP_ID.match(app_id):
        raise ConfigError(
            f"{MODULE}.apps[{index}].app_id: must match [a-z0-9_-]{{1,32}}"
        )
    name = reader.string("name", required=True)
    secret_file = _path(reader, "secret_file", base)
    try:
        secret = secret_file.read_bytes().strip()
    except OSError as e:
        raise ConfigError(
            f"{MODULE}.apps[{index}].secret_file: cannot read {secret_file}: {e}"
        ) from e
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{MODULE}.apps[{index}].secret_file: the secret must have at least "
            f"{MIN_SECRET_BYTES} bytes"
        )
    signature = reader.choice("signature", "hmac-sm3", SIGNATURES)
    allow_all = reader.boolean("allow_all", False)
    agentid = reader.integer("agentid", 0, minimum=1, maximum=10**12 - 1)
    corpsecret_file = _path(reader, "corpsecret_file", base)
    try:
        corpsecret = corpsecret_file.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ConfigError(
            f"{MODULE}.apps[{index}].corpsecret_file: cannot read {corpsecret_file}: {e}"
        ) from e
    workbench = reader.mapping_or_none("workbench")
    reader.finish()
    entry = None
    if workbench is not None:
        entry = {str(k): v for k, v in workbench.items()}
        try:
            bridged_entries(
                {"apps": [{"app_id": app_id, "name": name, **entry}]}, "", 0, 1
            )
        except InputError as e:
            raise ConfigError(f"{MODULE}.apps[{index}].workbench: {e.msg}") from e
    return PushApp(
        app_id, name, secret, signature, allow_all, agentid, corpsecret, entry
    )


def parse_config(raw: Any, base: Path) -> AppPushConfig:
    reader = ConfigReader(raw, MODULE)
    apps = tuple(
        _app(raw_app, i, base) for i, raw_app in enumerate(reader.mapping_list("apps"))
    )
    ids = [a.app_id for a in apps]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{MODULE}.apps: app_id values must be unique")
    config = AppPushConfig(
        server_name=reader.string("server_name", required=True),
        homeserver_url=_url(reader, "homeserver_url"),
        bridge_url=_url(reader, "bridge_url"),
        corpid=reader.string("corpid", required=True),
        as_token_file=_path(reader, "as_token_file", base),
        hs_token_file=_path(reader, "hs_token_file", base),
        apps=apps,
        registration_id=_localpart(reader, "registration_id", "jwwx_app_push"),
        sender_localpart=_localpart(reader, "sender_localpart", "jwwx_app_push"),
        user_prefix=_localpart(reader, "user_prefix", "jwwx_push_"),
        max_body_bytes=reader.integer(
            "max_body_bytes", 65536, minimum=1024, maximum=1048576
        ),
        clock_skew_seconds=reader.integer(
            "clock_skew_seconds", 300, minimum=30, maximum=3600
        ),
        state_file=_path(reader, "state_file", base, "app_push_state.jsonl"),
        msgid_window_seconds=reader.integer(
            "msgid_window_seconds", 86400, minimum=60, maximum=7 * 86400
        ),
    )
    reader.finish()
    if config.sender_localpart.startswith(config.user_prefix):
        raise ConfigError(f"{MODULE}.sender_localpart: must not start with user_prefix")
    return config


def load_config(path: Path) -> AppPushConfig:
    return load_yaml_config(path, MODULE, parse_config)
