# SPDX-License-Identifier: AGPL-3.0-or-later
"""Login security: phone-number login, lockout, the login log and per-class device limits.

LoginGuard is registered as login hooks (modules.common.synapse.patches.add_login_hooks),
so it sees every password (or module login type) check Synapse makes, for /login and
for re-authentication in user-interactive auth, with the client's IP and user agent:

- before the check: m.id.phone (and the legacy msisdn forms) becomes the directory
  member's user id; a locked account or IP address is refused (403 CN_JWWX_LOGIN_LOCKED)
  without checking the password; oversized identifiers, device ids, codes and
  passwords are refused (400 M_INVALID_PARAM) before anything is counted or logged;
- a wrong password counts towards the account's and the IP address's lock;
- every attempt that names someone is written to the login log; bad requests (400) are
  answered by Synapse and change nothing;
- once /login has issued the device, older sessions of the same platform class beyond
  the configured limit are signed out (and logged as kind "kick").
"""

import dataclasses
import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from prometheus_client import Counter
from synapse.module_api import ModuleApi

from modules.accounts import directory_link, storage
from modules.accounts.config import PLATFORMS, AccountsConfig
from modules.accounts.gate import FirstLoginGate
from modules.accounts.login_writes import LoginWrite, LoginWrites
from modules.accounts.mfa import LOGIN_TYPE as MFA_LOGIN_TYPE
from modules.accounts.mfa import Mfa, bound_device_txn, device_key_id
from modules.accounts.platform import classify
from modules.accounts.security_policy import SecurityPolicies
from modules.common.errors import LOGIN_LOCKED, MFA_REQUIRED, error
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.accounts import delete_devices, login_error
from modules.common.synapse.database import run_single_read
from modules.common.synapse.errors import Codes, SynapseError
from modules.common.synapse.patches import LoginAttempt
from modules.common.synapse.rooms import send_server_notice

logger = logging.getLogger(__name__)

MAX_IDENTIFIER = 255  # also for device ids and second-factor codes
MAX_PASSWORD = 512  # the password policy allows at most 512 (bcrypt reads 72 bytes)
WRONG_CREDENTIALS = "账号或密码错误"
PLATFORM_FIELD = "cn.jwwx.platform"
BEIJING = timezone(timedelta(hours=8))
PLATFORM_NAMES = {"mobile": "手机", "desktop": "电脑", "web": "网页", "other": "其他"}


LOGINS = Counter(
    "jwwx_accounts_logins_verified",
    "Logins whose credentials were accepted (a second factor may still follow)",
)
LOGIN_FAILURES = Counter(
    "jwwx_accounts_login_failures", "Refused logins, by Matrix errcode", ["errcode"]
)
HISTORY = 500  # earlier successful logins compared with a new one
NEWEST = 2**62  # above every log id: the new login's own entry is not written yet


def network_of(ip: str | None) -> str:
    """The /24 (IPv4) or /64 (IPv6) an address belongs to; the text itself otherwise."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def notice_text(
    now_ms: int, ip: str, platform: str, device_id: str, reasons: list[str]
) -> str:
    moment = datetime.fromtimestamp(now_ms / 1000, BEIJING).strftime("%Y-%m-%d %H:%M")
    what = "、".join(
        {"new_network": "新的网络位置", "new_device": "新的设备"}[r] for r in reasons
    )
    return (
        f"【登录提醒】您的账号于 {moment}（北京时间）从{what}登录："
        f"IP {ip}，设备类型 {PLATFORM_NAMES.get(platform, platform)}，设备 {device_id}。"
        "如非本人操作，请立即修改密码并联系管理员。"
    )


@dataclass
class SessionsRead:
    """What the device-class limit and the new-place check read of an account: its
    earlier successful logins (only with alerts on), live devices and session rows.
    `generation` is LoginWrites.generation when read: a login of the same account
    queued since makes it stale."""

    generation: int
    alerts: bool
    earlier: list[tuple[str | None, str | None]] = field(default_factory=list)
    live: set[str] | None = None
    known: dict[str, tuple[str, int]] = field(default_factory=dict)

    def read_txn(self, txn: Any, user_id: str, before_log_id: int = NEWEST) -> None:
        self.take(
            storage.login_read_txn(
                txn,
                user_id,
                sessions=True,
                history=HISTORY if self.alerts else 0,
                before_log_id=before_log_id,
            )
        )

    def take(self, read: storage.LoginRead) -> None:
        """The sessions part of a login read (`live`: those whose device exists)."""
        self.earlier = read.earlier or []
        self.live = read.live
        self.known = read.sessions or {}


def _too_long(value: Any) -> bool:
    return isinstance(value, str) and len(value) > MAX_IDENTIFIER


class LoginGuard:
    def __init__(
        self,
        api: ModuleApi,
        runtime: ModuleRuntime,
        config: AccountsConfig,
        mfa: Mfa,
        policies: SecurityPolicies,
        gate: FirstLoginGate | None = None,
    ) -> None:
        self._api = api
        self._gate = gate
        self._runtime = runtime
        self._config = config
        self._mfa = mfa
        # Lockout numbers, device limits, alerts: the config's unless an admin set them.
        self._policies = policies
        self.writes = LoginWrites(api)

    def _db(self, name: str, fn: Any, *args: Any) -> Any:
        return self._api.run_db_interaction(f"jwwx_acc_{name}", fn, *args)

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    # Before Synapse checks the credentials.

    async def before_login(self, attempt: LoginAttempt) -> None:
        await self._runtime.ready()
        body = attempt.submission
        identifier = body.get("identifier")
        if not isinstance(identifier, dict):
            identifier = {}
        values = [
            body.get(k) for k in ("user", "address", "medium", "type", "device_id")
        ]
        values += list(identifier.values())
        values.append(body.get("code"))
        password = body.get("password")
        if any(_too_long(v) for v in values) or (
            isinstance(password, str) and len(password) > MAX_PASSWORD
        ):
            attempt.state["bad"] = True
            raise error(400, Codes.INVALID_PARAM, "登录参数过长")
        attempt.state["login_type"] = body.get("type")
        attempt.state["platform"] = self._platform(attempt)
        phone = self._phone_of(body, identifier)
        if phone is not None:
            attempt.state["identifier"] = f"phone:{phone[1]}"
            candidates = directory_link.phone_candidates(phone[0], phone[1])
            userid = None
            if candidates and directory_link.directory_key(self._api) is not None:
                userid = await self._db(
                    "user_by_phone", directory_link.userid_by_phone_txn, candidates
                )
            if userid is None:
                raise login_error(WRONG_CREDENTIALS)
            user_id = self._api.get_qualified_user_id(userid)
            for legacy in ("medium", "address", "user"):
                body.pop(legacy, None)
            body["identifier"] = {"type": "m.id.user", "user": user_id}
        else:
            user = identifier.get("user") if identifier else body.get("user")
            if not isinstance(user, str) or not user:
                return  # Synapse answers this (400 or another identifier type)
            attempt.state["identifier"] = user
            user_id = (
                user.lower()
                if user.startswith("@")
                else self._api.get_qualified_user_id(user.lower())
            )
        attempt.state["user_id"] = user_id
        now = self._now()
        ip = attempt.request.ip if attempt.request else None
        check_mfa, check_binding = self._second_factor_checks(attempt)
        code = body.get("code")
        # The directory's initial-password lookup (its password provider runs next)
        # and, for /login, what session_created needs (earlier logins, devices,
        # sessions) are read here too: one read of ours before the answer (issue 17).
        initial = (
            directory_link.initial_logins(self._api)
            if body.get("type") == "m.login.password"
            else None
        )
        sessions: SessionsRead | None = None
        if not attempt.reauth:
            # After the queued writes of this account's previous login.
            await self.writes.settled(user_id)
            alerts = (await self._policies.current()).new_login_alerts
            sessions = SessionsRead(self.writes.generation(user_id), alerts)

        key_id = device_key_id(code) if check_binding else None

        def locks_txn(txn: Any) -> tuple[int | None, bool, str | None, Any]:
            # Locks, the second factor (read here so that a login commits a single
            # transaction of ours: login_verified writes nothing), the sessions and
            # the directory's initial-password lookup: one statement, sent outside an
            # explicit transaction (two round trips on PostgreSQL; it was four).
            read = storage.login_read_txn(
                txn,
                user_id,
                now=now,
                ip=ip,
                mfa=check_mfa,
                key_id=key_id,
                sessions=sessions is not None,
                history=HISTORY if sessions is not None and sessions.alerts else 0,
                extra=initial.lookup_part(user_id) if initial is not None else None,
            )
            until = read.locked_until
            if until is not None:
                return until, read.second_factor, read.bound_device, None
            lookup = initial.lookup_from(read.extra) if initial is not None else None
            if sessions is not None:
                sessions.take(read)
            return until, read.second_factor, read.bound_device, lookup

        until, needs_mfa, bound, lookup = await run_single_read(
            self._api, "jwwx_acc_check_lock", locks_txn
        )
        attempt.state["second_factor"] = (user_id, needs_mfa, bound)
        if lookup is not None:
            attempt.state["must_change"] = lookup.must_change
        if sessions is not None and sessions.live is not None:
            attempt.state["sessions"] = sessions
        if until is None and initial is not None and lookup is not None:
            initial.prefetched(user_id, lookup)
        if until is not None:
            retry = None if until >= storage.FOREVER else until - now
            minutes = (
                "" if retry is None else f"，请 {max(1, retry // 60000)} 分钟后重试"
            )
            raise error(
                403,
                LOGIN_LOCKED,
                f"登录失败次数过多，账号（或所在网络）已被锁定{minutes}；如需解锁请联系管理员",
                **({"retry_after_ms": retry} if retry is not None else {}),
            )

    @staticmethod
    def _phone_of(
        body: dict[str, Any], identifier: dict[str, Any]
    ) -> tuple[str | None, str] | None:
        """(country, number) when the client logs in with a phone number."""
        kind = identifier.get("type")
        if kind == "m.id.phone":
            country, phone = identifier.get("country"), identifier.get("phone")
        elif kind == "m.id.thirdparty" and identifier.get("medium") == "msisdn":
            country, phone = None, identifier.get("address")
        elif not identifier and body.get("medium") == "msisdn":
            country, phone = None, body.get("address")
        else:
            return None
        if not isinstance(phone, str) or not phone.strip():
            raise error(400, Codes.INVALID_PARAM, "手机号不能为空")
        if country is not None and not isinstance(country, str):
            raise error(400, Codes.INVALID_PARAM, "country 必须是字符串")
        return country, phone.strip()

    def _platform(self, attempt: LoginAttempt) -> str:
        claimed = attempt.submission.get(PLATFORM_FIELD)
        if self._config.trust_client_platform and claimed in PLATFORMS:
            return str(claimed)
        return classify(attempt.request.user_agent if attempt.request else None)

    # After the check.

    def _entry(
        self, attempt: LoginAttempt, result: str, **extra: Any
    ) -> storage.LogEntry:
        request = attempt.request
        device_id = attempt.submission.get("device_id")
        fields: dict[str, Any] = {
            "ts": self._now(),
            "kind": "reauth" if attempt.reauth else "login",
            "user_id": attempt.state.get("user_id"),
            "identifier": attempt.state.get("identifier"),
            "login_type": attempt.state.get("login_type"),
            "ip": request.ip if request else None,
            "device_id": device_id if isinstance(device_id, str) else None,
            "user_agent": request.user_agent if request else None,
            "platform": attempt.state.get("platform"),
            "result": result,
        }
        fields.update(extra)
        return storage.LogEntry(**fields)

    async def login_failed(self, attempt: LoginAttempt, exc: Exception) -> None:
        raw = exc.errcode if isinstance(exc, SynapseError) else Codes.UNKNOWN
        LOGIN_FAILURES.labels(str(getattr(raw, "value", raw))[:40]).inc()
        if attempt.state.get("bad") or "identifier" not in attempt.state:
            return
        try:
            await self._record_failure(attempt, exc)
        except Exception:
            logger.exception("cannot record a failed login")

    async def _record_failure(self, attempt: LoginAttempt, exc: Exception) -> None:
        raw = exc.errcode if isinstance(exc, SynapseError) else Codes.UNKNOWN
        errcode = str(getattr(raw, "value", raw))
        status = exc.code if isinstance(exc, SynapseError) else 500
        if status == 400:
            return
        user_id: str = attempt.state.get("user_id") or ""
        # After a success's queued writes (its cleared count must not erase this one).
        await self.writes.settled(user_id)
        counts = errcode == Codes.FORBIDDEN
        exists = bool(user_id) and counts and await self._api.check_user_exists(user_id)
        ip = attempt.request.ip if attempt.request else None
        lockout = (await self._policies.current()).lockout
        now = self._now()
        if errcode == LOGIN_LOCKED:
            result = "locked"
        elif errcode == MFA_REQUIRED:
            result = "mfa_required"
        elif counts:
            result = "failed"
        else:
            result = errcode.lower().removeprefix("m_")

        def write_txn(txn: Any) -> list[str]:
            newly: list[str] = []
            if (
                counts
                and exists
                and storage.count_failure_txn(
                    txn,
                    storage.USER,
                    user_id,
                    now,
                    lockout.window_seconds * 1000,
                    lockout.max_failures,
                    lockout.lock_seconds * 1000,
                )
            ):
                newly.append("account")
            ip_lock = counts and ip and lockout.ip_max_failures
            if (
                ip
                and ip_lock
                and storage.count_failure_txn(
                    txn,
                    storage.IP,
                    ip,
                    now,
                    lockout.window_seconds * 1000,
                    lockout.ip_max_failures,
                    lockout.lock_seconds * 1000,
                )
            ):
                newly.append("ip")
            detail = ("locked:" + ",".join(newly)) if newly else None
            storage.add_log_txn(
                txn,
                self._entry(
                    attempt, result, errcode=errcode, detail=detail or exc_text
                ),
            )
            return newly

        exc_text = (
            str(exc.msg)[:200] if isinstance(exc, SynapseError) else type(exc).__name__
        )
        newly = await self._db("login_failed", write_txn)
        if newly:
            logger.warning("login lock for %s / %s: %s", user_id, ip, newly)

    def _second_factor_checks(self, attempt: LoginAttempt) -> tuple[bool, bool]:
        # With TOTP on, the password alone is not enough.
        check_mfa = (
            self._mfa.available
            and not attempt.reauth
            and attempt.submission.get("type") == "m.login.password"
        )
        # A device key bound to a device logs in that device only.
        check_binding = (
            not attempt.reauth and attempt.submission.get("type") == MFA_LOGIN_TYPE
        )
        return check_mfa, check_binding

    async def login_verified(self, attempt: LoginAttempt, user_id: str) -> None:
        LOGINS.inc()
        attempt.state["user_id"] = user_id
        attempt.state.setdefault("identifier", user_id)
        check_mfa, check_binding = self._second_factor_checks(attempt)
        device_id = attempt.submission.get("device_id")
        known = attempt.state.get("second_factor")
        if not attempt.reauth and known is not None and known[0] == user_id:
            # /login: the second factor was read before the password check; the log
            # entry (stamped now) and the cleared failures are written with the
            # session, in one transaction (session_created).
            _user, needs_mfa, bound = known
            if check_mfa and needs_mfa:
                raise self._mfa_required()
            if check_binding and bound is not None and bound != device_id:
                raise self._other_device(bound)
            attempt.state["pending_log"] = self._entry(attempt, "ok")
            return
        result = "ok" if attempt.reauth else "verified"

        def write_txn(txn: Any) -> tuple[str, Any]:
            if check_mfa and storage.totp_enabled_txn(txn, user_id):
                return "mfa_required", None
            if check_binding:
                bound = bound_device_txn(txn, user_id, attempt.submission.get("code"))
                if bound is not None and bound != device_id:
                    return "other_device", bound
            storage.clear_failures_txn(txn, storage.USER, user_id)
            return "ok", storage.add_log_txn(txn, self._entry(attempt, result))

        outcome, value = await self._db("login_verified", write_txn)
        if outcome == "mfa_required":
            raise self._mfa_required()
        if outcome == "other_device":
            raise self._other_device(value)
        attempt.state["log_id"] = value

    @staticmethod
    def _mfa_required() -> SynapseError:
        # The password was right, but this account logs in with a second factor.
        return error(
            403,
            MFA_REQUIRED,
            "该账号已启用双因素认证，请使用密码加动态验证码登录",
            **{"cn.jwwx.login_type": MFA_LOGIN_TYPE},
        )

    @staticmethod
    def _other_device(bound: str) -> SynapseError:
        # Counted as a wrong credential: the key was used on another device.
        return login_error(f"该设备密钥只能用于设备 {bound}（登录时须带 device_id）")

    async def session_created(
        self, attempt: LoginAttempt, user_id: str, device_id: str | None
    ) -> None:
        if attempt.reauth:
            return
        pending: storage.LogEntry | None = attempt.state.get("pending_log")
        if not device_id:
            if pending is not None:
                entry = pending
                self.writes.queue(LoginWrite(user_id, entries=[entry]))
            return
        # A login of the same account just before: its session row first.
        await self.writes.settled(user_id)
        platform = attempt.state.get("platform") or "other"
        request = attempt.request
        now = self._now()
        log_id: int | None = attempt.state.get("log_id")
        policy = await self._policies.current()
        alerts = policy.new_login_alerts and (log_id is not None or pending is not None)

        # Read before the password check (before_login), unless this account's sessions
        # changed since (another login of it in this process) or the alert policy did.
        known_read: SessionsRead | None = attempt.state.get("sessions")
        if (
            known_read is None
            or known_read.generation != self.writes.generation(user_id)
            or (alerts and not known_read.alerts)
        ):
            known_read = SessionsRead(self.writes.generation(user_id), alerts)
            await self._db(
                "session_read", known_read.read_txn, user_id, log_id or NEWEST
            )
        earlier = known_read.earlier if alerts else []
        live, known = known_read.live or set(), known_read.known
        # The new device may be missing from a read made before it existed.
        gone = [d for d in known if d not in live and d != device_id]

        self.writes.queue(
            LoginWrite(
                user_id,
                entries=(
                    []
                    if pending is None
                    else [dataclasses.replace(pending, device_id=device_id)]
                ),
                clear_failures=pending is not None,
                finish=(log_id, device_id)
                if pending is None and log_id is not None
                else None,
                session=storage.SessionRow(
                    user_id,
                    device_id,
                    platform,
                    request.user_agent if request else None,
                    request.ip if request else None,
                    now,
                ),
                forget=gone,
            )
        )
        if attempt.state.get("must_change") is False and self._gate is not None:
            # Read before the password check: no initial-password-only state, so the
            # new session's first request needs no read of it (an admin reset signs
            # every session out).
            self._gate.cleared_at_login(user_id, device_id)
        limit = policy.device_limits.get(platform, 0)
        same = sorted(
            (
                (ts, d)
                for d, (p, ts) in known.items()
                if p == platform and d in live and d != device_id
            ),
            reverse=True,
        )
        older = [d for _, d in same[limit - 1 :]] if limit else []
        if earlier:
            await self._check_new_place(user_id, device_id, platform, earlier, request)
        if older:
            await self.sign_out(
                user_id,
                older,
                detail=f"同类设备（{PLATFORM_NAMES.get(platform, platform)}）新登录：{device_id}",
                request=attempt,
                platform=platform,
            )

    async def _check_new_place(
        self,
        user_id: str,
        device_id: str,
        platform: str,
        earlier: list[tuple[str | None, str | None]],
        request: Any,
    ) -> None:
        """Alert (and tell the officer) when a login comes from a network range or a
        client never seen for the account. The first login ever sets the baseline."""
        ip = request.ip if request else ""
        agent = request.user_agent if request else ""
        reasons = []
        if network_of(ip) not in {network_of(e[0]) for e in earlier}:
            reasons.append("new_network")
        if (agent or "") not in {e[1] or "" for e in earlier}:
            reasons.append("new_device")
        if not reasons:
            return
        now = self._now()
        alert = {
            "ts": now,
            "user_id": user_id,
            "ip": ip,
            "network": network_of(ip),
            "device_id": device_id,
            "user_agent": (agent or "")[:512],
            "platform": platform,
            "reasons": ",".join(reasons),
            "notified": 0,
        }
        alert_id = await self._db("add_alert", storage.add_alert_txn, alert)
        text = notice_text(now, ip, platform, device_id, reasons)
        self._api.run_as_background_process(
            "jwwx_accounts_notice", self._notify, user_id, alert_id, text
        )

    async def _notify(self, user_id: str, alert_id: int, text: str) -> None:
        try:
            sent = await send_server_notice(self._api, user_id, text)
        except Exception:
            logger.exception("cannot send the new-login notice to %s", user_id)
            return
        if sent:
            await self._db("alert_notified", storage.mark_alert_notified_txn, alert_id)

    async def sign_out(
        self,
        user_id: str,
        device_ids: list[str],
        *,
        detail: str,
        request: LoginAttempt | None = None,
        platform: str | None = None,
        by: str | None = None,
    ) -> None:
        """Sign devices out at once and write one "kick" entry per device. From a login
        (`request`): devices of the login's `platform` class, written with its rows."""
        await delete_devices(self._api, user_id, device_ids)
        now = self._now()
        info = request.request if request else None

        def kicks(platforms: Mapping[str, str | None]) -> list[storage.LogEntry]:
            return [
                storage.LogEntry(
                    ts=now,
                    kind="kick",
                    user_id=user_id,
                    identifier=by,
                    login_type=None,
                    ip=info.ip if info else None,
                    device_id=device_id,
                    user_agent=None,
                    platform=platforms.get(device_id),
                    result="signed_out",
                    detail=detail,
                )
                for device_id in device_ids
            ]

        if request is not None:
            # From a login: after its own (queued) log entry and session row.
            self.writes.queue(
                LoginWrite(
                    user_id,
                    entries=kicks(dict.fromkeys(device_ids, platform)),
                    forget=device_ids,
                )
            )
            return

        def write_txn(txn: Any) -> None:
            sessions = storage.sessions_txn(txn, user_id)
            platforms = {d: p for d, (p, _ts) in sessions.items()}
            storage.add_logs_txn(txn, kicks(platforms))
            storage.forget_sessions_txn(txn, user_id, device_ids)

        await self.writes.settled(user_id)
        await self._db("signed_out", write_txn)
