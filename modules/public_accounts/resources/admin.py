# SPDX-License-Identifier: AGPL-3.0-or-later
"""Managing public accounts under /_jwwx/admin/v1/pubaccounts (rights: access.py;
docs/pubaccounts.md). Every write is one operation-log record, whoever makes it (an
admin, an owner or an editor).

GET    accounts                         the accounts the caller manages, owns or edits
POST   accounts                         {name, description?, avatar?, owners?, editors?,
                                         subscribers?: {userids, department_ids,
                                         tag_ids, everyone}, allow_unfollow?}  (apps.create)
GET    accounts/{id}                    with subscriber_count
PUT    accounts/{id}                    partial; owners: name, description, avatar,
                                         editors only
DELETE accounts/{id}                    (admins)
POST   accounts/{id}/sync               bring its rooms up to date now
GET    accounts/{id}/articles           · POST {title, cover?, digest?, author?, body?}
GET    accounts/{id}/articles/{aid}     · PUT (edit; a published one everywhere)
DELETE accounts/{id}/articles/{aid}     a draft that is not scheduled
POST   accounts/{id}/articles/{aid}/preview   the card to oneself
GET    accounts/{id}/pushes             · POST {article_ids, publish_at?}
DELETE accounts/{id}/pushes/{pid}       cancel a scheduled push
POST   accounts/{id}/pushes/{pid}/withdraw    silent withdraw
GET    accounts/{id}/statistics         · GET accounts/{id}/statistics.xlsx
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import admin as decide
from modules.common.admin_router import AdminRouter
from modules.common.http import RawBody
from modules.common.inputs import parse_int
from modules.common.resource import read_json_object
from modules.common.runtime import ModuleRuntime
from modules.public_accounts import access
from modules.public_accounts.accounts import (
    OWNER_FIELDS,
    Accounts,
    account_json,
    parse_changes,
)
from modules.public_accounts.articles import article_json
from modules.public_accounts.errors import invalid
from modules.public_accounts.publishing import Publisher
from modules.public_accounts.statistics import account_statistics, xlsx
from modules.public_accounts.storage import Account
from modules.public_accounts.storage.articles import Push

ADMIN_PREFIX = "/_jwwx/admin/v1/pubaccounts"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def push_json(push: Push) -> dict[str, Any]:
    return {
        "id": push.id,
        "account_id": push.account_id,
        "article_ids": list(push.article_ids),
        "state": push.state,
        "publish_at": push.publish_at,
        "sent_ts": push.sent_ts,
        "delivered": push.delivered,
        "created_by": push.created_by,
        "created_ts": push.created_ts,
    }


class PublicAccountsAdminResource(AdminRouter):
    prefix = ADMIN_PREFIX

    def __init__(
        self,
        api: ModuleApi,
        runtime: ModuleRuntime,
        accounts: Accounts,
        publisher: Publisher,
        url_of: Any,
    ) -> None:
        super().__init__(api, runtime)
        self._accounts = accounts
        self._publisher = publisher
        self._url_of = url_of
        r = self.route
        r("GET", "accounts", self.list_accounts)
        r("POST", "accounts", self.create_account)
        r("GET", "accounts/{account_id}", self.get_account)
        r("PUT", "accounts/{account_id}", self.update_account)
        r("DELETE", "accounts/{account_id}", self.delete_account)
        r("POST", "accounts/{account_id}/sync", self.sync_account)
        r("GET", "accounts/{account_id}/articles", self.list_articles)
        r("POST", "accounts/{account_id}/articles", self.create_article)
        r("GET", "accounts/{account_id}/articles/{article_id}", self.get_article)
        r("PUT", "accounts/{account_id}/articles/{article_id}", self.edit_article)
        r("DELETE", "accounts/{account_id}/articles/{article_id}", self.delete_article)
        r(
            "POST",
            "accounts/{account_id}/articles/{article_id}/preview",
            self.preview,
        )
        r("GET", "accounts/{account_id}/pushes", self.list_pushes)
        r("POST", "accounts/{account_id}/pushes", self.publish)
        r("DELETE", "accounts/{account_id}/pushes/{push_id}", self.cancel_push)
        r("POST", "accounts/{account_id}/pushes/{push_id}/withdraw", self.withdraw)
        r("GET", "accounts/{account_id}/statistics", self.statistics)
        r("GET", "accounts/{account_id}/statistics.xlsx", self.export)

    # Who is asking.

    async def _caller(self, request: Any) -> str:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        return user_id

    async def _account(
        self, request: Any, account_id: str, needed: str
    ) -> tuple[str, Account, str]:
        """(caller, account, its role) when the caller's role is at least `needed`."""
        user_id = await self._caller(request)
        number = parse_int(account_id, "account_id", 1, 10**12)
        account = await self._accounts.require(number)
        role = await access.require_role(self.api, request, account, user_id, needed)
        return user_id, account, role

    # Accounts.

    async def list_accounts(self, request: Any) -> tuple[int, Any]:
        user_id = await self._caller(request)
        await decide.check_admin_request(self.api, request, user_id)
        listed = []
        for account in await self._accounts.list():
            role = await access.role_of(self.api, account, user_id)
            if role is not None:
                listed.append({**account_json(account), "role": role})
        return 200, {"accounts": listed}

    async def create_account(self, request: Any) -> tuple[int, Any]:
        body = read_json_object(request)
        admin = await self.admin(request, access.CREATE, access.range_targets(body))
        account = await self._accounts.create(body, admin)
        after = account_json(account)
        # A scoped creator's groups get the account, so it can manage what it created.
        after["admin_groups"] = await decide.grant_created_app(
            self.api, admin, f"pubaccount:{account.id}"
        )
        await self.log(
            request,
            admin,
            "pubaccounts.account.create",
            f"pubaccount:{account.id}",
            None,
            after,
        )
        return 200, after

    async def get_account(self, request: Any, account_id: str) -> tuple[int, Any]:
        _user, account, role = await self._account(request, account_id, access.EDITOR)
        count = await self._accounts.subscriber_count(account.id)
        return 200, {**account_json(account, count), "role": role}

    async def update_account(self, request: Any, account_id: str) -> tuple[int, Any]:
        body = read_json_object(request)
        user_id, account, role = await self._account(request, account_id, access.OWNER)
        changes = parse_changes(body, creating=False)
        if role != access.ADMIN:
            refused = sorted(set(body) - OWNER_FIELDS)
            if refused:
                raise invalid(f"负责人不能修改：{', '.join(refused)}（需要管理员）")
        else:
            await decide.check_targets(
                self.api, user_id, access.MANAGE, access.range_targets(body)
            )
        before = account_json(account)
        after = account_json(await self._accounts.update(account, changes))
        await self.log(
            request,
            user_id,
            "pubaccounts.account.update",
            f"pubaccount:{account.id}",
            before,
            after,
        )
        return 200, after

    async def delete_account(self, request: Any, account_id: str) -> tuple[int, Any]:
        user_id, account, _role = await self._account(request, account_id, access.ADMIN)
        await self._accounts.delete(account)
        await self.log(
            request,
            user_id,
            "pubaccounts.account.delete",
            f"pubaccount:{account.id}",
            account_json(account),
        )
        return 200, {}

    async def sync_account(self, request: Any, account_id: str) -> tuple[int, Any]:
        user_id, account, _role = await self._account(request, account_id, access.OWNER)
        members = await self._accounts.sync(account)
        await self.log(
            request,
            user_id,
            "pubaccounts.account.sync",
            f"pubaccount:{account.id}",
            None,
            {"subscribers": len(members)},
        )
        return 200, {"subscribers": len(members)}

    # Articles.

    async def list_articles(self, request: Any, account_id: str) -> tuple[int, Any]:
        _user, account, _role = await self._account(request, account_id, access.EDITOR)
        articles = await self._publisher.articles(account)
        return 200, {
            "articles": [
                {
                    k: v
                    for k, v in article_json(a, self._url_of(a.id)).items()
                    if k != "body"
                }
                for a in articles
            ]
        }

    async def create_article(self, request: Any, account_id: str) -> tuple[int, Any]:
        body = read_json_object(request)
        user_id, account, _role = await self._account(
            request, account_id, access.EDITOR
        )
        article = await self._publisher.create(account, body, user_id)
        after = article_json(article, self._url_of(article.id))
        await self.log(
            request,
            user_id,
            "pubaccounts.article.create",
            f"pubaccount:{account.id}/article:{article.id}",
            None,
            after,
        )
        return 200, after

    def _article_id(self, text: str) -> int:
        return parse_int(text, "article_id", 1, 10**12)

    async def get_article(
        self, request: Any, account_id: str, article_id: str
    ) -> tuple[int, Any]:
        _user, account, _role = await self._account(request, account_id, access.EDITOR)
        article = await self._publisher.article(account, self._article_id(article_id))
        return 200, article_json(article, self._url_of(article.id))

    async def edit_article(
        self, request: Any, account_id: str, article_id: str
    ) -> tuple[int, Any]:
        body = read_json_object(request)
        user_id, account, _role = await self._account(
            request, account_id, access.EDITOR
        )
        before = await self._publisher.article(account, self._article_id(article_id))
        after = await self._publisher.edit(account, before, body, user_id)
        after_json = article_json(after, self._url_of(after.id))
        await self.log(
            request,
            user_id,
            "pubaccounts.article.update",
            f"pubaccount:{account.id}/article:{after.id}",
            article_json(before, self._url_of(before.id)),
            after_json,
        )
        return 200, after_json

    async def delete_article(
        self, request: Any, account_id: str, article_id: str
    ) -> tuple[int, Any]:
        user_id, account, _role = await self._account(
            request, account_id, access.EDITOR
        )
        article = await self._publisher.article(account, self._article_id(article_id))
        await self._publisher.delete(account, article)
        await self.log(
            request,
            user_id,
            "pubaccounts.article.delete",
            f"pubaccount:{account.id}/article:{article.id}",
            article_json(article, self._url_of(article.id)),
        )
        return 200, {}

    async def preview(
        self, request: Any, account_id: str, article_id: str
    ) -> tuple[int, Any]:
        user_id, account, _role = await self._account(
            request, account_id, access.EDITOR
        )
        article = await self._publisher.article(account, self._article_id(article_id))
        event_id = await self._publisher.preview(account, article, user_id)
        await self.log(
            request,
            user_id,
            "pubaccounts.article.preview",
            f"pubaccount:{account.id}/article:{article.id}",
            None,
            {"event_id": event_id},
        )
        return 200, {"event_id": event_id, "url": self._url_of(article.id)}

    # Pushes.

    async def list_pushes(self, request: Any, account_id: str) -> tuple[int, Any]:
        _user, account, _role = await self._account(request, account_id, access.EDITOR)
        return 200, {
            "pushes": [push_json(p) for p in await self._publisher.pushes(account)]
        }

    async def publish(self, request: Any, account_id: str) -> tuple[int, Any]:
        body = read_json_object(request)
        user_id, account, _role = await self._account(
            request, account_id, access.EDITOR
        )
        push = await self._publisher.publish(account, body, user_id)
        after = push_json(push)
        await self.log(
            request,
            user_id,
            "pubaccounts.push.create",
            f"pubaccount:{account.id}/push:{push.id}",
            None,
            after,
        )
        return 200, after

    def _push_id(self, text: str) -> int:
        return parse_int(text, "push_id", 1, 10**12)

    async def cancel_push(
        self, request: Any, account_id: str, push_id: str
    ) -> tuple[int, Any]:
        user_id, account, _role = await self._account(
            request, account_id, access.EDITOR
        )
        push = await self._publisher.push_of(account, self._push_id(push_id))
        await self._publisher.cancel(account, push)
        await self.log(
            request,
            user_id,
            "pubaccounts.push.cancel",
            f"pubaccount:{account.id}/push:{push.id}",
            push_json(push),
        )
        return 200, {}

    async def withdraw(
        self, request: Any, account_id: str, push_id: str
    ) -> tuple[int, Any]:
        user_id, account, _role = await self._account(
            request, account_id, access.EDITOR
        )
        push = await self._publisher.push_of(account, self._push_id(push_id))
        removed, pending = await self._publisher.withdraw(account, push, user_id)
        await self.log(
            request,
            user_id,
            "pubaccounts.push.withdraw",
            f"pubaccount:{account.id}/push:{push.id}",
            push_json(push),
            {
                "state": "withdrawn",
                "events_removed": removed,
                "events_pending": pending,
            },
        )
        return 200, {"events_removed": removed, "events_pending": pending}

    # Statistics.

    async def statistics(self, request: Any, account_id: str) -> tuple[int, Any]:
        _user, account, _role = await self._account(request, account_id, access.EDITOR)
        await self._publisher.opens.flush()
        return 200, await account_statistics(self.api, account)

    async def export(self, request: Any, account_id: str) -> tuple[int, Any]:
        _user, account, _role = await self._account(request, account_id, access.EDITOR)
        await self._publisher.opens.flush()
        stats = await account_statistics(self.api, account)
        return 200, RawBody(XLSX, xlsx(account, stats), f"公众号{account.id}统计.xlsx")
