# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.watermark."""

from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn, read_settings_txn, write_settings_txn


def get_settings_txn(txn: Txn) -> dict[str, Any]:
    return read_settings_txn(txn, "jwwx_watermark_settings")


def put_settings_txn(txn: Txn, values: dict[str, Any], by: str, now: int) -> None:
    write_settings_txn(txn, "jwwx_watermark_settings", values, by, now)


@dataclass(frozen=True)
class MediaOrigin:
    room_id: str
    sender: str
    event_id: str


def claim_origins_txn(
    txn: Txn, uris: list[str], room_id: str, sender: str, event_id: str, now: int
) -> dict[str, MediaOrigin]:
    """Each file's first sharing; files seen for the first time get this message as
    their origin (first claim wins, also between concurrent messages)."""
    found: dict[str, MediaOrigin] = {}
    for uri in uris:
        txn.execute(
            "INSERT INTO jwwx_watermark_media_origin"
            " (media_uri, room_id, sender, event_id, first_ts) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (media_uri) DO NOTHING",
            (uri, room_id, sender, event_id, now),
        )
        txn.execute(
            "SELECT room_id, sender, event_id FROM jwwx_watermark_media_origin"
            " WHERE media_uri = ?",
            (uri,),
        )
        row = txn.fetchone()
        found[uri] = MediaOrigin(row[0], row[1], row[2])
    return found


def record_media_rooms_txn(txn: Txn, uris: list[str], room_id: str, now: int) -> None:
    """The room of an allowed message carrying these files."""
    for uri in uris:
        txn.execute(
            "INSERT INTO jwwx_watermark_media_rooms (media_uri, room_id, first_ts)"
            " VALUES (?, ?, ?) ON CONFLICT (media_uri, room_id) DO NOTHING",
            (uri, room_id, now),
        )


def media_rooms_txn(txn: Txn, uri: str) -> list[str]:
    """The rooms a file was sent in (newest first)."""
    txn.execute(
        "SELECT room_id FROM jwwx_watermark_media_rooms WHERE media_uri = ?"
        " ORDER BY first_ts DESC",
        (uri,),
    )
    return [row[0] for row in txn.fetchall()]
