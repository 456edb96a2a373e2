# SPDX-License-Identifier: AGPL-3.0-or-later
"""The mail bridge's officer API on the web client's origin: /_jwwx/mail/… forwarded
to the URL the bridge registered (its application-service registration,
`mail_registration_id`), so the client's 邮件 page works on one process without nginx
(`make run`) and behind the rendered nginx, which sends /_jwwx/ to the main process.

The request goes on as it came (method, path and query, body, Authorization and
Content-Type; X-Forwarded-For the client's address) and the bridge's answer comes back
as it is, streamed (an attachment is not held whole here). Nothing is kept. Without a
registered mail bridge: 404 M_UNRECOGNIZED; a bridge that does not answer: 502
CN_JWWX_BRIDGE_UNAVAILABLE."""

from typing import Any

from twisted.web.http_headers import Headers

import treq
from synapse.module_api import ModuleApi

from modules.common.http import RawBody, Router
from modules.common.inputs import read_body
from modules.common.synapse.appservices import appservice_url
from modules.common.synapse.errors import Codes, SynapseError
from modules.common.synapse.runtime import await_foreign

MAIL_PREFIX = "/_jwwx/mail"
METHODS = ("GET", "PUT", "POST", "DELETE")
# The bridge's own answer can wait for the mail server (its IMAP/SMTP timeouts).
TIMEOUT_SECONDS = 120.0
MAX_REQUEST_BYTES = 1 << 20  # binding, a reply's text: small JSON bodies
_PASSED_ON = (b"authorization", b"content-type", b"accept", b"accept-language")
# Hop-by-hop headers (RFC 9110 7.6.1) stay on their own connection.
_HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
}
UNAVAILABLE = "CN_JWWX_BRIDGE_UNAVAILABLE"


class MailForwardResource(Router):
    prefix = MAIL_PREFIX

    def __init__(self, api: ModuleApi, registration_id: str) -> None:
        super().__init__(api)
        self._registration_id = registration_id

    def routes(self) -> list[tuple[str, str]]:
        return [(method, f"{MAIL_PREFIX}/{{path}}") for method in METHODS]

    async def _dispatch(self, request: Any) -> tuple[int, Any]:
        method = bytes(request.method).decode("ascii", "replace")
        if method == "OPTIONS":
            return 200, {}
        if method not in (*METHODS, "HEAD"):
            raise SynapseError(405, f"{method} is not allowed here", Codes.UNRECOGNIZED)
        base = appservice_url(self.api, self._registration_id)
        if base is None:
            raise SynapseError(404, "邮件服务未配置", Codes.UNRECOGNIZED)
        try:
            target = base.rstrip("/") + bytes(request.uri).decode("ascii")
        except UnicodeDecodeError as e:
            raise SynapseError(400, "地址含非法字符", Codes.INVALID_PARAM) from e
        body = read_body(request, MAX_REQUEST_BYTES)
        headers = Headers()
        for name in _PASSED_ON:
            value = request.requestHeaders.getRawHeaders(name)
            if value:
                headers.setRawHeaders(name, value)
        headers.setRawHeaders(b"X-Forwarded-For", [request.getClientAddress().host])
        return await await_foreign(self._forward(method, target, headers, body))

    async def _forward(
        self, method: str, target: str, headers: Headers, body: bytes
    ) -> tuple[int, RawBody]:
        """The bridge's answer, whole (JSON, or one attachment the bridge already
        bounds with max_attachment_bytes), sent on by the HTTP layer."""
        try:
            response = await treq.request(
                method,
                target,
                headers=headers,
                data=body or None,
                timeout=TIMEOUT_SECONDS,
            )
            data = await treq.content(response)
        except Exception as e:  # refused, timed out, cut off: the bridge is down
            raise SynapseError(502, "邮件服务暂不可用，请稍后再试", UNAVAILABLE) from e
        passed = tuple(
            (name, value)
            for name, values in response.headers.getAllRawHeaders()
            if name.lower() not in _HOP_BY_HOP
            and name.lower() not in (b"content-type", b"content-length")
            for value in values
        )
        content_type = response.headers.getRawHeaders(
            b"content-type", [b"application/octet-stream"]
        )[0]
        return response.code, RawBody(
            content_type.decode("latin-1"), data, inline=True, headers=passed
        )
