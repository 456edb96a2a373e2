# SPDX-License-Identifier: AGPL-3.0-or-later
"""OAuth2 web login (网页授权): /connect/oauth2/authorize and /cgi-bin/auth/getuserinfo.

authorize checks the corp id and that redirect_uri's host is the app's trusted domain
(redirect_domain; exactly, port included), identifies the officer (an existing Matrix
access token in the Authorization header, or the login page, which logs in through the
standard Matrix /login and comes back with that token), checks the officer is in the app's
visible range, then redirects to redirect_uri with code and state. The code is single
use, valid five minutes, and bound to the app (or, without agentid, to the domain).
"""

import hashlib
import secrets
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.inputs import decimal
from modules.common.storage import Txn
from modules.directory import public as directory
from modules.openapi import errors, storage
from modules.openapi.errors import WeComError
from modules.openapi.redirect import (
    RedirectError,
    RedirectTarget,
    parse_redirect_uri,
    parse_trusted_domain,
    with_params,
)
from modules.openapi.scope import scope_txn
from modules.openapi.storage import App
from modules.openapi.storage import oauth as oauth_store

CODE_TTL_MS = 5 * 60 * 1000
INVALID_CODE = 40029
UNTRUSTED_DOMAIN = 50001
OUT_OF_RANGE = 50002


class OAuthError(Exception):
    """A refusal shown to the officer (never a redirect)."""

    def __init__(self, errcode: int, message: str) -> None:
        super().__init__(message)
        self.errcode = errcode
        self.message = message


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def redirect_target(redirect_uri: str) -> RedirectTarget:
    try:
        return parse_redirect_uri(redirect_uri)
    except RedirectError as e:
        raise OAuthError(UNTRUSTED_DOMAIN, str(e)) from e


def trusted_apps(apps: list[App], target: RedirectTarget) -> list[App]:
    """The apps among `apps` whose redirect_domain admits target."""
    found = []
    for app in apps:
        trusted = parse_trusted_domain(app.redirect_domain or "")
        if trusted is not None and trusted.admits(target):
            found.append(app)
    return found


def _untrusted(target: RedirectTarget) -> OAuthError:
    return OAuthError(
        UNTRUSTED_DOMAIN,
        f"回调地址 {target.scheme}://{target.host}:{target.port} 不是应用的可信域名",
    )


def authorize_txn(
    txn: Txn,
    agentid: int | None,
    target: RedirectTarget,
    userid: str,
    code_hash: str,
    now: int,
) -> str:
    """Record a code for userid; returns the app name (for messages)."""
    if agentid is not None:
        app = storage.get_app_txn(txn, agentid)
        if app is None:
            raise OAuthError(errors.INVALID_AGENTID, f"应用 {agentid} 不存在")
        apps = [app]
    else:
        apps = storage.list_apps_txn(txn)
    trusted = trusted_apps(apps, target)
    if not trusted:
        raise _untrusted(target)
    member = directory.get_member_txn(txn, userid)
    if member is not None:
        departments = directory.get_departments_txn(txn, sorted(member.department_ids))
        if not any(scope_txn(txn, a).has_member(member, departments) for a in trusted):
            raise OAuthError(OUT_OF_RANGE, "您不在该应用的可见范围内")
    oauth_store.insert_code_txn(
        txn,
        code_hash,
        agentid,
        trusted[0].redirect_domain,
        userid,
        now + CODE_TTL_MS,
    )
    return trusted[0].name


def redeem_txn(txn: Txn, app: App, code_hash: str, now: int) -> dict[str, Any]:
    """Consume the code (whoever presents it: a code is single use, so one shown to the
    wrong app is gone too) and answer its officer, or {"error": why} (40029). Refusals
    are returned, not raised, so that the DELETE is committed."""
    row = oauth_store.take_code_txn(txn, code_hash)
    if row is None:
        return {"error": "invalid code"}
    agentid, domain, userid, expires = row
    if int(expires) < now:
        return {"error": "code expired"}
    if agentid is not None and int(agentid) != app.agentid:
        return {"error": "code was issued to another app"}
    if agentid is None and app.redirect_domain != domain:
        return {"error": "code was issued for another domain"}
    if directory.get_member_txn(txn, userid) is None:
        return {"openid": userid}
    return {"userid": userid}


def page_user_txn(
    txn: Txn, code_hash: str, target: RedirectTarget, now: int
) -> str | None:
    """Consume the code and answer its officer when it was issued for a redirect into
    a domain that admits `target` (our own page) and is fresh; else None."""
    row = oauth_store.take_code_txn(txn, code_hash)
    if row is None:
        return None
    _agentid, domain, userid, expires = row
    trusted = parse_trusted_domain(domain or "")
    if int(expires) < now or trusted is None or not trusted.admits(target):
        return None
    if str(userid).startswith("@"):
        return None  # a visitor of another domain (visitor_code_url): no page of ours
    return str(userid)


class OAuth:
    def __init__(self, api: ModuleApi, corpid: str) -> None:
        self._api = api
        self._corpid = corpid

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    def check_request(
        self, params: dict[str, str]
    ) -> tuple[int | None, RedirectTarget]:
        """(agentid, redirect target) of an authorize request, or OAuthError."""
        if params.get("appid") != self._corpid:
            raise OAuthError(errors.INVALID_CORPID, "appid 不是本单位的企业ID")
        if (params.get("response_type") or "code") != "code":
            raise OAuthError(errors.INVALID_PARAMETER, "response_type 只能是 code")
        target = redirect_target(params.get("redirect_uri") or "")
        text = params.get("agentid") or ""
        agentid = decimal(text, 12) if text else None
        if text and agentid is None:
            raise OAuthError(errors.INVALID_AGENTID, "agentid 不合法")
        return agentid, target

    async def app_name(self, agentid: int | None, target: RedirectTarget) -> str:
        def name_txn(txn: Txn) -> str:
            if agentid is not None:
                app = storage.get_app_txn(txn, agentid)
                apps = [app] if app is not None else []
            else:
                apps = storage.list_apps_txn(txn)
            trusted = trusted_apps(apps, target)
            if not trusted:
                raise _untrusted(target)
            return trusted[0].name

        return str(
            await self._api.run_db_interaction("jwwx_openapi_oauth_app", name_txn)
        )

    async def grant(self, params: dict[str, str], user_id: str) -> str:
        """The redirect URL with a fresh code, for the officer behind user_id."""
        agentid, target = self.check_request(params)
        if not self._api.is_mine(user_id):
            raise OAuthError(errors.INVALID_USERID, "只有本单位账号可以授权")
        return await self._issue(
            agentid, target, user_id[1:].split(":", 1)[0], params.get("state", "")
        )

    async def visitor_code_url(self, agentid: int, url: str, user_id: str) -> str:
        """`url` with a fresh code of app `agentid` for an officer of another police
        domain (`user_id`, his full Matrix id, vouched for by his server's signed
        request: modules.crossdomain). No member of ours, so getuserinfo answers him
        as an openid (WeCom's answer for a non-member) and no visible range applies."""
        if not user_id.startswith("@") or self._api.is_mine(user_id):
            raise OAuthError(errors.INVALID_USERID, "访客必须是其他域的账号")
        params = {"appid": self._corpid, "redirect_uri": url, "agentid": str(agentid)}
        checked, target = self.check_request(params)
        return await self._issue(checked, target, user_id, "crossdomain")

    async def _issue(
        self, agentid: int | None, target: RedirectTarget, userid: str, state: str
    ) -> str:
        """The redirect with a fresh code for `userid` (a member's userid, or a
        visitor's full Matrix id: no userid starts with @)."""
        code = secrets.token_urlsafe(24)
        await self._api.run_db_interaction(
            "jwwx_openapi_oauth_authorize",
            authorize_txn,
            agentid,
            target,
            userid,
            _hash(code),
            self._now(),
        )
        try:
            return with_params(target, {"code": code, "state": state})
        except RedirectError as e:
            raise OAuthError(UNTRUSTED_DOMAIN, str(e)) from e

    async def check_target(self, agentid: int, url: str) -> str:
        """The app's name when `url` lies in its trusted domain (OAuthError if not)."""
        return await self.app_name(agentid, redirect_target(url))

    async def code_url(self, agentid: int, url: str, user_id: str, state: str) -> str:
        """`url` with a fresh code for this app and officer (as authorize would answer
        the officer's own client): a jump from the workbench."""
        params = {
            "appid": self._corpid,
            "redirect_uri": url,
            "agentid": str(agentid),
            "state": state,
        }
        return await self.grant(params, user_id)

    async def redeem(self, app: App, code: str | None) -> dict[str, Any]:
        if not code:
            raise WeComError(INVALID_CODE, "code missing")
        answer = dict(
            await self._api.run_db_interaction(
                "jwwx_openapi_oauth_redeem", redeem_txn, app, _hash(code), self._now()
            )
        )
        if "error" in answer:
            raise WeComError(INVALID_CODE, answer["error"])
        return answer

    async def page_user(self, code: str, url: str) -> str | None:
        """The officer of a code issued for a redirect to `url`'s trusted domain (a
        page this homeserver serves itself redeems it: no app in between); the code
        is consumed. None when invalid, used, expired or for another domain."""
        try:
            target = redirect_target(url)
        except OAuthError:
            return None
        found = await self._api.run_db_interaction(
            "jwwx_openapi_oauth_page", page_user_txn, _hash(code), target, self._now()
        )
        return None if found is None else str(found)

    async def purge(self) -> None:
        await self._api.run_db_interaction(
            "jwwx_openapi_oauth_purge", oauth_store.purge_codes_txn, self._now()
        )
