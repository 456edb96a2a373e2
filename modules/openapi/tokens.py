# SPDX-License-Identifier: AGPL-3.0-or-later
"""access_token: issued by gettoken, checked by every /cgi-bin/ endpoint.

A token is HMAC-SHA256(app secret, "agentid:issued_ts:salt") in URL-safe base64; the
database keeps only its SHA-256 (and the salt), so every worker agrees on which tokens
are valid, and gettoken can give the caller (who holds the secret) the same token again
while it is fresh. Checked tokens are cached in memory for `token_cache_seconds`.
"""

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.storage import Txn
from modules.openapi import errors, storage
from modules.openapi.apps import secret_hash
from modules.openapi.config import OpenApiConfig
from modules.openapi.errors import WeComError
from modules.openapi.storage import App, TokenRow


def derive_token(secret: str, row: TokenRow) -> str:
    message = f"{row.agentid}:{row.issued_ts}:{row.salt}".encode()
    mac = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class _Cached:
    agentid: int
    expires_ms: int
    checked_at: float


class TokenService:
    def __init__(self, api: ModuleApi, config: OpenApiConfig) -> None:
        self._api = api
        self._config = config
        self._cache: dict[str, _Cached] = {}
        self._apps: dict[int, tuple[App, float]] = {}

    def _now_ms(self) -> int:
        return int(self._api.get_current_time_msec())

    def forget_app(self, agentid: int) -> None:
        """After an admin change on this process: drop what is cached about the app."""
        self._apps.pop(agentid, None)
        for key in [k for k, v in self._cache.items() if v.agentid == agentid]:
            del self._cache[key]

    async def issue(
        self,
        corpid: str | None,
        secret: str | None,
        check_app: Callable[[App], None] | None = None,
    ) -> dict[str, Any]:
        """gettoken; check_app (the IP allow-list) may refuse the app by raising."""
        if not corpid:
            raise WeComError(errors.MISSING_CORPID)
        if corpid != self._config.corpid:
            raise WeComError(errors.INVALID_CORPID)
        if not secret:
            raise WeComError(errors.MISSING_SECRET)
        now = self._now_ms()
        ttl_ms = self._config.access_token_ttl_seconds * 1000
        margin_ms = self._config.token_reuse_margin_seconds * 1000

        def issue_txn(txn: Txn) -> TokenRow | None:
            app = storage.app_by_secret_txn(txn, secret_hash(secret))
            if app is None:
                return None
            if check_app is not None:
                check_app(app)
            row = storage.newest_token_txn(txn, app.agentid, now + margin_ms)
            if row is None:
                row = TokenRow(app.agentid, secrets.token_hex(8), now, now + ttl_ms)
                storage.insert_token_txn(
                    txn, token_hash(derive_token(secret, row)), row
                )
            return row

        row = await self._api.run_db_interaction("jwwx_openapi_gettoken", issue_txn)
        if row is None:
            raise WeComError(errors.INVALID_SECRET, "invalid corpsecret")
        return {
            "access_token": derive_token(secret, row),
            "expires_in": max(1, (row.expires_ts - now) // 1000),
        }

    async def check(self, token: str | None) -> App:
        """The app behind a token: 41001 missing, 40014 unknown, 42001 expired."""
        if not token:
            raise WeComError(errors.MISSING_TOKEN)
        key = token_hash(token)
        now = self._now_ms()
        cached = self._cache.get(key)
        if (
            cached is None
            or time.monotonic() - cached.checked_at > self._config.token_cache_seconds
        ):
            found = await self._api.run_db_interaction(
                "jwwx_openapi_check_token", storage.token_by_hash_txn, key
            )
            if found is None:
                self._cache.pop(key, None)
                raise WeComError(errors.INVALID_TOKEN)
            cached = _Cached(found[0], found[1], time.monotonic())
            if len(self._cache) > 100000:
                self._cache.clear()
            self._cache[key] = cached
        if cached.expires_ms <= now:
            raise WeComError(errors.TOKEN_EXPIRED)
        return await self.app(cached.agentid)

    async def app(self, agentid: int) -> App:
        entry = self._apps.get(agentid)
        if (
            entry is None
            or time.monotonic() - entry[1] > self._config.token_cache_seconds
        ):
            app = await self._api.run_db_interaction(
                "jwwx_openapi_app", storage.get_app_txn, agentid
            )
            if app is None:
                raise WeComError(errors.INVALID_TOKEN)
            entry = (app, time.monotonic())
            self._apps[agentid] = entry
        return entry[0]

    async def purge(self) -> None:
        """Forget tokens that expired over a day ago (42001 is answered until then)."""
        before = self._now_ms() - 86400 * 1000
        await self._api.run_db_interaction(
            "jwwx_openapi_purge_tokens", storage.purge_tokens_txn, before
        )
