"""SQL of modules.watermark."""

import json
from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn


def get_settings_txn(txn: Txn) -> dict[str, Any]:
    txn.execute("SELECT name, value FROM jwwx_watermark_settings")
    return {row[0]: json.loads(row[1]) for row in txn.fetchall()}


def put_settings_txn(txn: Txn, values: dict[str, Any], by: str, now: int) -> None:
    for name, value in values.items():
        txn.execute("DELETE FROM jwwx_watermark_settings WHERE name = ?", (name,))
        txn.execute(
            "INSERT INTO jwwx_watermark_settings (name, value, updated_by, updated_ts)"
            " VALUES (?, ?, ?, ?)",
            (name, json.dumps(value, ensure_ascii=False), by, now),
        )


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
