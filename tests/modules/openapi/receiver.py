# SPDX-License-Identifier: AGPL-3.0-or-later
"""A real local HTTP server playing an app's callback endpoint, written the way an app
developer would with modules/openapi/crypto.py (WeCom's WXBizMsgCrypt operations)."""

from typing import Any

from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Site

from modules.openapi.crypto import MsgCrypt, MsgCryptError, parse_xml


class Receiver(Resource):
    isLeaf = True

    def __init__(self, crypt: MsgCrypt) -> None:
        super().__init__()
        self.crypt = crypt
        self.verifications = 0
        self.posts = 0
        self.fail_next = 0
        self.messages: list[dict[str, str]] = []
        self.reply: str | None = None  # plaintext XML of a passive reply, if any
        self.reply_crypt: MsgCrypt | None = None  # to encrypt it with other keys
        self.port: Any = None

    def start(self) -> str:
        self.port = reactor.listenTCP(0, Site(self), interface="127.0.0.1")
        return f"http://127.0.0.1:{self.port.getHost().port}/wecom/callback"

    async def stop(self) -> None:
        if self.port is not None:
            await self.port.stopListening()

    @staticmethod
    def _arg(request: Any, name: str) -> str:
        return str(request.args.get(name.encode(), [b""])[0].decode())

    def render_GET(self, request: Any) -> bytes:
        try:
            echo = self.crypt.verify_url(
                self._arg(request, "msg_signature"),
                self._arg(request, "timestamp"),
                self._arg(request, "nonce"),
                self._arg(request, "echostr"),
            )
        except MsgCryptError:
            request.setResponseCode(403)
            return b"bad signature"
        self.verifications += 1
        return echo.encode()

    def render_POST(self, request: Any) -> bytes:
        self.posts += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            request.setResponseCode(500)
            return b"busy"
        try:
            xml = self.crypt.decrypt_msg(
                request.content.read(),
                self._arg(request, "msg_signature"),
                self._arg(request, "timestamp"),
                self._arg(request, "nonce"),
            )
        except MsgCryptError:
            request.setResponseCode(403)
            return b"bad message"
        message = parse_xml(xml)
        if message["MsgId"] not in {m["MsgId"] for m in self.messages}:
            self.messages.append(message)
        if self.reply is not None:
            crypt = self.reply_crypt or self.crypt
            return crypt.encrypt_msg(self.reply, "r3ply").encode()
        return b"success"
