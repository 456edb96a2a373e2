# SPDX-License-Identifier: AGPL-3.0-or-later
"""Group operations behind the client API. Each checks the caller against the room's
current state, then acts through the ModuleApi as the caller (or, where Matrix power
levels require it, as the owner on an admin's behalf); the rules in rules.py check the
resulting events again, like any client's.

One class per concern, on the shared core (core.py): management.py (creation, owner,
admins, mute, announcement, dissolution), reading.py (read-receipt details, mark all
read), saved.py (saved groups), links.py (QR join links)."""

from modules.groups.links import JoinLinks
from modules.groups.management import GroupManagement
from modules.groups.reading import ReadStatus
from modules.groups.saved import SavedGroups


class GroupService(GroupManagement, ReadStatus, SavedGroups, JoinLinks):
    """Every group operation; resources.py and override.py call it."""
