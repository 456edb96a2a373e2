# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admin settings: where clients draw watermarks, their text and opacity, and which
ways of sharing are allowed.

Stored in jwwx_watermark_settings, one row per setting ("watermark.opacity",
"sharing.allow_email", …); missing rows take the defaults below. Every process keeps a
copy, re-read every `settings_reload_seconds`, so the event check never reads the
database for them.
"""

import re
from dataclasses import dataclass, fields, replace
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.errors import error
from modules.common.synapse.errors import Codes
from modules.watermark.storage import get_settings_txn, put_settings_txn

# Placeholders of the text template (docs/watermark.md).
PLACEHOLDERS = ("name", "userid", "user_id", "date", "time")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_TEMPLATE_CHARS = 80


@dataclass(frozen=True)
class WatermarkSettings:
    enabled: bool = True
    chat_background: bool = True
    contact_list: bool = True
    profile: bool = True
    media: bool = True  # images and PDFs on the watermarked media path
    template: str = "{name} {userid} {time}"
    opacity: float = 0.15


@dataclass(frozen=True)
class SharingSettings:
    allow_save_to_device: bool = True
    allow_forward_messages: bool = True
    allow_forward_files: bool = True
    allow_forward_favorites: bool = True
    allow_open_in_other_apps: bool = True
    allow_email: bool = True


@dataclass(frozen=True)
class Settings:
    watermark: WatermarkSettings = WatermarkSettings()
    sharing: SharingSettings = SharingSettings()

    def as_json(self) -> dict[str, Any]:
        return {
            section: {
                f.name: getattr(getattr(self, section), f.name) for f in fields(cls)
            }
            for section, cls in _SECTIONS.items()
        }


_SECTIONS: dict[str, type] = {
    "watermark": WatermarkSettings,
    "sharing": SharingSettings,
}


def _invalid(message: str) -> Exception:
    return error(400, Codes.INVALID_PARAM, message)


def check_template(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid("watermark.template 必须是非空字符串")
    if len(value) > MAX_TEMPLATE_CHARS:
        raise _invalid(f"watermark.template 不能超过 {MAX_TEMPLATE_CHARS} 个字符")
    for name in _PLACEHOLDER.findall(value):
        if name not in PLACEHOLDERS:
            raise _invalid(
                f"watermark.template 含未知占位符 {{{name}}}；可用："
                + "、".join("{" + p + "}" for p in PLACEHOLDERS)
            )
    return value


def _check_value(section: str, name: str, default: Any, value: Any) -> Any:
    key = f"{section}.{name}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise _invalid(f"{key} 必须是 true 或 false")
        return value
    if name == "opacity":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0.02 <= value <= 0.8
        ):
            raise _invalid(f"{key} 应为 0.02 到 0.8 之间的数（不透明度）")
        return float(value)
    if name == "template":
        return check_template(value)
    raise AssertionError(key)


def validate_update(body: dict[str, Any]) -> dict[str, Any]:
    """The settings in a PUT body as {"section.name": value}; a 400 M_INVALID_PARAM
    names the first bad field and nothing is stored."""
    unknown = sorted(set(body) - set(_SECTIONS))
    if unknown:
        raise _invalid(
            f"未知的设置项：{', '.join(unknown)}（可用：watermark、sharing）"
        )
    values: dict[str, Any] = {}
    for section, cls in _SECTIONS.items():
        if section not in body:
            continue
        given = body[section]
        if not isinstance(given, dict):
            raise _invalid(f"{section} 必须是 JSON 对象")
        defaults = {f.name: f.default for f in fields(cls)}
        bad = sorted(set(given) - set(defaults))
        if bad:
            raise _invalid(
                f"未知的设置项：{', '.join(section + '.' + b for b in bad)}；"
                f"可用：{', '.join(defaults)}"
            )
        for name, value in given.items():
            values[f"{section}.{name}"] = _check_value(
                section, name, defaults[name], value
            )
    if not values:
        raise error(400, Codes.MISSING_PARAM, "请至少提供一个设置项")
    return values


def apply_stored(stored: dict[str, Any]) -> Settings:
    """Settings from stored rows; a row that no longer validates keeps the default."""
    settings = Settings()
    for section, cls in _SECTIONS.items():
        part = getattr(settings, section)
        for f in fields(cls):
            key = f"{section}.{f.name}"
            if key not in stored:
                continue
            try:
                value = _check_value(section, f.name, f.default, stored[key])
            except Exception:
                continue
            part = replace(part, **{f.name: value})
        settings = replace(settings, **{section: part})
    return settings


class SettingsCache:
    def __init__(self, api: ModuleApi) -> None:
        self._api = api
        self.current = Settings()

    async def load(self) -> None:
        stored = await self._api.run_db_interaction(
            "jwwx_watermark_get_settings", get_settings_txn
        )
        self.current = apply_stored(stored)

    async def update(self, values: dict[str, Any], by: str) -> Settings:
        now = self._api.get_current_time_msec()
        await self._api.run_db_interaction(
            "jwwx_watermark_put_settings", put_settings_txn, values, by, now
        )
        await self.load()
        return self.current
