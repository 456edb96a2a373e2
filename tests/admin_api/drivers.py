# SPDX-License-Identifier: AGPL-3.0-or-later
"""One valid request for each admin write route (test_operation_log_coverage): a driver
does its set-up and returns the act, the one request whose operation-log record is
counted. Keyed by the route inventory's (method, path template)."""

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyotp
import yaml

from tests.harness.client import MatrixClient
from tests.modules.accounts.helpers import sleep
from tests.modules.directory.helpers import ADMIN as DIRECTORY
from tests.modules.directory.helpers import department, member
from tests.modules.groups.helpers import make_group
from tests.modules.openapi.helpers import create_app

from .wiring import ADMINS, AUDIT, AUDITOR, officer, unique

Act = Callable[[], Awaitable[tuple[int, Any]]]
Driver = Callable[["Context"], Awaitable[Act]]

A = "/_jwwx/admin/v1"
ACCOUNTS = f"{A}/accounts"
GROUPS = f"{A}/groups"
APPS = f"{A}/openapi/apps"
LOGIN = "/_matrix/client/v3/login"
DRIVERS: dict[tuple[str, str], Driver] = {}


def drives(method: str, path: str) -> Callable[[Driver], Driver]:
    def register(driver: Driver) -> Driver:
        DRIVERS[(method, A + path)] = driver
        return driver

    return register


class Context:
    """The super admin, an audit admin, a unit to work in."""

    case: Any
    boss: MatrixClient
    auditor: MatrixClient
    unit: int

    def user(self, prefix: str = "cov") -> MatrixClient:
        return self.case.user(prefix)  # type: ignore[no-any-return]

    async def officer(self) -> tuple[MatrixClient, str]:
        return await officer(self.case, self.boss, [self.unit])

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> Act:
        async def act() -> tuple[int, Any]:
            return await self.boss.request(method, path, body, **kw)

        return act

    async def sentinel(self) -> tuple[str, str]:
        """A last logged write: (action, target) of its record."""
        name = unique("哨兵")
        created = await self.boss.ok(
            "POST", f"{DIRECTORY}/departments", {"name": name, "parent_id": self.unit}
        )
        return "directory.department.create", f"department:{created['id']}"

    async def wrong_logins(self, localpart: str, times: int) -> None:
        for _ in range(times):
            await self.boss.request(
                "POST",
                LOGIN,
                {
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": localpart},
                    "password": "wrong-password",
                },
                token="",
            )

    async def locked(self, scope: str, subject: str) -> bool:
        locks = await self.boss.ok("GET", f"{ACCOUNTS}/lockouts?limit=1000")
        return any(
            (lock["scope"], lock["subject"]) == (scope, subject)
            for lock in locks["lockouts"]
        )


async def prepare(case: Any) -> Context:
    ctx = Context()
    ctx.case = case
    ctx.boss = case.user("covboss", admin=True)
    user_id, token = case.server.register(AUDITOR)
    ctx.auditor = MatrixClient(case.server.base_url, user_id, token)
    await ctx.boss.ok("PUT", f"{ADMINS}/roles/{quote(user_id)}", {"roles": ["audit"]})
    # The audit admin's session passes its second factor now, not inside a window.
    await ctx.auditor.ok("POST", f"{AUDIT}/search/files", {"name": "预热"})
    root = await department(ctx.boss, unique("覆盖测试局"), None)
    ctx.unit = await department(ctx.boss, "覆盖测试分局", root)
    return ctx


def _localpart(client: MatrixClient) -> str:
    return client.user_id[1:].split(":", 1)[0]


# admin_api.


@drives("POST", "/admins/groups")
async def create_group(ctx: Context) -> Act:
    body = {"name": unique("组"), "scope": [ctx.unit], "rights": ["directory.view"]}
    return ctx.call("POST", f"{ADMINS}/groups", body)


async def _group(ctx: Context) -> int:
    body = {"name": unique("组"), "scope": [ctx.unit], "rights": ["directory.view"]}
    return int((await ctx.boss.ok("POST", f"{ADMINS}/groups", body))["id"])


@drives("PUT", "/admins/groups/{group}")
async def update_group(ctx: Context) -> Act:
    group = await _group(ctx)
    return ctx.call("PUT", f"{ADMINS}/groups/{group}", {"name": unique("组")})


@drives("DELETE", "/admins/groups/{group}")
async def delete_group(ctx: Context) -> Act:
    return ctx.call("DELETE", f"{ADMINS}/groups/{await _group(ctx)}")


@drives("PUT", "/admins/roles/{user_id}")
async def set_roles(ctx: Context) -> Act:
    who = ctx.user()
    return ctx.call(
        "PUT", f"{ADMINS}/roles/{quote(who.user_id)}", {"roles": ["security"]}
    )


@drives("PUT", "/admins/quotas/{unit}")
async def set_quota(ctx: Context) -> Act:
    return ctx.call("PUT", f"{ADMINS}/quotas/{ctx.unit}", {"quota": 100000})


@drives("PUT", "/organisation/unit")
async def organisation_unit(ctx: Context) -> Act:
    return ctx.call("PUT", f"{A}/organisation/unit", {"short_name": unique("市局")})


@drives("PUT", "/organisation/profile_fields")
async def profile_fields(ctx: Context) -> Act:
    # Logged when it changes: one field more or less than now.
    current = await ctx.boss.ok("GET", f"{A}/organisation/profile_fields")
    editable, known = current["editable"], current["fields"]
    wanted = editable[1:] if editable else known[:1]
    return ctx.call("PUT", f"{A}/organisation/profile_fields", {"editable": wanted})


@drives("POST", "/bootstrap/token")
async def bootstrap_token(ctx: Context) -> Act:
    data_dir: Path = ctx.case.server.data_dir
    config = yaml.safe_load((data_dir / "homeserver.yaml").read_text())
    secret = config.get("registration_shared_secret")
    if secret is None:
        secret = Path(config["registration_shared_secret_path"]).read_text().strip()
    who = _localpart(ctx.user())
    nonce = (await ctx.boss.ok("GET", f"{A}/bootstrap/token"))["nonce"]
    mac = hmac.new(
        secret.encode(), f"{nonce}\x00{who}".encode(), hashlib.sha256
    ).hexdigest()
    return ctx.call(
        "POST", f"{A}/bootstrap/token", {"user": who, "nonce": nonce, "mac": mac}
    )


# The directory.


@drives("POST", "/directory/departments")
async def create_department(ctx: Context) -> Act:
    body = {"name": unique("科"), "parent_id": ctx.unit}
    return ctx.call("POST", f"{DIRECTORY}/departments", body)


@drives("PUT", "/directory/departments/{department}")
async def update_department(ctx: Context) -> Act:
    found = await department(ctx.boss, unique("科"), ctx.unit)
    return ctx.call("PUT", f"{DIRECTORY}/departments/{found}", {"name": unique("科")})


@drives("DELETE", "/directory/departments/{department}")
async def delete_department(ctx: Context) -> Act:
    found = await department(ctx.boss, unique("科"), ctx.unit)
    return ctx.call("DELETE", f"{DIRECTORY}/departments/{found}")


@drives("POST", "/directory/departments/{department}/order")
async def order_in_department(ctx: Context) -> Act:
    parent = await department(ctx.boss, unique("科"), ctx.unit)
    await department(ctx.boss, unique("组"), parent)
    second = await department(ctx.boss, unique("组"), parent)
    body = {"department": second, "position": 0}
    return ctx.call("POST", f"{DIRECTORY}/departments/{parent}/order", body)


@drives("POST", "/directory/members")
async def create_member(ctx: Context) -> Act:
    body = {"userid": unique("cm"), "name": "民警", "department": [ctx.unit]}
    return ctx.call("POST", f"{DIRECTORY}/members", body)


async def _member(ctx: Context) -> str:
    userid = unique("cm")
    await member(ctx.boss, userid, "民警", [ctx.unit])
    return userid


@drives("PUT", "/directory/members/{userid}")
async def update_member(ctx: Context) -> Act:
    userid = await _member(ctx)
    return ctx.call("PUT", f"{DIRECTORY}/members/{userid}", {"name": "改名"})


@drives("DELETE", "/directory/members/{userid}")
async def delete_member(ctx: Context) -> Act:
    return ctx.call("DELETE", f"{DIRECTORY}/members/{await _member(ctx)}")


@drives("POST", "/directory/members/{userid}/initial_password")
async def initial_password(ctx: Context) -> Act:
    _client, userid = await ctx.officer()
    return ctx.call("POST", f"{DIRECTORY}/members/{userid}/initial_password", {})


@drives("POST", "/directory/tags")
async def create_tag(ctx: Context) -> Act:
    return ctx.call("POST", f"{DIRECTORY}/tags", {"name": unique("标签")})


async def _tag(ctx: Context) -> int:
    created = await ctx.boss.ok("POST", f"{DIRECTORY}/tags", {"name": unique("标签")})
    return int(created["id"])


@drives("PUT", "/directory/tags/{tag}")
async def update_tag(ctx: Context) -> Act:
    tag = await _tag(ctx)
    return ctx.call("PUT", f"{DIRECTORY}/tags/{tag}", {"name": unique("标签")})


@drives("DELETE", "/directory/tags/{tag}")
async def delete_tag(ctx: Context) -> Act:
    return ctx.call("DELETE", f"{DIRECTORY}/tags/{await _tag(ctx)}")


@drives("PUT", "/directory/settings")
async def directory_settings(ctx: Context) -> Act:
    current = await ctx.boss.ok("GET", f"{DIRECTORY}/settings")
    body = {"visible_fields": current["visible_fields"]}
    return ctx.call("PUT", f"{DIRECTORY}/settings", body)


@drives("POST", "/directory/import/{kind}")
async def import_departments(ctx: Context) -> Act:
    data = f"部门路径\n{unique('导入局')}\n".encode("utf-8-sig")
    return ctx.call("POST", f"{DIRECTORY}/import/departments?filename=d.csv", raw=data)


@drives("POST", "/directory/retry")
async def retry_provisioning(ctx: Context) -> Act:
    return ctx.call("POST", f"{DIRECTORY}/retry", {})


# Accounts.


@drives("DELETE", "/accounts/users/{user}/devices/{device_id}")
async def kick_device(ctx: Context) -> Act:
    who = ctx.user()
    device = (await who.ok("GET", "/_matrix/client/v3/account/whoami"))["device_id"]
    return ctx.call(
        "DELETE", f"{ACCOUNTS}/users/{_localpart(who)}/devices/{quote(device)}"
    )


@drives("POST", "/accounts/users/{user}/logout")
async def logout_all(ctx: Context) -> Act:
    return ctx.call("POST", f"{ACCOUNTS}/users/{_localpart(ctx.user())}/logout", {})


@drives("DELETE", "/accounts/lockouts/users/{user}")
async def release_user(ctx: Context) -> Act:
    who = ctx.user()
    for _ in range(5):
        if await ctx.locked("user", who.user_id):
            break
        await ctx.wrong_logins(_localpart(who), 1)
    return ctx.call("DELETE", f"{ACCOUNTS}/lockouts/users/{_localpart(who)}")


@drives("DELETE", "/accounts/lockouts/ips/{ip}")
async def release_ip(ctx: Context) -> Act:
    for _ in range(5):
        if await ctx.locked("ip", "127.0.0.1"):
            break
        # A new account each time: a locked account's attempts no longer count.
        await ctx.wrong_logins(_localpart(ctx.user()), 1)
    return ctx.call("DELETE", f"{ACCOUNTS}/lockouts/ips/127.0.0.1")


@drives("POST", "/accounts/users/{user}/password_reset")
async def password_reset(ctx: Context) -> Act:
    _client, userid = await ctx.officer()
    return ctx.call("POST", f"{ACCOUNTS}/users/{userid}/password_reset", {"sms": False})


@drives("POST", "/accounts/users/{user}/disable")
async def disable(ctx: Context) -> Act:
    _client, userid = await ctx.officer()
    return ctx.call("POST", f"{ACCOUNTS}/users/{userid}/disable", {})


@drives("POST", "/accounts/users/{user}/enable")
async def enable(ctx: Context) -> Act:
    _client, userid = await ctx.officer()
    await ctx.boss.ok("PUT", f"{DIRECTORY}/members/{userid}", {"enable": 0})
    return ctx.call("POST", f"{ACCOUNTS}/users/{userid}/enable", {})


@drives("POST", "/accounts/users/{user}/device_keys")
async def issue_device_key(ctx: Context) -> Act:
    who = _localpart(ctx.user())
    body = {"label": "执法记录仪"}
    return ctx.call("POST", f"{ACCOUNTS}/users/{who}/device_keys", body)


@drives("DELETE", "/accounts/users/{user}/device_keys/{key_id}")
async def revoke_device_key(ctx: Context) -> Act:
    who = _localpart(ctx.user())
    issued = await ctx.boss.ok(
        "POST", f"{ACCOUNTS}/users/{who}/device_keys", {"label": "执法记录仪"}
    )
    return ctx.call(
        "DELETE", f"{ACCOUNTS}/users/{who}/device_keys/{quote(issued['key_id'])}"
    )


@drives("PUT", "/accounts/security_policy")
async def security_policy(ctx: Context) -> Act:
    # The config's value again: the other drivers' logins are not affected.
    current = await ctx.boss.ok("GET", f"{ACCOUNTS}/security_policy")
    body = {"new_login_alerts": current["config"]["new_login_alerts"]}
    return ctx.call("PUT", f"{ACCOUNTS}/security_policy", body)


@drives("DELETE", "/accounts/users/{user}/mfa")
async def reset_mfa(ctx: Context) -> Act:
    who = ctx.user()
    mfa = "/_jwwx/client/v1/accounts/mfa"
    secret = (await who.ok("POST", f"{mfa}/totp", {}))["secret"]
    await who.ok("POST", f"{mfa}/totp/confirm", {"code": pyotp.TOTP(secret).now()})
    return ctx.call("DELETE", f"{ACCOUNTS}/users/{_localpart(who)}/mfa")


# Groups.


@drives("PUT", "/groups/settings")
async def group_settings(ctx: Context) -> Act:
    current = await ctx.boss.ok("GET", f"{GROUPS}/settings")
    body = {"read_status_enabled": current["read_status_enabled"]}
    return ctx.call("PUT", f"{GROUPS}/settings", body)


async def _owner_gone(ctx: Context) -> tuple[str, MatrixClient]:
    owner, heir = ctx.user(), ctx.user()
    room = await make_group(owner, heir)
    await ctx.boss.ok(
        "POST",
        f"/_synapse/admin/v1/deactivate/{quote(owner.user_id)}",
        {"erase": False},
    )
    # Synapse parts a deactivated account from its rooms in the background.
    state = f"/_matrix/client/v3/rooms/{quote(room)}/state/m.room.member/"
    for _ in range(450):
        seen = await heir.ok("GET", state + quote(owner.user_id))
        if seen["membership"] == "leave":
            break
        await sleep(0.2)
    return room, heir


@drives("POST", "/groups/rooms/{room_id}/transfer")
async def transfer_group(ctx: Context) -> Act:
    room, heir = await _owner_gone(ctx)
    return ctx.call(
        "POST", f"{GROUPS}/rooms/{quote(room)}/transfer", {"user_id": heir.user_id}
    )


@drives("POST", "/groups/rooms/{room_id}/dissolve")
async def dissolve_group(ctx: Context) -> Act:
    room, _heir = await _owner_gone(ctx)
    return ctx.call("POST", f"{GROUPS}/rooms/{quote(room)}/dissolve", {})


# The open API.


@drives("POST", "/openapi/apps")
async def create_app_route(ctx: Context) -> Act:
    return ctx.call("POST", APPS, {"name": "覆盖测试应用"})


async def _app(ctx: Context) -> int:
    return int((await create_app(ctx.boss, name="覆盖测试应用"))["agentid"])


@drives("PUT", "/openapi/apps/{agentid}")
async def update_app(ctx: Context) -> Act:
    return ctx.call("PUT", f"{APPS}/{await _app(ctx)}", {"description": "说明"})


@drives("DELETE", "/openapi/apps/{agentid}")
async def delete_app(ctx: Context) -> Act:
    return ctx.call("DELETE", f"{APPS}/{await _app(ctx)}")


@drives("POST", "/openapi/apps/{agentid}/secret")
async def reset_secret(ctx: Context) -> Act:
    return ctx.call("POST", f"{APPS}/{await _app(ctx)}/secret", {})


@drives("POST", "/openapi/apps/{agentid}/callbacks/retry")
async def retry_callbacks(ctx: Context) -> Act:
    return ctx.call("POST", f"{APPS}/{await _app(ctx)}/callbacks/retry", {})


@drives("POST", "/openapi/apps/{agentid}/messages")
async def push_message(ctx: Context) -> Act:
    _client, userid = await ctx.officer()
    app = await create_app(
        ctx.boss, name="覆盖测试应用", visible_range={"department_ids": [ctx.unit]}
    )
    body = {"touser": userid, "msgtype": "text", "text": {"content": "覆盖测试"}}
    return ctx.call("POST", f"{APPS}/{app['agentid']}/messages", body)


@drives("POST", "/openapi/broadcast/pool")
async def build_broadcast_pool(ctx: Context) -> Act:
    return ctx.call("POST", f"{A}/openapi/broadcast/pool", {})


# The apps' rights: OCR and speech recognition (one grant table, one page each).


def _right_drivers(capability: str) -> None:
    async def grant(ctx: Context) -> Act:
        return ctx.call("PUT", f"{A}/{capability}/apps/{await _app(ctx)}")

    async def revoke(ctx: Context) -> Act:
        agentid = await _app(ctx)
        await ctx.boss.ok("PUT", f"{A}/{capability}/apps/{agentid}")
        return ctx.call("DELETE", f"{A}/{capability}/apps/{agentid}")

    drives("PUT", f"/{capability}/apps/{{agentid}}")(grant)
    drives("DELETE", f"/{capability}/apps/{{agentid}}")(revoke)


_right_drivers("ocr")
_right_drivers("asr")


# The workbench.

WORKBENCH = f"{A}/workbench/entries"


@drives("POST", "/workbench/entries")
async def create_workbench_entry(ctx: Context) -> Act:
    body = {"name": unique("入口"), "url": "https://h5.example.cn/a"}
    return ctx.call("POST", WORKBENCH, body)


async def _workbench_entry(ctx: Context) -> int:
    body = {"name": unique("入口"), "url": "https://h5.example.cn/b"}
    return int((await ctx.boss.ok("POST", WORKBENCH, body))["id"])


@drives("PUT", "/workbench/entries/{entry_id}")
async def update_workbench_entry(ctx: Context) -> Act:
    entry = await _workbench_entry(ctx)
    return ctx.call("PUT", f"{WORKBENCH}/{entry}", {"category": "办公"})


@drives("DELETE", "/workbench/entries/{entry_id}")
async def delete_workbench_entry(ctx: Context) -> Act:
    return ctx.call("DELETE", f"{WORKBENCH}/{await _workbench_entry(ctx)}")


# Public accounts.

PUBACCOUNTS = f"{A}/pubaccounts/accounts"


async def _pubaccount(ctx: Context) -> int:
    body = {
        "name": unique("覆盖测试公众号"),
        "subscribers": {"department_ids": [ctx.unit]},
    }
    return int((await ctx.boss.ok("POST", PUBACCOUNTS, body))["id"])


async def _draft(ctx: Context, account: int) -> int:
    body = {"title": unique("覆盖测试文章"), "body": "<p>正文</p>"}
    path = f"{PUBACCOUNTS}/{account}/articles"
    return int((await ctx.boss.ok("POST", path, body))["id"])


async def _pushed(ctx: Context, account: int, publish_at: int | None = None) -> int:
    body: dict[str, Any] = {"article_ids": [await _draft(ctx, account)]}
    if publish_at is not None:
        body["publish_at"] = publish_at
    path = f"{PUBACCOUNTS}/{account}/pushes"
    return int((await ctx.boss.ok("POST", path, body))["id"])


@drives("POST", "/pubaccounts/accounts")
async def create_pubaccount(ctx: Context) -> Act:
    return ctx.call("POST", PUBACCOUNTS, {"name": unique("覆盖测试公众号")})


@drives("PUT", "/pubaccounts/accounts/{account_id}")
async def update_pubaccount(ctx: Context) -> Act:
    path = f"{PUBACCOUNTS}/{await _pubaccount(ctx)}"
    return ctx.call("PUT", path, {"description": "说明"})


@drives("DELETE", "/pubaccounts/accounts/{account_id}")
async def delete_pubaccount(ctx: Context) -> Act:
    return ctx.call("DELETE", f"{PUBACCOUNTS}/{await _pubaccount(ctx)}")


@drives("POST", "/pubaccounts/accounts/{account_id}/sync")
async def sync_pubaccount(ctx: Context) -> Act:
    return ctx.call("POST", f"{PUBACCOUNTS}/{await _pubaccount(ctx)}/sync", {})


@drives("POST", "/pubaccounts/accounts/{account_id}/articles")
async def create_article(ctx: Context) -> Act:
    path = f"{PUBACCOUNTS}/{await _pubaccount(ctx)}/articles"
    return ctx.call("POST", path, {"title": unique("覆盖测试文章")})


@drives("PUT", "/pubaccounts/accounts/{account_id}/articles/{article_id}")
async def edit_article(ctx: Context) -> Act:
    account = await _pubaccount(ctx)
    path = f"{PUBACCOUNTS}/{account}/articles/{await _draft(ctx, account)}"
    return ctx.call("PUT", path, {"digest": "摘要"})


@drives("DELETE", "/pubaccounts/accounts/{account_id}/articles/{article_id}")
async def delete_article(ctx: Context) -> Act:
    account = await _pubaccount(ctx)
    path = f"{PUBACCOUNTS}/{account}/articles/{await _draft(ctx, account)}"
    return ctx.call("DELETE", path)


@drives("POST", "/pubaccounts/accounts/{account_id}/articles/{article_id}/preview")
async def preview_article(ctx: Context) -> Act:
    account = await _pubaccount(ctx)
    path = f"{PUBACCOUNTS}/{account}/articles/{await _draft(ctx, account)}/preview"
    return ctx.call("POST", path, {})


@drives("POST", "/pubaccounts/accounts/{account_id}/pushes")
async def push_article(ctx: Context) -> Act:
    account = await _pubaccount(ctx)
    body = {"article_ids": [await _draft(ctx, account)]}
    return ctx.call("POST", f"{PUBACCOUNTS}/{account}/pushes", body)


@drives("DELETE", "/pubaccounts/accounts/{account_id}/pushes/{push_id}")
async def cancel_push(ctx: Context) -> Act:
    account = await _pubaccount(ctx)
    later = int(time.time() * 1000) + 3600_000
    push = await _pushed(ctx, account, later)
    return ctx.call("DELETE", f"{PUBACCOUNTS}/{account}/pushes/{push}")


@drives("POST", "/pubaccounts/accounts/{account_id}/pushes/{push_id}/withdraw")
async def withdraw_push(ctx: Context) -> Act:
    account = await _pubaccount(ctx)
    push = await _pushed(ctx, account)
    return ctx.call("POST", f"{PUBACCOUNTS}/{account}/pushes/{push}/withdraw", {})


# Policy and watermark.


@drives("PUT", "/policy/keywords")
async def keywords(ctx: Context) -> Act:
    current = await ctx.boss.ok("GET", f"{A}/policy/keywords")
    body = {"keywords": [*current["keywords"], unique("覆盖测试敏感词")]}
    return ctx.call("PUT", f"{A}/policy/keywords", body)


@drives("PUT", "/watermark/settings")
async def watermark_settings(ctx: Context) -> Act:
    current = await ctx.boss.ok("GET", f"{A}/watermark/settings")
    body = {"sharing": current["sharing"]}
    return ctx.call("PUT", f"{A}/watermark/settings", body)


# Cross-domain policies (a policy may be stored before its domain is allow-listed).


@drives("PUT", "/crossdomain/peers/{domain}")
async def crossdomain_peer(ctx: Context) -> Act:
    body = {"units": [ctx.unit], "directory": {"departments": [], "fields": []}}
    return ctx.call("PUT", f"{A}/crossdomain/peers/{unique('put')}.police", body)


@drives("DELETE", "/crossdomain/peers/{domain}")
async def delete_crossdomain_peer(ctx: Context) -> Act:
    domain = f"{unique('del')}.police"
    await ctx.boss.ok("PUT", f"{A}/crossdomain/peers/{domain}", {"units": "*"})
    return ctx.call("DELETE", f"{A}/crossdomain/peers/{domain}")


# The audit archive (its searches are the audit admin's).


def _as_auditor(ctx: Context, method: str, path: str, **kw: Any) -> Act:
    async def act() -> tuple[int, Any]:
        return await ctx.auditor.request(method, path, **kw)

    return act


@drives("POST", "/audit/search/messages")
async def search_messages(ctx: Context) -> Act:
    return _as_auditor(
        ctx, "POST", f"{AUDIT}/search/messages", body={"keyword": "覆盖"}
    )


@drives("POST", "/audit/search/files")
async def search_files(ctx: Context) -> Act:
    return _as_auditor(ctx, "POST", f"{AUDIT}/search/files", body={"name": "覆盖.pdf"})


@drives("POST", "/audit/search/media")
async def search_media(ctx: Context) -> Act:
    return _as_auditor(
        ctx, "POST", f"{AUDIT}/search/media", raw=b"not an image, any bytes will do"
    )


@drives("POST", "/audit/export/{kind}/cursor/reset")
async def reset_cursor(ctx: Context) -> Act:
    body = {"consumer": unique("other"), "position": 0}
    return ctx.call("POST", f"{AUDIT}/export/admin/cursor/reset", body)


# Documents (modules.docs): document admins, unit quotas, templates.

DOCS = "/_jwwx/client/v1/docs"
DOCS_ADMIN = f"{A}/docs"


async def _document(client: MatrixClient) -> str:
    made = await client.ok("POST", f"{DOCS}/from-template", {"template": "work_brief"})
    return str(made["doc_id"])


@drives("PUT", "/docs/quotas/{unit}")
async def set_docs_quota(ctx: Context) -> Act:
    return ctx.call("PUT", f"{DOCS_ADMIN}/quotas/{ctx.unit}", {"documents": 1000})


@drives("POST", "/docs/templates")
async def add_docs_template(ctx: Context) -> Act:
    body = {"doc_id": await _document(ctx.boss), "name": unique("模板")}
    return ctx.call("POST", f"{DOCS_ADMIN}/templates", body)


@drives("DELETE", "/docs/templates/{template_id}")
async def delete_docs_template(ctx: Context) -> Act:
    body = {"doc_id": await _document(ctx.boss), "name": unique("模板")}
    added = await ctx.boss.ok("POST", f"{DOCS_ADMIN}/templates", body)
    return ctx.call("DELETE", f"{DOCS_ADMIN}/templates/{added['id']}")


@drives("DELETE", "/docs/{doc_id}")
async def delete_document(ctx: Context) -> Act:
    owner, _ = await ctx.officer()
    return ctx.call("DELETE", f"{DOCS_ADMIN}/{await _document(owner)}")


@drives("POST", "/docs/forms/{form_id}/remind")
async def remind_form(ctx: Context) -> Act:
    creator, _ = await ctx.officer()
    body = {
        "title": unique("收集表"),
        "questions": [{"id": "q", "type": "text", "title": "情况", "required": True}],
        "respondents": {"departments": [ctx.unit]},
    }
    form = await creator.ok("POST", f"{DOCS}/forms", body)
    await creator.ok("POST", f"{DOCS}/forms/{form['form_id']}/publish", {})
    return ctx.call("POST", f"{DOCS_ADMIN}/forms/{form['form_id']}/remind", {})
