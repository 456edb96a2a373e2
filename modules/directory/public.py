# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of the directory: its declared surface.

Other packages import the directory only from here (tests/project/test_surfaces.py and
the import contracts in .importlinter enforce it); everything else in modules.directory,
its storage above all, is private to it.

- The read model: Member (with its Memberships), Department, Tag, and who sees what
  (Visibility, Viewer).
- Reads, run inside the caller's own transaction (`run_db_interaction(desc, fn, ...)`):
  members, departments, tags, initial passwords, visibility, and the member ranges the
  open API addresses (MemberRange, deliverable_query for a storage subquery), and
  visible ranges of apps and workbench entries (VisibleRange, visible_range_txn), and
  each member's unit (二级单位) for statistics per unit (units_of_txn).
- DirectoryService: what `registry.lookup(api, SERVICE)` returns: the start-up gate,
  the directory's admin operations (same rules as the admin API) and the viewer-aware
  department listing.
- DirectoryError, the directory's errors, and QuotaExceededError (a unit quota refused
  a member write), for callers that translate them.

    from modules.directory import public as directory

    member = await api.run_db_interaction("…", directory.get_member_txn, userid)
    service = registry.lookup(api, directory.SERVICE)
"""

from collections.abc import Mapping
from typing import Any, Protocol

from modules.common import registry
from modules.common.runtime import ModuleRuntime
from modules.common.storage import Txn
from modules.directory.admin_reads import QuotaExceededError, units_of_txn
from modules.directory.auth import InitialLookup
from modules.directory.errors import DirectoryError
from modules.directory.passwords import password_matches
from modules.directory.pinyin import name_search_terms, normalise_query
from modules.directory.storage.departments import (
    Department,
    all_departments_txn,
    get_department_txn,
    get_departments_txn,
    subtree_range,
)
from modules.directory.storage.members import (
    Member,
    Membership,
    Visibility,
    get_member_txn,
    get_members_txn,
    is_visible_txn,
    member_by_mobile_txn,
)
from modules.directory.storage.provisioning import get_initial_password_txn
from modules.directory.storage.ranges import (
    MemberRange,
    deliverable_in_tree_order_txn,
    deliverable_query,
    deliverable_txn,
    department_userids_txn,
)
from modules.directory.storage.social import (
    Tag,
    get_tag_txn,
    list_tags_txn,
    tags_holding_txn,
)
from modules.directory.visibility import Viewer, viewer_txn
from modules.directory.visible_range import EVERYTHING, VisibleRange, visible_range_txn

__all__ = [
    "SERVICE",
    "Department",
    "DirectoryAdminOperations",
    "DirectoryError",
    "DirectoryListing",
    "DirectorySearching",
    "DirectoryService",
    "EVERYTHING",
    "InitialLookup",
    "InitialPasswordLogins",
    "Member",
    "MemberRange",
    "Membership",
    "QuotaExceededError",
    "Tag",
    "Viewer",
    "VisibleRange",
    "Visibility",
    "all_departments_txn",
    "deliverable_in_tree_order_txn",
    "deliverable_query",
    "deliverable_txn",
    "department_userids_txn",
    "get_department_txn",
    "get_departments_txn",
    "get_initial_password_txn",
    "get_member_txn",
    "get_members_txn",
    "get_tag_txn",
    "is_visible_txn",
    "list_tags_txn",
    "member_by_mobile_txn",
    "name_search_terms",
    "normalise_query",
    "password_matches",
    "subtree_range",
    "tags_holding_txn",
    "units_of_txn",
    "viewer_txn",
    "visible_range_txn",
]


class DirectoryAdminOperations(Protocol):
    """The directory's admin operations other modules call (the open API's 通讯录 writes,
    accounts' password reset and enable): the same validation, errors (DirectoryError)
    and account provisioning as the admin API. Bodies are the admin API's
    (docs/directory.md)."""

    async def create_department(self, body: dict[str, Any]) -> dict[str, Any]: ...

    async def update_department(
        self, department_id: int, body: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def delete_department(self, department_id: int) -> None: ...

    async def create_member(
        self,
        body: dict[str, Any],
        admin: str,
        quotas: Mapping[int, int] | None = None,
    ) -> dict[str, Any]:
        """`quotas` (modules.common.admin.member_quotas): checked in the write
        transaction; QuotaExceededError, nothing written, beyond a unit's quota."""

    async def update_member(
        self,
        userid: str,
        body: dict[str, Any],
        quotas: Mapping[int, int] | None = None,
    ) -> dict[str, Any]:
        """`quotas`: as create_member, for enabling a member or moving its main
        department into another unit."""

    async def delete_member(self, userid: str) -> None: ...

    async def reset_initial_password(self, userid: str) -> dict[str, Any]: ...

    async def save_tag(
        self, tag_id: int | None, body: dict[str, Any], admin: str
    ) -> dict[str, Any]: ...

    async def get_tag(self, tag_id: int) -> dict[str, Any]: ...

    async def delete_tag(self, tag_id: int) -> None: ...


class DirectoryListing(Protocol):
    """Listings as an officer sees them in the client API (visibility and fields)."""

    def children_txn(
        self,
        txn: Txn,
        viewer: Viewer,
        department_id: int | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]: ...


class DirectorySearching(Protocol):
    """The client API's search/members and search/departments for a user id: the same
    visibility (hidden stays hidden, restricted departments) and JSON, paged by offset:
    {"results": [...], "next_from": "<offset>" or None}. An empty query is a
    DirectoryError."""

    async def members(
        self, user_id: str, query: str, limit: int, offset: int
    ) -> dict[str, Any]: ...

    async def members_in(
        self,
        viewer_id: str,
        subtrees: tuple[str, ...],
        query: str,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """members() for a reader who is no member (a peer domain): an officer's
        visibility and fields, inside these department paths only (none: nothing)."""
        ...

    async def departments(
        self, user_id: str, query: str, limit: int, offset: int
    ) -> dict[str, Any]: ...


class InitialPasswordLogins(Protocol):
    """The initial-password check of /login, for modules.accounts to fold its lookup
    into the one statement it sends before the password check: `lookup_part`, a SELECT
    of columns a, b, n (at most one row) for that statement, `lookup_from` its row (or
    None), then `prefetched` right before Synapse checks the password (this process's
    check uses it instead of reading again)."""

    def lookup_part(self, user_id: str) -> tuple[str, tuple[Any, ...]]: ...

    def lookup_from(self, row: tuple[Any, Any, Any] | None) -> InitialLookup: ...

    def prefetched(self, user_id: str, lookup: InitialLookup) -> None: ...


class DirectoryService(Protocol):
    """modules.directory's service in the registry (`registry.lookup(api, SERVICE)`)."""

    @property
    def runtime(self) -> ModuleRuntime:
        """Await `runtime.ready()` (or test `runtime.is_ready`) before reading."""
        ...

    @property
    def admin(self) -> DirectoryAdminOperations: ...

    @property
    def reader(self) -> DirectoryListing: ...

    @property
    def search(self) -> DirectorySearching: ...

    @property
    def password_key(self) -> bytes:
        """The key of initial-password MACs (see password_matches)."""
        ...

    @property
    def initial_passwords(self) -> InitialPasswordLogins: ...


SERVICE: registry.Service[DirectoryService] = registry.Service("directory")
