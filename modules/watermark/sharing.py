# SPDX-License-Identifier: AGPL-3.0-or-later
"""Server-side enforcement of the sharing policy, where the server can see it.

Forwarding a file is the one kind of sharing visible to the server: the forwarded
message carries the same mxc:// URI as the original. The rule (docs/watermark.md):

  Every message carrying a file (content.url or content.file.url) claims that file's
  origin if it has none yet: its room and sender. While `sharing.allow_forward_files`
  is false, a message from a local officer whose file has an origin in another room,
  sent there by someone else, is refused with 403 CN_JWWX_SHARING_FORBIDDEN.
  Every allowed message also records its room for the file: the watermarked media path
  serves a file that was sent only to its uploader and to members of those rooms.

So an officer may send their own upload to as many chats as they like, and anyone may
re-send a file within the chat it came from; taking someone else's file out of its
chat is what is refused. The other restrictions (save to phone, other apps, e-mail)
happen on the device: clients read them from the client-config endpoint.
"""

from collections.abc import Mapping
from typing import Any, Literal

from synapse.module_api import ModuleApi

from modules.common.errors import error
from modules.common.runtime import ModuleRuntime
from modules.watermark import storage
from modules.watermark.errors import SHARING_FORBIDDEN
from modules.watermark.settings import SettingsCache

MESSAGE = "m.room.message"
NOT_SPAM: Literal["NOT_SPAM"] = "NOT_SPAM"


def media_uris(content: Any) -> list[str]:
    """The files a message carries (unencrypted and encrypted-attachment forms)."""
    found = []
    if isinstance(content, Mapping):  # Synapse's event content is immutable
        url = content.get("url")
        if isinstance(url, str) and url.startswith("mxc://"):
            found.append(url)
        attachment = content.get("file")
        if isinstance(attachment, Mapping):
            inner = attachment.get("url")
            if isinstance(inner, str) and inner.startswith("mxc://"):
                found.append(inner)
    return sorted(set(found))


class SharingRules:
    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, settings: SettingsCache
    ) -> None:
        self._api = api
        self._runtime = runtime
        self._settings = settings

    async def check_event_for_spam(self, event: Any) -> Literal["NOT_SPAM"]:
        """A spam-checker callback (no room state needed); a local refusal is raised
        as a SynapseError, which Synapse passes to the client unchanged."""
        if event.type != MESSAGE or event.is_state():
            return NOT_SPAM
        uris = media_uris(event.content)
        if not uris:
            return NOT_SPAM
        await self._runtime.ready()
        origins = await self._api.run_db_interaction(
            "jwwx_watermark_claim_origins",
            storage.claim_origins_txn,
            uris,
            event.room_id,
            event.sender,
            event.event_id,
            self._api.get_current_time_msec(),
        )
        if (
            not self._settings.current.sharing.allow_forward_files
            and self._api.is_mine(event.sender)  # other domains enforce their own
        ):
            for origin in origins.values():
                if origin.room_id != event.room_id and origin.sender != event.sender:
                    raise error(
                        403,
                        SHARING_FORBIDDEN,
                        "管理员已禁止转发文件：该文件来自其他会话，不能转发到本会话",
                    )
        # Allowed (watermark is the last module that checks events): its room's
        # members may now view the files on the watermarked media path.
        await self._api.run_db_interaction(
            "jwwx_watermark_media_rooms",
            storage.record_media_rooms_txn,
            uris,
            event.room_id,
            self._api.get_current_time_msec(),
        )
        return NOT_SPAM
