# SPDX-License-Identifier: AGPL-3.0-or-later
"""Member search by name, pinyin and initials (the terms of modules.directory.pinyin),
best rank first, as each reader may see (Visibility)."""

from collections.abc import Iterator
from typing import Any

from modules.common.storage import Txn
from modules.directory.storage.departments import subtree_range
from modules.directory.storage.members import (
    Member,
    Visibility,
    get_members_txn,
    member_columns,
    with_memberships_txn,
)
from modules.directory.storage.provisioning import CREATED

# Member search. Results are ordered by (best rank, sort_order, userid).
#
# Most queries (a name, a pinyin, initials of two or more letters) match few terms: one
# statement reads at most _ONE_STATEMENT_MATCHES of them through the (rank, term) index
# and, when that was all of them, groups, filters and orders those members and returns
# the page with their profiles. It checks every matching member's visibility, so past
# that many a broad query (a single initial matches ~100,000 terms at bureau size) is
# cheaper rank by rank: each rank is read in result order and candidates are checked for
# visibility by key, stopping as soon as the page is full.
_MAX_RANK = 5  # see modules.directory.pinyin
_RANKS = ", ".join(str(rank) for rank in range(_MAX_RANK + 1))
# Measured in-process on SQLite with 5,000 members: the one statement costs about what
# the rank walk does at ~1,300 matching members (~2,000 terms); at 500 members a
# one-letter query (~450 terms) costs about the same either way.
_ONE_STATEMENT_MATCHES = 1000
# In the rank walk, a rank with fewer matching terms than this is read whole through the
# (rank, term) index and ordered; one with more is first looked for in a window of the
# (rank, sort_order, userid) index.
_NARROW_MATCHES = 2000
_STREAM_BATCH = 400
_WINDOW = 2000
# Past this many candidates for one page (a restricted reader whose subtree holds few of
# a broad query's matches), the one-statement query over the visible members is cheaper.
_CANDIDATE_BUDGET = 6000
# A restricted reader's subtree up to this size is searched member by member.
_SMALL_POPULATION = 5000


def _member_condition(
    visibility: Visibility, accounts_only: bool, alias: str = "m"
) -> tuple[str, list[Any]]:
    """SQL (over the members table as `alias`) for the members a search may return:
    those `visibility` shows and, with `accounts_only`, only those whose Matrix account
    was created and who are enabled (Synapse's user search)."""
    condition, args = visibility.member_filter(alias)
    if accounts_only:
        condition += f" AND {alias}.account_state = ? AND {alias}.enabled = 1"
        args = [*args, CREATED]
    return condition, args


def search_members_txn(
    txn: Txn,
    low: str,
    high: str,
    visibility: Visibility,
    limit: int,
    offset: int,
    accounts_only: bool = False,
    memberships: bool = True,
) -> list[Member]:
    """Members with a search term in [low, high), best rank first (see
    _member_condition for `accounts_only`; without `memberships` the members come
    without their department memberships, a statement less)."""
    narrow = _search_narrow_txn(
        txn, low, high, visibility, limit, offset, accounts_only
    )
    if narrow is not None:
        return with_memberships_txn(txn, narrow) if memberships else narrow
    wanted = offset + limit
    if visibility.subtrees is not None:
        population = _subtree_population_txn(txn, visibility.subtrees)
        if population is not None:
            return _search_population_txn(
                txn,
                population,
                low,
                high,
                visibility,
                limit,
                offset,
                accounts_only,
                memberships,
            )
    ordered: list[str] = []
    seen: set[str] = set()
    examined = 0
    for rank in range(_MAX_RANK + 1):
        for candidates in _rank_candidates_txn(txn, rank, low, high):
            fresh = [u for u in dict.fromkeys(candidates) if u not in seen]
            while fresh and len(ordered) < wanted:
                # Check only about as many as the page still needs.
                step = max(2 * (wanted - len(ordered)), 20)
                chunk, fresh = fresh[:step], fresh[step:]
                seen.update(chunk)
                examined += len(chunk)
                visible = _visible_subset_txn(txn, chunk, visibility, accounts_only)
                ordered.extend(u for u in chunk if u in visible)
            if len(ordered) >= wanted:
                break
            if examined > _CANDIDATE_BUDGET:
                return search_members_grouped_txn(
                    txn,
                    low,
                    high,
                    visibility,
                    limit,
                    offset,
                    accounts_only,
                    memberships,
                )
        if len(ordered) >= wanted:
            break
    userids = ordered[offset:wanted]
    found = get_members_txn(txn, userids, memberships)
    return [found[u] for u in userids]


def _search_narrow_txn(
    txn: Txn,
    low: str,
    high: str,
    visibility: Visibility,
    limit: int,
    offset: int,
    accounts_only: bool,
) -> list[Member] | None:
    """The page (without memberships) in one statement, or None when more than
    _ONE_STATEMENT_MATCHES terms match (then the page part is not evaluated)."""
    condition, args = _member_condition(visibility, accounts_only)
    txn.execute(
        "WITH hits AS (SELECT userid, rank FROM jwwx_dir_search_terms"
        f" WHERE rank IN ({_RANKS}) AND term >= ? AND term < ? LIMIT ?),"
        " counted AS (SELECT COUNT(*) AS n FROM hits)"
        " SELECT counted.n, page.* FROM counted LEFT JOIN ("
        f"SELECT {member_columns('m')}, b.best FROM (SELECT userid, MIN(rank) AS best"
        " FROM hits WHERE (SELECT n FROM counted) <= ? GROUP BY userid) AS b"
        " JOIN jwwx_dir_members AS m ON m.userid = b.userid"
        f" WHERE {condition} ORDER BY b.best, m.sort_order, m.userid LIMIT ? OFFSET ?"
        ") AS page ON 1 = 1 ORDER BY page.best, page.sort_order, page.userid",
        (
            low,
            high,
            _ONE_STATEMENT_MATCHES + 1,
            _ONE_STATEMENT_MATCHES,
            *args,
            limit,
            offset,
        ),
    )
    rows = txn.fetchall()
    if int(rows[0][0]) > _ONE_STATEMENT_MATCHES:
        return None
    return [Member.from_row(row[1:]) for row in rows if row[1] is not None]


def _rank_candidates_txn(
    txn: Txn, rank: int, low: str, high: str
) -> Iterator[list[str]]:
    """Userids with a term of `rank` in [low, high), in (sort_order, userid) order, in
    batches (a member with several such terms may repeat)."""
    txn.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM jwwx_dir_search_terms WHERE rank = ?"
        " AND term >= ? AND term < ? LIMIT ?) AS hits",
        (rank, low, high, _NARROW_MATCHES),
    )
    if int(txn.fetchone()[0]) < _NARROW_MATCHES:
        txn.execute(
            "SELECT userid FROM jwwx_dir_search_terms WHERE rank = ? AND term >= ?"
            " AND term < ? ORDER BY sort_order, userid",
            (rank, low, high),
        )
        rows = [row[0] for row in txn.fetchall()]
        for start in range(0, len(rows), _STREAM_BATCH):
            yield rows[start : start + _STREAM_BATCH]
        return
    # Broad: the first stretch of the rank in result order usually holds a page (a
    # common initial or surname is everywhere) and costs one short index walk…
    txn.execute(
        "SELECT userid, sort_order, term FROM jwwx_dir_search_terms WHERE rank = ?"
        " ORDER BY sort_order, userid LIMIT ?",
        (rank, _WINDOW),
    )
    window = txn.fetchall()
    yield [userid for userid, _, term in window if low <= term < high]
    if len(window) < _WINDOW:
        return
    # …but not when the matches cluster late in that order (userids are often the
    # pinyin of the name): then the matches after the window, ordered in batches.
    after = (int(window[-1][1]), window[-1][0])
    while True:
        txn.execute(
            "SELECT userid, sort_order FROM jwwx_dir_search_terms WHERE rank = ?"
            " AND term >= ? AND term < ? AND (sort_order, userid) > (?, ?)"
            " ORDER BY sort_order, userid LIMIT ?",
            (rank, low, high, after[0], after[1], _STREAM_BATCH),
        )
        rows = txn.fetchall()
        if rows:
            yield [row[0] for row in rows]
        if len(rows) < _STREAM_BATCH:
            return
        after = (int(rows[-1][1]), rows[-1][0])


def _subtree_population_txn(txn: Txn, subtrees: tuple[str, ...]) -> list[str] | None:
    """The members of a restricted reader's subtrees, or None when there are too many
    for reading their terms one by one to beat the rank-ordered walk."""
    if not subtrees:
        return []
    marks = ",".join("?" * len(subtrees))
    txn.execute(
        "SELECT COALESCE(SUM(subtree_count), 0) FROM jwwx_dir_departments"
        f" WHERE path IN ({marks})",
        subtrees,
    )
    if int(txn.fetchone()[0]) > _SMALL_POPULATION:
        return None
    ranges: list[str] = []
    args: list[Any] = []
    for path in subtrees:
        ranges.append("(d.path >= ? AND d.path < ?)")
        args.extend(subtree_range(path))
    txn.execute(
        "SELECT DISTINCT ms.userid FROM jwwx_dir_departments AS d"
        " JOIN jwwx_dir_memberships AS ms ON ms.department_id = d.id"
        f" WHERE {' OR '.join(ranges)}",
        args,
    )
    return [row[0] for row in txn.fetchall()]


def _search_population_txn(
    txn: Txn,
    population: list[str],
    low: str,
    high: str,
    visibility: Visibility,
    limit: int,
    offset: int,
    accounts_only: bool,
    memberships: bool,
) -> list[Member]:
    best: dict[str, tuple[int, int, str]] = {}
    for start in range(0, len(population), 500):
        chunk = population[start : start + 500]
        marks = ",".join("?" * len(chunk))
        txn.execute(
            "SELECT userid, rank, sort_order FROM jwwx_dir_search_terms"
            f" WHERE userid IN ({marks}) AND term >= ? AND term < ?",
            (*chunk, low, high),
        )
        for userid, rank, sort_order in txn.fetchall():
            key = (int(rank), int(sort_order), userid)
            if userid not in best or key < best[userid]:
                best[userid] = key
    visible = _visible_subset_txn(txn, list(best), visibility, accounts_only)
    ranked = sorted(best[u] for u in visible)
    userids = [key[2] for key in ranked[offset : offset + limit]]
    found = get_members_txn(txn, userids, memberships)
    return [found[u] for u in userids]


def _visible_subset_txn(
    txn: Txn, userids: list[str], visibility: Visibility, accounts_only: bool
) -> set[str]:
    if not userids or (visibility.admin and not accounts_only):
        return set(userids)
    condition, args = _member_condition(visibility, accounts_only)
    marks = ",".join("?" * len(userids))
    txn.execute(
        f"SELECT m.userid FROM jwwx_dir_members AS m WHERE m.userid IN ({marks})"
        f" AND {condition}",
        (*userids, *args),
    )
    return {row[0] for row in txn.fetchall()}


def search_members_grouped_txn(
    txn: Txn,
    low: str,
    high: str,
    visibility: Visibility,
    limit: int,
    offset: int,
    accounts_only: bool = False,
    memberships: bool = True,
) -> list[Member]:
    """The search in one grouping statement over every matching term (the reference
    the faster paths are held to, and the rank walk's way out)."""
    condition, args = _member_condition(visibility, accounts_only)
    txn.execute(
        "SELECT m.userid, MIN(t.rank) AS best FROM jwwx_dir_search_terms AS t"
        " JOIN jwwx_dir_members AS m ON m.userid = t.userid"
        f" WHERE t.term >= ? AND t.term < ? AND {condition}"
        " GROUP BY m.userid, m.sort_order ORDER BY best, m.sort_order, m.userid"
        " LIMIT ? OFFSET ?",
        (low, high, *args, limit, offset),
    )
    userids = [row[0] for row in txn.fetchall()]
    found = get_members_txn(txn, userids, memberships)
    return [found[u] for u in userids]
