# SPDX-License-Identifier: AGPL-3.0-or-later
"""Decisions of modules.crossdomain: who may talk with which police domain, and what a
peer domain sees of our directory and apps.

Invites are the door between domains: a remote user reaches a room of ours, or one of
ours a room of theirs, only through one (rooms are private; public rooms are never
offered over federation). So the two spam-checker invite callbacks carry the unit rule:
- user_may_invite: one of ours invites someone of another domain: the inviter's unit
  must be permitted for that domain;
- federated_user_may_invite: someone of another domain invites one of ours: the
  invitee's unit must be permitted for the inviter's domain.
Refused with 403 CN_JWWX_CROSS_DOMAIN_FORBIDDEN (the remote inviter's server gets it as
the answer of its /invite).
"""

import logging
import time
from typing import Any, Literal

from synapse.module_api import ModuleApi, UserID

from modules.common import registry
from modules.common.errors import CROSS_DOMAIN_FORBIDDEN, error
from modules.common.runtime import ModuleRuntime
from modules.common.storage import Txn
from modules.common.synapse.errors import Codes, SynapseError
from modules.common.synapse.federation import signed_get
from modules.crossdomain import storage
from modules.crossdomain.config import CrossDomainConfig
from modules.crossdomain.policy import PeerPolicy, policy_of
from modules.directory import public as directory
from modules.openapi import public as openapi

logger = logging.getLogger(__name__)

NOT_SPAM: Literal["NOT_SPAM"] = "NOT_SPAM"
SpamResult = Literal["NOT_SPAM"] | tuple[Codes, dict[str, Any]]
FEDERATION_PREFIX = "/_jwwx/federation/v1/crossdomain"
REFUSAL = "本单位未获准与 {domain} 跨域通信"


def member_units_txn(txn: Txn, localpart: str) -> set[int]:
    """The member's departments and every department above them (empty: no member)."""
    member = directory.get_member_txn(txn, localpart)
    if member is None or not member.enabled:
        return set()
    found = directory.get_departments_txn(txn, sorted(member.department_ids))
    return {i for d in found.values() for i in d.path_ids}


def department_paths_txn(txn: Txn, ids: tuple[int, ...]) -> tuple[str, ...]:
    found = directory.get_departments_txn(txn, sorted(ids))
    return tuple(sorted(d.path for d in found.values()))


def _refused(message: str) -> SpamResult:
    # Synapse fixes the status (403) and merges these fields into the error body.
    return Codes.FORBIDDEN, {"errcode": CROSS_DOMAIN_FORBIDDEN, "error": message}


def refusal(domain: str) -> SynapseError:
    return error(403, CROSS_DOMAIN_FORBIDDEN, REFUSAL.format(domain=domain))


class CrossDomainService:
    def __init__(
        self, api: ModuleApi, config: CrossDomainConfig, runtime: ModuleRuntime
    ) -> None:
        self._api = api
        self._config = config
        self._runtime = runtime
        self._cache: dict[str, tuple[float, PeerPolicy]] = {}

    # Policies.

    async def policy(self, domain: str) -> PeerPolicy:
        cached = self._cache.get(domain)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._config.policy_cache_seconds:
            return cached[1]
        await self._runtime.ready()
        stored = await self._api.run_db_interaction(
            "jwwx_crossdomain_peer", storage.get_peer_txn, domain
        )
        policy = policy_of(None if stored is None else stored["policy"])
        self._cache[domain] = (now, policy)
        return policy

    def forget(self, domain: str) -> None:
        self._cache.pop(domain, None)

    async def may_talk(self, user_id: str, domain: str) -> bool:
        """Whether our user `user_id` may talk with users of `domain`."""
        policy = await self.policy(domain)
        if policy.units is None:
            return True
        if not policy.units:
            return False
        units = await self._api.run_db_interaction(
            "jwwx_crossdomain_units",
            member_units_txn,
            UserID.from_string(user_id).localpart,
        )
        return policy.unit_permitted(units)

    # Spam-checker callbacks.

    def bridge_of_service(self, appservice_id: str | None) -> str | None:
        """The domain an application service bridges (config `bridges`), if any."""
        bridge = self._config.bridge_of_service(appservice_id)
        return None if bridge is None else bridge.domain

    def bridged_domain(self, user_id: str) -> str | None:
        """The domain a local puppet of a bridge stands for (config `bridges`)."""
        if not self._api.is_mine(user_id):
            return None
        bridge = self._config.bridge_of_user(UserID.from_string(user_id).localpart)
        return None if bridge is None else bridge.domain

    async def user_may_invite(
        self, inviter: str, invitee: str, room_id: str
    ) -> SpamResult:
        if not self._api.is_mine(inviter) or self.bridged_domain(inviter):
            return NOT_SPAM
        domain = self.bridged_domain(invitee)
        if domain is None:
            if self._api.is_mine(invitee):
                return NOT_SPAM
            domain = UserID.from_string(invitee).domain
        if await self.may_talk(inviter, domain):
            return NOT_SPAM
        logger.info("cross-domain invite refused: %s -> %s", inviter, invitee)
        return _refused(REFUSAL.format(domain=domain))

    async def federated_user_may_invite(self, event: Any) -> SpamResult:
        invitee = event.state_key
        domain = UserID.from_string(event.sender).domain
        if not self._api.is_mine(invitee) or await self.may_talk(invitee, domain):
            return NOT_SPAM
        logger.info("cross-domain invite refused: %s -> %s", event.sender, invitee)
        return _refused(f"{invitee} 所在单位未获准与 {domain} 跨域通信")

    # Asking a peer (our officer's request).

    async def ask_peer(
        self, user_id: str, domain: str, what: str, args: dict[str, str]
    ) -> dict[str, Any]:
        if domain == self._api.server_name or not await self.may_talk(user_id, domain):
            raise refusal(domain)
        return await signed_get(
            self._api,
            domain,
            f"{FEDERATION_PREFIX}/{what}",
            args,
            self._config.query_timeout_seconds,
        )

    # Answering a peer (its signed request).

    async def directory_for_peer(
        self, origin: str, query: str, limit: int, offset: int
    ) -> dict[str, Any]:
        policy = await self.policy(origin)
        paths = await self._api.run_db_interaction(
            "jwwx_crossdomain_paths",
            department_paths_txn,
            policy.directory_departments,
        )
        service = registry.lookup(self._api, directory.SERVICE)
        found = await service.search.members_in(
            f"peer:{origin}", paths, query, limit, offset
        )
        return {
            "results": [policy.published_member(m) for m in found["results"]],
            "next_from": found["next_from"],
        }

    async def open_app_for_peer(
        self, origin: str, user_id: str, agentid: int, url: str
    ) -> dict[str, Any]:
        """A peer's officer opens one of our apps (应用互通): the peer's signed request
        vouches for `user_id`, who must be of that peer; the app must be in the peer's
        policy. The answer is `url` with a fresh OAuth2 code the app redeems as his
        openid (modules.openapi), as a jump from our own workbench would."""
        try:
            domain = UserID.from_string(user_id).domain
        except Exception:  # noqa: BLE001 - any malformed id
            domain = ""
        if domain != origin:
            raise error(403, CROSS_DOMAIN_FORBIDDEN, f"{origin} 只能为本域账号打开应用")
        policy = await self.policy(origin)
        if agentid not in policy.apps:
            raise error(
                403, CROSS_DOMAIN_FORBIDDEN, f"应用 {agentid} 未向 {origin} 开放"
            )
        try:
            jump = await openapi.visitor_jump_url(self._api, agentid, url, user_id)
        except openapi.JumpRefusedError as e:
            raise error(400, Codes.INVALID_PARAM, e.message) from e
        logger.info("app %s opened by %s of %s", agentid, user_id, origin)
        return {"agentid": agentid, "url": jump}

    async def apps_for_peer(self, origin: str) -> dict[str, Any]:
        policy = await self.policy(origin)
        apps = []
        for agentid in policy.apps:
            name = await openapi.app_name(self._api, agentid)
            if name is not None:
                apps.append({"agentid": agentid, "name": name})
        return {"apps": apps}
