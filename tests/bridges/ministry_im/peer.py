# SPDX-License-Identifier: AGPL-3.0-or-later
"""A reference peer: the ministry's side of the relay protocol (docs/ministry_im.md),
written from the document alone (its own framing, SM3/SM4 from `cryptography`), run in
a thread by the tests and the benchmark. It keeps what it received in memory, so it
outlives a bridge that is killed and started again.

Server: POST /relay/v1/{message,file_chunk,receipt,lookup}, every check of the spec
(signature, key id, timestamp, nonce, SM4 envelope, relay_id once, seq in order, chunk
SM3 and order, file SM3, the target of an edit or recall); edits and recalls applied to
what it received, a burn-after-read item deleted as it is read (`read`) and its own
copy of one it sent when the bridge's `read` receipt comes. Client: `send(kind,
payload)` signed with the ministry's key, `item`/`file_item` numbering relay_id and seq
per conversation."""

import base64
import hashlib
import hmac as std_hmac
import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SKEW_MS = 300_000
NONCE_MS = 600_000
MAX_BODY = 1 << 20
CHUNK = 256 * 1024


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def hmac_sm3(key: bytes, data: bytes) -> str:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize().hex()


def seal(key: bytes, payload: Any) -> bytes:
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps(payload).encode()) + padder.finalize()
    enc = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
    data = enc.update(plain) + enc.finalize()
    return json.dumps(
        {"iv": base64.b64encode(iv).decode(), "data": base64.b64encode(data).decode()}
    ).encode()


def unseal(key: bytes, body: bytes) -> Any:
    envelope = json.loads(body)
    iv = base64.b64decode(envelope["iv"])
    dec = Cipher(algorithms.SM4(key), modes.CBC(iv)).decryptor()
    padded = dec.update(base64.b64decode(envelope["data"])) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return json.loads(unpadder.update(padded) + unpadder.finalize())


def signature(
    key: bytes, path: str, ids: tuple[str, str, str, str], body: bytes
) -> str:
    system_id, key_id, ts, nonce = ids
    text = "\n".join(("POST", path, system_id, key_id, ts, nonce, sm3_hex(body)))
    return hmac_sm3(key, text.encode())


@dataclass
class PeerState:
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    next_seq: dict[str, int] = field(default_factory=dict)
    held: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    files: dict[str, bytearray] = field(default_factory=dict)
    chunks: list[tuple[str, int]] = field(default_factory=list)  # every chunk request
    receipts: list[dict[str, Any]] = field(default_factory=list)
    nonces: dict[str, float] = field(default_factory=dict)
    refused: list[tuple[int, str]] = field(default_factory=list)
    received: dict[str, dict[str, Any]] = field(default_factory=dict)  # by relay_id
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # ours, by relay_id


class ReferencePeer:
    def __init__(
        self,
        system_id: str,
        signing_key: bytes,
        bridge_id: str,
        bridge_signing_key: bytes,
        sm4_keys: dict[str, bytes],
        key_id: str,
        contacts: list[dict[str, str]] | None = None,
    ) -> None:
        self.system_id = system_id
        self.signing_key = signing_key
        self.bridge_id = bridge_id
        self.bridge_key = bridge_signing_key
        self.sm4_keys = sm4_keys
        self.key_id = key_id
        self.contacts = contacts or []
        self.state = PeerState()
        self.lock = threading.Condition()
        self.down = False  # True: every request is answered 503
        self.on_chunk: Callable[[str, int], None] | None = None
        self.bridge_url = ""
        self._seq: dict[str, int] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "ReferencePeer":
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for a loop that never ran
            self._server.shutdown()
        self._server.server_close()

    # Waiting (tests).

    def wait(self, check: Callable[[PeerState], Any], seconds: float = 120) -> Any:
        deadline = time.monotonic() + seconds
        with self.lock:
            while time.monotonic() < deadline:
                found = check(self.state)
                if found:
                    return found
                self.lock.wait(0.5)
        raise AssertionError("the peer did not get what was awaited")

    # Server side.

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._answer(413, {"errcode": "RELAY_TOO_LARGE", "error": "big"})
                    return
                body = self.rfile.read(length)
                status, answer = peer.receive(self.path, dict(self.headers), body)
                self._answer(status, answer)

            def _answer(self, status: int, answer: Any) -> None:
                data = (
                    answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def receive(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        if self.down:
            return 503, {"errcode": "RELAY_UNAVAILABLE", "error": "down"}
        h = {k.lower(): v for k, v in headers.items()}
        ids = tuple(
            h.get(f"x-relay-{n}", "") for n in ("id", "key-id", "timestamp", "nonce")
        )
        system_id, key_id, ts, nonce = ids
        with self.lock:
            refusal = self._check(path, ids, h.get("x-relay-signature", ""), body)
            if refusal is not None:
                self.state.refused.append((401, refusal))
                return 401, {"errcode": refusal, "error": refusal}
            self.state.nonces[nonce] = time.time() * 1000
            payload = unseal(self.sm4_keys[key_id], body)
            kind = path.rsplit("/", 1)[-1]
            status, answer = getattr(self, f"_on_{kind}")(payload)
            self.lock.notify_all()
        if status != 200:
            return status, answer
        return 200, seal(self.sm4_keys[key_id], answer)

    def _check(
        self, path: str, ids: tuple[str, ...], sig: str, body: bytes
    ) -> str | None:
        system_id, key_id, ts, nonce = ids
        if system_id != self.bridge_id or key_id not in self.sm4_keys:
            return "RELAY_UNKNOWN_SYSTEM"
        expected = signature(
            self.bridge_key, path, (system_id, key_id, ts, nonce), body
        )
        if not std_hmac.compare_digest(expected, sig):
            return "RELAY_BAD_SIGNATURE"
        now = time.time() * 1000
        if not ts.isdigit() or abs(int(ts) - now) > SKEW_MS:
            return "RELAY_STALE"
        for old in [n for n, t in self.state.nonces.items() if t < now - NONCE_MS]:
            del self.state.nonces[old]
        if nonce in self.state.nonces:
            return "RELAY_REPLAY"
        return None

    def _on_message(self, item: dict[str, Any]) -> tuple[int, Any]:
        conv, relay_id = item["conversation"], item["relay_id"]
        nxt = self.state.next_seq.get(conv, 1)
        if relay_id in self.state.seen:
            return 200, {"accepted": [relay_id], "next_seq": nxt}
        if item["seq"] < nxt:
            return 409, {"errcode": "RELAY_SEQ_USED", "error": "used", "next_seq": nxt}
        if item["type"] in ("edit", "recall"):
            target = self.state.received.get(item.get("target", ""))
            if (
                target is None
                or target["conversation"] != conv
                or target["type"] in ("edit", "recall")
                or (
                    item["type"] == "edit"
                    and (target["type"] != "text" or target["sender"] != item["sender"])
                )
            ):
                return 400, {"errcode": "RELAY_BAD_ITEM", "error": "target: unknown"}
        elif item["type"] != "text":
            data = bytes(self.state.files.get(item["file_id"], b""))
            if len(data) != item["size"]:
                return 409, {
                    "errcode": "RELAY_FILE_INCOMPLETE",
                    "error": "incomplete",
                    "received": len(data),
                }
            if sm3_hex(data) != item["sm3"]:
                return 400, {"errcode": "RELAY_BAD_SM3", "error": "sm3"}
        self.state.seen.add(relay_id)
        self.state.received[relay_id] = item
        self.state.held[(conv, item["seq"])] = item
        while (conv, nxt) in self.state.held:
            applied = self.state.held.pop((conv, nxt))
            self.state.messages.setdefault(conv, []).append(applied)
            self._apply(applied)
            nxt += 1
        self.state.next_seq[conv] = nxt
        return 200, {"accepted": [relay_id], "next_seq": nxt}

    def _apply(self, item: dict[str, Any]) -> None:
        """An edit replaces its target's text; a recall removes its content."""
        target = self.state.received.get(item.get("target", ""))
        if target is None:
            return
        if item["type"] == "edit":
            target["text"] = item["text"]
            target["edited"] = True
        elif item["type"] == "recall":
            self._forget(target, "recalled")

    def _forget(self, item: dict[str, Any], why: str) -> None:
        """Drop an item's content (text, file) and say why."""
        item.pop("text", None)
        item.pop("name", None)
        self.state.files.pop(item.get("file_id", ""), None)
        item[why] = True

    def _on_file_chunk(self, item: dict[str, Any]) -> tuple[int, Any]:
        data = base64.b64decode(item["data"])
        if sm3_hex(data) != item["sm3"]:
            return 400, {"errcode": "RELAY_BAD_SM3", "error": "chunk sm3"}
        buffer = self.state.files.setdefault(item["file_id"], bytearray())
        self.state.chunks.append((item["file_id"], item["offset"]))
        if item["offset"] + len(data) <= len(buffer):
            return 200, {"file_id": item["file_id"], "received": len(buffer)}
        if item["offset"] != len(buffer):
            return 409, {
                "errcode": "RELAY_CHUNK_GAP",
                "error": "gap",
                "received": len(buffer),
            }
        buffer.extend(data)
        if self.on_chunk is not None:
            self.on_chunk(item["file_id"], len(buffer))
        return 200, {"file_id": item["file_id"], "received": len(buffer)}

    def _on_receipt(self, item: dict[str, Any]) -> tuple[int, Any]:
        self.state.receipts.append(item)
        mine = self.state.sent.get(item["relay_id"])
        if item.get("kind") == "read" and mine and "burn_after_read_ms" in mine:
            self._forget(mine, "burned")  # read there: our copy goes
        return 200, {"accepted": [item["relay_id"]]}

    def _on_lookup(self, item: dict[str, Any]) -> tuple[int, Any]:
        query = item["query"]
        found = [c for c in self.contacts if query in c["name"] or query in c["id"]]
        return 200, {"results": found[: item.get("limit", 20)]}

    # Client side: what the ministry sends to the bridge.

    def headers(self, path: str, body: bytes, **override: str) -> dict[str, str]:
        forged = override.pop("signature", None)
        ids = {
            "id": self.system_id,
            "key-id": self.key_id,
            "timestamp": str(int(time.time() * 1000)),
            "nonce": os.urandom(16).hex(),
        }
        ids.update({k.replace("_", "-"): v for k, v in override.items()})
        sig = signature(self.signing_key, path, tuple(ids.values()), body)  # type: ignore[arg-type]
        headers = {f"X-Relay-{k.title()}": v for k, v in ids.items()}
        headers["X-Relay-Key-Id"] = ids["key-id"]
        headers["X-Relay-Signature"] = forged or sig
        headers["Content-Type"] = "application/json"
        return headers

    def post(self, kind: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        request = urllib.request.Request(  # noqa: S310 - the bridge on loopback
            f"{self.bridge_url}/relay/v1/{kind}", body, headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
                return answer.status, unseal(
                    self.sm4_keys[headers["X-Relay-Key-Id"]], answer.read()
                )
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def send(self, kind: str, payload: Any, **override: str) -> tuple[int, Any]:
        body = seal(self.sm4_keys[self.key_id], payload)
        return self.post(
            kind, body, self.headers(f"/relay/v1/{kind}", body, **override)
        )

    def send_until(self, kind: str, payload: Any, seconds: float = 120) -> Any:
        """Send until the bridge answers 200 (it may be down or restarting)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                status, answer = self.send(kind, payload)
                if status == 200:
                    return answer
                if status not in (502, 503, 504) or time.monotonic() > deadline:
                    raise AssertionError(f"{kind}: {status} {answer}")
            except OSError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.5)

    def item(self, conversation: str, sender: str, **fields: Any) -> dict[str, Any]:
        """The next item of the conversation; the peer keeps its own copy in
        `state.sent` (a burn-after-read one loses its content once read there)."""
        seq = self._seq.get(conversation, 0) + 1
        self._seq[conversation] = seq
        item = {
            "relay_id": str(uuid.uuid4()),
            "conversation": conversation,
            "seq": seq,
            "sender": sender,
            **fields,
        }
        with self.lock:
            self.state.sent[item["relay_id"]] = dict(item)
        return item

    def read(self, relay_id: str, user: str) -> Any:
        """The ministry user reads a received item: a `read` receipt to the bridge;
        a burn-after-read one is deleted here as it is read."""
        with self.lock:
            item = self.state.received[relay_id]
            if "burn_after_read_ms" in item:
                self._forget(item, "burned")
        return self.send_until(
            "receipt", {"relay_id": relay_id, "kind": "read", "user": user}
        )

    def chunks(self, file_id: str, data: bytes, start: int = 0) -> list[dict[str, Any]]:
        return [
            {
                "file_id": file_id,
                "size": len(data),
                "offset": offset,
                "data": base64.b64encode(data[offset : offset + CHUNK]).decode(),
                "sm3": sm3_hex(data[offset : offset + CHUNK]),
            }
            for offset in range(start, len(data), CHUNK)
        ]

    def file_item(
        self, conversation: str, sender: str, data: bytes, kind: str, name: str
    ) -> tuple[str, dict[str, Any]]:
        file_id = uuid.uuid4().hex
        return file_id, self.item(
            conversation,
            sender,
            type=kind,
            file_id=file_id,
            name=name,
            size=len(data),
            sm3=sm3_hex(data),
            mimetype="application/octet-stream",
        )


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
