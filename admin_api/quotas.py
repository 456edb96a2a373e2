# SPDX-License-Identifier: AGPL-3.0-or-later
"""Unit quotas (二级单位授权人数): per second-level unit and in total."""

import re
from typing import Any

from admin_api import errors, storage
from admin_api.authority import TOTAL_QUOTA_ID
from admin_api.changes import ModelChanges
from admin_api.errors import invalid
from modules.common.errors import error
from modules.directory import admin_reads


class QuotaService(ModelChanges):
    # Unit quotas (二级单位授权人数).

    async def quotas(self) -> dict[str, Any]:
        quotas = await self._api.run_db_interaction(
            "jwwx_admin_quotas", storage.quotas_txn
        )
        units: list[admin_reads.UnitUsage] = []
        total = 0
        if self._authority.directory.loaded():
            units, total = await self._api.run_db_interaction(
                "jwwx_admin_units_usage", admin_reads.units_usage_txn
            )

        def row(quota: int | None, usage: int) -> dict[str, Any]:
            return {
                "quota": quota,
                "usage": usage,
                "over_quota": quota is not None and usage > quota,
            }

        return {
            "units": [
                {"id": u.id, "name": u.name, **row(quotas.get(u.id), u.usage)}
                for u in units
            ],
            "total": row(quotas.get(TOTAL_QUOTA_ID), total),
        }

    async def set_quota(
        self, actor: str, ip: str, unit: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        unknown_keys = sorted(set(body) - {"quota"})
        if unknown_keys:
            raise invalid(f"未知字段：{', '.join(unknown_keys)}")
        if "quota" not in body:
            raise error(
                400, "M_MISSING_PARAM", "缺少 quota 字段（整数，null 表示不限）"
            )
        quota = body["quota"]
        if quota is not None and (
            not isinstance(quota, int)
            or isinstance(quota, bool)
            or not 0 <= quota <= 10**7
        ):
            raise invalid("quota 必须是 0 到 10000000 之间的整数，或 null（不限）")
        if unit == "total":
            unit_id, name = TOTAL_QUOTA_ID, "全局"
        else:
            if not re.fullmatch(r"[0-9]{1,12}", unit) or int(unit) == TOTAL_QUOTA_ID:
                raise invalid(f"单位ID“{unit}”不合法")
            unit_id = int(unit)
            if not self._authority.directory.loaded():
                raise error(400, errors.QUOTA_NOT_UNIT, "通讯录模块未加载")
            nodes = await self._api.run_db_interaction(
                "jwwx_admin_departments", admin_reads.departments_txn, [unit_id]
            )
            node = nodes.get(unit_id)
            if node is None:
                raise error(
                    404, "CN_JWWX_DEPARTMENT_NOT_FOUND", f"部门 {unit_id} 不存在"
                )
            if len(node.path_ids) != admin_reads.UNIT_DEPTH + 1:
                raise error(
                    400,
                    errors.QUOTA_NOT_UNIT,
                    f"部门 {unit_id}（{node.name}）不是二级单位：授权人数只能按二级单位设置",
                )
            name = node.name
        before = (
            await self._api.run_db_interaction("jwwx_admin_quotas", storage.quotas_txn)
        ).get(unit_id)
        await self._write(
            "set_quota", storage.set_quota_txn, unit_id, quota, actor, self._now()
        )
        listing = await self.quotas()
        if unit_id == TOTAL_QUOTA_ID:
            usage = int(listing["total"]["usage"])
        else:
            usage = next(
                (u["usage"] for u in listing["units"] if u["id"] == unit_id), 0
            )
        result: dict[str, Any] = {
            "unit_id": None if unit_id == TOTAL_QUOTA_ID else unit_id,
            "name": name,
            "quota": quota,
            "usage": usage,
            "over_quota": quota is not None and usage > quota,
        }
        if result["over_quota"]:
            result["warning"] = (
                f"“{name}”已有 {usage} 人，超过新的授权人数 {quota}：已保存，"
                "现有成员不受影响，但在降到授权人数以下之前不能再新增或启用成员"
            )
        await self._log(
            actor,
            ip,
            "admin.quota.set",
            f"unit:{'total' if unit_id == TOTAL_QUOTA_ID else unit_id}",
            before,
            quota,
            usage=usage,
        )
        return result
