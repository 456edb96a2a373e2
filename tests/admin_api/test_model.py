# SPDX-License-Identifier: AGPL-3.0-or-later
"""The administration model's rules without a server: effective rights along a chain
of groups, scope levels, apps, hidden fields, who manages which group."""

from collections.abc import Set as AbstractSet

from twisted.trial import unittest

from admin_api.model import (
    ALL_APPS,
    Group,
    Snapshot,
    intersect_apps,
    right_of_scope,
)


def _group(
    group_id: int,
    parent: int | None,
    rights: set[str],
    scope: set[int],
    members: AbstractSet[str] = frozenset(),
    apps: AbstractSet[str] = frozenset({ALL_APPS}),
    hidden: AbstractSet[str] = frozenset(),
) -> Group:
    return Group(
        group_id,
        f"g{group_id}",
        parent,
        frozenset(rights),
        frozenset(apps),
        frozenset(hidden),
        frozenset(scope),
        frozenset(members),
    )


class ModelTest(unittest.TestCase):
    def _snapshot(self) -> Snapshot:
        # Bureau 1 → branch 10 → station 11; the branch group 1, station sub-group 2
        # (stored rights wider than the parent's: the effective ones are narrowed).
        groups = {
            1: _group(
                1,
                None,
                {"directory.view", "directory.edit_members", "groups.create_subgroups"},
                {10},
                {"@li:x"},
                apps={"app1", "app2"},
                hidden={"email"},
            ),
            2: _group(
                2,
                1,
                {"directory.view", "directory.reset_password"},
                {11},
                {"@wang:x"},
                apps={ALL_APPS},
                hidden={"mobile"},
            ),
            3: _group(3, 2, {"directory.view"}, {12}),
        }
        return Snapshot.build(7, groups, {"@a:x": frozenset({"audit"})})

    def test_effective_rights_are_the_intersection_along_the_chain(self) -> None:
        snapshot = self._snapshot()
        grant = snapshot.grants[2]
        self.assertEqual(grant.rights, frozenset({"directory.view"}))
        self.assertEqual(grant.apps, frozenset({"app1", "app2"}))
        self.assertEqual(grant.hidden_fields, frozenset({"email", "mobile"}))
        self.assertEqual([g.id for g in snapshot.chain(3)], [1, 2, 3])

    def test_scope_needs_every_level(self) -> None:
        snapshot = self._snapshot()
        station = snapshot.grants[2]
        self.assertTrue(station.covers_path([1, 10, 11, 15]))
        self.assertFalse(station.covers_path([1, 10]))
        self.assertFalse(station.covers_path([1, 20, 11]))  # not below the branch
        branch = snapshot.grants[1]
        self.assertTrue(branch.covers_path([1, 10]))
        self.assertFalse(branch.covers_path([1, 20]))

    def test_management_and_cycles(self) -> None:
        snapshot = self._snapshot()
        self.assertEqual(snapshot.descendants(1), {2, 3})
        self.assertEqual(snapshot.managed_groups("@li:x"), {2, 3})
        self.assertEqual(snapshot.parents_for_new_groups("@li:x"), {1, 2, 3})
        # The station's group may not create sub-groups: its parent's right is not its.
        self.assertEqual(snapshot.managed_groups("@wang:x"), set())
        self.assertEqual(snapshot.roles_of("@a:x"), frozenset({"audit"}))

    def test_apps_and_legacy_scopes(self) -> None:
        self.assertEqual(
            intersect_apps(frozenset({ALL_APPS}), frozenset({"a"})), frozenset({"a"})
        )
        self.assertEqual(
            intersect_apps(frozenset({"a", "b"}), frozenset({"b", "c"})),
            frozenset({"b"}),
        )
        self.assertEqual(right_of_scope("directory.read"), "directory.view")
        self.assertEqual(right_of_scope("policy.keywords.write"), "settings.keywords")
        self.assertEqual(right_of_scope("directory.view"), "directory.view")
