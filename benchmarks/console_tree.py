# SPDX-License-Identifier: AGPL-3.0-or-later
"""The console's department tree with a bureau-size directory (issue 20): how long the
通讯录 page takes in a real headless Chromium at 30,000 departments.

    .venv/bin/python -m benchmarks.console_tree [--departments 30000] [--members 3000]
        [--engine sqlite|postgres] [--repeat 3]

One server (ours only: vanilla Synapse has no console), the sample generator's tree
(modules/directory/sample.py: 8–10 levels, bushy near the root) imported through the
admin API, then in the browser, each timed from the click to the DOM showing it:
- login → the tree with the root expanded and the root's members page (the first view);
- expanding the department with the most sub-departments (its first 200; the rest
  page by page behind 显示更多, also timed);
- selecting that department (its details and members page);
- opening a leaf 8 levels down, one level at a time (what an admin clicking down does).
Also the admin API's answers behind them (children of the widest department, paged by
200 as the page asks), and the department pickers' search (`search/departments`, a
common word such as 派出所 that matches thousands) for the super admin and for an admin
scoped to one top-level unit (which reads up to 200 candidates and keeps those in its
scope). Prints one table; nothing asserts a timing.
"""

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyotp

from benchmarks.client import Client
from benchmarks.servers import BenchServer
from modules.directory.records import DepartmentRecord
from modules.directory.sample import generate_directory, write_csv
from tests.harness.browser import browser_page, chromium_path

ADMIN = "/_jwwx/admin/v1/directory"
CONSOLE = "/_jwwx/console/"


def _wide(departments: list[DepartmentRecord], count: int) -> list[DepartmentRecord]:
    """A department below the root with `count` sub-departments (the worst case of one
    level: a bureau's widest has a few hundred)."""
    first = max(d.id or 0 for d in departments) + 1
    row = len(departments) + 2
    wide = [DepartmentRecord(row, "宽部门", first, 1)]
    wide += [
        DepartmentRecord(row + i, f"宽部门下级{i:05d}", first + i, first)
        for i in range(1, count + 1)
    ]
    return wide


def _widest(departments: list[DepartmentRecord]) -> tuple[int, int]:
    """(id, number of sub-departments) of the department with the most children."""
    children = Counter(d.parent_id for d in departments if d.parent_id is not None)
    parent, count = children.most_common(1)[0]
    assert parent is not None
    return parent, count


class Tree:
    def __init__(self, departments: list[DepartmentRecord]) -> None:
        # The generator numbers every department (id mode).
        self.parent_of = {d.id: d.parent_id for d in departments if d.id is not None}

    def path(self, department: int) -> list[int]:
        """Ids from the root down to `department`."""
        ids = [department]
        while (parent := self.parent_of[ids[-1]]) is not None:
            ids.append(parent)
        return ids[::-1]

    def chain(self, depth: int) -> list[int]:
        """The path to a department `depth` levels below the root."""
        for department in self.parent_of:
            found = self.path(department)
            if len(found) == depth + 1:
                return found
        raise ValueError(f"no department {depth} levels deep")


def _import(server: BenchServer, token: str, departments: Any, members: Any) -> float:
    folder = Path(tempfile.mkdtemp(prefix="jwwx-console-tree-"))
    dep_file, member_file = write_csv(departments, members, folder)
    admin = Client(server.base_url, token, timeout=900)
    t0 = time.perf_counter()
    admin.ok(
        "POST",
        f"{ADMIN}/import/departments?filename=departments.csv",
        raw=dep_file.read_bytes(),
    )
    if members:
        admin.ok(
            "POST",
            f"{ADMIN}/import/members?filename=members.csv",
            raw=member_file.read_bytes(),
        )
    admin.close()
    return time.perf_counter() - t0


def _api_children(server: BenchServer, token: str, department: int) -> float:
    """Milliseconds to read every sub-department as the page does (pages of 200)."""
    admin = Client(server.base_url, token)
    t0 = time.perf_counter()
    offset = 0
    while True:
        page = admin.ok(
            "GET", f"{ADMIN}/departments/{department}/children?limit=200&from={offset}"
        )
        if page["members"] or not page["next_from"] or len(page["departments"]) < 200:
            break
        offset = int(page["next_from"])
    admin.close()
    return (time.perf_counter() - t0) * 1000


PICKER_WORDS = ("派出所", "大队", "刑侦")


def _scoped_admin(server: BenchServer, token: str, unit: int) -> str:
    """A group admin whose scope is `unit` and its subtree: its access token."""
    localpart = f"unitadmin{os.urandom(3).hex()}"
    user_id, scoped = server.register(localpart)
    boss = Client(server.base_url, token)
    boss.ok(
        "POST",
        "/_jwwx/admin/v1/admins/groups",
        {
            "name": f"单位管理组{localpart}",
            "members": [user_id],
            "scope": [unit],
            "rights": ["directory.view"],
        },
    )
    boss.close()
    # An admin's session needs its second factor (admin login hardening): enrol TOTP,
    # then verify the session with the next code.
    unit = Client(server.base_url, scoped)
    enrol = unit.ok("POST", "/_jwwx/client/v1/accounts/mfa/totp", {})
    totp = pyotp.TOTP(enrol["secret"])
    unit.ok("POST", "/_jwwx/client/v1/accounts/mfa/totp/confirm", {"code": totp.now()})
    status, answer = unit.request("GET", f"{ADMIN}/search/departments?q=x")
    if (
        status == 403
        and answer.get("errcode") == "CN_JWWX_ADMIN_SECOND_FACTOR_REQUIRED"
    ):
        unit.ok(
            "POST",
            "/_jwwx/admin/v1/admins/session/verify",
            {"code": totp.at(time.time() + 30)},
        )
    unit.close()
    return scoped


def _api_picker(server: BenchServer, token: str) -> list[float]:
    """Milliseconds of one picker search per word (limit 20, as the page asks)."""
    admin = Client(server.base_url, token)
    out = []
    for word in PICKER_WORDS:
        t0 = time.perf_counter()
        admin.ok("GET", f"{ADMIN}/search/departments?q={quote(word)}&limit=20")
        out.append(_ms(t0))
    admin.close()
    return out


def _totp_admin(server: BenchServer) -> tuple[str, str, list[str]]:
    """A super admin with TOTP on; its recovery codes log the browser in (one each)."""
    localpart = f"treeadmin{os.urandom(3).hex()}"
    _user, token = server.register(localpart, admin=True)
    admin = Client(server.base_url, token)
    enrol = admin.ok("POST", "/_jwwx/client/v1/accounts/mfa/totp", {})
    totp = pyotp.TOTP(enrol["secret"])
    confirmed = admin.ok(
        "POST", "/_jwwx/client/v1/accounts/mfa/totp/confirm", {"code": totp.now()}
    )
    admin.close()
    return localpart, token, list(confirmed["recovery_codes"])


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def _browser_run(
    server: BenchServer,
    localpart: str,
    code: str,
    widest: list[int],
    chain: list[int],
) -> dict[str, float]:
    timings: dict[str, float] = {}
    with browser_page() as page:
        page.set_default_timeout(300_000)
        page.goto(server.base_url + CONSOLE)
        page.fill("input[name=user]", localpart)
        page.fill("input[name=password]", "pw-" + localpart)
        page.click("form.login-form button[type=submit]")
        page.wait_for_selector("input[name=code]")
        page.fill("input[name=code]", code)
        t0 = time.perf_counter()
        page.click("form.login-form button[type=submit]")
        page.wait_for_selector(f".tree li[data-id='{chain[0]}'] > ul > li")
        page.wait_for_selector(".pager")
        timings["login → tree and root's members"] = _ms(t0)

        t0 = time.perf_counter()
        for department in chain[1:]:
            item = f".tree li[data-id='{department}']"
            page.click(f"{item} > .twisty")
            page.wait_for_selector(f"{item} > ul > li")
        timings[f"open {len(chain) - 1} levels down, one at a time"] = _ms(t0)
        for department in widest[1:-1]:  # its ancestors, untimed
            item = f".tree li[data-id='{department}']"
            if page.get_attribute(item, "aria-expanded") != "true":
                page.click(f"{item} > .twisty")
                page.wait_for_selector(f"{item} > ul > li")
        node = f".tree li[data-id='{widest[-1]}']"
        t0 = time.perf_counter()
        page.click(f"{node} > .twisty")
        page.wait_for_selector(f"{node} > ul > li")
        timings["expand the widest department"] = _ms(t0)
        shown = page.locator(f"{node} > ul > li[data-id]").count()
        timings["  (its sub-departments rendered)"] = float(shown)
        t0 = time.perf_counter()
        more = page.locator(f"{node} > ul > li > button.more")
        while more.count():
            more.click()
            page.wait_for_selector(
                f"{node} > ul > li[data-id]:nth-child({shown + 1})", state="attached"
            )
            shown = page.locator(f"{node} > ul > li[data-id]").count()
        timings["  then 显示更多 until all are shown"] = _ms(t0)
        timings["  (then rendered)"] = float(shown)
        t0 = time.perf_counter()
        page.click(f"{node} > .node-label")
        page.wait_for_selector(f"#department-name:text-is('{_name(page, widest[-1])}')")
        page.wait_for_selector(".pager")
        timings["select the widest department"] = _ms(t0)
        timings["  (tree nodes in the page)"] = float(
            page.locator(".tree li[data-id]").count()
        )
        if page.errors:
            raise RuntimeError(page.errors)
    return timings


def _name(page: Any, department: int) -> str:
    return str(
        page.inner_text(f".tree li[data-id='{department}'] > .node-label .node-name")
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.console_tree")
    parser.add_argument("--departments", type=int, default=30_000)
    parser.add_argument("--members", type=int, default=3_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--wide",
        type=int,
        default=2000,
        help="add one department under the root with this many sub-departments",
    )
    args = parser.parse_args()
    if chromium_path() is None:
        raise SystemExit("no Chromium (apt-get install chromium)")
    departments, members = generate_directory(args.departments, args.members)
    if args.wide:
        departments = departments + _wide(departments, args.wide)
    widest, children = _widest(departments)
    tree = Tree(departments)
    chain = tree.chain(8)
    depth = Counter(len(tree.path(d)) - 1 for d in tree.parent_of)
    server = BenchServer(engine=args.engine)
    server.start()
    try:
        localpart, token, codes = _totp_admin(server)
        imported = _import(server, token, departments, members)
        print(
            f"{args.departments} departments (levels: {dict(sorted(depth.items()))}),"
            f" {args.members} members, {args.engine}; import {imported:.1f} s;"
            f" widest department {widest}: {children} sub-departments;"
            f" load average {os.getloadavg()[0]:.1f}"
        )
        api = [_api_children(server, token, widest) for _ in range(args.repeat)]
        print(f"API: children of the widest department: {_fmt(api)} ms")
        scoped = _scoped_admin(server, token, chain[1])
        for who, caller in (("super admin", token), ("unit admin", scoped)):
            runs_ms = [_api_picker(server, caller) for _ in range(args.repeat)]
            for i, word in enumerate(PICKER_WORDS):
                print(
                    f"API: picker search {word!r} as the {who}:"
                    f" {_fmt([r[i] for r in runs_ms])} ms"
                )
        runs = [
            _browser_run(server, localpart, codes[i], tree.path(widest), chain)
            for i in range(args.repeat)
        ]
        for key in runs[0]:
            print(f"browser: {key}: {_fmt([r[key] for r in runs])}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        server.stop()


def _fmt(values: list[float]) -> str:
    return " / ".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    main()
