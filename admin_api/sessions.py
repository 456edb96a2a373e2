# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admin login hardening: a second factor for every admin session, idle expiry.

An admin (a super admin, an audit or security admin, a member of any admin group) may use
the admin API (/_jwwx/admin/v1/…) only from a session — a Matrix device of its account —
that has passed the second factor (TOTP, modules.accounts) and has been active there
within `idle_timeout_seconds`. Otherwise every admin endpoint answers 403
CN_JWWX_ADMIN_SECOND_FACTOR_REQUIRED or CN_JWWX_ADMIN_SESSION_EXPIRED, and the refusal
goes to the operation log. A session passes the second factor by

- logging in with the TOTP login type (cn.jwwx.login.totp, a TOTP or recovery code; not
  a device key): the login hook below marks the new device;
- POST /_jwwx/admin/v1/admins/session/verify {code} (step-up, e.g. after idle expiry),
  which also confirms a pending enrolment: an admin without an authenticator starts one
  with POST /_jwwx/client/v1/accounts/mfa/totp and sends its first code here;
- the bootstrap token of `create-admin`/`load-sample` (whoever holds the registration
  shared secret can register and enrol admins anyway).

Any other login of the same device (a plain password) takes the mark away. The check is
a request check (modules.common.synapse.patches.add_request_check), so it covers every
module's admin endpoints by their path. Cost: a dictionary lookup per admin request; the
database is asked at most every `sync` interval per session (a minute, or a quarter of
the idle time), which is also how long another worker may take to see a change.
"""

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from synapse.module_api import ModuleApi

from admin_api import storage
from admin_api.authority import AdminAuthority
from admin_api.config import AdminApiConfig
from admin_api.errors import invalid
from modules.accounts import public as accounts
from modules.common import registry
from modules.common.admin import record_operation
from modules.common.errors import error, forbidden, missing_param
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.database import run_serialized_write
from modules.common.synapse.patches import AuthedRequest, LoginAttempt

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/_jwwx/admin/v1/"
SESSION_PATH = "/_jwwx/admin/v1/admins/session"
VERIFY_PATH = SESSION_PATH + "/verify"
BOOTSTRAP_PREFIX = "/_jwwx/admin/v1/bootstrap/"

SECOND_FACTOR_REQUIRED = "CN_JWWX_ADMIN_SECOND_FACTOR_REQUIRED"
SESSION_EXPIRED = "CN_JWWX_ADMIN_SESSION_EXPIRED"
NOT_ENROLLED = "CN_JWWX_ADMIN_TOTP_NOT_ENROLLED"
UNAVAILABLE = "CN_JWWX_ADMIN_TOTP_UNAVAILABLE"
TOO_MANY = "CN_JWWX_ADMIN_TOTP_LOCKED"

MAX_FAILURES = 5
FAILURE_WINDOW_MS = 15 * 60 * 1000
CACHE_SIZE = 100_000
TOTP_FAILURES_LOCK = "jwwx_admin_totp_failures"
ENROL_PATH = "/_jwwx/client/v1/accounts/mfa/totp"


@dataclass
class _Seen:
    verified_ts: int
    last_active_ts: int
    verified_by: str
    synced_ms: int  # when this process last agreed with the database


def session_key(device_id: str | None, token_id: int | None) -> str:
    """A session is a device; a token without one (rare) counts on its own."""
    return device_id if device_id else f"token:{token_id}"


class AdminSessions:
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
        self._seen: OrderedDict[tuple[str, str], _Seen] = OrderedDict()
        idle_ms = config.idle_timeout_seconds * 1000
        self._idle_ms = idle_ms
        self._sync_ms = max(100, min(60_000, idle_ms // 4))

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    async def is_admin(self, user_id: str) -> bool:
        if await self._authority.is_super(user_id):
            return True
        snapshot = await self._authority.snapshot()
        return bool(snapshot.roles_of(user_id) or snapshot.member_groups.get(user_id))

    # The request check.

    async def check(self, authed: AuthedRequest) -> None:
        path = authed.path
        if (
            not self._config.require_second_factor
            or not path.startswith(ADMIN_PREFIX)
            or path in (SESSION_PATH, VERIFY_PATH)
            or path.startswith(BOOTSTRAP_PREFIX)
            or authed.is_appservice
        ):
            return
        user_id = authed.user_id
        if not await self.is_admin(user_id):
            return  # the endpoint itself refuses non-admins
        device = session_key(authed.device_id, authed.token_id)
        now = self._now()
        seen = self._seen.get((user_id, device))
        if (
            seen is None
            or now - seen.synced_ms >= self._sync_ms
            or now - seen.last_active_ts > self._idle_ms
        ):
            seen = await self._sync(user_id, device, seen, now)
        if seen is None:
            await self._refuse(
                authed,
                403,
                SECOND_FACTOR_REQUIRED,
                "管理员须先完成二次验证（动态验证码）才能使用管理接口",
                verify=VERIFY_PATH,
                enrol=ENROL_PATH,
            )
            return
        if now - seen.last_active_ts > self._idle_ms:
            await self.forget(user_id, device)
            await self._refuse(
                authed,
                403,
                SESSION_EXPIRED,
                f"管理会话已超过 {self._config.idle_timeout_seconds} 秒未操作，"
                "请重新输入动态验证码",
                verify=VERIFY_PATH,
            )
            return
        seen.last_active_ts = now
        self._seen.move_to_end((user_id, device))

    async def _sync(
        self, user_id: str, device: str, seen: _Seen | None, now: int
    ) -> _Seen | None:
        """Agree with the database: push this process's last activity, read the row
        (gone: verification taken away by another login, expiry or another worker)."""
        await self._runtime.ready()
        if seen is None:
            row = await self._api.run_db_interaction(
                "jwwx_admin_session", storage.admin_session_txn, user_id, device
            )
        else:
            row = await self._api.run_db_interaction(
                "jwwx_admin_session_touch",
                storage.touch_admin_session_txn,
                user_id,
                device,
                seen.last_active_ts,
            )
        if row is None:
            self._seen.pop((user_id, device), None)
            return None
        fresh = _Seen(row[0], row[1], row[2], now)
        self._remember(user_id, device, fresh)
        return fresh

    def _remember(self, user_id: str, device: str, seen: _Seen) -> None:
        self._seen[(user_id, device)] = seen
        self._seen.move_to_end((user_id, device))
        while len(self._seen) > CACHE_SIZE:
            self._seen.popitem(last=False)

    async def forget(self, user_id: str, device: str) -> bool:
        self._seen.pop((user_id, device), None)
        await self._runtime.ready()
        return bool(
            await self._api.run_db_interaction(
                "jwwx_admin_session_delete",
                storage.delete_admin_session_txn,
                user_id,
                device,
            )
        )

    async def mark(self, user_id: str, device: str, verified_by: str) -> _Seen:
        now = self._now()
        await self._runtime.ready()
        await self._api.run_db_interaction(
            "jwwx_admin_session_save",
            storage.save_admin_session_txn,
            user_id,
            device,
            now,
            verified_by,
        )
        seen = _Seen(now, now, verified_by, now)
        self._remember(user_id, device, seen)
        return seen

    async def _refuse(
        self, authed: AuthedRequest, status: int, errcode: str, text: str, **extra: Any
    ) -> None:
        await record_operation(
            self._api,
            authed.request,
            authed.user_id,
            "admin.session.refused",
            f"path:{authed.path}",
            None,
            None,
            reason=text,
            errcode=errcode,
            device_id=authed.device_id,
        )
        raise error(status, errcode, text, **extra)

    # The session endpoints (resources.py).

    def _describe(
        self, user_id: str, device: str, seen: _Seen | None, admin: bool, totp: str
    ) -> dict[str, Any]:
        verified = seen is not None and (
            self._now() - seen.last_active_ts <= self._idle_ms
        )
        return {
            "user_id": user_id,
            "device_id": device,
            "admin": admin,
            "second_factor_required": self._config.require_second_factor,
            "verified": verified,
            "verified_ts": seen.verified_ts if seen and verified else None,
            "verified_by": seen.verified_by if seen and verified else None,
            "expires_ts": (seen.last_active_ts + self._idle_ms)
            if seen and verified
            else None,
            "idle_timeout_seconds": self._config.idle_timeout_seconds,
            "totp": totp,
        }

    def _second_factor(self) -> accounts.SecondFactorService | None:
        try:
            return registry.lookup(self._api, accounts.SERVICE)
        except registry.ServiceMissingError:
            return None

    async def _totp_state(self, user_id: str) -> str:
        service = self._second_factor()
        return "unavailable" if service is None else await service.totp_state(user_id)

    async def status(
        self, user_id: str, device_id: str | None, token_id: int | None
    ) -> dict[str, Any]:
        device = session_key(device_id, token_id)
        seen = await self._sync(
            user_id, device, self._seen.get((user_id, device)), self._now()
        )
        return self._describe(
            user_id,
            device,
            seen,
            await self.is_admin(user_id),
            await self._totp_state(user_id),
        )

    async def _check_failures(self, user_id: str, now: int) -> None:
        """403 TOTP_LOCKED after MAX_FAILURES wrong codes within the window: counted
        in the database, so every worker and a restarted server agree."""
        await self._runtime.ready()
        count, oldest = await self._api.run_db_interaction(
            "jwwx_admin_totp_failures",
            storage.totp_failures_txn,
            user_id,
            now - FAILURE_WINDOW_MS + 1,
        )
        if count >= MAX_FAILURES and oldest is not None:
            raise error(
                403,
                TOO_MANY,
                f"动态验证码连续错误 {MAX_FAILURES} 次，请 15 分钟后再试",
                retry_after_ms=oldest + FAILURE_WINDOW_MS - now,
            )

    async def _add_failure(self, user_id: str, now: int) -> None:
        await run_serialized_write(
            self._api,
            "jwwx_admin_totp_failure",
            TOTP_FAILURES_LOCK,
            storage.add_totp_failure_txn,
            user_id,
            now,
            now - FAILURE_WINDOW_MS + 1,
        )

    async def verify(
        self,
        request: Any,
        user_id: str,
        device_id: str | None,
        token_id: int | None,
        body: dict[str, Any],
    ) -> dict[str, Any]:
        unknown = sorted(set(body) - {"code"})
        if unknown:
            raise invalid(f"未知字段：{', '.join(unknown)}")
        code = body.get("code")
        if code is None:
            raise missing_param("缺少 code（动态验证码或恢复码）")
        if (
            not isinstance(code, str)
            or not code.strip()
            or len(code) > 32
            or not code.isascii()
            or not code.replace("-", "").replace(" ", "").isalnum()
        ):
            raise invalid("code 应为 6 位动态验证码或恢复码")
        if not await self.is_admin(user_id):
            raise forbidden("需要管理员权限")
        service = self._second_factor()
        state = "unavailable" if service is None else await service.totp_state(user_id)
        if service is None or state == "unavailable":
            raise error(
                403,
                UNAVAILABLE,
                "服务器未启用动态验证码（modules.accounts 的 mfa.secret_path），"
                "无法完成管理员二次验证",
            )
        if state == "none":
            raise error(
                400,
                NOT_ENROLLED,
                "尚未绑定动态验证码：请先开始绑定，再用验证器上的验证码完成验证",
                enrol=ENROL_PATH,
            )
        now = self._now()
        await self._check_failures(user_id, now)
        device = session_key(device_id, token_id)
        recovery_codes = None
        if state == "pending":
            recovery_codes = await service.confirm_totp(user_id, code)
            ok = recovery_codes is not None
        else:
            ok = await service.check_totp(user_id, code)
        if not ok:
            await self._add_failure(user_id, now)
            await record_operation(
                self._api,
                request,
                user_id,
                "admin.session.refused",
                f"path:{VERIFY_PATH}",
                None,
                None,
                reason="动态验证码错误",
                errcode="M_FORBIDDEN",
                device_id=device_id,
            )
            raise forbidden("动态验证码错误或已使用过")
        await self._api.run_db_interaction(
            "jwwx_admin_totp_failures_clear", storage.clear_totp_failures_txn, user_id
        )
        how = "enrolment" if recovery_codes is not None else "totp"
        seen = await self.mark(user_id, device, how)
        await record_operation(
            self._api,
            request,
            user_id,
            "admin.session.verify",
            f"session:{device}",
            None,
            {"verified_by": how},
        )
        answer = self._describe(user_id, device, seen, True, "enabled")
        if recovery_codes is not None:
            answer["recovery_codes"] = recovery_codes
        return answer

    # Issued elsewhere.

    async def mark_bootstrap(self, user_id: str, device_id: str) -> None:
        await self.mark(user_id, device_id, "bootstrap")

    async def prune(self) -> None:
        if not self._runtime.is_ready:
            return
        # Rows idle for a day past the timeout: their sessions must verify again anyway.
        cutoff = self._now() - self._idle_ms - 24 * 3600 * 1000
        await self._api.run_db_interaction(
            "jwwx_admin_session_prune", storage.prune_admin_sessions_txn, cutoff
        )
        await self._api.run_db_interaction(
            "jwwx_admin_totp_failures_prune",
            storage.prune_totp_failures_txn,
            self._now() - FAILURE_WINDOW_MS,
        )


class SessionLoginHooks:
    """Login hooks (modules.common.synapse.patches.add_login_hooks): a TOTP login marks
    the new device verified for the admin API, any other login of it unmarks it."""

    def __init__(self, sessions: AdminSessions) -> None:
        self._sessions = sessions

    async def before_login(self, attempt: LoginAttempt) -> None:
        return None

    async def login_failed(self, attempt: LoginAttempt, exc: Exception) -> None:
        return None

    async def login_verified(self, attempt: LoginAttempt, user_id: str) -> None:
        return None

    async def session_created(
        self, attempt: LoginAttempt, user_id: str, device_id: str | None
    ) -> None:
        if attempt.reauth or not device_id:
            return
        sessions = self._sessions
        code = attempt.submission.get("code")
        verified = (
            attempt.submission.get("type") == accounts.LOGIN_TYPE
            and isinstance(code, str)
            and not accounts.is_device_key(code)
        )
        if not verified and not isinstance(attempt.submission.get("device_id"), str):
            # A device Synapse has just named: no earlier session of it can be marked,
            # so an officer's ordinary login needs no admin lookup (issue 17, item 4).
            return
        try:
            if not await sessions.is_admin(user_id):
                return
            if verified:
                await sessions.mark(user_id, device_id, "login")
            else:
                await sessions.forget(user_id, device_id)
        except Exception:
            # The login itself has succeeded; the session stays unverified.
            logger.exception("admin session mark after login of %s", user_id)
