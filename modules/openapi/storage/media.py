# SPDX-License-Identifier: AGPL-3.0-or-later
"""Temporary media uploaded by apps (jwwx_openapi_media, media/upload)."""

from dataclasses import dataclass

from modules.common.storage import Txn


@dataclass(frozen=True)
class Media:
    media_id: str
    agentid: int
    media_type: str
    mxc: str
    filename: str
    content_type: str
    size: int
    created_ts: int
    expires_ts: int


def insert_media_txn(txn: Txn, media: Media) -> None:
    txn.execute(
        "INSERT INTO jwwx_openapi_media (media_id, agentid, media_type, mxc, filename,"
        " content_type, size, created_ts, expires_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            media.media_id,
            media.agentid,
            media.media_type,
            media.mxc,
            media.filename,
            media.content_type,
            media.size,
            media.created_ts,
            media.expires_ts,
        ),
    )


def get_media_txn(txn: Txn, media_id: str) -> Media | None:
    txn.execute(
        "SELECT media_id, agentid, media_type, mxc, filename, content_type, size,"
        " created_ts, expires_ts FROM jwwx_openapi_media WHERE media_id = ?",
        (media_id,),
    )
    row = txn.fetchone()
    if row is None:
        return None
    return Media(
        row[0],
        int(row[1]),
        row[2],
        row[3],
        row[4],
        row[5],
        int(row[6]),
        int(row[7]),
        int(row[8]),
    )


def purge_media_txn(txn: Txn, before: int) -> None:
    txn.execute("DELETE FROM jwwx_openapi_media WHERE expires_ts < ?", (before,))
