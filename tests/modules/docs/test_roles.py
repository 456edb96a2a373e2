# SPDX-License-Identifier: AGPL-3.0-or-later
"""Roles from the directory at scale, on real SQLite and PostgreSQL databases (issue
25: 5,000 users and 5,000 departments): a role by person, by a department anywhere up
the person's path, or by a tag (as a member or through a department), and what it
costs. Resolving a role and the "shared with me" listing send a fixed number of
statements, however many tags a document (or the bureau) is shared with and however
deep the officer sits: tags used to cost three statements each (the tag with all its
members), per grant and per request."""

from typing import Any

from twisted.trial import unittest

from modules.common.migrations import apply_migrations_txn, package_schema_files
from modules.directory import importing
from modules.directory.records import MemberRecord
from modules.directory.sample import generate_directory
from modules.directory.storage import social
from modules.docs import roles, storage
from modules.docs.storage import Document, Grant
from tests.harness.statements import CountingTxn
from tests.harness.storage_case import OnPostgres, OnSQLite, StorageCase

SERVER = "test"
DEPARTMENTS, MEMBERS = 1000, 400


class RoleTests(StorageCase):
    package = "modules.docs"
    departments: list[Any]
    members: list[MemberRecord]
    parent: dict[int, int | None]

    def prepare(self) -> None:
        # Stand-in for Synapse's users table, which a directory migration indexes.
        self.db(lambda txn: txn.execute("CREATE TABLE users (name TEXT NOT NULL)"))
        files = package_schema_files("modules.directory")
        self.db(apply_migrations_txn, "directory", files)
        super().prepare()
        self.departments, self.members = generate_directory(
            DEPARTMENTS, MEMBERS, seed=3
        )
        self.db(importing.apply_departments_txn, self.departments, 0)
        self.db(importing.apply_members_txn, self.members, "@admin:test", 0)
        self.parent = {d.id: d.parent_id for d in self.departments}

    def path(self, member: MemberRecord) -> list[int]:
        ids = [member.memberships[0].department.department_id]
        while (up := self.parent[ids[-1]]) is not None:
            ids.append(up)
        return ids[::-1]

    def deepest(self) -> MemberRecord:
        return max(
            (m for m in self.members if m.memberships and len(m.memberships) == 1),
            key=lambda m: len(self.path(m)),
        )

    def tag(
        self, name: str, userids: tuple[str, ...], departments: tuple[int, ...]
    ) -> str:
        return str(
            self.db(social.save_tag_txn, None, name, userids, departments, "@a:test", 0)
        )

    def document(
        self, doc_id: str, grants: list[Grant], owner: str = "@o:test"
    ) -> Document:
        doc = Document(doc_id, "rich", doc_id, owner, None, 1, len(grants), 0)
        self.db(storage.create_txn, doc)
        self.db(storage.replace_sharing_txn, doc_id, grants, None, len(grants) + 1)
        return self.db(storage.get_txn, doc_id)

    def role(self, doc: Document, member: MemberRecord) -> tuple[str | None, int]:
        statements: list[str] = []

        def run(txn: Any) -> str | None:
            counted = CountingTxn(txn, statements)
            person = roles.person_txn(counted, f"@{member.userid}:{SERVER}", SERVER)
            return roles.role_txn(counted, doc, person)

        return self.db(run), len(statements)

    def shared(
        self, member: MemberRecord, limit: int = 50
    ) -> tuple[dict[str, str], int]:
        statements: list[str] = []

        def run(txn: Any) -> list[tuple[Document, str]]:
            counted = CountingTxn(txn, statements)
            person = roles.person_txn(counted, f"@{member.userid}:{SERVER}", SERVER)
            return roles.shared_with_txn(counted, person, limit)

        found = self.db(run)
        return {d.doc_id: r for d, r in found}, len(statements)

    def test_roles_by_person_department_subtree_and_tag(self) -> None:
        officer = self.deepest()
        path = self.path(officer)
        self.assertGreaterEqual(len(path), 5)
        others = [m for m in self.members if m.userid != officer.userid]
        elsewhere = [d.id for d in self.departments if d.id not in path][:3]
        by_member = self.tag("成员标签", (officer.userid,), ())
        by_department = self.tag("部门标签", (others[0].userid,), (path[1],))
        not_his = self.tag("无关标签", (others[1].userid,), tuple(elsewhere))
        cases = {
            "person": (
                [Grant("user", f"@{officer.userid}:{SERVER}", "editor")],
                "editor",
            ),
            "root": ([Grant("department", str(path[0]), "reader")], "reader"),
            "middle": ([Grant("department", str(path[2]), "commenter")], "commenter"),
            "own": ([Grant("department", str(path[-1]), "editor")], "editor"),
            "tag-member": ([Grant("tag", by_member, "commenter")], "commenter"),
            "tag-department": ([Grant("tag", by_department, "editor")], "editor"),
            "not-his-tag": ([Grant("tag", not_his, "editor")], None),
            "elsewhere": (
                [Grant("department", str(d), "editor") for d in elsewhere],
                None,
            ),
            "best-wins": (
                [
                    Grant("department", str(path[1]), "reader"),
                    Grant("tag", by_department, "editor"),
                    Grant("tag", not_his, "commenter"),
                ],
                "editor",
            ),
        }
        for name, (grants, wanted) in cases.items():
            role, _ = self.role(self.document(name, grants), officer)
            self.assertEqual(role, wanted, name)
        listed, _ = self.shared(officer)
        self.assertEqual(listed, {n: w for n, (_, w) in cases.items() if w is not None})

    def test_the_limit_counts_documents_of_others(self) -> None:
        """A document reached by several of the officer's grants takes one place in
        the listing, and his own documents none: the newest `limit` of others'."""
        officer = self.deepest()
        me = f"@{officer.userid}:{SERVER}"
        path = self.path(officer)
        both = [
            Grant("user", me, "reader"),
            Grant("department", str(path[0]), "editor"),
            Grant("department", str(path[-1]), "commenter"),
        ]
        # (self.document's updated_ts is its number of grants: 3 is the newest)
        self.document("others0", both)
        self.document("others1", both[:1])
        self.document("others2", both[:2])
        self.document("others3", [both[0], both[2], Grant("user", "@x:test", "editor")])
        for i in range(3):
            self.document(f"mine{i}", both, owner=me)
        listed, _ = self.shared(officer, limit=2)
        self.assertEqual(list(listed), ["others0", "others3"])
        self.assertEqual(listed, {"others0": "editor", "others3": "commenter"})

    def test_statements_do_not_grow_with_tags_or_depth(self) -> None:
        officer = self.deepest()
        shallow = min(
            (m for m in self.members if m.memberships),
            key=lambda m: len(self.path(m)),
        )
        one_tag = self.tag("标签0", (), (self.path(officer)[1],))
        doc_one = self.document("one", [Grant("tag", one_tag, "reader")])
        role_one, cost_one = self.role(doc_one, officer)
        listed_one, listing_one = self.shared(officer)
        many = [
            self.tag(f"标签{i}", (self.members[i].userid,), (self.departments[i].id,))
            for i in range(1, 31)
        ]
        doc_many = self.document(
            "many",
            [Grant("tag", t, "reader") for t in many]
            + [Grant("tag", one_tag, "editor")]
            + [
                Grant("department", str(d.id), "reader")
                for d in self.departments[100:160]
            ],
        )
        for i, tag in enumerate(many):  # the bureau shares with many tags
            self.document(f"other{i}", [Grant("tag", tag, "commenter")])
        role_many, cost_many = self.role(doc_many, officer)
        listed_many, listing_many = self.shared(officer)
        self.assertEqual((role_one, role_many), ("reader", "editor"))
        self.assertIn("many", listed_many)
        self.assertEqual(listed_one, {"one": "reader"})
        self.assertEqual(cost_many, cost_one)
        self.assertEqual(listing_many, listing_one)
        # Deep or shallow in the tree: the same statements.
        self.assertEqual(self.role(doc_many, shallow)[1], cost_many)
        self.assertEqual(self.shared(shallow)[1], listing_many)


class SQLiteRoleTest(OnSQLite, RoleTests, unittest.TestCase):
    pass


class PostgresRoleTest(OnPostgres, RoleTests, unittest.TestCase):
    pass
