# SPDX-License-Identifier: AGPL-3.0-or-later
"""Bootstrap token: lets the operator who holds the registration shared secret act as the
bootstrap admin, e.g. to reset its password (`python -m homeserver create-admin`).

GET  /_jwwx/admin/v1/bootstrap/token → {"nonce"}  (single use, short-lived)
POST /_jwwx/admin/v1/bootstrap/token {"user": localpart, "nonce", "mac"}
     mac = hex HMAC-SHA256(shared secret, nonce + "\\0" + user)
     → {"user_id", "device_id", "access_token"}; the user is made a server admin, and
     the session counts as verified for the admin API (sessions.py); the operation log
     records it (admin.bootstrap.token, never the token).
Errors: M_MISSING_PARAM, M_UNKNOWN (bad/expired nonce), M_FORBIDDEN (bad mac),
M_NOT_FOUND (no such user).
"""

import hashlib
import hmac
import secrets
import time
from typing import Any

from synapse.module_api import ModuleApi

from admin_api.config import AdminApiConfig
from admin_api.sessions import AdminSessions
from modules.common.admin import record_operation
from modules.common.errors import error, forbidden, missing_param
from modules.common.resource import JsonResource, read_json_object
from modules.common.synapse.errors import Codes

BOOTSTRAP_PATH = "/_jwwx/admin/v1/bootstrap/token"


class BootstrapTokenResource(JsonResource):
    def __init__(
        self, api: ModuleApi, config: AdminApiConfig, sessions: AdminSessions
    ) -> None:
        super().__init__(api)
        self._config = config
        self._sessions = sessions
        self._nonces: dict[str, float] = {}

    async def on_GET(self, request: Any) -> tuple[int, Any]:
        now = time.monotonic()
        self._nonces = {n: t for n, t in self._nonces.items() if t > now}
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = now + self._config.bootstrap_nonce_ttl_seconds
        return 200, {"nonce": nonce}

    async def on_POST(self, request: Any) -> tuple[int, Any]:
        body = read_json_object(request)
        for key in ("user", "nonce", "mac"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise missing_param(f"缺少字段 {key}")
        expiry = self._nonces.pop(body["nonce"], None)
        if expiry is None or expiry < time.monotonic():
            raise error(400, Codes.UNKNOWN, "nonce 无效或已过期")
        expected = hmac.new(
            self._config.shared_secret().encode("utf-8"),
            f"{body['nonce']}\x00{body['user']}".encode(),
            hashlib.sha256,
        ).hexdigest()
        if not hmac.compare_digest(expected, body["mac"]):
            raise forbidden("mac 校验失败")
        user_id = self.api.get_qualified_user_id(body["user"])
        if await self.api.check_user_exists(user_id) is None:
            raise error(404, Codes.NOT_FOUND, f"用户 {user_id} 不存在")
        was_admin = await self.api.is_user_admin(user_id)
        await self.api.set_user_admin(user_id, True)
        device_id, access_token, _expiry, _refresh = await self.api.register_device(
            user_id, initial_display_name="jwwx-bootstrap"
        )
        # A token minted from the shared secret is an admin operation like any other.
        await record_operation(
            self.api,
            request,
            user_id,
            "admin.bootstrap.token",
            f"user:{user_id}",
            {"server_admin": was_admin},
            {"server_admin": True, "device_id": device_id},
        )
        # The operator holding the shared secret could register and enrol an admin
        # anyway: the session counts as having passed the second factor.
        await self._sessions.mark_bootstrap(user_id, device_id)
        return 200, {
            "user_id": user_id,
            "device_id": device_id,
            "access_token": access_token,
        }
