# SPDX-License-Identifier: AGPL-3.0-or-later
"""message/send and message/recall: an app's messages, delivered by its bot account into
one direct conversation per (app, officer) (conversations.py: prepared in the background
when the app's range is set, else created on first use).

Recipients come from touser / toparty / totag ("|"-separated, "@all" in touser), always
within the app's visible range; what is out of range or unknown is answered back in
invaliduser / invalidparty / invalidtag. Up to `inline_recipients` are delivered before
the answer; a larger push goes on as a background job (GET statistics shows progress).
"""

import html
import logging
import re
import secrets
from typing import Any

from synapse.module_api import ModuleApi

from modules.audit.public import record_app_message
from modules.common.inputs import decimal
from modules.common.storage import Txn
from modules.common.synapse.events import event_stream_ordering
from modules.common.synapse.runtime import run_concurrently
from modules.directory import public as directory
from modules.openapi import duplicates, errors, storage
from modules.openapi.broadcast import Broadcasts, range_txn
from modules.openapi.config import OpenApiConfig
from modules.openapi.conversations import Conversations
from modules.openapi.errors import WeComError
from modules.openapi.media import MediaStore
from modules.openapi.scope import Scope, scope_txn
from modules.openapi.storage import App
from modules.openapi.storage.media import Media
from modules.policy.public import content_blocked

logger = logging.getLogger(__name__)

MEDIA_TYPES = {
    "image": "m.image",
    "voice": "m.audio",
    "video": "m.video",
    "file": "m.file",
}
SUPPORTED = ("text", "markdown", "textcard", "news", *MEDIA_TYPES)
ALL_TYPES = SUPPORTED + (
    "mpnews",
    "template_card",
    "miniprogram_notice",
)
DELIVERY_BATCH = 50
# A whole-range push during its rooms' build: complete rooms looked for this often.
EARLY_SEND_POLL_SECONDS = 2.0
EARLY_SEND_STEP_SECONDS = 0.25
RECALL_WINDOW_MS = 24 * 3600 * 1000


def _text_field(payload: dict[str, Any], key: str, limit: int, required: bool) -> str:
    value = payload.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise WeComError(errors.INVALID_PARAMETER, f"{key} must be a string")
    if required and not value.strip():
        raise WeComError(errors.EMPTY_CONTENT, f"{key} is empty")
    if len(value.encode("utf-8")) > limit:
        raise WeComError(errors.INVALID_PARAMETER, f"{key} is too long")
    return value


def _payload(body: dict[str, Any], msgtype: str) -> dict[str, Any]:
    payload = body.get(msgtype)
    if not isinstance(payload, dict):
        raise WeComError(errors.INVALID_PARAMETER, f"{msgtype} missing")
    return payload


def _link(url: str, text: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(text)}</a>'


def markdown_html(text: str) -> str:
    """The WeCom markdown subset as Matrix HTML: headings, bold, links, code, quotes,
    <font color=…> (its text is kept), line breaks."""
    text = re.sub(r"</?font[^>]*>", "", text)
    lines = []
    for raw in text.split("\n"):
        line = html.escape(raw)
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            level = len(heading.group(1))
            line = f"<h{level}>{heading.group(2)}</h{level}>"
        elif line.startswith("&gt; "):
            line = f"<blockquote>{line[5:]}</blockquote>"
        line = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", line)
        line = re.sub(r"`([^`]+)`", r"<code>\1</code>", line)
        line = re.sub(
            r"\[([^\]]+)\]\((https?://[^)\s]+)\)",
            lambda m: f'<a href="{m.group(2)}">{m.group(1)}</a>',
            line,
        )
        lines.append(line)
    return "<br/>".join(lines)


def build_content(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(msgtype, m.room.message content) of a message/send body."""
    msgtype = body.get("msgtype")
    if not isinstance(msgtype, str) or not msgtype:
        raise WeComError(errors.INVALID_MSGTYPE, "msgtype missing")
    if msgtype not in ALL_TYPES:
        raise WeComError(errors.INVALID_MSGTYPE, f"unknown msgtype {msgtype}")
    if msgtype not in SUPPORTED:
        raise WeComError(errors.INVALID_MSGTYPE, f"msgtype {msgtype} not supported yet")
    payload = _payload(body, msgtype)
    wecom = {"msgtype": msgtype, msgtype: payload}
    if msgtype in MEDIA_TYPES:
        # Completed by media_content once the media_id is looked up.
        return msgtype, {"msgtype": MEDIA_TYPES[msgtype]}
    if msgtype == "text":
        content = _text_field(payload, "content", 2048, True)
        return msgtype, {"msgtype": "m.text", "body": content}
    if msgtype == "markdown":
        content = _text_field(payload, "content", 2048, True)
        return msgtype, {
            "msgtype": "m.text",
            "body": content,
            "format": "org.matrix.custom.html",
            "formatted_body": markdown_html(content),
        }
    if msgtype == "textcard":
        title = _text_field(payload, "title", 128, True)
        description = _text_field(payload, "description", 512, True)
        url = _text_field(payload, "url", 2048, True)
        button = _text_field(payload, "btntxt", 12, False) or "详情"
        return msgtype, {
            "msgtype": "m.text",
            "body": f"{title}\n{description}\n{button}: {url}",
            "format": "org.matrix.custom.html",
            "formatted_body": f"<strong>{html.escape(title)}</strong><br/>"
            f"{html.escape(description)}<br/>{_link(url, button)}",
            "cn.jwwx.wecom": wecom,
        }
    articles = payload.get("articles")
    if not isinstance(articles, list) or not 1 <= len(articles) <= 8:
        raise WeComError(errors.INVALID_PARAMETER, "news needs 1 to 8 articles")
    plain, rich = [], []
    for article in articles:
        if not isinstance(article, dict):
            raise WeComError(errors.INVALID_PARAMETER, "article must be an object")
        title = _text_field(article, "title", 128, True)
        description = _text_field(article, "description", 512, False)
        url = _text_field(article, "url", 2048, False)
        _text_field(article, "picurl", 2048, False)
        plain.append(" ".join(p for p in (title, description, url) if p))
        rich.append(
            (_link(url, title) if url else f"<strong>{html.escape(title)}</strong>")
            + (f"<br/>{html.escape(description)}" if description else "")
        )
    return msgtype, {
        "msgtype": "m.text",
        "body": "\n".join(plain),
        "format": "org.matrix.custom.html",
        "formatted_body": "<br/>".join(rich),
        "cn.jwwx.wecom": wecom,
    }


def media_content(
    msgtype: str, payload: dict[str, Any], media: Media
) -> dict[str, Any]:
    """An m.image / m.audio / m.video / m.file event for an uploaded media_id."""
    if msgtype != "file" and media.media_type != msgtype:
        raise WeComError(errors.INVALID_MEDIA_ID, f"media is {media.media_type}")
    title = _text_field(payload, "title", 128, False) if msgtype == "video" else ""
    content: dict[str, Any] = {
        "msgtype": MEDIA_TYPES[msgtype],
        "body": title or media.filename,
        "url": media.mxc,
        "info": {"mimetype": media.content_type, "size": media.size},
    }
    if msgtype == "file" or title:
        content["filename"] = media.filename
    if msgtype == "video":
        description = _text_field(payload, "description", 512, False)
        if description:
            content["cn.jwwx.wecom"] = {"msgtype": msgtype, msgtype: payload}
    return content


def _split(value: Any, name: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise WeComError(errors.INVALID_PARAMETER, f"{name} must be a string")
    return [v for v in (p.strip() for p in value.split("|")) if v]


def _wide(body: dict[str, Any]) -> bool:
    """A push to parties, tags or @all (not to listed officers only)."""
    return (
        "@all" in _split(body.get("touser"), "touser")
        or bool(_split(body.get("toparty"), "toparty"))
        or bool(_split(body.get("totag"), "totag"))
    )


def _deliverable(member: Any) -> bool:
    return bool(member.enabled and member.account_state == "created")


def resolve_txn(
    txn: Txn, app: App, body: dict[str, Any]
) -> tuple[list[str], list[str], list[str], list[str]]:
    """(recipients, invalid users, invalid parties, invalid tags)."""
    scope = scope_txn(txn, app)
    users = _split(body.get("touser"), "touser")
    parties = _split(body.get("toparty"), "toparty")
    tags = _split(body.get("totag"), "totag")
    recipients: set[str] = set()
    invalid_users: list[str] = []
    invalid_parties: list[str] = []
    invalid_tags: list[str] = []
    if "@all" in users:
        users = []
        recipients.update(_in_scope_txn(txn, scope, None))
    found = directory.get_members_txn(txn, users)
    departments = directory.get_departments_txn(
        txn, sorted({d for m in found.values() for d in m.department_ids})
    )
    for userid in users:
        member = found.get(userid)
        if (
            member is None
            or not _deliverable(member)
            or not scope.has_member(member, departments)
        ):
            invalid_users.append(userid)
        else:
            recipients.add(userid)
    for text in parties:
        department = (
            directory.get_department_txn(txn, number)
            if (number := decimal(text, 12)) is not None
            else None
        )
        if department is None or not scope.has_department(department):
            invalid_parties.append(text)
        else:
            recipients.update(_in_scope_txn(txn, scope, [department.path]))
    for text in tags:
        tag = (
            directory.get_tag_txn(txn, number)
            if (number := decimal(text, 12)) is not None
            else None
        )
        if tag is None:
            invalid_tags.append(text)
            continue
        tagged = directory.get_members_txn(txn, list(tag.userids))
        chain = directory.get_departments_txn(
            txn, sorted({d for m in tagged.values() for d in m.department_ids})
        )
        recipients.update(
            m.userid
            for m in tagged.values()
            if _deliverable(m) and scope.has_member(m, chain)
        )
        paths = [
            d.path
            for d in directory.get_departments_txn(
                txn, list(tag.department_ids)
            ).values()
            if scope.has_department(d)
        ]
        if paths:
            recipients.update(_in_scope_txn(txn, scope, paths))
    return sorted(recipients), invalid_users, invalid_parties, invalid_tags


def _in_scope_txn(txn: Txn, scope: Scope, paths: list[str] | None) -> list[str]:
    """Deliverable members in range (under one of `paths` when given)."""
    return directory.deliverable_txn(txn, scope.members, paths)


class Messenger:
    def __init__(
        self,
        api: ModuleApi,
        config: OpenApiConfig,
        media: MediaStore,
        conversations: Conversations,
        broadcasts: Broadcasts,
    ) -> None:
        self._api = api
        self._config = config
        self._media = media
        self._conversations = conversations
        self._broadcasts = broadcasts

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    async def send(self, app: App, body: dict[str, Any]) -> dict[str, Any]:
        agentid = body.get("agentid")
        if agentid is None or agentid == "":
            raise WeComError(errors.MISSING_AGENTID)
        if str(agentid) != str(app.agentid):
            raise WeComError(errors.INVALID_AGENTID, "agentid does not match the token")
        msgtype, content = build_content(body)
        window = duplicates.window_ms(body)
        if msgtype in MEDIA_TYPES:
            payload = body[msgtype]
            media = await self._media.require(app, payload.get("media_id"))
            content = media_content(msgtype, payload, media)
        # Refused before anything is recorded or delivered: the bot's events would
        # each be refused by the spam checker, and the caller would get a msgid.
        if await content_blocked(self._api, "m.room.message", content):
            raise WeComError(errors.CONTENT_BLOCKED)
        (
            recipients,
            bad_users,
            bad_parties,
            bad_tags,
        ) = await self._api.run_db_interaction(
            "jwwx_openapi_resolve", resolve_txn, app, body
        )
        if not recipients:
            raise WeComError(errors.ALL_RECIPIENTS_INVALID)
        deliver = self._deliver
        if (
            self._config.broadcast_rooms
            and self._broadcasts.wanted(len(recipients))
            and _wide(body)
        ):
            everyone = await self._api.run_db_interaction(
                "jwwx_openapi_range", range_txn, app
            )
            if set(everyone) == set(recipients):
                deliver = self._broadcast
        msgid = secrets.token_urlsafe(24)
        content["cn.jwwx.openapi"] = {"agentid": app.agentid, "msgid": msgid}
        now = self._now()
        dedup_key = duplicates.key(body, msgtype) if window is not None else None

        def new_message_txn(txn: Txn) -> str | None:
            """The duplicate's msgid, or None once this message is recorded."""
            if dedup_key is not None and window is not None:
                earlier = storage.find_duplicate_txn(
                    txn, app.agentid, dedup_key, now - window
                )
                if earlier is not None:
                    return earlier
            storage.insert_message_txn(
                txn, msgid, app.agentid, msgtype, len(recipients), now, dedup_key
            )
            return None

        duplicate = await self._api.run_db_interaction(
            "jwwx_openapi_new_message", new_message_txn
        )
        if duplicate is None:
            # The archive keeps what an app pushed and to whom (before delivery, so a
            # crash mid-push still leaves the record).
            await record_app_message(
                self._api,
                str(app.agentid),
                app.bot_user_id,
                {k: body[k] for k in ("touser", "toparty", "totag") if k in body},
                content,
                msgid,
            )
        if duplicate is not None:
            msgid = duplicate  # sent already within the window: not again
        elif len(recipients) <= self._config.inline_recipients:
            await deliver(app, msgid, content, recipients)
        else:
            self._api.run_as_background_process(
                "jwwx_openapi_push", deliver, app, msgid, content, recipients
            )
        return {
            "invaliduser": "|".join(bad_users),
            "invalidparty": "|".join(bad_parties),
            "invalidtag": "|".join(bad_tags),
            "unlicenseduser": "",
            "msgid": msgid,
            "response_code": "",
        }

    async def reply(
        self, app: App, userid: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """A passive reply to a callback (replies.py): a message/send to its sender."""
        return await self.send(
            app, {**fields, "touser": userid, "agentid": app.agentid}
        )

    async def _deliver(
        self, app: App, msgid: str, content: dict[str, Any], recipients: list[str]
    ) -> None:
        if len(recipients) > DELIVERY_BATCH:
            # Officers who already have the conversation first: a room to create
            # (first contact) costs several times a message.
            rooms = await self._conversations.existing(app.agentid, recipients)
            recipients = sorted(recipients, key=lambda u: u not in rooms)
        for start in range(0, len(recipients), DELIVERY_BATCH):
            if start:
                message = await self._api.run_db_interaction(
                    "jwwx_openapi_message", storage.get_message_txn, msgid
                )
                if message is None or message["state"] == "recalled":
                    return  # recalled while the push was running: stop
            chunk = recipients[start : start + DELIVERY_BATCH]
            delivered, failed = await self._deliver_chunk(app, msgid, content, chunk)
            await self._api.run_db_interaction(
                "jwwx_openapi_delivered",
                storage.record_deliveries_txn,
                msgid,
                delivered,
                failed,
            )
        await self._api.run_db_interaction(
            "jwwx_openapi_finish", storage.finish_message_txn, msgid, self._now()
        )

    async def _broadcast(
        self, app: App, msgid: str, content: dict[str, Any], recipients: list[str]
    ) -> None:
        """A push to the whole range: one event in each of the app's broadcast rooms,
        once their membership is the range's (broadcast.py). Rooms that are complete
        get it while others are still being joined ("early send": a build after the
        app's creation takes minutes, the first rooms are full within seconds)."""
        wanted = set(recipients)
        done: set[str] = set()  # rooms pushed into
        reached: set[str] = set()  # officers recorded as delivered
        built: list[dict[str, str]] = []  # the build's result
        ended = False  # the build ended (or failed)
        recalled = False

        async def build() -> None:
            nonlocal ended
            try:
                built.append(await self._broadcasts.sync(app))
            finally:
                ended = True

        async def early() -> None:
            nonlocal recalled
            while not ended and not recalled:
                recalled = not await self._push_ready(
                    app, msgid, content, wanted, done, reached
                )
                waited = 0.0
                while not ended and waited < EARLY_SEND_POLL_SECONDS:
                    await self._api.sleep(EARLY_SEND_STEP_SECONDS)
                    waited += EARLY_SEND_STEP_SECONDS

        async def run(part: Any) -> None:
            await part()

        await run_concurrently(run, [build, early], 2)
        if recalled or not await self._push_ready(
            app, msgid, content, wanted, done, reached, built[0]
        ):
            return  # recalled while the members were being joined
        await self._api.run_db_interaction(
            "jwwx_openapi_delivered",
            storage.record_deliveries_txn,
            msgid,
            [],
            len(wanted - reached),
        )
        await self._api.run_db_interaction(
            "jwwx_openapi_finish", storage.finish_message_txn, msgid, self._now()
        )

    async def _push_ready(
        self,
        app: App,
        msgid: str,
        content: dict[str, Any],
        wanted: set[str],
        done: set[str],
        reached: set[str],
        members: dict[str, str] | None = None,
    ) -> bool:
        """Push into the rooms not pushed yet that are complete (or, with `members`,
        the build's result, every room of it) and record who got it; False when the
        message was recalled meanwhile."""
        if members is None:
            rooms = await self._broadcasts.ready_rooms(app, wanted)
        else:
            rooms = {}
            for userid, room in members.items():
                rooms.setdefault(room, []).append(userid)
        rooms = {r: us for r, us in rooms.items() if r not in done}
        if not rooms:
            return True
        message = await self._api.run_db_interaction(
            "jwwx_openapi_message", storage.get_message_txn, msgid
        )
        if message is None or message["state"] == "recalled":
            return False
        sent = await self._broadcasts.send(app, content, sorted(rooms))
        done.update(sent)
        delivered = [
            (userid, room, *sent[room])
            for room, userids in rooms.items()
            if room in sent
            for userid in userids
            if userid in wanted and userid not in reached
        ]
        reached.update(u for u, *_ in delivered)
        for start in range(0, len(delivered), 1000):
            await self._api.run_db_interaction(
                "jwwx_openapi_delivered",
                storage.record_deliveries_txn,
                msgid,
                delivered[start : start + 1000],
                0,
            )
        return True

    async def _deliver_chunk(
        self, app: App, msgid: str, content: dict[str, Any], chunk: list[str]
    ) -> tuple[list[tuple[str, str, str, int | None]], int]:
        """(delivered (userid, room_id, event_id, stream ordering), failures)."""
        rooms = await self._conversations.existing(app.agentid, chunk)
        delivered: list[tuple[str, str, str, int | None]] = []
        failures: list[str] = []

        async def deliver_one(userid: str) -> None:
            try:
                room_id = rooms.get(userid) or await self._conversations.create(
                    app, userid
                )
                event = await self._api.create_and_send_event_into_room(
                    {
                        "type": "m.room.message",
                        "room_id": room_id,
                        "sender": app.bot_user_id,
                        "content": content,
                    }
                )
                delivered.append(
                    (userid, room_id, event.event_id, event_stream_ordering(event))
                )
            except Exception:
                logger.exception("cannot deliver %s to %s", msgid, userid)
                failures.append(userid)

        # Different rooms, so their events can be created side by side.
        await run_concurrently(deliver_one, chunk, self._config.push_concurrency)
        return delivered, len(failures)

    async def recall(self, app: App, body: dict[str, Any]) -> None:
        msgid = body.get("msgid")
        if not isinstance(msgid, str) or not msgid:
            raise WeComError(errors.INVALID_PARAMETER, "msgid missing")
        message = await self._api.run_db_interaction(
            "jwwx_openapi_message", storage.get_message_txn, msgid
        )
        if message is None or int(message["agentid"]) != app.agentid:
            raise WeComError(errors.INVALID_PARAMETER, "invalid msgid")
        if message["state"] == "recalled":
            raise WeComError(errors.INVALID_PARAMETER, "message already recalled")
        if int(message["created_ts"]) < self._now() - RECALL_WINDOW_MS:
            raise WeComError(errors.INVALID_PARAMETER, "recall only within 24 hours")
        # Mark first, so a background push still running stops at its next batch.
        await self._api.run_db_interaction(
            "jwwx_openapi_recalled", storage.mark_recalled_txn, msgid, self._now()
        )
        events = await self._api.run_db_interaction(
            "jwwx_openapi_message_events", storage.message_events_txn, msgid
        )
        for room_id, event_id in events:
            await self._api.create_and_send_event_into_room(
                {
                    "type": "m.room.redaction",
                    "room_id": room_id,
                    "sender": app.bot_user_id,
                    "redacts": event_id,
                    "content": {"redacts": event_id, "reason": "recalled"},
                }
            )
