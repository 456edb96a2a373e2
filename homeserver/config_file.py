# SPDX-License-Identifier: AGPL-3.0-or-later
"""Read a rendered homeserver.yaml (plus conf.d overrides) and check our modules' config."""

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from homeserver.errors import LauncherError


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    raw: dict[str, Any]

    @property
    def config_paths(self) -> list[Path]:
        """What every Synapse process reads, in order (run/bridges.yaml: the launcher's
        registrations of the configured bridges, homeserver/bridges.py)."""
        return [
            self.data_dir / "homeserver.yaml",
            self.data_dir / "conf.d",
            self.data_dir / "run" / "bridges.yaml",
        ]

    @property
    def server_name(self) -> str:
        return str(self.raw["server_name"])

    @property
    def client_base_url(self) -> str:
        """The loopback URL of the first HTTP listener serving the client API."""
        for listener in self.raw.get("listeners") or []:
            if listener.get("type") != "http":
                continue
            names = {
                n for r in listener.get("resources", []) for n in r.get("names", [])
            }
            if "client" not in names:
                continue
            addresses = listener.get("bind_addresses") or ["127.0.0.1"]
            host = addresses[0]
            if host in ("0.0.0.0", "::"):
                host = "127.0.0.1"
            if ":" in host:
                host = f"[{host}]"
            return f"http://{host}:{listener['port']}"
        raise LauncherError("homeserver.yaml has no http listener with the client API")

    def secret(self, key: str) -> str:
        path = self.raw.get(f"{key}_path")
        if path:
            try:
                return Path(path).read_text(encoding="utf-8").strip()
            except OSError as e:
                raise LauncherError(f"cannot read {key}_path {path}: {e}") from e
        value = self.raw.get(key)
        if not value:
            raise LauncherError(f"homeserver.yaml sets neither {key} nor {key}_path")
        return str(value)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise LauncherError(f"cannot read {path}: {e.strerror}") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise LauncherError(f"{path}{where} is not valid YAML") from e
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise LauncherError(f"{path} must hold a YAML mapping")
    return loaded


def load_server_config(data_dir: Path) -> ServerConfig:
    main = data_dir / "homeserver.yaml"
    if not main.exists():
        raise LauncherError(
            f"{main} does not exist: run `python -m homeserver init` first"
        )
    raw = _load_yaml(main)
    overrides = data_dir / "conf.d"
    if overrides.is_dir():
        for extra in sorted(overrides.glob("*.yaml")):
            raw.update(_load_yaml(extra))
    for key in ("server_name", "listeners", "database"):
        if key not in raw:
            raise LauncherError(f"{main} lacks the required key {key!r}")
    return ServerConfig(data_dir=data_dir, raw=raw)


def check_synapse_adapter() -> None:
    """Refuse to start a Synapse whose patched methods differ from those our adapter
    was written against (modules/common/synapse/patches.py), in one line."""
    from modules.common.synapse.patches import PatchPointError, check_patch_points

    try:
        check_patch_points()
    except PatchPointError as e:
        raise LauncherError(str(e)) from None


def check_module_configs(config: ServerConfig) -> None:
    """Check the Synapse adapter's patch points, then import every configured module
    and run its parse_config, as Synapse will."""
    check_synapse_adapter()
    modules = config.raw.get("modules") or []
    if not isinstance(modules, list):
        raise LauncherError("homeserver.yaml: 'modules' must be a list")
    for index, entry in enumerate(modules):
        if not isinstance(entry, dict) or "module" not in entry:
            raise LauncherError(
                f"modules[{index}] must be a mapping with a 'module' key"
            )
        dotted = str(entry["module"])
        module_path, _, class_name = dotted.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module_path), class_name)
        except (ImportError, AttributeError, ValueError) as e:
            raise LauncherError(f"modules[{index}]: cannot load {dotted}: {e}") from e
        parse = getattr(cls, "parse_config", None)
        if parse is None:
            continue
        try:
            parse(entry.get("config") or {})
        except Exception as e:  # noqa: BLE001 - any parse failure is the operator's to fix
            raise LauncherError(f"modules[{index}] ({dotted}): {e}") from e
