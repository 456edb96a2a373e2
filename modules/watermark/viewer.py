# SPDX-License-Identifier: AGPL-3.0-or-later
"""Who is looking: the name, userid and time a watermark shows."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from weakref import WeakKeyDictionary

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.batched_read import BatchedRead
from modules.common.storage import Txn
from modules.directory import public as directory_public

_PLACEHOLDER = re.compile(r"\{(name|userid|user_id|date|time)\}")


@dataclass(frozen=True)
class Viewer:
    user_id: str  # @userid:server
    userid: str  # the directory's userid (the localpart)
    name: str


def render_text(template: str, viewer: Viewer, now_ms: int, utc_offset: int) -> str:
    moment = datetime.fromtimestamp(
        now_ms / 1000, tz=timezone(timedelta(hours=utc_offset))
    )
    values = {
        "name": viewer.name,
        "userid": viewer.userid,
        "user_id": viewer.user_id,
        "date": moment.strftime("%Y-%m-%d"),
        "time": moment.strftime("%Y-%m-%d %H:%M"),
    }
    # One pass with a fixed set of names: a name containing "{date}" stays literal.
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


async def resolve_viewer(api: ModuleApi, user_id: str) -> Viewer:
    """The name from the organisation directory when the officer is in it, else the
    Matrix display name, else the userid itself."""
    localpart = user_id.split(":", 1)[0].lstrip("@")
    name = await _directory_name(api, localpart)
    if name is None and api.is_mine(user_id):
        try:
            profile = await api.get_profile_for_user(localpart)
            name = profile.display_name or None
        except Exception:
            name = None
    return Viewer(user_id, localpart, name or localpart)


async def _directory_name(api: ModuleApi, localpart: str) -> str | None:
    try:
        directory = registry.lookup(api, directory_public.SERVICE)
    except registry.ServiceMissingError:
        return None
    if not directory.runtime.is_ready:
        return None
    names = _names.get(api)
    if names is None:
        names = _names[api] = BatchedRead(
            api, "jwwx_watermark_directory_names", _names_txn
        )
    return await names.get(localpart)


# Per process (its ModuleApi): viewers asking at the same moment (fifty officers opening
# an article page, a chat's images) share one directory read.
_names: "WeakKeyDictionary[ModuleApi, BatchedRead[str, str]]" = WeakKeyDictionary()


def _names_txn(txn: Txn, localparts: list[str]) -> dict[str, str]:
    members = directory_public.get_members_txn(txn, localparts)
    return {userid: str(m.name) for userid, m in members.items() if m.name}
