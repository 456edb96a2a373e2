# SPDX-License-Identifier: AGPL-3.0-or-later
"""SM4 key rings read from key files, shared by the modules that seal what they store
(modules.audit, modules.docs).

A module's config names its keys as `keys: {key id: file path}` and `current_key_id`.
Each file holds secret material (at least 16 bytes, e.g. what `python -m homeserver
init` writes under keys/); the 16-byte SM4 key is the SM3 of the module's label and the
material. Old keys stay listed: what was sealed names the key it was sealed with."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.common.config import ConfigReader
from modules.common.gm import sm3
from modules.common.synapse.errors import ConfigError

_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


def derive_sm4_key(label: bytes, material: bytes) -> bytes:
    """The 16-byte SM4 key of a key file's material (any length) under a module label."""
    return sm3(label + material.strip())[:16]


@dataclass(frozen=True)
class KeyRing:
    keys: Mapping[str, bytes]
    current_key_id: str


def read_key_ring(reader: ConfigReader, module: str, label: bytes) -> KeyRing:
    """Reads `keys` and `current_key_id` of a module's config (ConfigError when wrong)."""
    keys = read_key_files(reader.mapping_or_none("keys"), module, label)
    current = reader.string("current_key_id", required=True)
    if current not in keys:
        raise ConfigError(
            f"{module}.current_key_id: {current!r} is not one of keys: "
            + ", ".join(sorted(keys))
        )
    return KeyRing(keys, current)


def read_key_files(
    raw: Mapping[str, Any] | None, module: str, label: bytes
) -> dict[str, bytes]:
    if not raw:
        raise ConfigError(f"{module}.keys: is required (key id → key file path)")
    keys = {}
    for key_id, path in raw.items():
        where = f"{module}.keys.{key_id}"
        if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
            raise ConfigError(f"{where}: key ids are 1-32 of A-Z a-z 0-9 _ . -")
        if not isinstance(path, str) or not path.strip():
            raise ConfigError(f"{where}: must be a file path")
        try:
            material = Path(path).read_bytes()
        except OSError as e:
            raise ConfigError(f"{where}: cannot read {path}: {e.strerror}") from e
        if len(material.strip()) < 16:
            raise ConfigError(f"{where}: {path} holds fewer than 16 bytes of secret")
        keys[key_id] = derive_sm4_key(label, material)
    return keys
