# SPDX-License-Identifier: AGPL-3.0-or-later
"""First login: an account whose only password is an initial one may do nothing but change it.

Installed as a request check (modules.common.synapse.patches.add_request_check) that runs
after Synapse has authenticated any client request. While the account still has only its
initial password (the directory's initial-password record exists and Synapse holds no
password hash for it), every authenticated request except the exempt ones below is
answered 403 CN_JWWX_PASSWORD_CHANGE_REQUIRED. Changing the password through the standard
POST /_matrix/client/v3/account/password gives Synapse a hash, which ends the state.

The same check applies the password policy to every new password sent to
/account/password (400 M_WEAK_PASSWORD with the broken rules in Chinese), because Synapse
only offers its own fixed policy, which knows neither the user nor the initial password.

Cost: a session that was seen not to need a change is remembered by its access-token id
(new logins get new tokens, and an admin reset signs every session out), so a normal
request costs one dictionary lookup; only sessions still waiting for the change query the
database, every time, so the change takes effect at once on every worker. A /login of
this process that read no initial-password-only state (LoginGuard's one read before the
password check) hands its new device over (`cleared_at_login`), so the session's first
request reads nothing either.
"""

import json
import re
import time
from collections import OrderedDict
from typing import Any

from synapse.module_api import ModuleApi

from modules.accounts import directory_link
from modules.accounts.activity import ActivityRecorder
from modules.accounts.config import PasswordPolicy
from modules.accounts.mfa import Mfa
from modules.accounts.policy import problems
from modules.common.errors import (
    MFA_ENROLMENT_REQUIRED,
    PASSWORD_CHANGE_REQUIRED,
    error,
)
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes
from modules.common.synapse.patches import AuthedRequest

PASSWORD_PATH = re.compile(r"^/_matrix/client/[^/]+/account/password$")
EXEMPT_PATHS = re.compile(
    r"^/_matrix/client/(?:[^/]+/(?:account/password|logout|logout/all|login)|versions)$"
    r"|^/_jwwx/client/v1/accounts/(?:status|password_policy)$"
)
# While enrolment is required, the enrolment endpoints work too.
MFA_PATHS = re.compile(r"^/_jwwx/client/v1/accounts/mfa(?:/.*)?$")
CHANGE_REQUIRED_TEXT = (
    "首次登录（或管理员重置密码后）须先修改初始密码，修改后即可正常使用"
)
ENROL_REQUIRED_TEXT = "按安全策略，该账号须先绑定动态验证码（双因素认证）后才能使用"
KNOWN_TOKENS = 200_000
LOGIN_CLEAR_TTL_S = 60.0  # a login's hand-over serves its session's first request
LOGIN_CLEAR_MAX = 10_000


class FirstLoginGate:
    def __init__(
        self,
        api: ModuleApi,
        runtime: ModuleRuntime,
        policy: PasswordPolicy,
        mfa: Mfa,
        activity: ActivityRecorder,
    ) -> None:
        self._api = api
        self._activity = activity
        self._runtime = runtime
        self._policy = policy
        self._mfa = mfa
        self._clear_tokens: OrderedDict[int, None] = OrderedDict()
        self._mfa_policy: tuple[str, tuple[int, ...]] | None = None
        # (user, device) of logins seen without an initial-password-only state.
        self._login_clear: OrderedDict[tuple[str, str], float] = OrderedDict()

    def cleared_at_login(self, user_id: str, device_id: str) -> None:
        self._login_clear[(user_id, device_id)] = time.monotonic()
        self._login_clear.move_to_end((user_id, device_id))
        while len(self._login_clear) > LOGIN_CLEAR_MAX:
            self._login_clear.popitem(last=False)

    def _cleared_by_login(self, request: AuthedRequest) -> bool:
        if request.device_id is None:
            return False
        seen = self._login_clear.pop((request.user_id, request.device_id), None)
        return seen is not None and time.monotonic() - seen < LOGIN_CLEAR_TTL_S

    async def check(self, request: AuthedRequest) -> None:
        if request.is_appservice:
            return
        self._activity.seen(request.user_id)  # 运营统计: active today
        if request.method == "POST" and PASSWORD_PATH.match(request.path):
            await self._check_new_password(request)
            return
        if EXEMPT_PATHS.match(request.path):
            return
        token = request.token_id
        # Sessions let through under another MFA policy are checked again under the
        # one an admin set since (security_policy.py; cached, read every few seconds).
        policy = await self._mfa.policy_key()
        if policy != self._mfa_policy:
            self._clear_tokens.clear()
            self._mfa_policy = policy
        if token is not None and token in self._clear_tokens:
            self._clear_tokens.move_to_end(token)
            return
        if not self._cleared_by_login(request) and await self.must_change(
            request.user_id
        ):
            raise error(
                403,
                PASSWORD_CHANGE_REQUIRED,
                CHANGE_REQUIRED_TEXT,
                **{"cn.jwwx.change_password": "/_matrix/client/v3/account/password"},
            )
        if await self._mfa.must_enrol(request.user_id):
            if MFA_PATHS.match(request.path):
                return
            raise error(
                403,
                MFA_ENROLMENT_REQUIRED,
                ENROL_REQUIRED_TEXT,
                **{"cn.jwwx.enrol": "/_jwwx/client/v1/accounts/mfa/totp"},
            )
        if token is not None:
            self._clear_tokens[token] = None
            if len(self._clear_tokens) > KNOWN_TOKENS:
                self._clear_tokens.popitem(last=False)

    async def must_change(self, user_id: str) -> bool:
        if directory_link.directory_key(self._api) is None:
            return False
        await self._runtime.ready()
        return bool(
            await self._api.run_db_interaction(
                "jwwx_acc_must_change", directory_link.must_change_txn, user_id
            )
        )

    async def _check_new_password(self, request: AuthedRequest) -> None:
        try:
            body = json.loads(request.body() or b"{}")
        except ValueError:
            return  # Synapse has answered M_NOT_JSON already
        new_password = body.get("new_password") if isinstance(body, dict) else None
        if not isinstance(new_password, str):
            return
        broken = await self.password_problems(request.user_id, new_password)
        if broken:
            raise error(
                400,
                Codes.WEAK_PASSWORD,
                "新密码不符合要求：" + "；".join(broken),
                **{"cn.jwwx.problems": broken},
            )

    async def password_problems(self, user_id: str, password: str) -> list[str]:
        userid = user_id[1:].split(":", 1)[0]
        key = directory_link.directory_key(self._api)
        mac = mobile = None
        if key is not None:
            await self._runtime.ready()

            def read_txn(txn: Any) -> tuple[str | None, str | None]:
                return (
                    directory_link.initial_mac_txn(txn, user_id),
                    directory_link.mobile_of_txn(txn, userid),
                )

            mac, mobile = await self._api.run_db_interaction(
                "jwwx_acc_password_context", read_txn
            )
        return problems(
            self._policy,
            password,
            userid=userid,
            mobile=mobile,
            is_initial=directory_link.is_initial_password(key, user_id, password, mac),
        )
