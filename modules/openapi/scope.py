# SPDX-License-Identifier: AGPL-3.0-or-later
"""An app's visible range (可见范围): the members, departments and tags it may see and
message (the directory's VisibleRange: listed userids, members of a listed department's
subtree, and the members or department subtrees of a listed tag). Apps with
directory_write (通讯录同步) see the whole directory."""

from modules.common.storage import Txn
from modules.directory import public as directory
from modules.openapi.storage import App

Scope = directory.VisibleRange


def scope_txn(txn: Txn, app: App) -> Scope:
    if app.directory_write:
        return directory.EVERYTHING
    return directory.visible_range_txn(
        txn, app.visible_users, app.visible_departments, app.visible_tags
    )
