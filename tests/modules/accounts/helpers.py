# SPDX-License-Identifier: AGPL-3.0-or-later
"""Logins as real clients make them (a User-Agent header, the standard /login body), and
the set-up the accounts tests share: accounts, directory officers, config overrides."""

import itertools
import json
from pathlib import Path
from typing import Any, NamedTuple

from twisted.internet import reactor, task
from twisted.web.client import HTTPConnectionPool
from twisted.web.resource import Resource

import treq
import yaml

from tests.harness.case import ServerCase
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer
from tests.modules.directory.helpers import department, member

ACCOUNTS = "/_jwwx/admin/v1/accounts"
DEVICES = "/_matrix/client/v3/devices"
DIRECTORY = "/_jwwx/admin/v1/directory"
LOGIN = "/_matrix/client/v3/login"
MFA = "/_jwwx/client/v1/accounts/mfa"
MFA_LOGIN_TYPE = "cn.jwwx.login.totp"
PASSWORD_PATH = "/_matrix/client/v3/account/password"
WHOAMI = "/_matrix/client/v3/account/whoami"

ANDROID = "Element/1.6.10 (Linux; U; Android 13; SM-S9080 Build/TP1A; Flavour GooglePlay; MatrixAndroidSdk2 1.6.10)"
HARMONY = "Mozilla/5.0 (Phone; OpenHarmony 4.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile JwwxClient/1.0"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Element/1.11.85 Chrome/128.0.0.0 Electron/32.0.0 Safari/537.36"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

_pool = HTTPConnectionPool(reactor, persistent=False)
_n = itertools.count(1)


def unique() -> int:
    return next(_n)


async def sleep(seconds: float) -> None:
    await task.deferLater(reactor, seconds, lambda: None)


async def raw_request(
    base_url: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
    user_agent: str | None = None,
    raw: bytes | None = None,
    forwarded_for: str | None = None,
) -> tuple[int, Any]:
    headers = {"Content-Type": ["application/json"]}
    if forwarded_for:
        headers["X-Forwarded-For"] = [forwarded_for]
    if token:
        headers["Authorization"] = [f"Bearer {token}"]
    if user_agent:
        headers["User-Agent"] = [user_agent]
    data = (
        raw
        if raw is not None
        else (None if body is None else json.dumps(body).encode())
    )
    response = await treq.request(
        method, base_url + path, data=data, headers=headers, pool=_pool, timeout=60
    )
    content = await response.content()
    try:
        parsed = json.loads(content) if content else None
    except ValueError:
        parsed = content.decode("utf-8", "replace")
    return response.code, parsed


async def login(
    base_url: str,
    password: str,
    *,
    user: str | None = None,
    identifier: dict[str, Any] | None = None,
    user_agent: str | None = None,
    forwarded_for: str | None = None,
    login_type: str = "m.login.password",
    **extra: Any,
) -> tuple[int, Any]:
    """POST /login as a client would; extra keys (code, device_id, …) go in the body."""
    body = {
        "type": login_type,
        "identifier": identifier or {"type": "m.id.user", "user": user},
        "password": password,
        **extra,
    }
    return await raw_request(
        base_url,
        "POST",
        LOGIN,
        body,
        user_agent=user_agent,
        forwarded_for=forwarded_for,
    )


async def mfa_login(
    base_url: str, user: str, password: str, code: str, **extra: Any
) -> tuple[int, Any]:
    """A login with the second factor (TOTP code, recovery code or device key)."""
    return await login(
        base_url, password, user=user, login_type=MFA_LOGIN_TYPE, code=code, **extra
    )


def session_client(base_url: str, session: dict[str, Any]) -> MatrixClient:
    return MatrixClient(base_url, session["user_id"], session["access_token"])


class Account(NamedTuple):
    """A registered account with its own password (the harness's "pw-<localpart>")."""

    client: MatrixClient
    localpart: str
    password: str


def account(case: ServerCase, prefix: str, admin: bool = False) -> Account:
    client = case.user(prefix, admin=admin)
    localpart = client.user_id[1:].split(":")[0]
    return Account(client, localpart, "pw-" + localpart)


def accounts_admin(case: ServerCase) -> MatrixClient:
    return case.user("accadm", admin=True)


async def login_log(
    admin: MatrixClient, user: str, **filters: str
) -> list[dict[str, Any]]:
    """The user's login log, newest first (GET .../logins, filtered)."""
    query = "".join(f"&{k}={v}" for k, v in filters.items())
    return list(
        (await admin.ok("GET", f"{ACCOUNTS}/logins?user_id={user}{query}"))["logins"]
    )


async def directory_officer(
    case: ServerCase,
    admin: MatrixClient,
    departments: list[int] | None = None,
    **fields: Any,
) -> tuple[str, str]:
    """A directory member with a Matrix account; returns (userid, initial password)."""
    if departments is None:
        departments = [await department(admin, f"支队{unique()}", None)]
    userid = f"officer{unique()}"
    created = await member(admin, userid, "张民警", departments, **fields)
    for _ in range(150):
        job = await admin.ok("GET", f"{DIRECTORY}/jobs/{created['job_id']}")
        if job["finished"]:
            break
        await sleep(0.2)
    case.assertEqual(job["created"], 1, job)
    reset = await admin.ok("POST", f"{DIRECTORY}/members/{userid}/initial_password", {})
    return userid, reset["initial_password"]


async def change_password(
    client: MatrixClient, userid: str, current: str, new: str
) -> tuple[int, Any]:
    """The standard two-step password change (UIA with the current password)."""
    body: dict[str, Any] = {"new_password": new, "logout_devices": False}
    return await with_password_auth(
        client, "POST", PASSWORD_PATH, body, userid, current
    )


async def with_password_auth(
    client: MatrixClient,
    method: str,
    path: str,
    body: dict[str, Any],
    userid: str,
    password: str,
) -> tuple[int, Any]:
    """A request behind user-interactive auth, completed with m.login.password."""
    status, flows = await client.request(method, path, body)
    if status != 401:
        return status, flows
    authed = {
        **body,
        "auth": {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": userid},
            "password": password,
            "session": flows["session"],
        },
    }
    return await client.request(method, path, authed)


def override_accounts_config(server: TestServer, **changes: Any) -> Path:
    """Restart the server with modules.accounts config keys replaced (conf.d)."""
    override = server.data_dir / "conf.d" / "zz-accounts-test.yaml"
    rendered = yaml.safe_load((server.data_dir / "homeserver.yaml").read_text())
    for module in rendered["modules"]:
        if module["module"] == "modules.accounts.AccountsModule":
            module["config"].update(changes)
    override.write_text(yaml.safe_dump({"modules": rendered["modules"]}))
    server.restart()
    return override


def restore_config(server: TestServer, override: Path) -> None:
    override.unlink()
    server.restart()


def mfa_secret_path(server: TestServer) -> str:
    return str(server.data_dir / "keys" / "accounts_secret")


async def server_notices(client: MatrixClient, wanted: int) -> list[str]:
    """Bodies of the messages in the user's server-notices room, once `wanted` came."""
    notices: list[str] = []
    for _ in range(40):
        result = await client.sync(timeout_ms=500)
        for room in result.get("rooms", {}).get("join", {}).values():
            for event in room.get("timeline", {}).get("events", []):
                if event["sender"].startswith("@notices:") and (
                    event["type"] == "m.room.message"
                ):
                    notices.append(event["content"].get("body", ""))
        if len(notices) >= wanted:
            break
    return notices


class SmsGateway(Resource):
    """Stand-in for the bureau's SMS gateway, speaking the shape in modules/accounts/sms.py."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.received: list[dict[str, Any]] = []
        self.tokens: list[str | None] = []
        self.refuse = False

    def render_POST(self, request: Any) -> bytes:
        self.received.append(json.loads(request.content.read()))
        self.tokens.append(request.getHeader("Authorization"))
        request.setHeader(b"Content-Type", b"application/json")
        if self.refuse:
            return json.dumps({"code": 1024, "message": "quota exceeded"}).encode()
        return json.dumps({"code": 0, "message": "ok"}).encode()
