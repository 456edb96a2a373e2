# SPDX-License-Identifier: AGPL-3.0-or-later
"""Builders for open API tests: apps, tokens, WeCom calls, officers with accounts."""

import json
import os
import sqlite3
from typing import Any
from urllib.parse import quote, urlencode

from twisted.internet import reactor, task
from twisted.web.client import HTTPConnectionPool

import treq

from tests.harness import postgres
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer

APPS = "/_jwwx/admin/v1/openapi/apps"
DIRECTORY = "/_jwwx/admin/v1/directory"
CORPID = "jwwx-test.jwwx"


async def wecom(
    client: MatrixClient,
    path: str,
    token: str | None = None,
    body: Any = None,
    **params: Any,
) -> dict[str, Any]:
    """One /cgi-bin/ call (GET without body, POST with); WeCom answers HTTP 200."""
    query = dict(params)
    if token is not None:
        query["access_token"] = token
    url = f"/cgi-bin/{path}" + (f"?{urlencode(query)}" if query else "")
    status, answer = await client.request(
        "GET" if body is None else "POST", url, body, token=""
    )
    assert status == 200, (status, answer)
    assert isinstance(answer, dict), answer
    return answer


async def create_app(admin: MatrixClient, **fields: Any) -> dict[str, Any]:
    body = {"name": "测试应用", **fields}
    return dict(await admin.ok("POST", APPS, body))


async def token_for(client: MatrixClient, secret: str) -> str:
    answer = await wecom(client, "gettoken", corpid=CORPID, corpsecret=secret)
    assert answer["errcode"] == 0, answer
    return str(answer["access_token"])


def execute_sql(server: TestServer, sql: str, args: tuple[Any, ...] = ()) -> None:
    """Change the server's database directly (e.g. to age a token)."""
    if server.engine == "sqlite":
        conn = sqlite3.connect(server.data_dir / "homeserver.db", timeout=30)
        try:
            conn.execute(sql, args)
            conn.commit()
        finally:
            conn.close()
        return
    assert server.pg_database is not None
    pg = postgres.connect(server.pg_database)
    try:
        with pg.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), args)
        pg.commit()
    finally:
        pg.close()


async def sleep(seconds: float) -> None:
    await task.deferLater(reactor, seconds, lambda: None)


async def wait_account(admin: MatrixClient, userid: str) -> None:
    """Until the directory's provisioning has linked the member to its account."""
    for _ in range(1800):
        member = await admin.ok("GET", f"{DIRECTORY}/members/{userid}")
        if member["account_state"] == "created":
            return
        await sleep(0.05)
    raise AssertionError(f"account of {userid} not provisioned: {json.dumps(member)}")


async def root_department(admin: MatrixClient, name: str) -> int:
    body = {"name": name, "parent_id": None}
    return int((await admin.ok("POST", f"{DIRECTORY}/departments", body))["id"])


async def enrol_officer(admin: MatrixClient, officer: MatrixClient, dept: int) -> str:
    """Make a Matrix user a directory member of `dept`, linked to its account; its
    userid."""
    userid = officer.user_id[1:].split(":")[0]
    await admin.ok(
        "POST",
        f"{DIRECTORY}/members",
        {"userid": userid, "name": "警员", "department": [dept]},
    )
    await wait_account(admin, userid)
    return userid


_pool = HTTPConnectionPool(reactor, persistent=False)


async def upload(
    base_url: str,
    token: str,
    media_type: str,
    filename: str,
    data: bytes,
    content_type: str = "application/octet-stream",
    multipart: bool = False,
    field: str = "media",
    path: str = "media/upload",
) -> tuple[int, dict[str, Any] | None]:
    """POST media/upload: the raw file (multipart=False), or multipart/form-data with
    the file in form field `field` as WeCom SDKs do."""
    boundary = "----jwwxboundary7MA4YWxkTrZu0gW"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{filename}";'
            f" filelength={len(data)}\r\n"
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    params = {"access_token": token, "type": media_type}
    headers = {"Content-Type": [f"multipart/form-data; boundary={boundary}"]}
    if not multipart:
        body, params["filename"] = data, filename
        headers = {"Content-Type": [content_type]}
    response = await treq.request(
        "POST",
        f"{base_url}/cgi-bin/{path}?{urlencode(params)}",
        data=body,
        headers=headers,
        pool=_pool,
    )
    content = await response.content()
    return response.code, (json.loads(content) if content else None)


async def download(base_url: str, token: str, media_id: str) -> tuple[str, bytes]:
    """GET media/get: (content type, bytes)."""
    query = urlencode({"access_token": token, "media_id": media_id})
    response = await treq.request(
        "GET", f"{base_url}/cgi-bin/media/get?{query}", pool=_pool
    )
    content = await response.content()
    ctype = response.headers.getRawHeaders(b"content-type", [b""])[0].decode()
    return ctype, content


async def get_page(
    base_url: str, path: str, token: str | None = None
) -> tuple[int, str | None, str]:
    """A browser-style GET without following redirects: (status, Location, body)."""
    headers = {"Authorization": [f"Bearer {token}"]} if token else {}
    response = await treq.request(
        "GET", base_url + path, headers=headers, pool=_pool, allow_redirects=False
    )
    body = (await response.content()).decode("utf-8", "replace")
    location = response.headers.getRawHeaders(b"location", [None])[0]
    return response.code, location.decode() if location else None, body


async def make_audit_admin(server: TestServer, user_id: str) -> None:
    """Give user_id the audit role (admin_api, as a super admin does): only audit
    admins (or a pull consumer's credential) read the archive's export."""
    boss_id, token = server.register(f"roleboss{os.urandom(3).hex()}", admin=True)
    boss = MatrixClient(server.base_url, boss_id, token)
    await boss.ok(
        "PUT",
        f"/_jwwx/admin/v1/admins/roles/{quote(user_id, safe='')}",
        {"roles": ["audit"]},
    )
