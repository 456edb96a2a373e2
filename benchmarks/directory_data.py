# SPDX-License-Identifier: AGPL-3.0-or-later
"""The directory benchmark's data: sizes, the generated directory, the officer whose
visibility rules apply, and the search queries (deterministic for a given seed)."""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from modules.directory.pinyin import name_pinyin, name_search_terms
from modules.directory.records import DepartmentRecord, MemberRecord


@dataclass(frozen=True)
class Size:
    departments: int
    members: int
    big_department: int  # members all in one department (the listing benchmark)
    vanilla_accounts: int  # accounts created on vanilla Synapse per mode
    provision_budget_s: float  # how long we watch our background provisioning
    queries_per_kind: int
    loop_budget_s: float  # time budget of each request loop


SIZES = {
    "small": Size(2_000, 5_000, 1_000, 500, 180.0, 300, 90.0),
    "bureau": Size(30_000, 55_000, 3_000, 2_000, 600.0, 300, 120.0),
}

# Query kinds, in table order.
KINDS = (
    "name",  # full name: 张三丰
    "name prefix",  # surname + first given character: 张三
    "pinyin",  # full pinyin: zhangsanfeng
    "initials",  # zsf
    "surname",  # one surname only: 张 (broad: thousands of matches)
)


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name), as the pinyin index splits it."""
    suffixes = [term for term, rank in name_search_terms(name) if rank == 1]
    given = max(suffixes, key=len, default="")
    return name[: len(name) - len(given)], given


def query_for(kind: str, name: str) -> str | None:
    """The query of `kind` a user would type for `name`; None if it does not apply."""
    surname, given = split_name(name)
    if kind == "name":
        return name
    if kind == "name prefix":
        return surname + given[0] if len(given) >= 2 else None
    if kind == "pinyin":
        return name_pinyin(name)
    if kind == "initials":
        return next((t for t, rank in name_search_terms(name) if rank == 3), None)
    if kind == "surname":
        return surname or None
    raise ValueError(kind)


def queries(
    kind: str, members: Sequence[MemberRecord], count: int, seed: int
) -> list[str]:
    """`count` queries of `kind` for names drawn (with replacement) from `members`."""
    rng = random.Random(f"{seed}-{kind}")
    found: list[str] = []
    for _ in range(count * 20):
        if len(found) == count:
            break
        query = query_for(kind, rng.choice(members).name)
        if query:
            found.append(query)
    return found


def search_path(query: str, limit: int = 20) -> str:
    return f"/_jwwx/client/v1/directory/search/members?q={quote(query)}&limit={limit}"


def _effective_flags(
    departments: Sequence[DepartmentRecord],
) -> dict[int, tuple[bool, bool]]:
    """department id → (hidden here or above, restricted here or above)."""
    flags: dict[int, tuple[bool, bool]] = {}
    for d in departments:  # parents come before children (depth-first ids)
        assert d.id is not None
        above = (
            flags.get(d.parent_id, (False, False)) if d.parent_id else (False, False)
        )
        flags[d.id] = (above[0] or d.hidden, above[1] or d.restricted)
    return flags


def pick_officer(
    departments: Sequence[DepartmentRecord], members: Sequence[MemberRecord], skip: int
) -> MemberRecord:
    """An ordinary, enabled, visible member of unrestricted departments (after `skip`)."""
    flags = _effective_flags(departments)
    for member in members[skip:]:
        ids = [m.department.department_id for m in member.memberships]
        if (
            member.enabled
            and not member.hidden
            and all(i is not None and flags[i] == (False, False) for i in ids)
        ):
            return member
    raise RuntimeError("no ordinary officer in the generated directory")


def department_visible(departments: Sequence[DepartmentRecord], dept_id: int) -> bool:
    return not _effective_flags(departments)[dept_id][0]


def findable(
    departments: Sequence[DepartmentRecord], members: Sequence[MemberRecord]
) -> list[MemberRecord]:
    """Members an ordinary officer can find: enabled, not hidden, in a department
    that is not hidden (here or above)."""
    flags = _effective_flags(departments)
    return [
        m
        for m in members
        if m.enabled
        and not m.hidden
        and any(
            ms.department.department_id is not None
            and not flags[ms.department.department_id][0]
            for ms in m.memberships
        )
    ]


def user_queries(
    kind: str, members: Sequence[MemberRecord], count: int, seed: int
) -> list[tuple[str, str]]:
    """`count` (query of `kind`, userid it is for), members drawn with replacement."""
    rng = random.Random(f"{seed}-{kind}-user")
    found: list[tuple[str, str]] = []
    for _ in range(count * 20):
        if len(found) == count:
            break
        member = rng.choice(members)
        query = query_for(kind, member.name)
        if query:
            found.append((query, member.userid))
    return found
