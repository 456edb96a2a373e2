# SPDX-License-Identifier: AGPL-3.0-or-later
"""Who may do what with a document: owner, editors, commenters, readers by person,
department (its subtree included) or tag, from the organisation directory; a link
role opens the document to every account of this bureau (this server, never a
federated one) that has the link. The highest role a user holds wins."""

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


def in_tag_txn(txn: Txn, person: Person, tag_id: str) -> bool:
    if not tag_id.isdigit():
        return False
    tag = directory.get_tag_txn(txn, int(tag_id))
    if tag is None:
        return False
    localpart = person.user_id[1:].partition(":")[0]
    return (person.local and localpart in tag.userids) or bool(
        person.departments.intersection(tag.department_ids)
    )


def role_txn(txn: Txn, doc: Document, person: Person) -> str | None:
    """The user's role on the document, None when they may not open it."""
    if doc.owner == person.user_id:
        return "owner"
    roles: list[str | None] = [doc.link_role if person.local else None]
    mine = set(person.principals())
    for grant in storage.grants_txn(txn, doc.doc_id):
        key = (grant.principal_kind, grant.principal)
        if key in mine or (
            grant.principal_kind == "tag" and in_tag_txn(txn, person, grant.principal)
        ):
            roles.append(grant.role)
    return best(*roles)
