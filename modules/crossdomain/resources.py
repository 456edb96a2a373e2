# SPDX-License-Identifier: AGPL-3.0-or-later
"""HTTP of modules.crossdomain (docs/federation.md).

Admin, /_jwwx/admin/v1/crossdomain/peers: GET every stored policy (with "allowed":
    whether the domain is allow-listed now); peers/{domain}: GET, PUT (the whole
    policy, modules/crossdomain/policy.py; a domain may get its policy before it is
    allow-listed), DELETE (back to nothing permitted; 404 when there is none). The super admin's (scope crossdomain.peers). Every PUT
    and DELETE is one operation-log record (crossdomain.peer.update / .delete, target
    peer:{domain}, before/after).
Client, /_jwwx/client/v1/crossdomain/directory/search?server=&q=&limit=&from=: an
    officer searches a peer domain's directory (by name or pinyin) through this server;
    apps?server=: the apps that domain publishes to ours. 403
    CN_JWWX_CROSS_DOMAIN_FORBIDDEN when the officer's unit may not talk with it; 502
    when the peer cannot be reached; the peer's error otherwise.
Federation, /_jwwx/federation/v1/crossdomain/directory/search?q=&limit=&from= and
    /apps: what a peer server asks for its officers, signed by it (X-Matrix) and
    answered under that peer's policy only (unsigned, badly signed or not allow-listed:
    Synapse's 401/403).
"""

import re
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.admin_router import AdminRouter
from modules.common.errors import error
from modules.common.http import Router
from modules.common.inputs import query_param, read_json_object
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes, SynapseError
from modules.common.synapse.federation import (
    FederationRefusedError,
    is_domain_allowed,
    signed_origin,
)
from modules.crossdomain import storage
from modules.crossdomain.policy import parse_policy, policy_of
from modules.crossdomain.service import FEDERATION_PREFIX, CrossDomainService

ADMIN_PREFIX = "/_jwwx/admin/v1/crossdomain"
CLIENT_PREFIX = "/_jwwx/client/v1/crossdomain"
SCOPE = "crossdomain.peers"
MAX_QUERY = 64
SERVER_NAME = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?$"
)
MAX_LIMIT = 50


def _peer_name(api: ModuleApi, domain: str) -> str:
    """A server name a policy may be kept for (allow-listed or not yet)."""
    if not SERVER_NAME.match(domain) or domain == api.server_name:
        raise error(400, Codes.INVALID_PARAM, f"{domain[:80]!r} 不是其他域的服务器名")
    return domain


def _domain(api: ModuleApi, domain: str) -> str:
    if domain == api.server_name or not is_domain_allowed(api, domain):
        raise error(
            404,
            Codes.NOT_FOUND,
            f"{domain} 不在跨域白名单中（init --federation-allow）",
        )
    return domain


def _query(request: Any, name: str) -> str:
    value = (query_param(request, name) or "").strip()
    if not value or len(value) > MAX_QUERY:
        raise error(
            400, Codes.INVALID_PARAM, f"参数 {name} 必须是 1 到 {MAX_QUERY} 个字符"
        )
    return value


MAX_URL = 2048


def _app_args(agentid: Any, url: Any) -> tuple[int, str]:
    """(agentid, url) of opening a peer's app: a positive integer and an http(s) URL
    (the app's page, in its trusted domain: the app's server checks that)."""
    if not isinstance(agentid, int) or isinstance(agentid, bool) or agentid < 1:
        raise error(400, Codes.INVALID_PARAM, "agentid 必须是正整数")
    if (
        not isinstance(url, str)
        or not url.startswith(("https://", "http://"))
        or len(url) > MAX_URL
    ):
        raise error(
            400, Codes.INVALID_PARAM, f"url 必须是 http(s) 地址，最长 {MAX_URL}"
        )
    return agentid, url


class CrossDomainAdminResource(AdminRouter):
    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, service: CrossDomainService
    ) -> None:
        super().__init__(api, runtime)
        self._service = service
        self.route("GET", "peers", self.list_peers)
        self.route("GET", "peers/{domain}", self.get_peer)
        self.route("PUT", "peers/{domain}", self.put_peer)
        self.route("DELETE", "peers/{domain}", self.delete_peer)

    async def list_peers(self, request: Any) -> tuple[int, Any]:
        await self.admin(request, SCOPE)
        stored = await self.api.run_db_interaction(
            "jwwx_crossdomain_peers", storage.list_peers_txn
        )
        return 200, {
            "peers": [
                {
                    "domain": domain,
                    "allowed": is_domain_allowed(self.api, domain),
                    **policy_of(row["policy"]).to_json(),
                    "updated_by": row["updated_by"],
                    "updated_ts": row["updated_ts"],
                }
                for domain, row in stored.items()
            ]
        }

    async def _current(self, domain: str) -> dict[str, Any]:
        stored = await self.api.run_db_interaction(
            "jwwx_crossdomain_peer", storage.get_peer_txn, domain
        )
        return policy_of(None if stored is None else stored["policy"]).to_json()

    async def get_peer(self, request: Any, domain: str) -> tuple[int, Any]:
        await self.admin(request, SCOPE)
        _peer_name(self.api, domain)
        return 200, {"domain": domain, **await self._current(domain)}

    async def put_peer(self, request: Any, domain: str) -> tuple[int, Any]:
        admin = await self.admin(request, SCOPE)
        _peer_name(self.api, domain)
        policy = parse_policy(read_json_object(request))
        before = await self._current(domain)
        after = policy.to_json()
        await self.api.run_db_interaction(
            "jwwx_crossdomain_put",
            storage.put_peer_txn,
            domain,
            after,
            admin,
            self.api.get_current_time_msec(),
        )
        self._service.forget(domain)
        await self.log(
            request,
            admin,
            "crossdomain.peer.update",
            f"peer:{domain}",
            before,
            after,
        )
        return 200, {"domain": domain, **after}

    async def delete_peer(self, request: Any, domain: str) -> tuple[int, Any]:
        admin = await self.admin(request, SCOPE)
        _peer_name(self.api, domain)
        before = await self._current(domain)
        deleted = await self.api.run_db_interaction(
            "jwwx_crossdomain_delete", storage.delete_peer_txn, domain
        )
        if not deleted:
            raise error(404, Codes.NOT_FOUND, f"没有 {domain} 的跨域策略")
        self._service.forget(domain)
        await self.log(
            request,
            admin,
            "crossdomain.peer.delete",
            f"peer:{domain}",
            before,
            None,
        )
        return 200, {}


class CrossDomainClientResource(Router):
    def __init__(self, api: ModuleApi, service: CrossDomainService) -> None:
        super().__init__(api)
        self._service = service
        self.route("GET", "directory/search", self.search)
        self.route("GET", "apps", self.apps)
        self.route("POST", "apps/open", self.open_app)
        self.route("GET", "bridge/permitted", self.bridge_permitted)
        self.route("GET", "bridge/directory/search", self.bridge_search)

    def translate_error(self, exc: Exception) -> Exception | None:
        if isinstance(exc, FederationRefusedError):
            body = exc.body
            return error(
                exc.status,
                str(body.get("errcode") or Codes.UNKNOWN),
                str(body.get("error") or "对方域拒绝了请求"),
            )
        return None

    async def search(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        domain = _domain(self.api, _query(request, "server"))
        args = {
            "q": _query(request, "q"),
            "limit": str(self.integer_arg(request, "limit", 20, 1, MAX_LIMIT)),
            "from": str(self.integer_arg(request, "from", 0, 0, 10_000)),
        }
        answer = await self._service.ask_peer(user_id, domain, "directory/search", args)
        return 200, {"server": domain, **answer}

    async def apps(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        domain = _domain(self.api, _query(request, "server"))
        answer = await self._service.ask_peer(user_id, domain, "apps", {})
        return 200, {"server": domain, **answer}

    async def open_app(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        body = read_json_object(request)
        domain = _domain(self.api, str(body.get("server") or ""))
        agentid, url = _app_args(body.get("agentid"), body.get("url"))
        args = {"agentid": str(agentid), "user_id": user_id, "url": url}
        answer = await self._service.ask_peer(user_id, domain, "apps/open", args)
        return 200, {"server": domain, **answer}

    async def _bridge_domain(self, request: Any) -> str:
        """The domain of the calling bridge (config `bridges`, by registration id)."""
        requester = await self.api.get_user_by_req(request)
        domain = self._service.bridge_of_service(requester.app_service_id)
        if domain is None:
            raise error(403, Codes.FORBIDDEN, "只有配置的桥接应用服务可以调用")
        return domain

    async def bridge_permitted(self, request: Any) -> tuple[int, Any]:
        # Not `user_id`: that is an application service's masquerade parameter.
        user_id = _query(request, "officer")
        if not user_id.startswith("@") or not self.api.is_mine(user_id):
            raise error(400, Codes.INVALID_PARAM, "officer 必须是本服务器的账号")
        domain = await self._bridge_domain(request)
        permitted = await self._service.may_talk(user_id, domain)
        return 200, {"user_id": user_id, "domain": domain, "permitted": permitted}

    async def bridge_search(self, request: Any) -> tuple[int, Any]:
        query = _query(request, "q")
        limit = self.integer_arg(request, "limit", 20, 1, MAX_LIMIT)
        offset = self.integer_arg(request, "from", 0, 0, 10_000)
        domain = await self._bridge_domain(request)
        answer = await self._service.directory_for_peer(domain, query, limit, offset)
        return 200, {"server": domain, **answer}


class CrossDomainFederationResource(Router):
    def __init__(self, api: ModuleApi, service: CrossDomainService) -> None:
        super().__init__(api)
        self._service = service
        self.route("GET", "directory/search", self.search)
        self.route("GET", "apps", self.apps)
        self.route("GET", "apps/open", self.open_app)

    async def _origin(self, request: Any) -> str:
        try:
            return await signed_origin(self.api, request)
        except SynapseError:
            raise
        except Exception as e:  # a malformed header Synapse did not foresee
            raise error(401, Codes.UNAUTHORIZED, "签名无效") from e

    async def search(self, request: Any) -> tuple[int, Any]:
        origin = await self._origin(request)
        return 200, await self._service.directory_for_peer(
            origin,
            _query(request, "q"),
            self.integer_arg(request, "limit", 20, 1, MAX_LIMIT),
            self.integer_arg(request, "from", 0, 0, 10_000),
        )

    async def apps(self, request: Any) -> tuple[int, Any]:
        origin = await self._origin(request)
        return 200, await self._service.apps_for_peer(origin)

    async def open_app(self, request: Any) -> tuple[int, Any]:
        origin = await self._origin(request)
        agentid, url = _app_args(
            self.integer_arg(request, "agentid", 0, 1, 10**12),
            query_param(request, "url"),
        )
        user_id = query_param(request, "user_id") or ""
        return 200, await self._service.open_app_for_peer(origin, user_id, agentid, url)


__all__ = [
    "ADMIN_PREFIX",
    "CLIENT_PREFIX",
    "FEDERATION_PREFIX",
    "CrossDomainAdminResource",
    "CrossDomainClientResource",
    "CrossDomainFederationResource",
]
