# SPDX-License-Identifier: AGPL-3.0-or-later
"""The login-security policy admins set at run time (安全 → 二次验证与设备策略), over the
config's values: who must use a second factor (mfa.required_for, mfa.departments), the
sessions per platform class (device_limits), the lockout numbers (lockout) and the
new-login alerts (new_login_alerts).

The stored row holds only the sections an admin set; the config's values apply to the
rest (docs/accounts.md). Each process reads the row again at most every
RELOAD_SECONDS (a change made on another worker applies within that time; on this one at
once). What stays config only: the TOTP secret file, issuer, valid window, recovery code
count, the password policy, SMS.
"""

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from synapse.module_api import ModuleApi

from modules.accounts import storage
from modules.accounts.config import PLATFORMS, AccountsConfig, LockoutPolicy
from modules.common.errors import error
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.database import run_serialized_write
from modules.common.synapse.errors import Codes

RELOAD_SECONDS = 5
MFA_MODES = ("none", "all", "admins", "departments")
SECTIONS = ("mfa", "device_limits", "lockout", "new_login_alerts")
# (key, lowest, highest) of each lockout number.
LOCKOUT_LIMITS = (
    ("max_failures", 1, 1000),
    ("window_seconds", 1, 30 * 86400),
    ("lock_seconds", 0, 30 * 86400),
    ("ip_max_failures", 0, 100000),
)


@dataclass(frozen=True)
class SecurityPolicy:
    required_for: str
    departments: tuple[int, ...]
    device_limits: dict[str, int]
    lockout: LockoutPolicy
    new_login_alerts: bool
    updated_by: str | None = None
    updated_ts: int | None = None
    set_sections: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        return {
            "mfa": {
                "required_for": self.required_for,
                "departments": list(self.departments),
            },
            "device_limits": dict(self.device_limits),
            "lockout": asdict(self.lockout),
            "new_login_alerts": self.new_login_alerts,
        }


def _invalid(message: str) -> Exception:
    return error(400, Codes.INVALID_PARAM, message)


def _integer(value: Any, name: str, low: int, high: int) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not low <= value <= high
    ):
        raise _invalid(f"{name} 必须是 {low}–{high} 的整数")
    return value


def _section_dict(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body[name]
    if not isinstance(value, dict):
        raise _invalid(f"{name} 必须是对象")
    return value


def _unknown(value: dict[str, Any], known: tuple[str, ...], name: str) -> None:
    extra = sorted(set(value) - set(known))
    if extra:
        raise _invalid(
            f"{name} 不认识的字段：{'、'.join(extra)}（可用：{'、'.join(known)}）"
        )


def parse_sections(body: dict[str, Any], mfa_available: bool) -> dict[str, Any]:
    """The sections of a PUT body, checked whole (nothing partial is stored)."""
    _unknown(body, SECTIONS, "请求")
    if not body:
        raise _invalid(f"请至少给出一项：{'、'.join(SECTIONS)}")
    parsed: dict[str, Any] = {}
    if "mfa" in body:
        mfa = _section_dict(body, "mfa")
        _unknown(mfa, ("required_for", "departments"), "mfa")
        mode = mfa.get("required_for")
        if mode not in MFA_MODES:
            raise _invalid(f"mfa.required_for 只能是 {'、'.join(MFA_MODES)}")
        departments = mfa.get("departments", [])
        if not isinstance(departments, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0
            for d in departments
        ):
            raise _invalid("mfa.departments 必须是部门ID数组")
        if mode == "departments" and not departments:
            raise _invalid("mfa.required_for 为 departments 时须给出部门")
        if mode != "none" and not mfa_available:
            raise _invalid(
                "服务器未配置二次验证密钥（modules.accounts 的 mfa.secret_path），"
                "不能要求二次验证"
            )
        parsed["mfa"] = {
            "required_for": mode,
            "departments": sorted(set(departments)) if mode == "departments" else [],
        }
    if "device_limits" in body:
        limits = _section_dict(body, "device_limits")
        _unknown(limits, PLATFORMS, "device_limits")
        parsed["device_limits"] = {
            p: _integer(limits[p], f"device_limits.{p}", 0, 100)
            for p in PLATFORMS
            if p in limits
        }
    if "lockout" in body:
        lockout = _section_dict(body, "lockout")
        _unknown(lockout, tuple(k for k, _l, _h in LOCKOUT_LIMITS), "lockout")
        parsed["lockout"] = {
            key: _integer(lockout[key], f"lockout.{key}", low, high)
            for key, low, high in LOCKOUT_LIMITS
            if key in lockout
        }
    if "new_login_alerts" in body:
        if not isinstance(body["new_login_alerts"], bool):
            raise _invalid("new_login_alerts 必须是 true 或 false")
        parsed["new_login_alerts"] = body["new_login_alerts"]
    return parsed


def merge(base: SecurityPolicy, stored: dict[str, Any]) -> SecurityPolicy:
    """`base` (the config's policy) with the stored sections over it."""
    policy = base
    if "mfa" in stored:
        policy = replace(
            policy,
            required_for=stored["mfa"]["required_for"],
            departments=tuple(stored["mfa"]["departments"]),
        )
    if "device_limits" in stored:
        policy = replace(
            policy, device_limits={**base.device_limits, **stored["device_limits"]}
        )
    if "lockout" in stored:
        policy = replace(policy, lockout=replace(base.lockout, **stored["lockout"]))
    if "new_login_alerts" in stored:
        policy = replace(policy, new_login_alerts=stored["new_login_alerts"])
    return replace(policy, set_sections=tuple(s for s in SECTIONS if s in stored))


class SecurityPolicies:
    """The current policy of this process (config + stored), reloaded lazily."""

    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, config: AccountsConfig
    ) -> None:
        self._api = api
        self._runtime = runtime
        self.defaults = SecurityPolicy(
            required_for=config.mfa.required_for,
            departments=config.mfa.departments,
            device_limits=dict(config.device_limits),
            lockout=config.lockout,
            new_login_alerts=config.new_login_alerts,
        )
        self._current = self.defaults
        self._stored: dict[str, Any] = {}
        self._loaded_ms = -1
        self._reloading = False

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    async def current(self) -> SecurityPolicy:
        if self._loaded_ms < 0:
            await self._load()  # nothing loaded yet: wait for it
        elif not self._reloading and (
            self._now() - self._loaded_ms > RELOAD_SECONDS * 1000
        ):
            # One reload at a time: requests arriving meanwhile use the policy loaded
            # RELOAD_SECONDS ago (every request of every officer asks, and each one
            # started its own reload: 9,555 reads in 685 s with 2,000 officers
            # long-polling, benchmarks/RESULTS.md session 7).
            self._reloading = True
            try:
                await self._load()
            finally:
                self._reloading = False
        return self._current

    async def _load(self) -> None:
        await self._runtime.ready()  # the table exists
        row = await self._api.run_db_interaction(
            "jwwx_acc_security_policy", storage.security_policy_txn
        )
        self._loaded_ms = self._now()
        if row is None:
            self._stored, self._current = {}, self.defaults
            return
        text, by, ts = row
        self._stored = json.loads(text)
        self._current = replace(
            merge(self.defaults, self._stored), updated_by=by, updated_ts=ts
        )

    async def update(
        self, sections: dict[str, Any], admin: str
    ) -> tuple[SecurityPolicy, SecurityPolicy]:
        """Store the given sections (replacing those sections; the others stay).
        Answers (before, after)."""
        now = self._now()

        def write_txn(txn: Any) -> dict[str, Any]:
            row = storage.security_policy_txn(txn)
            stored = json.loads(row[0]) if row else {}
            for name, value in sections.items():
                if isinstance(value, dict) and name != "mfa":
                    stored[name] = {**stored.get(name, {}), **value}
                else:
                    stored[name] = value
            storage.put_security_policy_txn(
                txn, json.dumps(stored, ensure_ascii=False), admin, now
            )
            return stored

        before = await self.current()
        await run_serialized_write(
            self._api, "jwwx_acc_put_security_policy", "jwwx_acc_policy", write_txn
        )
        await self._load()
        return before, self._current
