# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the ministry sends: POST /relay/v1/{message,file_chunk,receipt,lookup}.

Each request is verified in full (signature, key id, timestamp, then the nonce is
claimed: a replay is refused) before anything is stored; the answer is sealed with the
request's key id. A message is answered `accepted` once it is in the durable queue
(delivery to Matrix is the worker's); the same relay_id again is acknowledged and not
applied; a seq ahead of next_seq is held until the gap is filled. Every refusal is
logged with the peer's system id."""

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from twisted.internet import defer

from bridges.ministry_im import items, protocol
from bridges.ministry_im.config import MinistryConfig
from bridges.ministry_im.matrix import MatrixClient
from bridges.ministry_im.protocol import RelayError
from bridges.ministry_im.storage import BridgeStore
from modules.common import gm

logger = logging.getLogger(__name__)
FORBIDDEN = "CN_JWWX_CROSS_DOMAIN_FORBIDDEN"
CHECK_SECONDS = 10  # the homeserver's permission answer; later, the worker asks again


def infile_path(config: MinistryConfig, file_id: str) -> Path:
    return config.spool_dir / "in" / file_id


class Inbound:
    def __init__(
        self,
        config: MinistryConfig,
        store: BridgeStore,
        matrix: MatrixClient,
        wake: Any,
    ) -> None:
        self._config = config
        self._store = store
        self._matrix = matrix
        self._wake = wake
        (config.spool_dir / "in").mkdir(parents=True, exist_ok=True, mode=0o700)

    async def handle(self, request: Any, kind: str) -> tuple[int, Any]:
        try:
            return await self._handle(request, kind)
        except RelayError as e:
            logger.warning("refused %s from %s: %s", kind, self._config.peer_id, e)
            return e.status, e.body()

    async def _handle(self, request: Any, kind: str) -> tuple[int, Any]:
        if kind not in protocol.KINDS:
            raise RelayError(404, "RELAY_UNKNOWN_KIND", f"unknown kind {kind[:40]!r}")
        if request.method != b"POST":
            raise RelayError(405, "RELAY_BAD_METHOD", "POST only")
        limit = self._config.max_body_bytes
        body = request.content.read(limit + 1)
        if len(body) > limit:
            raise RelayError(413, "RELAY_TOO_LARGE", f"body is over {limit} bytes")
        headers = {
            k.decode("latin-1").lower(): v[0].decode("latin-1")
            for k, v in request.requestHeaders.getAllRawHeaders()
        }
        path = request.path.decode("latin-1")
        keys = self._config.theirs
        checked = protocol.verify(
            keys, "POST", path, headers, body, self._config.clock_skew_seconds
        )
        payload = protocol.open_envelope(keys.sm4_keys[checked.key_id], body)
        keep = 2 * self._config.clock_skew_seconds
        if not self._store.claim_nonce(checked.nonce, time.time(), keep):
            raise RelayError(401, "RELAY_REPLAY", "nonce already used")
        answer = await getattr(self, f"_{kind}")(payload)
        return 200, json.loads(protocol.seal(keys.sm4_keys[checked.key_id], answer))

    async def _message(self, payload: Any) -> dict[str, Any]:
        item = items.message(payload, self._config.max_file_bytes)
        relay_id, conversation = item["relay_id"], item["conversation"]
        known = self._store.in_item(relay_id)
        if known is not None:
            return self._answer(known, conversation)
        expected = self._store.in_next(conversation)
        if item["seq"] < expected:
            raise RelayError(
                409, "RELAY_SEQ_USED", "seq already used", next_seq=expected
            )
        if item["type"] in items.FILE_TYPES:
            self._check_file(item)
        if item["type"] in items.CHANGE_TYPES:
            target = self._store.in_item(item["target"])
            items.check_target(item, None if target is None else _body(target))
        state = "queued"
        _kind, _first, officer = items.conversation(conversation)
        if (
            officer is not None
            and item["type"] != "recall"  # a recall removes: always let through
            and not await self._permitted(officer)
        ):
            state = "failed"
        kept = item
        if state == "failed" and items.burn_ms(item) is not None:
            kept = items.pruned(item)  # never shown: nothing of it is kept
            if item["type"] in items.FILE_TYPES:
                infile_path(self._config, item["file_id"]).unlink(missing_ok=True)
        self._store.accept_in(
            relay_id,
            conversation,
            item["seq"],
            json.dumps(kept, ensure_ascii=False),
            state,
        )
        if state == "failed":
            self._store.in_update(relay_id, error=FORBIDDEN)
        self._wake()
        known = self._store.in_item(relay_id)
        assert known is not None
        return self._answer(known, conversation)

    def _answer(self, row: Any, conversation: str) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "accepted": [row["relay_id"]],
            "next_seq": self._store.in_next(conversation),
        }
        if row["state"] == "failed" and row["error"] == FORBIDDEN:
            answer["accepted"] = []
            answer["rejected"] = [{"relay_id": row["relay_id"], "errcode": FORBIDDEN}]
        return answer

    async def _permitted(self, officer: str) -> bool:
        """The unit rule for the ministry's domain (modules.crossdomain); True when the
        homeserver cannot answer now (the worker asks again before delivering)."""
        user_id = f"@{officer}:{self._config.server_name}"
        try:
            return await _with_timeout(self._matrix.may_talk(user_id), CHECK_SECONDS)
        except Exception as e:
            logger.info("permission of %s not known yet: %s", officer, e)
            return True

    def _check_file(self, item: dict[str, Any]) -> None:
        row = self._store.infile(item["file_id"])
        if row is None or row["received"] < item["size"] or row["size"] != item["size"]:
            raise RelayError(
                409,
                "RELAY_FILE_INCOMPLETE",
                "the file's chunks have not all arrived",
                received=0 if row is None else int(row["received"]),
            )
        data = infile_path(self._config, item["file_id"]).read_bytes()
        if gm.sm3_hex(data[: item["size"]]) != item["sm3"]:
            raise RelayError(400, "RELAY_BAD_SM3", "the file's SM3 does not match")

    async def _file_chunk(self, payload: Any) -> dict[str, Any]:
        limit = self._config.chunk_bytes * 2
        file_id, size, offset, data = items.chunk(
            payload, self._config.max_file_bytes, limit
        )
        if gm.sm3_hex(data) != payload["sm3"]:
            raise RelayError(400, "RELAY_BAD_SM3", "the chunk's SM3 does not match")
        row = self._store.infile(file_id)
        received = 0 if row is None else int(row["received"])
        if row is not None and row["size"] != size:
            raise items.bad("size", "differs from the file's earlier chunks")
        if offset + len(data) <= received:
            return {"file_id": file_id, "received": received}  # again: acknowledged
        if offset != received:
            raise RelayError(
                409, "RELAY_CHUNK_GAP", "chunks must arrive in order", received=received
            )
        path = infile_path(self._config, file_id)
        mode = "r+b" if path.exists() else "wb"
        with open(path, mode) as out:
            out.seek(offset)
            out.write(data)
            out.truncate(offset + len(data))
            out.flush()
            os.fsync(out.fileno())
        self._store.infile_progress(file_id, size, offset + len(data))
        return {"file_id": file_id, "received": offset + len(data)}

    async def _receipt(self, payload: Any) -> dict[str, Any]:
        item = items.receipt(payload)
        row = self._store.out_by_relay(item["relay_id"])
        if row is None or row["event_id"] is None:
            raise RelayError(404, "RELAY_UNKNOWN_ITEM", "no such item of ours")
        room_id = self._store.portal_room(row["conversation"])
        if item["kind"] == "read" and room_id is not None:
            puppet = self._config.puppet(item["user"])
            await self._matrix.read_receipt(room_id, row["event_id"], puppet)
        if row["error"] != "receipt:read":  # what a recall of a burn message asks
            self._store.out_update(row["id"], error=f"receipt:{item['kind']}")
        return {"accepted": [item["relay_id"]]}

    async def _lookup(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise items.bad("body", "must be an object")
        query = items.text_field(payload, "query")
        if len(query) > 64:
            raise items.bad("query", "at most 64 characters")
        limit = payload.get("limit", 20)
        if not isinstance(limit, int) or not 1 <= limit <= 50:
            raise items.bad("limit", "must be 1..50")
        found = await self._matrix.directory(query, limit)
        return {"results": found.get("results", [])}


def _body(row: Any) -> dict[str, Any]:
    body = json.loads(row["body"])
    return body if isinstance(body, dict) else {}


async def _with_timeout(work: Any, seconds: float) -> Any:
    from twisted.internet import reactor

    d = defer.ensureDeferred(work)
    d.addTimeout(seconds, reactor)
    return await d
