# SPDX-License-Identifier: AGPL-3.0-or-later
"""The durable cursor of the open API's reader of Synapse's event stream
(jwwx_openapi_stream_cursor, modules/openapi/incoming.py)."""

from modules.common.storage import Txn

CURSOR = "incoming_messages"


def cursor_txn(txn: Txn, start_at: int) -> int:
    """The stored position; the first time, `start_at` (history is not replayed)."""
    txn.execute(
        "SELECT stream_ordering FROM jwwx_openapi_stream_cursor WHERE name = ?",
        (CURSOR,),
    )
    row = txn.fetchone()
    if row is not None:
        return int(row[0])
    txn.execute(
        "INSERT INTO jwwx_openapi_stream_cursor (name, stream_ordering) VALUES (?, ?)",
        (CURSOR, start_at),
    )
    return start_at


def move_cursor_txn(txn: Txn, position: int) -> None:
    txn.execute(
        "UPDATE jwwx_openapi_stream_cursor SET stream_ordering = ? WHERE name = ?",
        (position, CURSOR),
    )
