# SPDX-License-Identifier: AGPL-3.0-or-later
"""Two or three police domains with their directories and cross-domain policies."""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from tests.harness.client import MatrixClient
from tests.harness.federation import FederationCase
from tests.harness.nio_client import NioOfficer
from tests.modules.audit.helpers import wait_for
from tests.modules.directory.helpers import ADMIN as DIRECTORY
from tests.modules.directory.helpers import department, member

ADMIN = "/_jwwx/admin/v1/crossdomain"
CLIENT = "/_jwwx/client/v1/crossdomain"
FEDERATION = "/_jwwx/federation/v1/crossdomain"
FORBIDDEN = "CN_JWWX_CROSS_DOMAIN_FORBIDDEN"


@dataclass
class Officer:
    client: MatrixClient  # plain loopback HTTP (set-up, our own endpoints)
    nio: NioOfficer  # the officer's real Matrix client, over HTTPS
    userid: str

    @property
    def user_id(self) -> str:
        return self.client.user_id


@dataclass
class Domain:
    label: str
    boss: MatrixClient
    units: dict[str, int] = field(default_factory=dict)
    officers: dict[str, Officer] = field(default_factory=dict)


async def make_officer(
    case: FederationCase,
    domain: Domain,
    key: str,
    name: str,
    unit: str,
    **extra: Any,
) -> Officer:
    """A registered account adopted by the directory as a member of `unit`."""
    client = case.user(domain.label, "mj")
    userid = client.user_id[1:].split(":", 1)[0]
    created = await member(domain.boss, userid, name, [domain.units[unit]], **extra)

    async def provisioned() -> bool:
        job = await domain.boss.ok("GET", f"{DIRECTORY}/jobs/{created['job_id']}")
        return bool(job["finished"])

    await wait_for(provisioned)
    server = case.server(domain.label)
    officer = Officer(
        client,
        NioOfficer(server.https_url, client.user_id, client.token, case.ca_cert),
        userid,
    )
    domain.officers[key] = officer
    return officer


async def make_domain(
    case: FederationCase, label: str, root: str, units: dict[str, dict[str, Any]]
) -> Domain:
    boss = case.user(label, "boss", admin=True)
    domain = Domain(label, boss)
    top = await department(boss, root, None)
    domain.units["root"] = top
    for name, extra in units.items():
        domain.units[name] = await department(boss, name, top, **extra)
    return domain


async def put_policy(domain: Domain, peer: str, policy: dict[str, Any]) -> Any:
    return await domain.boss.request("PUT", f"{ADMIN}/peers/{quote(peer)}", policy)


async def search_peer(officer: Officer, peer: str, q: str) -> tuple[int, Any]:
    query = urlencode({"server": peer, "q": q})
    return await officer.client.request("GET", f"{CLIENT}/directory/search?{query}")


async def invite(client: MatrixClient, room_id: str, user_id: str) -> tuple[int, Any]:
    """(status, body) of inviting `user_id` through the client API."""
    return await client.request(
        "POST",
        f"/_matrix/client/v3/rooms/{quote(room_id)}/invite",
        {"user_id": user_id},
    )


def names(answer: dict[str, Any]) -> list[str]:
    return sorted(m["name"] for m in answer["results"])
