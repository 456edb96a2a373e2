# SPDX-License-Identifier: AGPL-3.0-or-later
"""Helpers for modules' parse_config: every bad value becomes one ConfigError naming its key."""

from collections.abc import Iterable, Mapping
from typing import Any

from modules.common.synapse.errors import ConfigError


class ConfigReader:
    """Reads one module's config mapping, remembering which keys were read.

    `module` names the module in messages, e.g. "modules.policy".
    """

    def __init__(self, raw: Any, module: str) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConfigError(
                f"{module}: config must be a mapping, got {type(raw).__name__}"
            )
        self._raw = raw
        self._module = module
        self._seen: set[str] = set()

    def _fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self._module}.{key}: {problem}")

    def _get(self, key: str, default: Any) -> Any:
        self._seen.add(key)
        return self._raw.get(key, default)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, f"must be true or false, got {value!r}")
        return value

    def string(
        self, key: str, default: str | None = None, *, required: bool = False
    ) -> str:
        value = self._get(key, default)
        if value is None and required:
            raise self._fail(key, "is required")
        if not isinstance(value, str) or (required and not value.strip()):
            raise self._fail(key, f"must be a non-empty string, got {value!r}")
        return value

    def optional_string(self, key: str) -> str | None:
        value = self._get(key, None)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self._fail(key, f"must be a non-empty string, got {value!r}")
        return value

    def integer(
        self,
        key: str,
        default: int,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, f"must be an integer, got {value!r}")
        if minimum is not None and value < minimum:
            raise self._fail(key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self._fail(key, f"must be at most {maximum}, got {value}")
        return value

    def present(self, key: str) -> bool:
        """Whether the key is given (and not null)."""
        return self._raw.get(key) is not None

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, f"must be a number, got {value!r}")
        if value < minimum:
            raise self._fail(key, f"must be at least {minimum}, got {value}")
        return float(value)

    def string_list(self, key: str, default: Iterable[str] = ()) -> list[str]:
        value = self._get(key, list(default))
        if not isinstance(value, list):
            raise self._fail(
                key, f"must be a list of strings, got {type(value).__name__}"
            )
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self._fail(
                    f"{key}[{index}]", f"must be a non-empty string, got {item!r}"
                )
        return list(value)

    def integer_list(
        self, key: str, default: Iterable[int], *, minimum: int, maximum: int
    ) -> list[int]:
        value = self._get(key, list(default))
        if not isinstance(value, list):
            raise self._fail(
                key, f"must be a list of integers, got {type(value).__name__}"
            )
        for index, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, int):
                raise self._fail(f"{key}[{index}]", f"must be an integer, got {item!r}")
            if not minimum <= item <= maximum:
                raise self._fail(
                    f"{key}[{index}]", f"must be {minimum}–{maximum}, got {item}"
                )
        return list(value)

    def mapping_or_none(self, key: str) -> Mapping[str, Any] | None:
        value = self._get(key, None)
        if value is not None and not isinstance(value, Mapping):
            raise self._fail(key, f"must be a mapping, got {type(value).__name__}")
        return value

    def mapping_list(self, key: str) -> list[Mapping[str, Any]]:
        """A required, non-empty list of mappings (each read with its own reader)."""
        value = self._get(key, None)
        if not isinstance(value, list) or not value:
            raise self._fail(key, "must be a non-empty list of mappings")
        for index, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise self._fail(f"{key}[{index}]", "must be a mapping")
        return list(value)

    def choice(self, key: str, default: str, choices: Iterable[str]) -> str:
        allowed = list(choices)
        value = self._get(key, default)
        if value not in allowed:
            raise self._fail(key, f"must be one of {', '.join(allowed)}; got {value!r}")
        return str(value)

    def finish(self) -> None:
        """Reject keys nobody asked for: a typo must not silently fall back to a default."""
        unknown = sorted(set(self._raw) - self._seen)
        if unknown:
            known = ", ".join(sorted(self._seen)) or "none"
            raise ConfigError(
                f"{self._module}: unknown key(s) {', '.join(map(str, unknown))}; known keys: {known}"
            )
