# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config helpers of the bridges: each bridge reads a YAML file of its own (`--config`),
whose relative paths are relative to the file's folder."""

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError

T = TypeVar("T")
LOCALPART = re.compile(r"^[a-z0-9._=/-]+$")


def path_key(reader: ConfigReader, key: str, base: Path) -> Path:
    path = Path(reader.string(key, required=True))
    return path if path.is_absolute() else base / path


def secret_file(reader: ConfigReader, key: str, base: Path, where: str) -> str:
    """The content of the file `key` names, without surrounding whitespace."""
    path = path_key(reader, key, base)
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ConfigError(f"{where}.{key}: cannot read {path}: {e}") from e


def localpart_key(reader: ConfigReader, key: str, default: str, where: str) -> str:
    value = reader.string(key, default)
    if not LOCALPART.match(value):
        raise ConfigError(f"{where}.{key}: must be a Matrix localpart, got {value!r}")
    return value


def url_key(reader: ConfigReader, key: str, where: str) -> str:
    value = reader.string(key, required=True)
    if not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(f"{where}.{key}: must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def load_yaml_config(path: Path, where: str, parse: Callable[[Any, Path], T]) -> T:
    """parse(the file's mapping, the file's folder); ConfigError when unreadable."""
    try:
        raw: Mapping[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{where}: cannot read {path}: {e}") from e
    return parse(raw, path.resolve().parent)
