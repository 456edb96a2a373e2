# SPDX-License-Identifier: AGPL-3.0-or-later
"""Client requests that carry text without (or before) an event, checked as Synapse
receives them (a request check of the adapter: modules.common.synapse
.add_request_check runs after authentication, before the servlet).

- POST /createRoom: the whole request (name, topic, room_alias_name, initial_state,
  creation_content…) before Synapse creates anything; server admins too, whom Synapse's
  user_may_create_room skips.
- PUT /sendToDevice/{type}/{txn}: to the sender's own devices, anything (key sharing,
  secrets, verification between an officer's devices). To another user's devices only
  the unencrypted key-verification types and key requests in TO_OTHERS, and their text
  goes through the keyword filter; anything else (including olm-encrypted
  m.room.encrypted, whose text the server cannot read; rooms are never encrypted here)
  is refused with 403 CN_JWWX_TO_DEVICE_FORBIDDEN.
- PUT /presence/{user}/status (status_msg is shown to other users), PUT
  /profile/{user}/{field} (display name and any profile field), PUT /devices/{device}
  (display_name, which other users can look up): keyword filter.
"""

import json
import re
from typing import Any
from urllib.parse import unquote

from modules.common.errors import TO_DEVICE_FORBIDDEN, error
from modules.common.synapse.patches import AuthedRequest
from modules.policy.extract import content_texts, create_room_texts
from modules.policy.handlers import KeywordFilter

_CLIENT = r"^/_matrix/client/[^/]+"
CREATE_ROOM = re.compile(_CLIENT + r"/createRoom$")
SEND_TO_DEVICE = re.compile(_CLIENT + r"/sendToDevice/(?P<type>[^/]+)/[^/]+$")
TEXT_PUTS = re.compile(
    _CLIENT + r"/(?:presence/[^/]+/status|profile/[^/]+/[^/]+|devices/[^/]+)$"
)
# To-device types another user's devices may receive: device verification (MSC/spec
# m.key.verification.*, sent unencrypted), key requests and the olm session keep-alive.
TO_OTHERS_PREFIXES = ("m.key.verification.",)
TO_OTHERS = frozenset({"m.room_key_request", "m.dummy"})
TO_DEVICE_TEXT = "不允许向其他用户的设备发送此类消息（仅允许设备验证消息）"


def _json_body(request: AuthedRequest) -> Any:
    try:
        return json.loads(request.body())
    except (ValueError, UnicodeDecodeError):
        return None  # Synapse answers M_NOT_JSON itself


def to_others_allowed(event_type: str) -> bool:
    return event_type in TO_OTHERS or event_type.startswith(TO_OTHERS_PREFIXES)


class RequestTexts:
    def __init__(self, keywords: KeywordFilter) -> None:
        self._keywords = keywords

    async def check(self, request: AuthedRequest) -> None:
        method, path = request.method, request.path
        if method == "POST" and CREATE_ROOM.match(path):
            body = _json_body(request)
            if isinstance(body, dict):
                await self._keywords.require_clean(create_room_texts(body))
        elif method == "PUT":
            match = SEND_TO_DEVICE.match(path)
            if match:
                await self._to_device(request, unquote(match["type"]))
            elif TEXT_PUTS.match(path):
                body = _json_body(request)
                if body is not None:
                    await self._keywords.require_clean(content_texts(body))

    async def _to_device(self, request: AuthedRequest, event_type: str) -> None:
        body = _json_body(request)
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, dict):
            return  # Synapse refuses the malformed body
        others = [
            by_device
            for user_id, by_device in messages.items()
            if user_id != request.user_id
        ]
        if not others:
            return
        if not to_others_allowed(event_type):
            raise error(403, TO_DEVICE_FORBIDDEN, TO_DEVICE_TEXT)
        for by_device in others:
            await self._keywords.require_clean(content_texts(by_device))
