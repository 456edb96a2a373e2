# SPDX-License-Identifier: AGPL-3.0-or-later
"""HTTP of modules.accounts.

Client (officer's token), /_jwwx/client/v1/accounts/:
GET    status                              {must_change_password, password_policy}
GET    password_policy                     the rules a new password must satisfy
GET    mfa                                 {totp_enabled, required, recovery_codes_left, device_keys, ...}
POST   mfa/totp                            start enrolment: {secret, otpauth_uri, qr_png_base64}
POST   mfa/totp/confirm  {code}            turn TOTP on; {recovery_codes} (shown once)
DELETE mfa/totp          {code}            turn TOTP off (a current code or a recovery code);
                                           refused while the MFA policy covers the user

Admin, /_jwwx/admin/v1/accounts/ (the right each asks, on the account's directory member,
is in docs/admin.md; accounts outside the admin's scope answer 403 CN_JWWX_ADMIN_SCOPE,
listings keep only accounts in scope, every write is one operation-log record):
GET    users/{user}                        must_change_password, lock, sessions
GET    users/{user}/logins?from=&limit=    the user's login log, newest first
GET    logins?user_id=&ip=&result=&kind=&from=&limit=   the whole log
GET    users/{user}/devices                devices with platform class and last login
DELETE users/{user}/devices/{device_id}    sign one device out at once (kick offline)
POST   users/{user}/logout                 sign every device out
GET    lockouts                            active account and IP locks
DELETE lockouts/users/{user}               release an account lock
DELETE lockouts/ips/{ip}                   release an IP lock
GET    alerts?user_id=&from=&limit=        logins from a new network range or client
POST   users/{user}/password_reset {sms?}  new initial password (directory members): shown once,
                                           e-mailed by the directory, sent by SMS (sms.py)
POST   users/{user}/disable · enable       lock the account (signed out everywhere) / unlock
POST   users/{user}/device_keys {label, device_id?}  issue a device key (second factor),
                                           shown once; with device_id it logs in that device only
GET    users/{user}/device_keys            the user's device keys (no secrets)
DELETE users/{user}/device_keys/{key_id}   revoke one
DELETE users/{user}/mfa                    forget the user's authenticator and recovery codes
GET    activity?period=day|week|month&count=N   active members per period and per unit,
                                           usage records (activity.py); directory.view
GET    security_policy                     the login-security policy in force: mfa
                                           {required_for, departments, available}, device_limits,
                                           lockout, new_login_alerts; `config` (the config's
                                           values), `set_sections`, updated_by/_ts
PUT    security_policy {mfa?, device_limits?, lockout?, new_login_alerts?}  set at run time
                                           (security_policy.py); right settings.mfa_device
{user} is the userid or the full Matrix user id.
"""

import ipaddress
import re
from typing import Any

from synapse.module_api import ModuleApi

from modules.accounts import directory_link, storage
from modules.accounts.activity import PERIODS, ActivityRecorder, statistics
from modules.accounts.gate import FirstLoginGate
from modules.accounts.login import LoginGuard
from modules.accounts.mfa import LOGIN_TYPE as MFA_LOGIN_TYPE
from modules.accounts.mfa import Mfa
from modules.accounts.security_policy import SecurityPolicies, parse_sections
from modules.accounts.sms import SmsConfig, SmsError, send_sms
from modules.common import admin as decide
from modules.common import registry
from modules.common.admin import AdminScope, Target
from modules.common.admin_router import AdminRouter
from modules.common.errors import MFA_ENABLED, error
from modules.common.resource import query_param, read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.accounts import set_user_locked
from modules.common.synapse.errors import Codes
from modules.common.synapse.tables import devices_txn
from modules.directory import public as directory_public

CLIENT_PREFIX = "/_jwwx/client/v1/accounts"
ADMIN_PREFIX = "/_jwwx/admin/v1/accounts"
# Rights (docs/admin.md): reading an account, its logins and devices is viewing the
# directory; signing out, locking and unlocking are enable/disable; new passwords,
# device keys and resetting the authenticator are credential resets.
VIEW = "directory.view"
ENABLE = "directory.enable_disable"
CREDENTIALS = "directory.reset_password"
# IP locks belong to no member: the login-security policy's right.
IP_LOCKS = "settings.mfa_device"
POLICY_RIGHT = "settings.mfa_device"
POLICY_TARGET = decide.setting("mfa_device")
_LOCALPART = re.compile(r"^[a-z0-9._=/+-]{1,255}$")
_DEVICE_ID = re.compile(r"^[\x21-\x7e]{1,255}$")


def _not_found(what: str) -> Any:
    return error(404, Codes.NOT_FOUND, what)


class AccountsClientResource(Router):
    prefix = CLIENT_PREFIX

    def __init__(
        self, api: ModuleApi, gate: FirstLoginGate, policy: dict[str, Any], mfa: Mfa
    ) -> None:
        super().__init__(api)
        self._gate = gate
        self._policy = policy
        self._mfa = mfa
        self.route("GET", "status", self.status)
        self.route("GET", "password_policy", self.password_policy)
        self.route("GET", "mfa", self.mfa_status)
        self.route("POST", "mfa/totp", self.mfa_enrol)
        self.route("POST", "mfa/totp/confirm", self.mfa_confirm)
        self.route("DELETE", "mfa/totp", self.mfa_disable)

    async def _mfa_user(self, request: Any) -> str:
        user_id = await self.requester_id(request)
        if not self._mfa.available:
            raise error(403, Codes.FORBIDDEN, "服务器未启用双因素认证")
        return user_id

    @staticmethod
    def _code(request: Any) -> str:
        code = read_json_object(request).get("code")
        if not isinstance(code, str) or not code.strip() or len(code) > 32:
            raise error(400, Codes.INVALID_PARAM, "请填写验证码（code）")
        return code

    async def mfa_status(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        enabled = await self._mfa.enabled_for(user_id)
        return 200, {
            "available": self._mfa.available,
            "totp_enabled": enabled,
            "required": await self._mfa.required_for(user_id),
            "recovery_codes_left": (
                await self._mfa.recovery_codes_left(user_id) if enabled else 0
            ),
            "device_keys": len(
                [k for k in await self._mfa.device_keys(user_id) if not k["revoked_ts"]]
            ),
            "login_type": MFA_LOGIN_TYPE,
        }

    async def mfa_enrol(self, request: Any) -> tuple[int, Any]:
        user_id = await self._mfa_user(request)
        started = await self._mfa.start_enrolment(user_id)
        if not started:
            raise error(409, MFA_ENABLED, "已启用动态验证码；如需更换请先停用")
        return 200, started

    async def mfa_confirm(self, request: Any) -> tuple[int, Any]:
        user_id = await self._mfa_user(request)
        codes = await self._mfa.confirm(user_id, self._code(request))
        if codes is None:
            raise error(403, Codes.FORBIDDEN, "验证码错误或已使用，或尚未开始绑定")
        return 200, {"recovery_codes": codes}

    async def mfa_disable(self, request: Any) -> tuple[int, Any]:
        user_id = await self._mfa_user(request)
        code = self._code(request)
        if await self._mfa.required_for(user_id):
            # Else a covered officer could drop the second factor for good.
            raise error(
                403,
                Codes.FORBIDDEN,
                "按安全策略该账号须使用双因素认证，不能停用；更换手机请联系管理员重置",
            )
        if not await self._mfa.disable(user_id, code):
            raise error(403, Codes.FORBIDDEN, "验证码错误或已使用")
        return 200, {}

    async def status(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        return 200, {
            "user_id": user_id,
            "must_change_password": await self._gate.must_change(user_id),
            "password_policy": self._policy,
        }

    async def password_policy(self, request: Any) -> tuple[int, Any]:
        await self.requester_id(request)
        return 200, self._policy


class AccountsAdminResource(AdminRouter):
    prefix = ADMIN_PREFIX

    def __init__(
        self,
        api: ModuleApi,
        runtime: ModuleRuntime,
        gate: FirstLoginGate,
        guard: LoginGuard,
        sms: SmsConfig | None,
        mfa: Mfa,
        policies: SecurityPolicies,
        activity: ActivityRecorder,
    ) -> None:
        super().__init__(api, runtime)
        self._sms = sms
        self._mfa = mfa
        self._policies = policies
        self._activity = activity
        self._gate = gate
        self._guard = guard
        r = self.route
        r("GET", "users/{user}", self.get_user)
        r("GET", "users/{user}/logins", self.user_logins)
        r("GET", "logins", self.logins)
        r("GET", "users/{user}/devices", self.devices)
        r("DELETE", "users/{user}/devices/{device_id}", self.kick)
        r("POST", "users/{user}/logout", self.logout_all)
        r("GET", "lockouts", self.lockouts)
        r("DELETE", "lockouts/users/{user}", self.release_user)
        r("DELETE", "lockouts/ips/{ip}", self.release_ip)
        r("GET", "alerts", self.alerts)
        r("POST", "users/{user}/password_reset", self.password_reset)
        r("POST", "users/{user}/disable", self.disable)
        r("POST", "users/{user}/enable", self.enable)
        r("POST", "users/{user}/device_keys", self.issue_device_key)
        r("GET", "users/{user}/device_keys", self.list_device_keys)
        r("DELETE", "users/{user}/device_keys/{key_id}", self.revoke_device_key)
        r("DELETE", "users/{user}/mfa", self.reset_mfa)
        r("GET", "activity", self.activity)
        r("GET", "security_policy", self.get_security_policy)
        r("PUT", "security_policy", self.put_security_policy)

    def _target(self, user_id: str) -> Target:
        """An account as a scope target: its directory member (accounts that are no
        directory members, or remote ones, are the unrestricted admins' alone)."""
        localpart, _, server = user_id[1:].partition(":")
        if not user_id.startswith("@") or server != self.api.server_name:
            return decide.WHOLE_DIRECTORY
        return decide.member(localpart)

    async def _on_user(self, request: Any, right: str, user: str) -> tuple[str, str]:
        """(admin, the account's user id) after the right is checked on the account."""
        user_id = self._user_id(user)
        admin, _scope = await self.admin_scope(request, right, self._target(user_id))
        return admin, user_id

    async def _keep_in_scope(
        self, scope: AdminScope, rows: list[dict[str, Any]], key: str
    ) -> list[dict[str, Any]]:
        """The rows whose account (rows[i][key]) is in the admin's scope."""
        if scope.unrestricted:
            return rows
        targets = {
            r[key]: self._target(r[key]) for r in rows if isinstance(r.get(key), str)
        }
        kept = set(await scope.filter(list(dict.fromkeys(targets.values()))))
        return [r for r in rows if r.get(key) in targets and targets[r[key]] in kept]

    def _db(self, name: str, fn: Any, *args: Any) -> Any:
        return self.api.run_db_interaction(f"jwwx_acc_{name}", fn, *args)

    def _user_id(self, user: str) -> str:
        if user.startswith("@"):
            localpart, _, server = user[1:].partition(":")
            if server != self.api.server_name:
                raise error(400, Codes.INVALID_PARAM, f"{user} 不是本服务器的账号")
        else:
            localpart = user
        if not _LOCALPART.match(localpart):
            raise error(400, Codes.INVALID_PARAM, f"账号 {user} 格式不正确")
        return str(self.api.get_qualified_user_id(localpart))

    async def _existing(self, user: str) -> str:
        user_id = self._user_id(user)
        if await self.api.check_user_exists(user_id) is None:
            raise _not_found(f"账号 {user} 不存在")
        return user_id

    def _page(self, request: Any) -> tuple[int | None, int]:
        before = self.integer_arg(request, "from", 0, 0, 2**62)
        limit = self.integer_arg(request, "limit", 50, 1, 500)
        return (before or None), limit

    async def _log(
        self, filters: dict[str, str], request: Any, scope: AdminScope
    ) -> tuple[int, Any]:
        before, limit = self._page(request)
        await self._guard.writes.flush()  # logins answered before this request
        entries = await self._db(
            "list_log", storage.list_log_txn, filters, before, limit
        )
        # Pages on the unfiltered log, so a page may hold fewer than `limit`.
        next_from = entries[-1]["id"] if len(entries) == limit else None
        kept = await self._keep_in_scope(scope, entries, "user_id")
        return 200, {"logins": kept, "next_from": next_from}

    async def get_user(self, request: Any, user: str) -> tuple[int, Any]:
        await self._on_user(request, VIEW, user)
        user_id = await self._existing(user)
        now = int(self.api.get_current_time_msec())

        def read_txn(txn: Any) -> Any:
            return (
                storage.lock_of_txn(txn, storage.USER, user_id, now),
                storage.sessions_txn(txn, user_id),
                len(devices_txn(txn, user_id)),
            )

        await self._guard.writes.flush()
        until, sessions, devices = await self._db("user_status", read_txn)
        return 200, {
            "user_id": user_id,
            "must_change_password": await self._gate.must_change(user_id),
            "locked": until is not None,
            "locked_until_ts": None
            if until is None or until >= storage.FOREVER
            else until,
            "devices": devices,
        }

    async def user_logins(self, request: Any, user: str) -> tuple[int, Any]:
        user_id = self._user_id(user)
        _admin, scope = await self.admin_scope(request, VIEW, self._target(user_id))
        return await self._log({"user_id": user_id}, request, scope)

    async def logins(self, request: Any) -> tuple[int, Any]:
        filters: dict[str, str] = {}
        for name in ("user_id", "ip", "result", "kind", "device_id"):
            value = query_param(request, name)
            if value:
                if len(value) > 255:
                    raise error(400, Codes.INVALID_PARAM, f"参数 {name} 过长")
                filters[name] = value
        target = None
        if "user_id" in filters:
            filters["user_id"] = self._user_id(filters["user_id"])
            target = self._target(filters["user_id"])
        _admin, scope = await self.admin_scope(request, VIEW, target)
        return await self._log(filters, request, scope)

    async def devices(self, request: Any, user: str) -> tuple[int, Any]:
        await self._on_user(request, VIEW, user)
        user_id = await self._existing(user)

        def read_txn(txn: Any) -> Any:
            return devices_txn(txn, user_id), storage.sessions_txn(txn, user_id)

        await self._guard.writes.flush()
        rows, sessions = await self._db("devices", read_txn)
        return 200, {
            "devices": [
                {
                    "device_id": device_id,
                    "display_name": name,
                    "last_seen_ts": last_seen,
                    "last_seen_ip": ip,
                    "last_seen_user_agent": agent,
                    "platform": sessions.get(device_id, (None, 0))[0],
                    "login_ts": sessions.get(device_id, (None, None))[1],
                }
                for device_id, name, last_seen, ip, agent in rows
            ]
        }

    async def kick(self, request: Any, user: str, device_id: str) -> tuple[int, Any]:
        admin, _ = await self._on_user(request, ENABLE, user)
        user_id = await self._existing(user)
        rows = await self._db("devices", devices_txn, user_id)
        if device_id not in {row[0] for row in rows}:
            raise _not_found(f"设备 {device_id} 不存在")
        await self._guard.sign_out(
            user_id, [device_id], detail="管理员强制下线", by=admin
        )
        await self.log(
            request,
            admin,
            "accounts.device.sign_out",
            f"user:{user_id}",
            {"devices": sorted(row[0] for row in rows)},
            {"signed_out": [device_id]},
        )
        return 200, {"user_id": user_id, "signed_out": [device_id]}

    async def logout_all(self, request: Any, user: str) -> tuple[int, Any]:
        admin, _ = await self._on_user(request, ENABLE, user)
        user_id = await self._existing(user)
        rows = await self._db("devices", devices_txn, user_id)
        device_ids = [row[0] for row in rows]
        await self._guard.sign_out(
            user_id, device_ids, detail="管理员强制下线（全部设备）", by=admin
        )
        await self.log(
            request,
            admin,
            "accounts.sign_out_all",
            f"user:{user_id}",
            {"devices": sorted(device_ids)},
            {"signed_out": device_ids},
        )
        return 200, {"user_id": user_id, "signed_out": device_ids}

    async def lockouts(self, request: Any) -> tuple[int, Any]:
        _admin, scope = await self.admin_scope(request, ENABLE, None)
        limit = self.integer_arg(request, "limit", 100, 1, 1000)
        now = int(self.api.get_current_time_msec())
        locks = await self._db("locks", storage.list_locks_txn, now, limit)
        if not scope.unrestricted:
            # Account locks in scope; IP locks are nobody's member (settings right).
            locks = await self._keep_in_scope(
                scope,
                [lock for lock in locks if lock["scope"] == storage.USER],
                "subject",
            )
        return 200, {"lockouts": locks}

    async def release_user(self, request: Any, user: str) -> tuple[int, Any]:
        admin, user_id = await self._on_user(request, ENABLE, user)
        now = int(self.api.get_current_time_msec())
        until = await self._db("lock", storage.lock_of_txn, storage.USER, user_id, now)
        released = await self._db(
            "release", storage.clear_failures_txn, storage.USER, user_id
        )
        if not released:
            raise _not_found(f"账号 {user} 未被锁定")
        await self.log(
            request,
            admin,
            "accounts.lock.release",
            f"user:{user_id}",
            {"locked": until is not None},
            {"locked": False},
        )
        return 200, {"user_id": user_id, "released": True}

    async def release_ip(self, request: Any, ip: str) -> tuple[int, Any]:
        try:
            ipaddress.ip_address(ip)
        except ValueError as e:
            raise error(400, Codes.INVALID_PARAM, f"{ip} 不是 IP 地址") from e
        admin, _scope = await self.admin_scope(
            request, IP_LOCKS, decide.setting("login_lockout")
        )
        released = await self._db("release", storage.clear_failures_txn, storage.IP, ip)
        if not released:
            raise _not_found(f"IP {ip} 未被锁定")
        await self.log(
            request,
            admin,
            "accounts.ip_lock.release",
            f"ip:{ip}",
            {"locked": True},
            {"locked": False},
        )
        return 200, {"ip": ip, "released": True}

    async def alerts(self, request: Any) -> tuple[int, Any]:
        user = query_param(request, "user_id")
        user_id = self._user_id(user) if user else None
        _admin, scope = await self.admin_scope(
            request, VIEW, None if user_id is None else self._target(user_id)
        )
        before, limit = self._page(request)
        rows = await self._db("alerts", storage.list_alerts_txn, user_id, before, limit)
        next_from = rows[-1]["id"] if len(rows) == limit else None
        rows = await self._keep_in_scope(scope, rows, "user_id")
        return 200, {"alerts": rows, "next_from": next_from}

    def translate_error(self, exc: Exception) -> Any:
        if isinstance(
            exc, directory_public.DirectoryError | directory_public.QuotaExceededError
        ):
            return exc.to_synapse()
        return None

    def _directory(self) -> directory_public.DirectoryService | None:
        try:
            return registry.lookup(self.api, directory_public.SERVICE)
        except registry.ServiceMissingError:
            return None

    async def _admin_log(
        self, user_id: str, admin: str, result: str, detail: str | None = None
    ) -> None:
        entry = storage.LogEntry(
            ts=int(self.api.get_current_time_msec()),
            kind="admin",
            user_id=user_id,
            identifier=admin,
            login_type=None,
            ip=None,
            device_id=None,
            user_agent=None,
            platform=None,
            result=result,
            detail=detail,
        )
        await self._db("admin_log", storage.add_log_txn, entry)

    async def password_reset(self, request: Any, user: str) -> tuple[int, Any]:
        admin, _ = await self._on_user(request, CREDENTIALS, user)
        body = read_json_object(request)
        want_sms = body.get("sms", True)
        if not isinstance(want_sms, bool):
            raise error(400, Codes.INVALID_PARAM, "sms 必须是 true 或 false")
        user_id = await self._existing(user)
        userid = user_id[1:].split(":", 1)[0]
        directory = self._directory()
        if directory is None:
            raise error(400, Codes.INVALID_PARAM, "未加载通讯录模块，无法重置初始密码")
        result = dict(await directory.admin.reset_initial_password(userid))
        sms_sent, sms_error = False, None
        if want_sms:
            sms_sent, sms_error = await self._send_password_sms(
                userid, result["initial_password"]
            )
        await self._admin_log(
            user_id,
            admin,
            "password_reset",
            f"mail_queued={result['mail_queued']} sms_sent={sms_sent}",
        )
        # The password itself never reaches the operation log.
        await self.log(
            request,
            admin,
            "accounts.password_reset",
            f"user:{user_id}",
            after={"mail_queued": result["mail_queued"], "sms_sent": sms_sent},
        )
        return 200, {
            "user_id": user_id,
            "initial_password": result["initial_password"],
            "mail_queued": result["mail_queued"],
            "sms_sent": sms_sent,
            "sms_error": sms_error,
        }

    async def _send_password_sms(
        self, userid: str, password: str
    ) -> tuple[bool, str | None]:
        if self._sms is None:
            return False, "未配置短信网关"
        mobile = await self._db("mobile", directory_link.mobile_of_txn, userid)
        if not mobile:
            return False, "该成员没有手机号"
        content = (
            f"【{self._sms.sign}】您的账号 {userid} 的密码已由管理员重置，"
            f"初始密码：{password}。请登录后立即修改，切勿转告他人。"
        )
        try:
            await send_sms(self.api, self._sms, mobile, content)
        except SmsError as e:
            return False, str(e)[:300]
        return True, None

    async def _set_enabled(
        self, request: Any, user: str, enabled: bool
    ) -> tuple[int, Any]:
        admin, _ = await self._on_user(request, ENABLE, user)
        user_id = await self._existing(user)
        userid = user_id[1:].split(":", 1)[0]
        directory = self._directory()
        member = None
        if directory is not None:
            member = await self._db("member", directory_public.get_member_txn, userid)
        before: bool | None = None  # unknown for accounts outside the directory
        if member is not None and directory is not None:
            before = member.enabled
            # Keeps the directory's "enable" in step (it locks and signs out the
            # account); enabling counts against the unit's quota, checked in the
            # directory's write transaction.
            quotas = await decide.member_quotas(self.api) if enabled else None
            await directory.admin.update_member(
                userid, {"enable": 1 if enabled else 0}, quotas
            )
        else:
            await set_user_locked(self.api, user_id, not enabled)
        await self._admin_log(user_id, admin, "enabled" if enabled else "disabled")
        await self.log(
            request,
            admin,
            "accounts.enable" if enabled else "accounts.disable",
            f"user:{user_id}",
            {"enabled": before},
            {"enabled": enabled},
        )
        return 200, {"user_id": user_id, "enabled": enabled}

    async def disable(self, request: Any, user: str) -> tuple[int, Any]:
        return await self._set_enabled(request, user, False)

    async def enable(self, request: Any, user: str) -> tuple[int, Any]:
        return await self._set_enabled(request, user, True)

    async def issue_device_key(self, request: Any, user: str) -> tuple[int, Any]:
        admin, _ = await self._on_user(request, CREDENTIALS, user)
        if not self._mfa.available:
            raise error(403, Codes.FORBIDDEN, "服务器未启用双因素认证")
        body = read_json_object(request)
        label, device_id = body.get("label"), body.get("device_id")
        if not isinstance(label, str) or not label.strip() or len(label) > 64:
            raise error(
                400, Codes.INVALID_PARAM, "请填写设备名称（label，不超过 64 个字符）"
            )
        if device_id is not None and (
            not isinstance(device_id, str) or not _DEVICE_ID.match(device_id)
        ):
            raise error(
                400, Codes.INVALID_PARAM, "device_id 须为 1–255 个可见字符（可省略）"
            )
        user_id = await self._existing(user)
        issued = await self._mfa.issue_device_key(
            user_id, label.strip(), admin, device_id
        )
        await self._admin_log(user_id, admin, "device_key_issued", issued["key_id"])
        # The key itself is shown once to the admin, never logged.
        await self.log(
            request,
            admin,
            "accounts.device_key.issue",
            f"user:{user_id}",
            after={
                "key_id": issued["key_id"],
                "label": label.strip(),
                "device_id": device_id,
            },
        )
        return 200, {"user_id": user_id, **issued}

    async def list_device_keys(self, request: Any, user: str) -> tuple[int, Any]:
        await self._on_user(request, VIEW, user)
        user_id = await self._existing(user)
        return 200, {"device_keys": await self._mfa.device_keys(user_id)}

    async def revoke_device_key(
        self, request: Any, user: str, key_id: str
    ) -> tuple[int, Any]:
        admin, _ = await self._on_user(request, CREDENTIALS, user)
        user_id = await self._existing(user)
        if not await self._mfa.revoke_device_key(user_id, key_id):
            raise _not_found(f"设备密钥 {key_id} 不存在或已吊销")
        await self._admin_log(user_id, admin, "device_key_revoked", key_id)
        await self.log(
            request,
            admin,
            "accounts.device_key.revoke",
            f"user:{user_id}",
            {"key_id": key_id, "revoked": False},
            {"key_id": key_id, "revoked": True},
        )
        return 200, {"user_id": user_id, "key_id": key_id, "revoked": True}

    async def reset_mfa(self, request: Any, user: str) -> tuple[int, Any]:
        """The officer lost the authenticator and the recovery codes."""
        admin, _ = await self._on_user(request, CREDENTIALS, user)
        user_id = await self._existing(user)
        if not await self._mfa.reset(user_id):
            raise _not_found(f"账号 {user} 未绑定动态验证码")
        await self._admin_log(user_id, admin, "mfa_reset")
        await self.log(
            request,
            admin,
            "accounts.mfa.reset",
            f"user:{user_id}",
            {"totp_enabled": True},
            {"totp_enabled": False},
        )
        return 200, {"user_id": user_id, "reset": True}

    # 运营统计 (activity.py).

    async def activity(self, request: Any) -> tuple[int, Any]:
        _admin, scope = await self.admin_scope(request, VIEW, None)
        period = query_param(request, "period") or "day"
        if period not in PERIODS:
            raise error(400, Codes.INVALID_PARAM, "period 只能是 day、week 或 month")
        count = self.integer_arg(request, "count", 14, 1, PERIODS[period])
        await self._activity.flush()  # this process's latest, at once
        await self._guard.writes.flush()  # the login log's queued entries too
        return 200, await statistics(self.api, scope, period, count)

    # The login-security policy (security_policy.py).

    async def get_security_policy(self, request: Any) -> tuple[int, Any]:
        await self.admin_scope(request, POLICY_RIGHT, POLICY_TARGET)
        current = await self._policies.current()
        answer = current.as_json()
        answer["mfa"]["available"] = self._mfa.available
        return 200, {
            **answer,
            "config": self._policies.defaults.as_json(),
            "set_sections": list(current.set_sections),
            "updated_by": current.updated_by,
            "updated_ts": current.updated_ts,
        }

    async def put_security_policy(self, request: Any) -> tuple[int, Any]:
        admin, _scope = await self.admin_scope(request, POLICY_RIGHT, POLICY_TARGET)
        sections = parse_sections(read_json_object(request), self._mfa.available)
        before, after = await self._policies.update(sections, admin)
        await self.log(
            request,
            admin,
            "accounts.security_policy.update",
            "setting:mfa_device",
            before.as_json(),
            after.as_json(),
        )
        return 200, after.as_json()
