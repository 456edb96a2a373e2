# SPDX-License-Identifier: AGPL-3.0-or-later
"""Writing, pushing, editing and withdrawing articles.

A push is one card (one or several articles) into every room of the account, now or at
`publish_at` (the scheduler on the jobs process sends due pushes). Edit after publish:
the stored article changes (its page with it) and, when the card shows what changed,
every card is edited in place (m.replace). Silent withdraw (无感知撤回): every card
and edit of the push is redacted by the bot without a reason, then purged from the
database like burn-after-read (the stored JSON pruned, the search row dropped); the
articles' pages answer 410. Publish, edit and withdraw go to the audit archive as
app-message records."""

import logging
from typing import Any

from synapse.module_api import ModuleApi

from modules.audit import public as audit
from modules.common.storage import Txn
from modules.common.synapse.database import run_serialized_write
from modules.common.synapse.events import get_event_with_position, redacted_event_json
from modules.common.synapse.rooms import join_unlimited
from modules.common.synapse.runtime import keyed_lock, run_concurrently
from modules.common.synapse.tables import censor_event_txn
from modules.public_accounts.accounts import Accounts
from modules.public_accounts.articles import (
    CARD_FIELDS,
    card_content,
    parse_article,
)
from modules.public_accounts.config import PublicAccountsConfig
from modules.public_accounts.errors import (
    ARTICLE_NOT_FOUND,
    PUSH_NOT_FOUND,
    invalid,
    not_found,
    wrong_state,
)
from modules.public_accounts.opens import OpenRecorder
from modules.public_accounts.storage import Account
from modules.public_accounts.storage import articles as db
from modules.public_accounts.storage import rooms as rooms_db
from modules.public_accounts.storage.articles import Article, Push

logger = logging.getLogger(__name__)

MAX_ARTICLES_PER_PUSH = 8
MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3600 * 1000


def app_id(account: Account | int) -> str:
    """The account's name in the audit archive's app records."""
    number = account if isinstance(account, int) else account.id
    return f"pubaccount:{number}"


REMOVAL_FIRST_BACKOFF_MS = 5_000
REMOVAL_MAX_BACKOFF_MS = 3_600_000
# A withdraw's copies are removed by one process at a time: the withdrawing request's,
# or the scheduler's on the jobs instance once a retry is due. The holder's lease is
# the push's removal_next_ts, renewed while it works (every third of the lease); if
# the holder dies, the scheduler takes over when it lapses. Without it the jobs
# instance's tick took up a withdraw the main process was still redacting and
# redacted the copies in flight a second time (issue 21's 4,000 duplicates: 8 rooms
# of 500, send_concurrency's 8).
REMOVAL_LEASE_MS = 120_000
REMOVAL_LOCK = "jwwx_pubacct_removal"


class _Hold:
    """A process's lease on one push's removal."""

    def __init__(self, until: int) -> None:
        self.until = until
        self.lost = False
        self.renewing = False


class Publisher:
    def __init__(
        self,
        api: ModuleApi,
        config: PublicAccountsConfig,
        accounts: Accounts,
        url_of: Any,
    ) -> None:
        self._api = api
        self._config = config
        self._accounts = accounts
        self._url_of = url_of  # article id → the page's URL
        self._lock = keyed_lock(api, "jwwx_pubacct_push")
        # The article pages' opens, written in batches (statistics flush it first).
        self.opens = OpenRecorder(api)

    async def _db(self, desc: str, fn: Any, *args: Any) -> Any:
        return await self._api.run_db_interaction(f"jwwx_pubacct_{desc}", fn, *args)

    def url_of(self, article_id: int) -> str:
        """The stable URL of an article's page."""
        return str(self._url_of(article_id))

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    # Articles.

    async def article(self, account: Account, article_id: int) -> Article:
        found: Article | None = await self._db(
            "get_article", db.get_article_txn, article_id
        )
        if found is None or found.account_id != account.id:
            raise not_found(ARTICLE_NOT_FOUND, f"文章 {article_id} 不存在")
        return found

    async def articles(self, account: Account) -> list[Article]:
        return await self._db("list_articles", db.list_articles_txn, account.id)

    async def create(self, account: Account, body: dict[str, Any], by: str) -> Article:
        changes = parse_article(body, creating=True)
        now = self._now()
        fields = {
            "account_id": account.id,
            "cover": None,
            "digest": "",
            "author": "",
            "body": "",
            **changes,
            "state": "draft",
            "push_id": None,
            "created_by": by,
            "created_ts": now,
            "updated_ts": now,
        }
        article_id = await run_serialized_write(
            self._api,
            "jwwx_pubacct_create_article",
            "jwwx_pubacct_ids",
            db.insert_article_txn,
            fields,
        )
        return await self.article(account, article_id)

    async def edit(
        self, account: Account, article: Article, body: dict[str, Any], by: str
    ) -> Article:
        """Change an article; a published one is edited in place everywhere."""
        if article.state == "withdrawn":
            raise wrong_state("文章已撤回，不能再修改")
        changes = parse_article(body, creating=False)
        if not changes:
            return article
        await self._db(
            "edit_article",
            db.update_article_txn,
            article.id,
            {**changes, "updated_ts": self._now()},
        )
        self._accounts.page_cache.clear()
        after = await self.article(account, article.id)
        if after.state == "published" and after.push_id is not None:
            card_changed = any(
                getattr(article, f) != getattr(after, f) for f in CARD_FIELDS
            )
            push = await self._push(account, after.push_id)
            if card_changed:
                await self._edit_cards(account, push)
            await audit.record_app_message(
                self._api,
                app_id(account),
                by,
                self._targets(account),
                {"action": "edit", "article": _audit_article(after)},
                f"push:{push.id}",
            )
        return after

    async def delete(self, account: Account, article: Article) -> None:
        if article.state != "draft" or article.push_id is not None:
            raise wrong_state("只能删除未发布、未排期的草稿")
        await self._db("delete_article", db.delete_article_txn, article.id)
        self._accounts.page_cache.clear()

    # Pushes.

    async def _push(self, account: Account, push_id: int) -> Push:
        push: Push | None = await self._db("get_push", db.get_push_txn, push_id)
        if push is None or push.account_id != account.id:
            raise not_found(PUSH_NOT_FOUND, f"推送 {push_id} 不存在")
        return push

    async def push_of(self, account: Account, push_id: int) -> Push:
        return await self._push(account, push_id)

    async def pushes(self, account: Account) -> list[Push]:
        return await self._db("list_pushes", db.list_pushes_txn, account.id)

    async def publish(self, account: Account, body: dict[str, Any], by: str) -> Push:
        """{article_ids: [...], publish_at?: ms}: one push, sent now or scheduled."""
        unknown = sorted(set(body) - {"article_ids", "publish_at"})
        if unknown:
            raise invalid(f"未知字段：{', '.join(unknown)}")
        ids = body.get("article_ids")
        if (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= MAX_ARTICLES_PER_PUSH
            or any(isinstance(i, bool) or not isinstance(i, int) for i in ids)
            or len(set(ids)) != len(ids)
        ):
            raise invalid(
                f"article_ids 必须是 1–{MAX_ARTICLES_PER_PUSH} 个不重复的文章编号"
            )
        now = self._now()
        publish_at = body.get("publish_at", now)
        if (
            isinstance(publish_at, bool)
            or not isinstance(publish_at, int)
            or publish_at > now + MAX_SCHEDULE_AHEAD_MS
        ):
            raise invalid("publish_at 必须是一年内的毫秒时间戳")
        for article_id in ids:
            article = await self.article(account, article_id)
            if article.state != "draft" or article.push_id is not None:
                raise wrong_state(f"文章 {article_id} 已发布或已排期")

        def insert_txn(txn: Txn) -> int:
            for article_id in ids:  # again, inside the write: no double push
                found = db.get_article_txn(txn, article_id)
                if found is None or found.push_id is not None:
                    raise wrong_state(f"文章 {article_id} 已发布或已排期")
            # A push for now is sent by this request (the scheduler never claims it,
            # so the answer always says how it went).
            state = "sending" if publish_at <= now else "scheduled"
            return db.insert_push_txn(
                txn, account.id, ids, max(publish_at, 0), by, now, state
            )

        push_id = await run_serialized_write(
            self._api, "jwwx_pubacct_insert_push", "jwwx_pubacct_ids", insert_txn
        )
        push = await self._push(account, push_id)
        if push.state == "sending":
            await self.send(push)
            push = await self._push(account, push_id)
        return push

    async def run_due(self) -> None:
        """The scheduler's tick: send every push whose time has come."""
        for push in await self._db("claim_due", db.claim_due_txn, self._now()):
            try:
                await self.send(push)
            except Exception:
                logger.exception("cannot send push %s", push.id)

    async def send(self, push: Push) -> None:
        """One card into every room of the account (rooms brought up to date first)."""
        account = await self._accounts.get(push.account_id)
        if account is None:
            return
        articles = [await self.article(account, a) for a in push.article_ids]
        async with self._lock(str(push.id)):
            await self._accounts.sync(account)
            rooms = await self._db("rooms", rooms_db.rooms_txn, account.id)
            content = card_content(account, push.id, articles, self._url_of)
            sent = await self._accounts.rooms.send(account, content, rooms)
            await self._db(
                "card_events",
                db.add_events_txn,
                push.id,
                "card",
                [(room, event_id) for room, (event_id, _) in sent.items()],
            )
            sizes = await self._db("room_sizes", rooms_db.room_sizes_txn, account.id)
            delivered = sum(sizes.get(room, 0) for room in sent)
            await self._db("push_sent", db.mark_sent_txn, push, delivered, self._now())
            self._accounts.page_cache.clear()
        await audit.record_app_message(
            self._api,
            app_id(account),
            push.created_by,
            self._targets(account),
            {
                "action": "publish",
                "articles": [_audit_article(a) for a in articles],
                "delivered": delivered,
            },
            f"push:{push.id}",
        )
        logger.info(
            "push %s of account %s: %d rooms, %d subscribers",
            push.id,
            account.id,
            len(sent),
            delivered,
        )

    async def cancel(self, account: Account, push: Push) -> None:
        if push.state != "scheduled":
            raise wrong_state("只能取消尚未发出的定时推送")
        await self._db("cancel_push", db.cancel_push_txn, push)
        self._accounts.page_cache.clear()

    async def _edit_cards(self, account: Account, push: Push) -> None:
        articles = [await self.article(account, a) for a in push.article_ids]
        new = card_content(account, push.id, articles, self._url_of)
        cards = await self._db("cards", db.events_txn, push.id, "card")
        edits: list[tuple[str, str]] = []

        async def edit_one(item: tuple[str, str]) -> None:
            room_id, event_id = item
            try:
                event = await self._api.create_and_send_event_into_room(
                    {
                        "type": "m.room.message",
                        "room_id": room_id,
                        "sender": account.bot_user_id,
                        "content": {
                            **new,
                            "body": "* " + new["body"],
                            "m.new_content": new,
                            "m.relates_to": {
                                "rel_type": "m.replace",
                                "event_id": event_id,
                            },
                        },
                    }
                )
                edits.append((room_id, event.event_id))
            except Exception:
                logger.exception("cannot edit card %s", event_id)

        await run_concurrently(edit_one, cards, self._config.send_concurrency)
        await self._db("edit_events", db.add_events_txn, push.id, "edit", edits)

    async def withdraw(self, account: Account, push: Push, by: str) -> tuple[int, int]:
        """Silent withdraw: every card and edit redacted and purged. (copies of the
        push, copies left for the retry: a failed redaction is tried again by the
        scheduler, with backoff, until it succeeds.)"""
        if push.state == "withdrawn":
            raise wrong_state("推送已撤回")
        if push.state != "sent":
            raise wrong_state("推送尚未发出（定时推送请取消）")
        events = await self._db("push_events", db.events_txn, push.id, None)
        # Pages answer 410 from now on, before the cards are gone; the copies are
        # to remove from now on, whatever happens to this process (held by it: the
        # scheduler takes them over only if its lease lapses). One request wins:
        # another withdraw of the push at the same moment is refused.
        now = self._now()
        hold = _Hold(now + REMOVAL_LEASE_MS)
        if not await run_serialized_write(
            self._api,
            "jwwx_pubacct_withdrawn",
            REMOVAL_LOCK,
            db.mark_withdrawn_txn,
            push,
            now,
            hold.until,
        ):
            raise wrong_state("推送已撤回")
        self._accounts.page_cache.clear()
        async with self._lock(str(push.id)):
            left = await self._remove_copies(account, push.id, 0, hold)
        articles = [await self.article(account, a) for a in push.article_ids]
        await audit.record_app_message(
            self._api,
            app_id(account),
            by,
            self._targets(account),
            {
                "action": "withdraw",
                "articles": [{"id": a.id, "title": a.title} for a in articles],
                "events": len(events),
            },
            f"push:{push.id}",
        )
        return len(events), left

    async def _still_held(self, push_id: int, hold: _Hold) -> bool:
        """Whether this process still holds the push's removal, the lease renewed
        once a third of it has passed (one renewal at a time)."""
        if hold.lost:
            return False
        now = self._now()
        if hold.renewing or now < hold.until - REMOVAL_LEASE_MS * 2 // 3:
            return True
        hold.renewing = True
        try:
            until = now + REMOVAL_LEASE_MS
            if await run_serialized_write(
                self._api,
                "jwwx_pubacct_renew_removal",
                REMOVAL_LOCK,
                db.renew_removal_txn,
                push_id,
                hold.until,
                until,
            ):
                hold.until = until
            else:
                hold.lost = True
                logger.warning(
                    "push %s: removal taken over by another process", push_id
                )
        finally:
            hold.renewing = False
        return not hold.lost

    async def _remove_copies(
        self, account: Account, push_id: int, attempts: int, hold: _Hold
    ) -> int:
        """Redact (and purge) the push's copies not yet removed, while this process
        holds the removal; the number left."""
        events = await self._db("to_remove", db.events_to_remove_txn, push_id)
        removed: list[str] = []

        async def remove(item: tuple[str, str]) -> None:
            room_id, event_id = item
            if not await self._still_held(push_id, hold):
                return
            found = await get_event_with_position(self._api, event_id)
            if found is None or found[0].internal_metadata.is_redacted():
                removed.append(event_id)
                return
            event = found[0]
            pruned = redacted_event_json(event)
            try:
                await self._api.create_and_send_event_into_room(
                    {
                        "type": "m.room.redaction",
                        "room_id": room_id,
                        "sender": account.bot_user_id,
                        "redacts": event_id,
                        "content": {"redacts": event_id},
                    }
                )
            except Exception:
                logger.exception("cannot redact %s: tried again later", event_id)
                return
            if self._config.purge_withdrawn:
                await self._db("censor", censor_event_txn, event_id, pruned)
            removed.append(event_id)

        await run_concurrently(remove, events, self._config.send_concurrency)
        retry_ms = min(REMOVAL_MAX_BACKOFF_MS, REMOVAL_FIRST_BACKOFF_MS * 2**attempts)
        left: int = await run_serialized_write(
            self._api,
            "jwwx_pubacct_removed",
            REMOVAL_LOCK,
            db.mark_removed_txn,
            push_id,
            removed,
            self._now(),
            retry_ms,
            hold.until,
        )
        if left:
            logger.warning(
                "push %s: %d copies not removed yet (attempt %d)",
                push_id,
                left,
                attempts + 1,
            )
        return left

    async def retry_removals(self) -> None:
        """The scheduler's tick: copies of withdrawn pushes a redaction failed for (or
        whose holder died), tried again; each push claimed first (one process)."""
        now = self._now()
        until = now + REMOVAL_LEASE_MS
        claimed = await run_serialized_write(
            self._api,
            "jwwx_pubacct_claim_removals",
            REMOVAL_LOCK,
            db.claim_removals_txn,
            now,
            until,
        )
        for push, attempts in claimed:
            account = await self._accounts.get(push.account_id)
            if account is None:
                continue
            try:
                async with self._lock(str(push.id)):
                    await self._remove_copies(account, push.id, attempts, _Hold(until))
            except Exception:
                logger.exception("push %s: removal retry failed", push.id)

    async def replay(self, account: Account, room_id: str) -> None:
        """A new room of the account: the cards of its latest live pushes, oldest
        first, as they read now (later edits and a withdraw reach them too)."""
        pushes = [p for p in await self.pushes(account) if p.state == "sent"][
            : self._config.history_pushes
        ]
        for push in reversed(pushes):
            articles = [await self.article(account, a) for a in push.article_ids]
            content = card_content(account, push.id, articles, self._url_of)
            sent = await self._accounts.rooms.send(account, content, [room_id])
            await self._db(
                "replayed",
                db.add_events_txn,
                push.id,
                "card",
                [(room, event_id) for room, (event_id, _) in sent.items()],
            )

    async def preview(self, account: Account, article: Article, user_id: str) -> str:
        """The card, marked as a preview, in a private room of the bot and the editor
        (created once and joined for them); the event id."""
        userid = user_id[1:].split(":", 1)[0]
        room_id = await self._db(
            "preview_room", db.preview_room_txn, account.id, userid
        )
        if room_id is None:
            room_id, _ = await self._api.create_room(
                account.bot_user_id,
                {
                    "preset": "trusted_private_chat",
                    "name": f"{account.name}（预览）",
                    "invite": [user_id],
                    "is_direct": True,
                },
                ratelimit=False,
            )
            await join_unlimited(self._api, user_id, room_id)
            await self._db(
                "set_preview_room", db.set_preview_room_txn, account.id, userid, room_id
            )
        content = card_content(account, 0, [article], self._url_of, preview=True)
        event = await self._api.create_and_send_event_into_room(
            {
                "type": "m.room.message",
                "room_id": room_id,
                "sender": account.bot_user_id,
                "content": content,
            }
        )
        return str(event.event_id)

    @staticmethod
    def _targets(account: Account) -> dict[str, Any]:
        return {
            "userids": list(account.range_users),
            "department_ids": list(account.range_departments),
            "tag_ids": list(account.range_tags),
            "everyone": account.range_everyone,
            "followers": True,
        }


def _audit_article(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "title": article.title,
        "author": article.author,
        "digest": article.digest,
        "cover": article.cover,
        "body": article.body,
    }
