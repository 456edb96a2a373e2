# SPDX-License-Identifier: AGPL-3.0-or-later
"""Who may do what with a document: owner, editors, commenters, readers by person,
department (its subtree included) or tag, from the organisation directory; a link
role opens the document to every account of this bureau (this server, never a
federated one) that has the link. The highest role a user holds wins."""

from collections.abc import Iterable
from dataclasses import dataclass

from modules.common.storage import Txn
from modules.directory import public as directory
from modules.docs import storage
from modules.docs.storage import ROLES, Document

RANK = {role: i for i, role in enumerate(ROLES)}


def at_least(role: str | None, wanted: str) -> bool:
    return role is not None and RANK[role] >= RANK[wanted]


def best(*roles: str | None) -> str | None:
    found = [r for r in roles if r is not None]
    return max(found, key=RANK.__getitem__) if found else None


@dataclass(frozen=True)
class Person:
    """A user as the directory knows them: their departments with every ancestor."""

    user_id: str
    local: bool  # an account of this bureau (this server)
    departments: frozenset[int]

    def principals(self) -> list[tuple[str, str]]:
        found = [("user", self.user_id)]
        found += [("department", str(d)) for d in sorted(self.departments)]
        return found


def person_txn(txn: Txn, user_id: str, server_name: str) -> Person:
    localpart, _, server = user_id[1:].partition(":")
    if server != server_name:
        return Person(user_id, False, frozenset())
    member = directory.get_member_txn(txn, localpart)
    if member is None:
        return Person(user_id, True, frozenset())
    ids = [m.department_id for m in member.memberships]
    departments = directory.get_departments_txn(txn, ids)
    ancestors: set[int] = set()
    for department in departments.values():
        ancestors.update(department.path_ids)
    return Person(user_id, True, frozenset(ancestors))


def tags_held_txn(txn: Txn, person: Person, tag_ids: Iterable[str]) -> set[str]:
    """Which of the tags (ids as grants hold them) the person is in, as a member or
    through a department of theirs or an ancestor: one statement for all of them."""
    ids = sorted({int(t) for t in tag_ids if t.isdigit()})
    if not ids or not person.local:
        return set()
    localpart = person.user_id[1:].partition(":")[0]
    held = directory.tags_holding_txn(txn, ids, localpart, sorted(person.departments))
    return {str(t) for t in held}


def role_txn(txn: Txn, doc: Document, person: Person) -> str | None:
    """The user's role on the document, None when they may not open it: the document,
    the person and the document's grants read in a fixed number of statements, however
    many grants it has and however deep the person's departments are."""
    if doc.owner == person.user_id:
        return "owner"
    roles: list[str | None] = [doc.link_role if person.local else None]
    mine = set(person.principals())
    grants = storage.grants_txn(txn, doc.doc_id)
    held = tags_held_txn(
        txn, person, [g.principal for g in grants if g.principal_kind == "tag"]
    )
    for grant in grants:
        key = (grant.principal_kind, grant.principal)
        if key in mine or (grant.principal_kind == "tag" and grant.principal in held):
            roles.append(grant.role)
    return best(*roles)


def shared_with_txn(txn: Txn, person: Person, limit: int) -> list[tuple[Document, str]]:
    """Documents of others shared with the person (by person, department subtree or
    tag), newest first, each with the best role the person holds on it: a fixed number
    of statements, however many tags are granted or departments the person is under."""
    tags = tags_held_txn(txn, person, storage.granted_tags_txn(txn))
    principals = person.principals() + [("tag", tag) for tag in sorted(tags)]
    return [
        (doc, best(*roles) or roles[0])
        for doc, roles in storage.granted_txn(txn, principals, person.user_id, limit)
        if roles
    ]
