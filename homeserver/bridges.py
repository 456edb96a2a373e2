# SPDX-License-Identifier: AGPL-3.0-or-later
"""Bridges `run` starts beside Synapse when homeserver.yaml (or conf.d/) names them:

  jwwx_bridges:
    app_push:
      config: /etc/jwwx/app_push.yaml   # the bridge's own config (docs/app_push.md);
                                        # a relative path is relative to the data dir
    assistant:
      config: /etc/jwwx/assistant.yaml  # the AI assistant (bridges/assistant)
    mail:
      config: /etc/jwwx/mail.yaml       # the mailbox bridge (bridges/mail)
    ministry_im:
      config: /etc/jwwx/ministry_im.yaml  # the ministry IM (docs/ministry_im.md)

(Synapse ignores the key.) For each bridge named: its config is checked first (a bad
one stops `run` with one line, nothing starts); its application-service registration
is generated from it (the tokens are created once and kept) into
DATA/run/bridges/<name>.yaml; DATA/run/bridges.yaml lists those registrations in
`app_service_config_files`, after the ones the config already lists, and every Synapse
process reads it after conf.d/; the bridge then runs as a supervised process once
Synapse is up (started again when it exits, probed on GET <bridge_url>/health).
Without the key DATA/run/bridges.yaml is removed and nothing else changes.
"""

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bridges.app_push import config as app_push_config
from bridges.app_push import registration as app_push_registration
from bridges.assistant import config as assistant_config
from bridges.assistant import registration as assistant_registration
from bridges.mail import config as mail_config
from bridges.mail import registration as mail_registration
from bridges.ministry_im import config as ministry_config
from bridges.ministry_im import registration as ministry_registration
from homeserver.errors import LauncherError
from modules.common.synapse.errors import ConfigError

SECTION = "jwwx_bridges"
GENERATED = Path("run") / "bridges.yaml"
# Each bridge: its config loader (the config has bridge_url) and its registration.
KNOWN: dict[str, tuple[Callable[[Path], Any], Callable[[Any], dict[str, Any]]]] = {
    "app_push": (app_push_config.load_config, app_push_registration.registration),
    "assistant": (assistant_config.load_config, assistant_registration.registration),
    "mail": (mail_config.load_config, mail_registration.registration),
    "ministry_im": (ministry_config.load_config, ministry_registration.registration),
}


@dataclass(frozen=True)
class Bridge:
    name: str
    config_path: Path
    url: str  # where the bridge listens (its health at url + /health)

    def argv(self) -> list[str]:
        module = f"bridges.{self.name}"
        return [sys.executable, "-m", module, "run", "--config", str(self.config_path)]


def configured(raw: dict[str, Any], data_dir: Path) -> list[Bridge]:
    """The bridges named in the config, each with its own config checked."""
    section = raw.get(SECTION)
    if section is None:
        return []
    if not isinstance(section, dict):
        raise LauncherError(f"{SECTION} must be a mapping")
    found = []
    for name, settings in section.items():
        if name not in KNOWN:
            raise LauncherError(
                f"{SECTION}.{name}: unknown bridge (known: {', '.join(KNOWN)})"
            )
        if not isinstance(settings, dict) or set(settings) != {"config"}:
            raise LauncherError(
                f"{SECTION}.{name}: must be a mapping with only 'config'"
            )
        path = Path(str(settings["config"]))
        if not path.is_absolute():
            path = data_dir / path
        found.append(Bridge(name, path, str(_load(name, path).bridge_url)))
    return found


def _load(name: str, path: Path) -> Any:
    """The bridge's config loaded as the bridge will."""
    try:
        return KNOWN[name][0](path)
    except (ConfigError, ValueError, OSError) as e:
        raise LauncherError(f"{SECTION}.{name}: {e}") from e


def _registration(bridge: Bridge) -> dict[str, Any]:
    return KNOWN[bridge.name][1](_load(bridge.name, bridge.config_path))


def prepare(raw: dict[str, Any], data_dir: Path) -> list[Bridge]:
    """Write the registrations and DATA/run/bridges.yaml (or remove it without bridges);
    the bridges to start."""
    bridges = configured(raw, data_dir)
    generated = data_dir / GENERATED
    if not bridges:
        generated.unlink(missing_ok=True)
        return []
    folder = data_dir / "run" / "bridges"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = [str(p) for p in raw.get("app_service_config_files") or []]
    for bridge in bridges:
        try:
            text = yaml.safe_dump(_registration(bridge), sort_keys=False)
        except (ValueError, OSError) as e:
            raise LauncherError(f"{SECTION}.{bridge.name}: registration: {e}") from e
        path = folder / f"{bridge.name}.yaml"
        _write_private(
            path, "# Generated by the launcher from the bridge's config.\n" + text
        )
        if str(path) not in files:
            files.append(str(path))
    _write_private(
        generated,
        "# Generated by the launcher (jwwx_bridges); do not edit.\n"
        + yaml.safe_dump({"app_service_config_files": files}),
    )
    return bridges


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
