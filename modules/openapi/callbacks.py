# SPDX-License-Identifier: AGPL-3.0-or-later
"""Receiving messages (接收消息): what officers send in an app's conversation is POSTed to
the app's callback URL as WeCom's encrypted XML (text, image, voice, video, location,
link), with WeCom's query string (msg_signature, timestamp, nonce).

Each message is queued once (its MsgId, derived from the event id, is the key), then
delivered by a loop on the background-task process, one queue per app (up to
`callback_concurrency` apps at a time, each app's messages in order), so one slow or
misbehaving app server delays only its own messages: a 2xx answer within the timeout is
success; anything else (including an error of ours while delivering) is retried with
doubling delays, and after MAX_ATTEMPTS the message is dead-lettered (state "failed"),
listed by the admin API and counted in Prometheus, until an admin requeues it.
Saving a callback URL first verifies it (echostr), as WeCom's console does. An answer
that is an encrypted passive reply goes back to the officer (replies.py).
"""

import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any
from xml.sax.saxutils import escape

from prometheus_client import Counter, Gauge
from synapse.module_api import ModuleApi

from modules.common.jobs import Jobs
from modules.common.pacer import Pacer
from modules.common.storage import Txn
from modules.common.synapse.runtime import await_foreign
from modules.openapi import storage
from modules.openapi.crypto import MsgCrypt, cdata, parse_xml
from modules.openapi.errors import WeComError
from modules.openapi.incoming import IncomingMessage
from modules.openapi.replies import (
    ReplyError,
    decrypt_reply,
    is_passive_reply,
    reply_body,
)
from modules.openapi.storage import App
from modules.openapi.storage import callbacks as callback_store

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
MAX_ATTEMPTS = 6
FIRST_RETRY_MS = 5000
BATCH = 20
IDLE_MAX_S = 5.0  # idle, a row queued on another process waits at most this long
DEAD_LETTER = callback_store.DEAD_LETTER
STATES = ("pending", "sent", DEAD_LETTER)
MAX_ERROR = 200

DELIVERIES = Counter(
    "jwwx_openapi_callback_attempts",
    "Callback POSTs to app servers, by outcome (sent, retry, dead_letter)",
    ["outcome"],
)
REPLIES_DROPPED = Counter(
    "jwwx_openapi_callback_replies_dropped",
    "Passive replies of app servers that could not be read (bad encoding, signature, XML)",
)
DEAD_LETTERS = Gauge(
    "jwwx_openapi_callbacks_dead_letter",
    "Callbacks that gave up after every retry and wait for an admin (all apps)",
)


class CallbackError(Exception):
    pass


def wecom_msgid(event_id: str) -> str:
    """A stable 63-bit MsgId for an event (the same on every retry)."""
    digest = hashlib.sha256(event_id.encode("utf-8")).digest()
    return str(int.from_bytes(digest[:8], "big") & 0x7FFFFFFFFFFFFFFF)


def _mxc_url(base: str, mxc: str) -> str:
    return base.rstrip("/") + "/_matrix/media/v3/download/" + mxc[len("mxc://") :]


def message_xml(
    corpid: str, agentid: int, userid: str, event: Any, public_baseurl: str
) -> str | None:
    """WeCom's plaintext XML for an officer's m.room.message, or None (not forwarded)."""
    content = event.content
    msgtype = content.get("msgtype")
    body = content.get("body", "")
    if not isinstance(body, str):
        return None
    created = int(event.origin_server_ts // 1000)
    msgid = wecom_msgid(event.event_id)
    fields: list[tuple[str, str]]
    geo = content.get("geo_uri", "")
    if msgtype in ("m.text", "m.notice", "m.emote"):
        link = content.get("cn.jwwx.link")
        if isinstance(link, dict):
            kind = "link"
            fields = [
                ("Title", str(link.get("title", ""))),
                ("Description", str(link.get("description", ""))),
                ("Url", str(link.get("url", ""))),
                ("PicUrl", str(link.get("picurl", ""))),
            ]
        else:
            kind, fields = "text", [("Content", body)]
    elif msgtype in ("m.image", "m.audio", "m.video", "m.file") and isinstance(
        content.get("url"), str
    ):
        url = content["url"]
        media_id = url.rsplit("/", 1)[-1]
        if msgtype == "m.image":
            kind = "image"
            fields = [("PicUrl", _mxc_url(public_baseurl, url)), ("MediaId", media_id)]
        elif msgtype == "m.audio":
            mimetype = str(content.get("info", {}).get("mimetype", "audio/amr"))
            kind = "voice"
            fields = [("MediaId", media_id), ("Format", mimetype.split("/")[-1])]
        elif msgtype == "m.video":
            kind, fields = "video", [("MediaId", media_id), ("ThumbMediaId", "")]
        else:
            kind, fields = "file", [("MediaId", media_id), ("Title", body)]
    elif msgtype == "m.location" and isinstance(geo, str) and geo.startswith("geo:"):
        coordinates = geo[4:].split(";")[0].split(",")
        if len(coordinates) < 2:
            return None
        kind = "location"
        fields = [
            ("Location_X", coordinates[0]),
            ("Location_Y", coordinates[1]),
            ("Scale", "15"),
            ("Label", body),
        ]
    else:
        return None
    parts = [
        f"<ToUserName>{cdata(corpid)}</ToUserName>",
        f"<FromUserName>{cdata(userid)}</FromUserName>",
        f"<CreateTime>{created}</CreateTime>",
        f"<MsgType>{cdata(kind)}</MsgType>",
    ]
    parts += [f"<{name}>{cdata(value)}</{name}>" for name, value in fields]
    parts += [f"<MsgId>{msgid}</MsgId>", f"<AgentID>{agentid}</AgentID>"]
    return "<xml>" + "".join(parts) + "</xml>"


async def post(
    url: str, query: dict[str, str], body: bytes | None
) -> tuple[int, bytes]:
    """One HTTP request to an app server (admin-configured, so private addresses are
    allowed, unlike Synapse's own outbound client)."""
    import treq

    headers: dict[bytes | str, list[bytes | str]] = {
        "Content-Type": ["text/xml; charset=utf-8"]
    }

    async def call() -> tuple[int, bytes]:
        response = await treq.request(
            "POST" if body is not None else "GET",
            url,
            params=query,
            data=body,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            persistent=False,
        )
        return response.code, await response.content()

    return await await_foreign(call())


class Callbacks:
    def __init__(
        self, api: ModuleApi, jobs: Jobs, corpid: str, concurrency: int = 16
    ) -> None:
        self._api = api
        self._jobs = jobs
        self._corpid = corpid
        self._concurrency = concurrency
        self._running = False
        self._busy: set[int] = set()  # apps whose queue a task is draining
        self._counted_ts = 0
        # Queued callbacks kick (the message tail runs on this process); retries are
        # read when due; otherwise a read after 2, 4 … IDLE_MAX_S idle seconds.
        self.pacer = Pacer(self._api.get_current_time_msec, 1.0, IDLE_MAX_S)
        # Delivers a passive reply: (app, userid, message/send fields).
        self.on_reply: Callable[[App, str, dict[str, Any]], Awaitable[Any]] | None = (
            None
        )

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    def crypt(self, app: App) -> MsgCrypt:
        assert app.callback_token and app.encoding_aes_key
        return MsgCrypt(
            app.callback_token, app.encoding_aes_key, self._corpid, app.crypto_mode
        )

    async def verify_url(self, app: App) -> None:
        """WeCom's URL verification: GET with an encrypted echostr; the app must answer
        the plaintext. CallbackError otherwise."""
        crypt = self.crypt(app)
        plain = secrets.token_hex(10)
        echostr = crypt.encrypt(plain)
        stamp, nonce = str(int(time.time())), secrets.token_hex(8)
        query = {
            "msg_signature": crypt.sign(stamp, nonce, echostr),
            "timestamp": stamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        assert app.callback_url
        try:
            code, answer = await post(app.callback_url, query, None)
        except Exception as e:
            raise CallbackError(f"无法连接回调地址：{type(e).__name__}") from e
        if code != 200 or answer.strip().decode("utf-8", "replace") != plain:
            raise CallbackError(
                f"回调地址未通过验证（HTTP {code}，应原样返回 echostr 明文）"
            )

    def queue_txn(self, txn: Txn, messages: list[IncomingMessage]) -> None:
        """Queue the officers' messages among `messages` for their apps' callback
        URLs (inside the transaction that moves the stream cursor)."""
        now = self._now()
        apps: dict[int, App | None] = {}
        for message in messages:
            if message.sender != self._api.get_qualified_user_id(message.userid):
                continue  # the bot's own messages, or anyone else's
            if message.agentid not in apps:
                apps[message.agentid] = storage.get_app_txn(txn, message.agentid)
            app = apps[message.agentid]
            if app is None or not app.callback_url:
                continue
            payload = message_xml(
                self._corpid,
                message.agentid,
                message.userid,
                message,
                self._api.public_baseurl,
            )
            if payload is not None:
                callback_store.enqueue_txn(
                    txn,
                    message.agentid,
                    wecom_msgid(message.event_id),
                    message.event_id,
                    payload,
                    now,
                )

    def kick(self) -> None:
        """Deliver now, on the process that runs the module's jobs (elsewhere the
        queued row waits for that process's next read, within IDLE_MAX_S)."""
        self.pacer.wake()
        self._jobs.start("jwwx_openapi_callbacks", self.deliver_due)

    async def tick(self) -> None:
        """The jobs process's tick: read only when something is due (a retry's time
        has come, a kick) or the idle wait is over (issue 17, item 2)."""
        if self.pacer.due():
            await self.deliver_due()

    async def deliver_due(self) -> None:
        """Start a drain of every app with a callback due (at most `concurrency`
        apps at a time; an app already being drained is left to its task)."""
        if self._running:
            return
        self._running = True
        try:
            now = self._now()
            apps, next_due = await self._api.run_db_interaction(
                "jwwx_openapi_due_callback_apps", callback_store.due_apps_txn, now
            )
            self.pacer.found(bool(apps), next_due)
            for agentid in apps:
                if len(self._busy) >= self._concurrency:
                    break
                if agentid in self._busy:
                    continue
                self._busy.add(agentid)
                self._api.run_as_background_process(
                    "jwwx_openapi_callbacks_app", self._drain, agentid
                )
            if now - self._counted_ts >= 10_000:
                self._counted_ts = now
                await self._count_dead_letters()
        finally:
            self._running = False

    async def _count_dead_letters(self) -> None:
        DEAD_LETTERS.set(
            await self._api.run_db_interaction(
                "jwwx_openapi_dead_letters", callback_store.dead_letter_count_txn
            )
        )

    async def _drain(self, agentid: int) -> None:
        """Deliver one app's due callbacks in order, until none is due."""
        try:
            while True:
                due = await self._api.run_db_interaction(
                    "jwwx_openapi_due_callbacks",
                    callback_store.due_txn,
                    agentid,
                    self._now(),
                    BATCH,
                )
                if not due:
                    return
                for _, msgid, payload, attempts in due:
                    await self._deliver(agentid, msgid, payload, attempts)
        except Exception:
            # A database error: the rows stay due and the next tick tries again.
            logger.exception("callbacks of app %s interrupted", agentid)
        finally:
            self._busy.discard(agentid)

    async def queue(self, agentid: int, state: str, limit: int) -> dict[str, Any]:
        counts = await self._api.run_db_interaction(
            "jwwx_openapi_callback_counts", callback_store.callback_state_txn, agentid
        )
        rows = await self._api.run_db_interaction(
            "jwwx_openapi_list_callbacks",
            callback_store.list_callbacks_txn,
            agentid,
            state,
            limit,
        )
        return {
            "agentid": agentid,
            "counts": {name: counts.get(name, 0) for name in STATES},
            "state": state,
            "callbacks": rows,
        }

    async def requeue(self, agentid: int, msgids: list[str] | None) -> int:
        count = int(
            await self._api.run_db_interaction(
                "jwwx_openapi_requeue_callbacks",
                callback_store.requeue_txn,
                agentid,
                msgids,
                self._now(),
            )
        )
        await self._count_dead_letters()
        self.kick()
        return count

    async def _reply(
        self, app: App, crypt: MsgCrypt, payload: str, answer: bytes
    ) -> None:
        """Send the app server's passive reply to the officer who wrote. A bad reply
        is logged only: the callback itself was delivered and is not retried."""
        try:
            body = reply_body(decrypt_reply(crypt, answer))
            userid = parse_xml(payload)["FromUserName"]
            if self.on_reply is not None:
                await self.on_reply(app, userid, body)
        except (ReplyError, WeComError) as e:
            REPLIES_DROPPED.inc()
            logger.warning("passive reply of app %s dropped: %s", app.agentid, e)
        except Exception:
            # Whatever the app server answered must not stop its queue (issue 15).
            REPLIES_DROPPED.inc()
            logger.exception("passive reply of app %s dropped", app.agentid)

    async def _deliver(
        self, agentid: int, msgid: str, payload: str, attempts: int
    ) -> None:
        """One attempt; the row is always marked (sent, retried later, or dead)."""
        error: str | None
        try:
            app = await self._api.run_db_interaction(
                "jwwx_openapi_app", storage.get_app_txn, agentid
            )
            if app is None or not app.callback_url:
                state, error = DEAD_LETTER, "应用或回调地址已删除"
            else:
                attempts += 1
                error = await self._attempt(app, payload)
                if error is None:
                    state = "sent"
                elif attempts >= MAX_ATTEMPTS:
                    state = DEAD_LETTER
                else:
                    state = "pending"
        except Exception as e:
            logger.exception("callback %s of app %s", msgid, agentid)
            attempts = max(attempts, 1)
            error = f"内部错误：{type(e).__name__}"
            state = DEAD_LETTER if attempts >= MAX_ATTEMPTS else "pending"
        now = self._now()
        delay = FIRST_RETRY_MS * 2 ** max(0, attempts - 1)
        await self._api.run_db_interaction(
            "jwwx_openapi_mark_callback",
            callback_store.mark_txn,
            agentid,
            msgid,
            state,
            attempts,
            now + delay,
            None if error is None else error[:MAX_ERROR],
            now,
        )
        outcome = {"sent": "sent", "pending": "retry"}.get(state, "dead_letter")
        DELIVERIES.labels(outcome).inc()
        if state == DEAD_LETTER:
            DEAD_LETTERS.inc()
        if error is not None:
            logger.info("callback %s of app %s: %s (%s)", msgid, agentid, error, state)

    async def _attempt(self, app: App, payload: str) -> str | None:
        """POST the message to the app server; None on success, else why not."""
        assert app.callback_url
        crypt = self.crypt(app)
        stamp, nonce = str(int(time.time())), secrets.token_hex(8)
        encrypt = crypt.encrypt(payload)
        body = (
            f"<xml><ToUserName>{cdata(self._corpid)}</ToUserName>"
            f"<Encrypt>{cdata(encrypt)}</Encrypt>"
            f"<AgentID>{cdata(str(app.agentid))}</AgentID></xml>"
        )
        query = {
            "msg_signature": crypt.sign(stamp, nonce, encrypt),
            "timestamp": stamp,
            "nonce": nonce,
        }
        try:
            code, answer = await post(app.callback_url, query, body.encode("utf-8"))
        except Exception as e:
            return f"{type(e).__name__}: {escape(str(e))[:MAX_ERROR]}"
        if not 200 <= code < 300:
            return f"HTTP {code}"
        if is_passive_reply(answer):
            await self._reply(app, crypt, payload, answer)
        return None
