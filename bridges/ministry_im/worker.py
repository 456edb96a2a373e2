# SPDX-License-Identifier: AGPL-3.0-or-later
"""The two drains: the queue to the ministry (outq) and the queue to Matrix (inq).

Each conversation's items go in seq order, one at a time; a failure that may pass (the
other side down, 5xx, a timeout) is retried with doubling back-off (retry_min_seconds
to retry_max_seconds), a refusal (4xx) ends the item as failed and, to the ministry, a
`failed` receipt. Exactly once across a crash: to the ministry each item carries its
relay_id (the ministry acknowledges a repeat without applying it) and a file resumes
at the last acknowledged chunk (`sent`); to Matrix each send uses the relay_id as the
transaction id (Synapse answers a repeat with the first event)."""

import base64
import json
import logging
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

from twisted.internet import defer

from bridges.ministry_im import items
from bridges.ministry_im.config import MinistryConfig
from bridges.ministry_im.inbound import FORBIDDEN, infile_path
from bridges.ministry_im.matrix import MatrixClient, MatrixError
from bridges.ministry_im.protocol import RelayError
from bridges.ministry_im.relay_client import RelayClient
from bridges.ministry_im.storage import BridgeStore
from modules.common import gm
from modules.common.markers import BURN_FIELDS

logger = logging.getLogger(__name__)
IDLE_SECONDS = 0.5
MSGTYPES = {"image": "m.image", "file": "m.file", "voice": "m.audio"}
RECALLED = "撤回"  # the reason of a recall's redaction


class PermanentError(Exception):
    """An item that will never go through (refused by the other side)."""


def receipt_id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "jwwx-ministry:" + "|".join(parts)))


class Worker:
    def __init__(
        self,
        config: MinistryConfig,
        store: BridgeStore,
        matrix: MatrixClient,
        relay: RelayClient,
    ) -> None:
        self._config = config
        self._store = store
        self._matrix = matrix
        self._relay = relay
        self._woken: defer.Deferred[None] | None = None
        self._running = False
        self._puppets: set[str] = set()  # registered (this process knows)
        (config.spool_dir / "out").mkdir(parents=True, exist_ok=True, mode=0o700)

    def wake(self) -> None:
        if self._woken is not None and not self._woken.called:
            self._woken.callback(None)

    async def run(self, clock: Any) -> None:
        self._running = True
        while self._running:
            busy = await self.drain_once()
            if not busy:
                self._woken = defer.Deferred()
                timer = clock.callLater(IDLE_SECONDS, self.wake)
                await self._woken
                if timer.active():
                    timer.cancel()

    def stop(self) -> None:
        self._running = False
        self.wake()

    async def drain_once(self) -> bool:
        now = time.time()
        rows_in = self._store.due_in(now)
        rows_out = self._store.due_out(now)
        work = [self._deliver_in(r) for r in rows_in]
        work += [self._deliver_out(r) for r in rows_out]
        if work:
            await defer.gatherResults(
                [defer.ensureDeferred(w) for w in work], consumeErrors=True
            )
        return bool(work)

    def _backoff(self, attempts: int) -> float:
        delay = self._config.retry_min_seconds * 2 ** min(attempts, 20)
        return time.time() + min(delay, self._config.retry_max_seconds)

    # To Matrix.

    async def _deliver_in(self, row: Any) -> None:
        item = json.loads(row["body"])
        try:
            room_id, event_id = await self._post(row, item)
        except (MatrixError, PermanentError) as e:
            if isinstance(e, MatrixError) and not e.permanent:
                self._retry_in(row, e)
                return
            errcode = e.errcode if isinstance(e, MatrixError) else str(e)
            logger.warning("ministry item %s refused here: %s", row["relay_id"], e)
            failed: dict[str, Any] = {"state": "failed", "error": errcode}
            if items.burn_ms(item) is not None:
                failed["body"] = json.dumps(items.pruned(item), ensure_ascii=False)
            self._store.in_update(row["relay_id"], **failed)
            if "body" in failed:
                self._forget_in(item)
            self._receipt_out(row, "failed", errcode)
            return
        except Exception as e:
            self._retry_in(row, e)
            return
        done: dict[str, Any] = {"event_id": event_id, "room_id": room_id}
        if items.burn_ms(item) is not None:
            done["body"] = json.dumps(items.pruned(item), ensure_ascii=False)
        self._store.in_update(row["relay_id"], state="done", **done)
        if "body" in done:
            self._forget_in(item)
        self._receipt_out(row, "delivered", None)

    def _forget_in(self, item: dict[str, Any]) -> None:
        """A burn-after-read item has crossed: its spooled file goes, and the pruned
        row's old bytes leave the bridge's database files."""
        if item["type"] in items.FILE_TYPES:
            infile_path(self._config, item["file_id"]).unlink(missing_ok=True)
        self._store.scrub()

    def _retry_in(self, row: Any, e: Exception) -> None:
        logger.info("to Matrix %s: %s (retrying)", row["relay_id"], e)
        self._store.in_update(
            row["relay_id"],
            attempts=row["attempts"] + 1,
            next_try=self._backoff(row["attempts"]),
            error=str(e)[:200],
        )

    def _receipt_out(self, row: Any, kind: str, errcode: str | None) -> None:
        _kind, _first, officer = items.conversation(row["conversation"])
        body = {"relay_id": row["relay_id"], "kind": kind, "user": officer or "-"}
        body["ts"] = _ms()
        if errcode:
            body["errcode"] = errcode
        self._store.enqueue_out(
            receipt_id(row["relay_id"], kind),
            row["conversation"],
            "receipt",
            body,
        )
        self.wake()

    async def _post(self, row: Any, item: dict[str, Any]) -> tuple[str, str]:
        if item["type"] in items.CHANGE_TYPES:
            return await self._change(row, item)
        kind, first, officer = items.conversation(item["conversation"])
        sender = self._config.puppet(item["sender"])
        if sender not in self._puppets:
            await self._matrix.ensure_puppet(sender, str(item.get("sender_name") or ""))
            self._puppets.add(sender)
        if officer is not None:
            officer_id = f"@{officer}:{self._config.server_name}"
            if not await self._matrix.may_talk(officer_id):
                raise PermanentError(FORBIDDEN)
        room_id = self._store.portal_room(item["conversation"])
        if room_id is None:
            room_id = await self._create_portal(item, kind, sender, officer)
        else:
            try:
                await self._matrix.join(room_id, as_user=sender)
            except MatrixError as e:
                if not e.permanent:
                    raise
                creator = self._store.portal_creator(room_id) or sender
                await self._matrix.invite(room_id, sender, creator)
                await self._matrix.join(room_id, as_user=sender)
        content = await self._content(item, sender)
        event_id = await self._matrix.send(room_id, content, row["relay_id"], sender)
        return room_id, event_id

    async def _change(self, row: Any, item: dict[str, Any]) -> tuple[str, str]:
        """An edit (m.replace from the editor's puppet) or a recall (a redaction by
        the target's puppet) of a message posted earlier; the transaction id is the
        item's relay_id, as for a message."""
        target = self._store.in_item(item["target"])
        if target is None or not target["event_id"] or not target["room_id"]:
            raise PermanentError("RELAY_UNKNOWN_ITEM")  # its target never posted
        room_id, event_id = str(target["room_id"]), str(target["event_id"])
        if item["type"] == "recall":
            puppet = self._config.puppet(json.loads(target["body"])["sender"])
            redaction = await self._matrix.redact(
                room_id, event_id, row["relay_id"], puppet, RECALLED
            )
            return room_id, redaction
        _kind, _first, officer = items.conversation(item["conversation"])
        officer_id = f"@{officer}:{self._config.server_name}"
        if officer is not None and not await self._matrix.may_talk(officer_id):
            raise PermanentError(FORBIDDEN)
        text = item["text"]
        content = {
            "msgtype": "m.text",
            "body": f"* {text}",
            "m.new_content": {"msgtype": "m.text", "body": text},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        }
        sender = self._config.puppet(item["sender"])
        return room_id, await self._matrix.send(
            room_id, content, row["relay_id"], sender
        )

    async def _create_portal(
        self, item: dict[str, Any], kind: str, sender: str, officer: str | None
    ) -> str:
        server = self._config.server_name
        if officer is not None:
            members = [f"@{officer}:{server}"]
            name = ""
        else:
            members = []
            for member in item.get("members", []):
                user_id = f"@{member}:{server}"
                if await self._matrix.may_talk(user_id):
                    members.append(user_id)
            name = str(item.get("group_name") or item["conversation"])
        alias = self._portal_alias(item["conversation"])
        try:
            room_id = await self._matrix.create_room(
                sender, name, members, direct=officer is not None, alias=alias
            )
        except MatrixError as e:
            if e.errcode != "M_ROOM_IN_USE":
                raise
            # Created before a crash, not recorded: that room, if the puppet made it.
            room_id = await self._matrix.resolve_alias(
                f"#{alias}:{self._config.server_name}"
            )
            if await self._matrix.room_creator(room_id, sender) != sender:
                raise PermanentError("RELAY_PORTAL_TAKEN") from e
            logger.info("portal of %s found again: %s", item["conversation"], room_id)
        self._crash_point("after_create_room")
        self._store.set_portal(item["conversation"], room_id, sender)
        return room_id

    def _portal_alias(self, conversation: str) -> str:
        """The local alias a portal room is created with, one per conversation: a
        crash between creating the room and recording it finds the room again
        (createRoom answers M_ROOM_IN_USE). Keyed with our signing key, so nobody
        can take a conversation's alias first."""
        mac = gm.hmac_sm3(self._config.ours.signing_key, conversation.encode())
        return f"{self._config.user_prefix}portal.{mac.hex()[:32]}"

    def _crash_point(self, name: str) -> None:
        """Fault injection for tests (config `crash_points_dir`)."""
        where = self._config.crash_points_dir
        if where is not None and (where / name).exists():
            (where / name).unlink()
            logger.warning("crash point %s: killing the bridge", name)
            os.kill(os.getpid(), signal.SIGKILL)

    async def _content(self, item: dict[str, Any], sender: str) -> dict[str, Any]:
        content = await self._plain_content(item, sender)
        ttl = items.burn_ms(item)
        if ttl is not None:
            content[BURN_FIELDS[0]] = ttl  # modules.burn burns our copy once read
        return content

    async def _plain_content(self, item: dict[str, Any], sender: str) -> dict[str, Any]:
        if item["type"] == "text":
            return {"msgtype": "m.text", "body": item["text"]}
        data = infile_path(self._config, item["file_id"]).read_bytes()[: item["size"]]
        mimetype = str(item.get("mimetype") or "application/octet-stream")
        mxc = await self._matrix.upload(data, item["name"], mimetype, sender)
        info: dict[str, Any] = {"size": item["size"], "mimetype": mimetype}
        if item["type"] == "voice" and isinstance(item.get("duration_ms"), int):
            info["duration"] = item["duration_ms"]
        return {
            "msgtype": MSGTYPES[item["type"]],
            "body": item["name"],
            "url": mxc,
            "info": info,
        }

    # To the ministry.

    async def _deliver_out(self, row: Any) -> None:
        try:
            if row["kind"] == "receipt":
                await self._relay.call("receipt", json.loads(row["body"]))
            else:
                await self._send_message(row)
        except RelayError as e:
            if 400 <= e.status < 500 and e.status not in (408, 409, 429):
                logger.warning("ministry refused %s: %s", row["relay_id"], e)
                self._store.out_update(row["id"], state="failed", error=e.errcode)
                self._forget_out(row)
                return
            self._retry_out(row, e)
            return
        except (PermanentError, MatrixError) as e:
            if isinstance(e, MatrixError) and not e.permanent:
                self._retry_out(row, e)
                return
            logger.warning("not relayed to the ministry %s: %s", row["relay_id"], e)
            self._store.out_update(row["id"], state="failed", error=str(e)[:200])
            self._forget_out(row)
            return
        except Exception as e:
            self._retry_out(row, e)
            return
        self._store.out_update(row["id"], state="done", error=None)
        self._forget_out(row)

    def _forget_out(self, first: Any) -> None:
        """Our burn-after-read message is the ministry's now (or never will be):
        keep no copy of it."""
        row = self._store.out_by_relay(first["relay_id"])  # with its spooled file
        assert row is not None
        item = json.loads(row["body"])
        if row["kind"] != "message" or items.burn_ms(item) is None:
            return
        self._store.out_update(
            row["id"], body=json.dumps(items.pruned(item), ensure_ascii=False)
        )
        if row["file"]:
            Path(row["file"]).unlink(missing_ok=True)
        self._store.scrub()

    def _retry_out(self, row: Any, e: Exception) -> None:
        logger.info("to the ministry %s: %s (retrying)", row["relay_id"], e)
        self._store.out_update(
            row["id"],
            attempts=row["attempts"] + 1,
            next_try=self._backoff(row["attempts"]),
            error=str(e)[:200],
        )

    async def _send_message(self, row: Any) -> None:
        item = json.loads(row["body"])
        sender_id = f"@{item['sender']}:{self._config.server_name}"
        started = time.monotonic()
        if item["type"] != "recall" and not await self._matrix.may_talk(sender_id):
            raise PermanentError(FORBIDDEN)
        if item["type"] in items.FILE_TYPES:
            await self._send_file(row, item)
        answer = await self._relay.call("message", item)
        logger.info(
            "relayed %s %s to the ministry in %.2f s",
            item["type"],
            row["relay_id"],
            time.monotonic() - started,
        )
        rejected = answer.get("rejected") or []
        if rejected:
            raise PermanentError(str(rejected[0].get("errcode") or "RELAY_REJECTED"))

    async def _send_file(self, row: Any, item: dict[str, Any]) -> None:
        """Spool the Matrix file once, then its chunks from the last acknowledged."""
        path = self._config.spool_dir / "out" / row["relay_id"]
        if row["file"] is None:
            room_id = self._store.portal_room(item["conversation"])
            member = self._store.portal_creator(room_id) if room_id else None
            fetch = time.monotonic()
            data = await self._matrix.download(item.pop("mxc"), member)
            logger.info(
                "fetched %d bytes for %s in %.2f s",
                len(data),
                row["relay_id"],
                time.monotonic() - fetch,
            )
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            item.update(
                file_id=row["relay_id"].replace("-", ""),
                size=len(data),
                sm3=gm.sm3_hex(data),
            )
            body = json.dumps(item, ensure_ascii=False)
            self._store.out_update(row["id"], file=str(path), body=body)
        data = path.read_bytes()
        sent = int(row["sent"]) if row["file"] is not None else 0
        size, step = len(data), self._config.chunk_bytes
        while sent < size:
            piece = data[sent : sent + step]
            try:
                answer = await self._relay.call(
                    "file_chunk",
                    {
                        "file_id": item["file_id"],
                        "size": size,
                        "offset": sent,
                        "data": _b64(piece),
                        "sm3": gm.sm3_hex(piece),
                    },
                )
                received = int(answer["received"])
            except RelayError as e:
                if e.errcode != "RELAY_CHUNK_GAP":
                    raise
                received = int(e.extra.get("received", 0))
            sent = min(received, size)
            self._store.out_update(row["id"], sent=sent)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _ms() -> int:
    return int(time.time() * 1000)
