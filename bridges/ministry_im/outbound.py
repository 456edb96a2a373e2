# SPDX-License-Identifier: AGPL-3.0-or-later
"""What Synapse pushes to the bridge (the Application Service API) and what of it goes
to the ministry.

- An officer invites a puppet (@<prefix><ministry id>) to a room: the puppet joins and
  the room becomes a portal: of direct/<ministry id>/<officer> when the invite is a
  direct chat's (is_direct, as every client's 1:1 chat), else of a group started here,
  group/jwwx.<hash of the room> (later puppets join the same group). modules.crossdomain
  refused the invite already when the inviter's unit may not talk with the ministry
  (403 CN_JWWX_CROSS_DOMAIN_FORBIDDEN at /invite), for every puppet of a group; the
  room is ours, so our group rules (modules.groups) apply to it as to any other.
- A message of one of ours in a portal: queued (outq, keyed by its event id, so a
  transaction Synapse sends again adds nothing); text, image, file and voice. In a
  group started here it carries the room's name (group_name) and the ministry users
  in it (members), so the ministry can make or update its side of the group.
- A read receipt of one of ours on a message the ministry sent: a `read` receipt.
- A message to the bot `查找 NAME` (or `lookup NAME`): the ministry's contacts, if the
  officer's unit may talk with the ministry.
Every call must carry the registration's hs_token."""

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from twisted.internet import defer

from bridges.common.appservice import TransactionHandler
from bridges.ministry_im import items
from bridges.ministry_im.config import MinistryConfig
from bridges.ministry_im.matrix import MatrixClient, MatrixError
from bridges.ministry_im.relay_client import RelayClient
from bridges.ministry_im.storage import BridgeStore
from bridges.ministry_im.worker import receipt_id
from modules.common.markers import BURN_FIELDS

logger = logging.getLogger(__name__)
LOOKUP = ("查找 ", "lookup ")
FILE_MSGTYPES = {"m.image": "image", "m.file": "file", "m.audio": "voice"}


GROUP_HERE = "group/jwwx."


def group_started_here(server_name: str, room_id: str) -> str:
    """The conversation of a group an officer started here by inviting puppets: an id
    of the protocol's form ([a-z0-9_.=-], ≤ 64), the same for the room every time."""
    digest = hashlib.sha256(f"{server_name} {room_id}".encode()).hexdigest()
    return GROUP_HERE + digest[:24]


class AppService:
    def __init__(
        self,
        config: MinistryConfig,
        store: BridgeStore,
        matrix: MatrixClient,
        relay: RelayClient,
        hs_token: str,
        wake: Callable[[], None],
    ) -> None:
        self._config = config
        self._store = store
        self._matrix = matrix
        self._relay = relay
        # Events in order, each handled before the answer (a message queued before
        # the next one); receipts from the ephemeral events; the worker woken after.
        self._transactions = TransactionHandler(
            hs_token,
            self._event,
            await_events=True,
            on_ephemeral=self._ephemeral,
            after=wake,
        )

    async def handle(self, request: Any) -> tuple[int, Any]:
        return await self._transactions.handle(request)

    def _ours(self, user_id: str) -> str | None:
        """The officer localpart of a local user who is neither a puppet nor the bot."""
        local, _, server = user_id[1:].partition(":")
        if (
            server != self._config.server_name
            or user_id == self._config.bot_user_id
            or self._config.ministry_user(user_id) is not None
        ):
            return None
        return local

    async def _event(self, event: dict[str, Any]) -> None:
        kind, room_id = event.get("type"), str(event.get("room_id", ""))
        sender = str(event.get("sender", ""))
        if kind == "m.room.member":
            await self._member(event, room_id, sender)
        elif kind == "m.room.redaction":
            self._redaction(event, sender)
        elif kind == "m.room.message":
            conversation = self._store.portal_of(room_id)
            officer = self._ours(sender)
            if officer is None:
                return
            if conversation is not None:
                group = None
                if conversation.startswith(GROUP_HERE):
                    group = await self._group(room_id)
                self._message(event, conversation, officer, group)
            else:
                defer.ensureDeferred(self._command(event, room_id, sender))

    async def _member(self, event: dict[str, Any], room_id: str, sender: str) -> None:
        target = str(event.get("state_key", ""))
        content = event.get("content") or {}
        if content.get("membership") != "invite":
            return
        officer = self._ours(sender)
        if officer is None:
            return
        ministry_user = self._config.ministry_user(target)
        try:
            if target == self._config.bot_user_id:
                await self._matrix.join(room_id)
            elif ministry_user is not None:
                await self._matrix.ensure_puppet(target, "")
                await self._matrix.join(room_id, as_user=target)
                if self._store.portal_of(room_id) is None:
                    conversation = f"direct/{ministry_user}/{officer}"
                    if content.get("is_direct") is not True:
                        conversation = group_started_here(
                            self._config.server_name, room_id
                        )
                    self._store.set_portal(conversation, room_id, target)
        except MatrixError as e:
            logger.warning("could not join %s as %s: %s", room_id, target, e)

    async def _group(self, room_id: str) -> dict[str, Any]:
        """group_name and members (the ministry users joined) of a group started here,
        as its portal's puppet sees them now."""
        puppet = self._store.portal_creator(room_id)
        joined = await self._matrix.members(room_id, puppet)
        members = sorted(
            m for m in map(self._config.ministry_user, joined) if m is not None
        )
        name = await self._matrix.room_name(room_id, puppet)
        return {"group_name": name or "群聊", "members": members}

    def _message(
        self,
        event: dict[str, Any],
        conversation: str,
        officer: str,
        group: dict[str, Any] | None = None,
    ) -> None:
        content = event.get("content") or {}
        msgtype = content.get("msgtype")
        item: dict[str, Any] = {
            "conversation": conversation,
            "sender": officer,
            "ts": event.get("origin_server_ts"),
        }
        relates = content.get("m.relates_to")
        if isinstance(relates, dict) and relates.get("rel_type") == "m.replace":
            if not self._edit(item, relates, content.get("m.new_content")):
                return
        elif msgtype in ("m.text", "m.notice", "m.emote"):
            item.update(type="text", text=str(content.get("body", "")))
        elif msgtype in FILE_MSGTYPES and str(content.get("url", "")).startswith(
            "mxc://"
        ):
            info = content.get("info") or {}
            item.update(
                type=FILE_MSGTYPES[msgtype],
                name=str(content.get("body") or "file"),
                mimetype=str(info.get("mimetype") or "application/octet-stream"),
                mxc=content["url"],
            )
            if isinstance(info.get("duration"), int):
                item["duration_ms"] = info["duration"]
        else:
            return  # locations, encrypted content: not relayed
        ttl = next((content[f] for f in BURN_FIELDS if f in content), None)
        if isinstance(ttl, int) and not isinstance(ttl, bool):
            item["burn_after_read_ms"] = ttl  # modules.burn checked it when sent
        item.update(group or {})
        event_id = str(event.get("event_id"))
        relay_id = receipt_id(event_id)
        item["relay_id"] = relay_id
        if self._store.enqueue_out(relay_id, conversation, "message", item, event_id):
            logger.info("queued %s %s for the ministry", item["type"], event_id)

    def _edit(self, item: dict[str, Any], relates: Any, new: Any) -> bool:
        """An officer's edit (m.replace) of a text of his relayed before: an `edit`
        of that item. False when it is not one (another's message, not a text)."""
        target = self._store.out_by_event(str(relates.get("event_id")))
        if target is None or not isinstance(new, dict):
            return False
        body = json.loads(target["body"])
        if body.get("type") != "text" or body.get("sender") != item["sender"]:
            return False
        if new.get("msgtype") not in ("m.text", "m.notice", "m.emote"):
            return False
        text = str(new.get("body"))
        item.update(type="edit", target=target["relay_id"], text=text)
        ttl = items.burn_ms(body)
        if ttl is not None:
            item["burn_after_read_ms"] = ttl  # the edit burns with its message
        return True

    def _redaction(self, event: dict[str, Any], sender: str) -> None:
        """One of ours redacts a message relayed to the ministry: a `recall` (also
        when modules.burn burns it because a member here read it first). Not when
        the ministry has read a burn-after-read message: it deleted its copy then."""
        officer = self._ours(sender)
        redacts = event.get("redacts") or (event.get("content") or {}).get("redacts")
        target = self._store.out_by_event(str(redacts)) if officer else None
        if officer is None or target is None or target["kind"] != "message":
            return
        body = json.loads(target["body"])
        if body.get("type") not in items.CONTENT_TYPES:
            return  # an edit redacted: the message stays as it is there
        if items.burn_ms(body) is not None and target["error"] == "receipt:read":
            return
        event_id = str(event.get("event_id"))
        relay_id = receipt_id(event_id)
        item = {
            "conversation": target["conversation"],
            "sender": officer,
            "type": "recall",
            "target": target["relay_id"],
            "relay_id": relay_id,
        }
        if self._store.enqueue_out(
            relay_id, target["conversation"], "message", item, event_id
        ):
            logger.info("queued the recall %s for the ministry", event_id)

    def _ephemeral(self, event: dict[str, Any]) -> None:
        if event.get("type") == "m.receipt":
            self._receipt(event)

    def _receipt(self, event: dict[str, Any]) -> None:
        for event_id, kinds in (event.get("content") or {}).items():
            readers = (kinds or {}).get("m.read") or {}
            row = self._store.in_by_event(event_id)
            if row is None:
                continue
            for reader in readers:
                officer = self._ours(reader)
                if officer is None:
                    continue
                body = {
                    "relay_id": row["relay_id"],
                    "kind": "read",
                    "user": officer,
                    "ts": (readers[reader] or {}).get("ts"),
                }
                self._store.enqueue_out(
                    receipt_id(row["relay_id"], "read", officer),
                    row["conversation"],
                    "receipt",
                    body,
                )

    async def _command(self, event: dict[str, Any], room_id: str, sender: str) -> None:
        text = str((event.get("content") or {}).get("body", "")).strip()
        query = next((text[len(p) :] for p in LOOKUP if text.startswith(p)), None)
        if not query or not query.strip():
            return
        try:
            if not await self._matrix.may_talk(sender):
                reply = "本单位未获准与部级即时通信系统通信（CN_JWWX_CROSS_DOMAIN_FORBIDDEN）"
            else:
                found = await self._relay.call(
                    "lookup", {"query": query.strip()[:64], "limit": 10}
                )
                lines = [
                    f"{r.get('name', '')} {self._config.puppet(str(r.get('id')))}"
                    for r in found.get("results", [])
                    if isinstance(r, dict)
                ]
                reply = "\n".join(lines) or "部级通讯录中没有找到"
            await self._matrix.send(
                room_id,
                {"msgtype": "m.notice", "body": reply},
                receipt_id(str(event.get("event_id")), "lookup"),
                None,
            )
        except Exception:
            logger.exception("lookup for %s failed", sender)
