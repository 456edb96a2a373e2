# SPDX-License-Identifier: AGPL-3.0-or-later
"""Unit information, the client splash image and which profile fields officers may edit
(docs/admin.md, "Unit information, splash, profile fields").

- Unit information (单位信息): short and full name, organisation domain, logo; member and
  department counts and the creation time (the first root department's) are computed
  from the directory. The splash image (启动页) is kept with it. Set by the super admin;
  shown to every client in GET /_jwwx/client/v1/client_config (`unit`, `splash`), which
  modules.watermark serves and asks this module for (watermark.public.CLIENT_SECTIONS).
- Profile fields: which of Synapse's profile fields (displayname, avatar_url) officers may
  change themselves. A request check refuses PUT/DELETE of a locked field of one's own
  profile with 403 CN_JWWX_PROFILE_FIELD_LOCKED; clients read `profile.editable`.

Logo and splash are media of this server (mxc://server/id, an image), uploaded with the
ordinary media API. Settings are cached per process for `cache_check_seconds`; the
directory counts for a minute.
"""

import re
from typing import Any
from urllib.parse import unquote

from synapse.module_api import ModuleApi

from admin_api import storage
from admin_api.authority import AdminAuthority
from admin_api.config import AdminApiConfig
from admin_api.errors import invalid
from modules.common.admin import record_operation
from modules.common.errors import error
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.database import run_serialized_write
from modules.common.synapse.media import local_media_info
from modules.common.synapse.patches import AuthedRequest
from modules.directory import admin_reads

UNIT = "unit"
PROFILE = "profile_fields"
LOCK = "jwwx_admin_settings_write"
FIELD_LOCKED = "CN_JWWX_PROFILE_FIELD_LOCKED"

TEXT_LIMITS = {"short_name": 32, "full_name": 128}
MEDIA_FIELDS = ("logo", "splash")
UNIT_FIELDS = ("short_name", "full_name", "domain", *MEDIA_FIELDS)
PROFILE_FIELDS = {"displayname": "姓名（显示名）", "avatar_url": "头像"}
# Today's behaviour: names come from the directory, avatars may be changed.
DEFAULT_EDITABLE = ("avatar_url",)
FACTS_TTL_MS = 60_000

_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
_MEDIA_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_PROFILE_PATH = re.compile(
    r"^/_matrix/client/(?:r0|v3|unstable/[^/]+)/profile/([^/]+)/([^/]+)$"
)


def _unknown(body: dict[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(known))
    if unknown:
        raise invalid(f"未知字段：{', '.join(unknown)}", known=list(known))


class Organisation:
    def __init__(
        self,
        api: ModuleApi,
        config: AdminApiConfig,
        runtime: ModuleRuntime,
        authority: AdminAuthority,
    ) -> None:
        self._api = api
        self._config = config
        self._runtime = runtime
        self._authority = authority
        self._settings: dict[
            str, tuple[tuple[dict[str, Any], str, int] | None, int]
        ] = {}
        self._facts: tuple[admin_reads.OrganisationFacts | None, int] | None = None
        # A directory write of this process makes the counts current at once (other
        # processes' writes show within FACTS_TTL_MS).
        admin_reads.add_change_listener(api, self._directory_changed)

    def _directory_changed(
        self, _userids: list[str] | None, _written: admin_reads.Written | None
    ) -> None:
        self._facts = None

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    async def _setting(self, name: str) -> tuple[dict[str, Any], str, int] | None:
        now = self._now()
        cached = self._settings.get(name)
        if cached is not None and now - cached[1] < self._config.cache_check_ms:
            return cached[0]
        await self._runtime.ready()
        row = await self._api.run_db_interaction(
            "jwwx_admin_setting", storage.admin_setting_txn, name
        )
        self._settings[name] = (row, now)
        return row

    async def _write(
        self, actor: str, name: str, merge: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Merge `merge` into the setting in one serialized write: (before, after)."""
        now = self._now()

        def write_txn(txn: Any) -> tuple[dict[str, Any], dict[str, Any]]:
            row = storage.admin_setting_txn(txn, name)
            before = row[0] if row else {}
            after = {**before, **merge}
            if after != before:
                storage.set_admin_setting_txn(txn, name, after, actor, now)
            return before, after

        await self._runtime.ready()
        result = await run_serialized_write(
            self._api, f"jwwx_admin_setting_{name}", LOCK, write_txn
        )
        self._settings.pop(name, None)
        return result

    # Unit information and splash.

    async def _directory_facts(self) -> admin_reads.OrganisationFacts | None:
        now = self._now()
        if self._facts is not None and now - self._facts[1] < FACTS_TTL_MS:
            return self._facts[0]
        facts = None
        if self._authority.directory.loaded():
            facts = await self._api.run_db_interaction(
                "jwwx_admin_organisation", admin_reads.organisation_txn
            )
        self._facts = (facts, now)
        return facts

    async def unit(self) -> dict[str, Any]:
        row = await self._setting(UNIT)
        value = row[0] if row else {}
        facts = await self._directory_facts()
        return {
            **{field: value.get(field) for field in UNIT_FIELDS},
            "member_count": facts.members if facts else None,
            "enabled_member_count": facts.enabled_members if facts else None,
            "department_count": facts.departments if facts else None,
            "created_ts": facts.created_ts if facts else None,
            "updated_by": row[1] if row else None,
            "updated_ts": row[2] if row else None,
        }

    async def _media(self, field: str, value: Any) -> str | None:
        if value is None:
            return None
        prefix = f"mxc://{self._api.server_name}/"
        if not isinstance(value, str) or not value.startswith(prefix):
            raise invalid(f"{field} 应为本服务器的媒体地址 {prefix}…，或 null")
        media_id = value[len(prefix) :]
        if not _MEDIA_ID.match(media_id):
            raise invalid(f"{field} 的媒体ID不合法")
        info = await local_media_info(self._api, media_id)
        if info is None:
            raise error(404, "M_NOT_FOUND", f"{field}：媒体 {value} 不存在")
        if not info.content_type.lower().startswith("image/"):
            raise invalid(f"{field} 须是图片，收到 {info.content_type}")
        return value

    async def update_unit(
        self, actor: str, request: Any, body: dict[str, Any]
    ) -> dict[str, Any]:
        _unknown(body, UNIT_FIELDS)
        changes: dict[str, Any] = {}
        for field, limit in TEXT_LIMITS.items():
            if field in body:
                value = body[field]
                if value is not None and (
                    not isinstance(value, str)
                    or not value.strip()
                    or len(value.strip()) > limit
                ):
                    raise invalid(f"{field} 应为 1 到 {limit} 个字符，或 null")
                changes[field] = value.strip() if isinstance(value, str) else None
        if "domain" in body:
            domain = body["domain"]
            if domain is not None and (
                not isinstance(domain, str) or not _DOMAIN.match(domain.strip().lower())
            ):
                raise invalid("domain 应为组织域名，如 gaj.example.gov.cn，或 null")
            changes["domain"] = domain.strip().lower() if domain else None
        for field in MEDIA_FIELDS:
            if field in body:
                changes[field] = await self._media(field, body[field])
        before, after = await self._write(actor, UNIT, changes)
        if after != before:
            await record_operation(
                self._api, request, actor, "admin.unit.update", "unit", before, after
            )
        return await self.unit()

    # Profile fields officers may edit.

    async def editable_fields(self) -> list[str]:
        row = await self._setting(PROFILE)
        if row is None:
            return list(DEFAULT_EDITABLE)
        return [f for f in PROFILE_FIELDS if f in row[0].get("editable", [])]

    async def profile_fields(self) -> dict[str, Any]:
        return {"editable": await self.editable_fields(), "fields": PROFILE_FIELDS}

    async def set_profile_fields(
        self, actor: str, request: Any, body: dict[str, Any]
    ) -> dict[str, Any]:
        _unknown(body, ("editable",))
        editable = body.get("editable")
        if (
            not isinstance(editable, list)
            or not all(isinstance(f, str) for f in editable)
            or len(editable) > len(PROFILE_FIELDS)
        ):
            raise invalid(
                "editable 应为字段名数组（可为空）", known=list(PROFILE_FIELDS)
            )
        unknown = sorted(set(editable) - set(PROFILE_FIELDS))
        if unknown:
            raise invalid(
                f"未知的资料字段：{', '.join(unknown)}", known=list(PROFILE_FIELDS)
            )
        before_fields = await self.editable_fields()
        wanted = [f for f in PROFILE_FIELDS if f in editable]
        await self._write(actor, PROFILE, {"editable": wanted})
        if wanted != before_fields:
            await record_operation(
                self._api,
                request,
                actor,
                "admin.profile_fields.update",
                "setting:profile_fields",
                {"editable": before_fields},
                {"editable": wanted},
            )
        return await self.profile_fields()

    async def check_profile_edit(self, authed: AuthedRequest) -> None:
        """The request check: an officer's own locked profile field is not changed."""
        if authed.method not in ("PUT", "DELETE") or authed.is_appservice:
            return
        match = _PROFILE_PATH.match(authed.path)
        if match is None or match[2] not in PROFILE_FIELDS:
            return
        if unquote(match[1]) != authed.user_id:
            return  # another's profile: Synapse lets only server admins
        if match[2] in await self.editable_fields():
            return
        raise error(
            403,
            FIELD_LOCKED,
            f"管理员未允许自行修改{PROFILE_FIELDS[match[2]]}，请联系管理员",
            field=match[2],
        )

    # The client-config sections (watermark.public.ClientSections).

    async def client_sections(self, user_id: str) -> dict[str, Any]:
        unit = await self.unit()
        return {
            "unit": {
                k: unit[k]
                for k in (
                    "short_name",
                    "full_name",
                    "domain",
                    "logo",
                    "member_count",
                    "department_count",
                    "created_ts",
                )
            },
            "splash": {"image": unit["splash"]},
            "profile": {"editable": await self.editable_fields()},
        }
