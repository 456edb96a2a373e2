# SPDX-License-Identifier: AGPL-3.0-or-later
"""Documents at a bureau's size (modules.docs, issue 25: "5,000 users and 5,000
departments"): the permission checks, listings, share changes and unit listings over
HTTP with a full directory imported.

    .venv/bin/python -m benchmarks.docs_scale [--departments 5000] [--members 5000]
        [--documents 300] [--officers 40] [--requests 200] [--engine sqlite|postgres]

One server of ours (vanilla Synapse has no documents). The sample generator's tree
(modules/directory/sample.py: 8-10 levels) and members are imported through the
directory admin API (the members' accounts provisioned, waited for); `--officers`
members spread over every depth of the tree are registered first (so the import links
them) and own the documents, round robin. Each document is shared with two people,
three departments (an ancestor of a random officer at a random depth, two random
departments anywhere) and one of 20 tags (each 20 members and 5 departments). A
document admin group (right docs.manage) is scoped to the unit owning most documents.

Measured, sequentially, requests rotating over the officers (p50/p95/p99 of the
request's wall time on the client, and the server's CPU per request: Synapse and, on
PostgreSQL, its backends):
- open: GET docs/{id} of a document shared with the officer (his role resolved from
  person, department subtree and tag grants);
- socket: the WebSocket handshake to the editor listener (token, role, room load);
- shared / mine: the officer's listings (limit 50);
- share: PUT docs/{id}/sharing by its owner (two people, four departments at depths
  1-6, one tag);
- unit listing: the document admin's GET /_jwwx/admin/v1/docs?unit=U&limit=100.
Prints one table; nothing asserts a timing. The tiny variant (tests/benchmarks):
`--departments 40 --members 40 --documents 12 --officers 6 --requests 4`.
"""

import argparse
import base64
import os
import random
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pyotp

from benchmarks.client import Client
from benchmarks.servers import server_cpu_seconds
from benchmarks.stats import percentile
from modules.directory.records import DepartmentRecord, MemberRecord
from modules.directory.sample import generate_directory, write_csv
from tests.harness.server import TestServer
from tests.modules.docs import yjs

DIRECTORY = "/_jwwx/admin/v1/directory"
DOCS = "/_jwwx/client/v1/docs"
DOCS_ADMIN = "/_jwwx/admin/v1/docs"
TAGS = 20


class Tree:
    def __init__(self, departments: list[DepartmentRecord]) -> None:
        self.parent = {d.id: d.parent_id for d in departments if d.id is not None}

    def path(self, department: int) -> list[int]:
        """Ids from the root down to `department`."""
        ids = [department]
        while (up := self.parent[ids[-1]]) is not None:
            ids.append(up)
        return ids[::-1]


def _department_of(member: MemberRecord) -> int:
    ref = member.memberships[0].department
    assert ref.department_id is not None  # the generator numbers every department
    return ref.department_id


def _spread(members: list[MemberRecord], tree: Tree, count: int) -> list[MemberRecord]:
    """`count` members, as many from each depth of the tree as there are depths."""
    by_depth: dict[int, list[MemberRecord]] = {}
    for m in members:
        if m.memberships and m.enabled and not m.hidden:  # a disabled one is locked
            by_depth.setdefault(len(tree.path(_department_of(m))), []).append(m)
    picked: list[MemberRecord] = []
    depths = sorted(by_depth)
    while len(picked) < count and any(by_depth.values()):
        for depth in depths:
            if by_depth[depth] and len(picked) < count:
                picked.append(by_depth[depth].pop(0))
    return picked


def _import(server: TestServer, token: str, departments: Any, members: Any) -> float:
    """Import the directory and wait until the members' accounts are provisioned."""
    folder = Path(tempfile.mkdtemp(prefix="jwwx-docs-scale-"))
    dep_file, member_file = write_csv(departments, members, folder)
    admin = Client(server.base_url, token, timeout=900)
    t0 = time.perf_counter()
    job = 0
    for kind, path in (("departments", dep_file), ("members", member_file)):
        answer = admin.ok(
            "POST",
            f"{DIRECTORY}/import/{kind}?filename={kind}.csv",
            raw=path.read_bytes(),
        )
        job = int(answer.get("job_id") or job)
    while job and time.perf_counter() - t0 < 900:
        if admin.ok("GET", f"{DIRECTORY}/jobs/{job}").get("finished"):
            break
        time.sleep(0.5)
    admin.close()
    return time.perf_counter() - t0


def _docs_admin(server: TestServer, token: str, unit: int) -> str:
    """A document admin (right docs.manage) scoped to `unit`: his access token, his
    session verified with a second factor as the admin API asks."""
    user_id, scoped = server.register(f"docadmin{os.urandom(3).hex()}")
    boss = Client(server.base_url, token)
    boss.ok(
        "POST",
        "/_jwwx/admin/v1/admins/groups",
        {
            "name": f"文档管理员{unit}",
            "members": [user_id],
            "scope": [unit],
            "rights": ["docs.manage"],
        },
    )
    boss.close()
    client = Client(server.base_url, scoped)
    enrol = client.ok("POST", "/_jwwx/client/v1/accounts/mfa/totp", {})
    totp = pyotp.TOTP(enrol["secret"])
    client.ok(
        "POST", "/_jwwx/client/v1/accounts/mfa/totp/confirm", {"code": totp.now()}
    )
    status, answer = client.request("GET", f"{DOCS_ADMIN}?unit={unit}&limit=1")
    if (
        status == 403
        and answer.get("errcode") == "CN_JWWX_ADMIN_SECOND_FACTOR_REQUIRED"
    ):
        client.ok(
            "POST",
            "/_jwwx/admin/v1/admins/session/verify",
            {"code": totp.at(time.time() + 30)},
        )
    client.close()
    return scoped


def _handshake(url: str, token: str) -> int:
    """One WebSocket opening handshake (RFC 6455) to the editor listener: the HTTP
    status it answers (101 when admitted); the connection is then closed."""
    parts = urlsplit(url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {parts.path}?access_token={quote(token)} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


class Measured:
    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.rows: list[tuple[str, int, float, float, float, float]] = []

    def run(self, name: str, count: int, one: Callable[[int], None]) -> None:
        """`one(i)` `count` times in a row: latency percentiles and CPU per call."""
        samples = []
        cpu0 = server_cpu_seconds(self.server)
        for i in range(count):
            t0 = time.perf_counter()
            one(i)
            samples.append((time.perf_counter() - t0) * 1000)
        cpu = (server_cpu_seconds(self.server) - cpu0) * 1000 / count
        self.rows.append(
            (
                name,
                count,
                percentile(samples, 0.5),
                percentile(samples, 0.95),
                percentile(samples, 0.99),
                cpu,
            )
        )


def _check(status: int, answer: Any, what: str) -> None:
    if status != 200:
        raise RuntimeError(f"{what}: {status} {answer}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.docs_scale")
    parser.add_argument("--departments", type=int, default=5000)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--officers", type=int, default=40)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    rng = random.Random(7)
    departments, members = generate_directory(args.departments, args.members)
    tree = Tree(departments)
    officers = _spread(members, tree, args.officers)
    load_before = os.getloadavg()
    server = TestServer(args.engine, configure=lambda s: yjs.configure_docs(s))
    server.start()
    try:
        _, admin_token = server.register("docsbench", admin=True)
        tokens = {o.userid: server.register(o.userid)[1] for o in officers}
        imported = _import(server, admin_token, departments, members)
        sn = server.server_name
        admin = Client(server.base_url, admin_token)
        all_ids = list(tree.parent)
        tags = [
            admin.ok(
                "POST",
                f"{DIRECTORY}/tags",
                {
                    "name": f"专项组{t}",
                    "userids": [m.userid for m in rng.sample(members, 20)]
                    + [officers[t % len(officers)].userid],
                    "department_ids": rng.sample(all_ids, 5),
                },
            )["id"]
            for t in range(TAGS)
        ]
        admin.close()
        clients = {u: Client(server.base_url, t) for u, t in tokens.items()}

        def grants(owner: MemberRecord) -> list[dict[str, Any]]:
            other = rng.choice(officers)
            path = tree.path(_department_of(other))
            return [
                *(
                    {"kind": "user", "id": f"@{m.userid}:{sn}", "role": "reader"}
                    for m in (rng.choice(members), rng.choice(officers))
                ),
                {
                    "kind": "department",
                    "id": rng.choice(path[1:] or path),
                    "role": "editor",
                },
                *(
                    {"kind": "department", "id": d, "role": "commenter"}
                    for d in rng.sample(all_ids, 2)
                ),
                {"kind": "tag", "id": rng.choice(tags), "role": "reader"},
            ]

        t0 = time.perf_counter()
        docs: list[tuple[str, MemberRecord]] = []
        for i in range(args.documents):
            owner = officers[i % len(officers)]
            client = clients[owner.userid]
            doc = client.ok("POST", DOCS, {"title": f"文档{i}", "kind": "rich"})
            client.ok(
                "PUT", f"{DOCS}/{doc['doc_id']}/sharing", {"grants": grants(owner)}
            )
            docs.append((doc["doc_id"], owner))
        made = time.perf_counter() - t0

        # Per officer: a document shared with him (none shared: his own).
        visible: dict[str, list[str]] = {}
        for o in officers:
            found = clients[o.userid].ok("GET", f"{DOCS}?filter=shared&limit=50")
            visible[o.userid] = [d["doc_id"] for d in found["documents"]] or [
                d for d, owner in docs if owner is o
            ]
        shared_counts = sorted(len(v) for v in visible.values())
        ws_url = (
            clients[officers[0].userid]
            .ok("GET", f"{DOCS}/{docs[0][0]}")
            .get("websocket_url")
        )
        # The unit owning most documents (the owner's second-level department).
        units: dict[int, int] = {}
        for _, owner in docs:
            path = tree.path(_department_of(owner))
            unit = path[1] if len(path) > 1 else path[0]
            units[unit] = units.get(unit, 0) + 1
        unit = max(units, key=units.__getitem__)
        unit_admin = Client(server.base_url, _docs_admin(server, admin_token, unit))

        n = args.requests
        m = Measured(server)

        def officer(i: int) -> MemberRecord:
            return officers[i % len(officers)]

        def open_doc(i: int) -> None:
            o = officer(i)
            doc_id = visible[o.userid][i // len(officers) % len(visible[o.userid])]
            status, answer = clients[o.userid].request("GET", f"{DOCS}/{doc_id}")
            _check(status, answer, "open")

        def socket_open(i: int) -> None:
            o = officer(i)
            doc_id = visible[o.userid][i // len(officers) % len(visible[o.userid])]
            url = f"{ws_url.rsplit('/', 1)[0]}/{doc_id}"
            status = _handshake(url, tokens[o.userid])
            if status != 101:
                raise RuntimeError(f"socket: {status}")

        def listing(which: str) -> Callable[[int], None]:
            def one(i: int) -> None:
                status, answer = clients[officer(i).userid].request(
                    "GET", f"{DOCS}?filter={which}&limit=50"
                )
                _check(status, answer, which)

            return one

        def share(i: int) -> None:
            doc_id, owner = docs[i % len(docs)]
            path = tree.path(_department_of(rng.choice(officers)))
            depths = [path[min(d, len(path) - 1)] for d in (1, 2, 4, 6)]
            body = {
                "grants": [
                    {
                        "kind": "user",
                        "id": f"@{rng.choice(members).userid}:{sn}",
                        "role": "reader",
                    },
                    {
                        "kind": "user",
                        "id": f"@{rng.choice(officers).userid}:{sn}",
                        "role": "editor",
                    },
                    *(
                        {"kind": "department", "id": d, "role": "commenter"}
                        for d in dict.fromkeys(depths)
                    ),
                    {"kind": "tag", "id": rng.choice(tags), "role": "reader"},
                ]
            }
            status, answer = clients[owner.userid].request(
                "PUT", f"{DOCS}/{doc_id}/sharing", body
            )
            _check(status, answer, "share")

        def unit_listing(_i: int) -> None:
            status, answer = unit_admin.request(
                "GET", f"{DOCS_ADMIN}?unit={unit}&limit=100"
            )
            _check(status, answer, "unit listing")

        m.run("open: GET docs/{id} (role resolved)", n, open_doc)
        if ws_url:
            m.run("socket: WebSocket handshake admitted", max(1, n // 2), socket_open)
        m.run("listing: shared with me (limit 50)", n, listing("shared"))
        m.run("listing: mine (limit 50)", n, listing("mine"))
        m.run("share: PUT sharing (2 people, 4 depths, 1 tag)", n, share)
        m.run("document admin: unit listing (limit 100)", n, unit_listing)
        unit_docs = len(
            unit_admin.ok("GET", f"{DOCS_ADMIN}?unit={unit}&limit=1000")["documents"]
        )
    finally:
        server.stop()
    load = os.getloadavg()
    print(
        f"docs_scale on {args.engine}: {args.departments} departments, {args.members}"
        f" members (import + provisioning {imported:.0f} s), {args.documents}"
        f" documents made and shared in {made:.0f} s, {len(officers)} officers at"
        f" depths {sorted({len(tree.path(_department_of(o))) - 1 for o in officers})};"
        f" documents shared with an officer: min {shared_counts[0]},"
        f" median {shared_counts[len(shared_counts) // 2]}, max {shared_counts[-1]};"
        f" unit {unit}: {unit_docs} documents"
    )
    print(
        "load average (1/5/15 min) before "
        + " ".join(f"{x:.2f}" for x in load_before)
        + ", after "
        + " ".join(f"{x:.2f}" for x in load)
    )
    print(
        f"{'request':<48}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'CPU ms':>9}"
    )
    for name, count, p50, p95, p99, cpu in m.rows:
        print(f"{name:<48}{count:>5}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{cpu:>9.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
