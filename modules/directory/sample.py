# SPDX-License-Identifier: AGPL-3.0-or-later
"""A realistic, deterministic sample directory for tests, demos and benchmarks.

    generate_directory(30000, 55000) -> (departments, members)   about 2 s here
    python -m modules.directory.sample --departments 40 --members 300 --out DIR

Departments form the bureau's tree (市公安局 → 总队/分局 → 支队/派出所 → 大队/警务室 →
中队/组 → …), numbered in depth-first order from the root (id 1), so a parent's id is
always smaller than its children's and the last department is a leaf. From 500
departments on, one branch is forced down to depth 10. Members get common Chinese names
(surnames by frequency, polyphonic and compound surnames included), pinyin userids,
unique mobiles, and one department each (about 5% two).
"""

import argparse
import csv
import itertools
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from modules.directory.pinyin import name_pinyin
from modules.directory.records import (
    DEPARTMENT_COLUMNS,
    GENDER_FEMALE,
    GENDER_MALE,
    LIST_SEPARATOR,
    MEMBER_COLUMNS,
    DepartmentRecord,
    DepartmentRef,
    MemberRecord,
    MembershipRecord,
)

ROOT_NAME = "市公安局"
EMAIL_DOMAIN = "police.example"
DEEP_BRANCH_DEPTH = 10
_DEEP_BRANCH_FROM = 500  # departments; smaller trees stay bushy


def _words(text: str) -> tuple[str, ...]:
    """Long word lists stay readable as one space-separated string."""
    return tuple(text.split())


# (name, kind) of the level under the root; kinds choose how the subtree is named.
_TOP_UNITS: tuple[tuple[str, str], ...] = (
    ("刑侦总队", "corps"),
    ("浦东分局", "district"),
    ("治安总队", "corps"),
    ("黄浦分局", "district"),
    ("交警总队", "corps"),
    ("徐汇分局", "district"),
    ("网安总队", "corps"),
    ("长宁分局", "district"),
    ("经侦总队", "corps"),
    ("静安分局", "district"),
    ("特警总队", "corps"),
    ("普陀分局", "district"),
    ("出入境管理局", "corps"),
    ("虹口分局", "district"),
    ("禁毒总队", "corps"),
    ("杨浦分局", "district"),
    ("政治部", "office"),
    ("闵行分局", "district"),
    ("指挥部", "office"),
    ("宝山分局", "district"),
    ("技侦总队", "corps"),
    ("嘉定分局", "district"),
    ("监所管理总队", "corps"),
    ("金山分局", "district"),
    ("警务保障部", "office"),
    ("松江分局", "district"),
    ("法制总队", "corps"),
    ("青浦分局", "district"),
    ("水上公安局", "district"),
    ("奉贤分局", "district"),
    ("轨道交通分局", "district"),
    ("崇明分局", "district"),
    ("机场分局", "district"),
)
_DISTRICT_UNITS = (
    "刑侦支队",
    "治安支队",
    "交警支队",
    "巡特警支队",
    "经侦支队",
    "禁毒支队",
    "网安支队",
)
_OFFICE_UNITS = (
    "综合处",
    "组织处",
    "宣传处",
    "人事处",
    "督察处",
    "教育训练处",
    "装备处",
)
_STATION_UNITS = ("综合指挥室", "案件办理队", "治安巡逻队", "社区警务队")
_PLACES = _words(
    "陆家嘴 花木 潍坊 塘桥 洋泾 金桥 张江 川沙 高桥 北蔡 三林 周浦 惠南 外滩 豫园 打浦桥 "
    "瑞金 老西门 五里桥 小东门 徐家汇 天平 湖南 枫林 斜土 龙华 田林 虹梅 康健 漕河泾 凌云 "
    "长桥 华泾 江宁 石门 静安寺 曹家渡 天目 北站 宝山路 共和 大宁 彭浦 临汾 芷江 真如 长风 "
    "甘泉 宜川 石泉 曹杨 桃浦 万里 四川北路 欧阳 曲阳 广中 嘉兴 提篮桥 江湾 定海 平凉 控江 "
    "五角场 殷行 新江湾 莘庄 七宝 颛桥 梅陇 古美 浦江 吴泾 马桥 虹桥 新虹 华漕 淞南 大场 "
    "顾村 罗店 月浦 杨行 友谊 吴淞 南翔 江桥 安亭 马陆 外冈 菊园 朱泾 枫泾 亭林 石化 岳阳 "
    "方松 中山 泗泾 九亭 洞泾 车墩 夏阳 赵巷 徐泾 朱家角 南桥 奉城 庄行 海湾 城桥 堡镇 陈家镇"
)
# Names below the unit level: suffix per kind, and the kind of the next level.
_SUFFIXES = {
    "corps": ("支队", "detachment"),
    "detachment": ("大队", "brigade"),
    "brigade": ("中队", "squadron"),
    "squadron": ("组", "group"),
    "post": ("组", "group"),
    "team": ("组", "group"),
    "group": ("小组", "subgroup"),
    "subgroup": ("班", "shift"),
    "shift": ("岗", "group"),
}

# Surnames with rough frequencies (per mille); polyphonic and compound ones on purpose.
_SURNAMES: tuple[tuple[str, float], ...] = tuple(
    (name, float(weight))
    for name, weight in (
        item.split(":")
        for item in _words(
            "王:71 李:70 张:69 刘:54 陈:45 杨:31 黄:22 赵:21 吴:20 周:19 徐:16 孙:15 "
            "马:14 朱:13 胡:13 郭:11 何:11 高:10 林:10 罗:9 郑:9 梁:8 谢:8 宋:7 唐:7 "
            "许:7 韩:6 冯:6 邓:6 曹:6 彭:5 曾:5 肖:5 田:5 董:5 袁:4 潘:4 于:4 蒋:4 "
            "蔡:4 余:4 杜:4 叶:4 程:4 苏:4 魏:4 吕:4 丁:4 任:4 沈:4 姚:3 卢:3 姜:3 "
            "崔:3 钟:3 谭:3 陆:3 汪:3 范:3 金:3 石:3 廖:3 贾:3 夏:3 韦:3 付:3 方:3 "
            "白:3 邹:3 孟:3 熊:3 秦:3 邱:3 江:3 尹:3 薛:2 闫:2 段:2 雷:2 侯:2 龙:2 "
            "史:2 陶:2 黎:2 贺:2 顾:2 毛:2 郝:2 龚:2 邵:2 万:2 钱:2 严:2 覃:2 武:2 "
            "戴:2 莫:2 孔:2 向:2 汤:2 单:1 解:1 仇:1 区:1 朴:1 查:1 盖:1 华:1 缪:1 "
            "乐:1 翟:1 种:0.5 员:0.5 祭:0.3 隗:0.3 召:0.3 繁:0.3 折:0.3 黑:0.3 秘:0.3 "
            "宓:0.3 逄:0.3 郇:0.3 能:0.3 燕:1 柏:1 藏:0.3 庞:1 句:0.3 "
            "欧阳:0.5 司马:0.2 诸葛:0.2 上官:0.2 东方:0.2 皇甫:0.2 尉迟:0.1 万俟:0.1 "
            "长孙:0.1 澹台:0.1 令狐:0.1 慕容:0.1"
        )
    )
)
_MALE_CHARS = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国峰亮成志文东海晨立"
    "春新振宏毅翔庆祥彬博诚栋晓永兵卫忠德嘉天家子思一佳泽睿长乐行朝重和传少"
)
_FEMALE_CHARS = (
    "芳娜敏静丽艳娟霞秀玲燕红琳婷雪慧颖洁琴云莉倩欣萍梅兰蕾丹晶璐佳怡萱雯悦妍晓小思"
)
# Position, weight, is a leader of its department.
_POSITIONS: tuple[tuple[str, float, bool], ...] = (
    ("民警", 60, False),
    ("辅警", 20, False),
    ("科员", 6, False),
    ("警长", 4, False),
    ("中队长", 2, True),
    ("副所长", 2, False),
    ("所长", 1, True),
    ("教导员", 1, False),
    ("副大队长", 1, False),
    ("大队长", 1, True),
    ("副支队长", 0.5, False),
    ("支队长", 0.3, True),
    ("政委", 0.3, True),
)


def _ordinal(n: int) -> str:
    """1 → 一, 12 → 十二, 45 → 四十五; from 100 on, 第100."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return (
            (digits[tens] if tens > 1 else "") + "十" + (digits[ones] if ones else "")
        )
    return f"第{n}"


def _child_names(kind: str, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """`count` sibling (name, kind) pairs, names unique among themselves."""
    if kind == "root":
        names = list(_TOP_UNITS[:count])
        names += [
            (f"{_ordinal(i)}分局", "district") for i in range(1, count - len(names) + 1)
        ]
        return names
    if kind == "district":
        units = [(n, "detachment") for n in _DISTRICT_UNITS[: max(0, count // 3)]]
        places = rng.sample(_PLACES, min(len(_PLACES), count - len(units)))
        units += [(f"{p}派出所", "station") for p in places]
        units += [
            (f"{_ordinal(i)}派出所", "station")
            for i in range(1, count - len(units) + 1)
        ]
        return units
    if kind == "office":
        units = [(n, "team") for n in _OFFICE_UNITS[:count]]
        return units + [
            (f"{_ordinal(i)}科", "team") for i in range(1, count - len(units) + 1)
        ]
    if kind == "station":
        units = [(n, "team") for n in _STATION_UNITS[: max(0, count // 2)]]
        places = rng.sample(_PLACES, min(len(_PLACES), count - len(units)))
        units += [(f"{p}社区警务室", "post") for p in places]
        units += [
            (f"{_ordinal(i)}警务室", "post") for i in range(1, count - len(units) + 1)
        ]
        return units
    suffix, child_kind = _SUFFIXES[kind]
    return [(f"{_ordinal(i)}{suffix}", child_kind) for i in range(1, count + 1)]


def _child_count(level: int, budget: int, rng: random.Random) -> int:
    """How many children a department at `level` (root = 1) gets, out of `budget`."""
    if level == 1:
        return min(budget, len(_TOP_UNITS), max(3, budget // 20))
    if level == 2:
        wanted = rng.randint(5, 25)
    elif level == 3:
        wanted = rng.randint(3, 10)
    elif level == 4:
        wanted = rng.randint(2, 6)
    else:
        wanted = rng.randint(1, 4)
    # Very large budgets widen the tree rather than making it absurdly deep.
    return min(budget, max(wanted, budget // 60))


class _TreeBuilder:
    def __init__(self, total: int, rng: random.Random) -> None:
        self.rng = rng
        self.records: list[DepartmentRecord] = []
        self.deep = total >= _DEEP_BRANCH_FROM

    def add(
        self, name: str, parent: DepartmentRecord | None, sort_order: int
    ) -> DepartmentRecord:
        record = DepartmentRecord(
            row=len(self.records) + 2,
            name=name,
            id=len(self.records) + 1,
            parent_id=parent.id if parent else None,
            path=(*parent.path, name) if parent and parent.path else (name,),
            sort_order=sort_order,
            hidden=parent is not None and self.rng.random() < 0.01,
            restricted=parent is not None and self.rng.random() < 0.01,
        )
        self.records.append(record)
        return record

    def grow(
        self, node: DepartmentRecord, kind: str, level: int, budget: int, deep: bool
    ) -> None:
        """Create exactly `budget` descendants of `node` (depth-first, so ids follow)."""
        if budget <= 0:
            return
        # The forced branch needs this many more levels below `node`.
        need = DEEP_BRANCH_DEPTH - level if deep else 0
        count = _child_count(level, budget, self.rng)
        if need > 0:
            count = max(1, min(count, budget - need + 1))
        shares = self._split(budget - count, count, max(0, need - 1))
        children = _child_names(kind, count, self.rng)
        for index, ((name, child_kind), share) in enumerate(
            zip(children, shares, strict=True)
        ):
            child = self.add(name, node, index + 1)
            self.grow(child, child_kind, level + 1, share, deep and index == 0)

    def _split(self, total: int, parts: int, first_min: int) -> list[int]:
        """Split `total` into `parts` unequal shares, the first one at least first_min."""
        if parts == 0:
            return []
        first_min = min(first_min, total)
        rest = total - first_min
        weights = [self.rng.uniform(0.3, 1.7) for _ in range(parts)]
        scale = rest / sum(weights)
        shares = [int(w * scale) for w in weights]
        for index in range(rest - sum(shares)):
            shares[index % parts] += 1
        shares[0] += first_min
        return shares


def _generate_departments(total: int, rng: random.Random) -> list[DepartmentRecord]:
    builder = _TreeBuilder(total, rng)
    root = builder.add(ROOT_NAME, None, 1)
    builder.grow(root, "root", 1, total - 1, builder.deep)
    return builder.records


def big_department_id(departments: Sequence[DepartmentRecord]) -> int:
    """The leaf that receives `big_department_members`: always the last department."""
    last = departments[-1].id
    assert last is not None
    return last


def generate_directory(
    departments: int,
    members: int,
    seed: int = 1,
    big_department_members: int = 0,
) -> tuple[list[DepartmentRecord], list[MemberRecord]]:
    """`departments` departments and `members` members, the same for the same seed.

    The first `big_department_members` members all belong to the department
    `big_department_id(result[0])` (e.g. 3,000 for a listing benchmark).
    """
    if departments < 1:
        raise ValueError("部门数量至少为 1（根部门）")
    if not 0 <= big_department_members <= members:
        raise ValueError("放入同一部门的成员数应在 0 到成员数量之间")
    rng = random.Random(seed)
    tree = _generate_departments(departments, rng)
    return tree, _generate_members(tree, members, big_department_members, rng)


def _generate_members(
    tree: list[DepartmentRecord], total: int, big: int, rng: random.Random
) -> list[MemberRecord]:
    surnames = [name for name, _ in _SURNAMES]
    surname_weights = list(itertools.accumulate(weight for _, weight in _SURNAMES))
    positions = [(name, leader) for name, _, leader in _POSITIONS]
    position_weights = list(itertools.accumulate(weight for _, weight, _ in _POSITIONS))
    refs = [DepartmentRef(department_id=d.id, path=d.path) for d in tree]
    big_index = len(tree) - 1
    next_order = [0] * len(tree)
    userid_counts: dict[str, int] = {}
    mobiles: set[str] = set()
    records: list[MemberRecord] = []
    for index in range(total):
        gender = GENDER_MALE if rng.random() < 0.72 else GENDER_FEMALE
        pool = _MALE_CHARS if gender == GENDER_MALE else _FEMALE_CHARS
        surname = rng.choices(surnames, cum_weights=surname_weights)[0]
        given_length = 1 if rng.random() < 0.3 else 2
        name = surname + "".join(rng.choice(pool) for _ in range(given_length))
        base = name_pinyin(name)
        seen = userid_counts.get(base, 0) + 1
        userid_counts[base] = seen
        userid = base if seen == 1 else f"{base}{seen}"
        position, leads = rng.choices(positions, cum_weights=position_weights)[0]
        departments = [big_index if index < big else rng.randrange(len(tree))]
        if len(tree) > 1 and rng.random() < 0.05:
            second = rng.randrange(len(tree))
            if second != departments[0]:
                departments.append(second)
        memberships = []
        for position_in_list, department in enumerate(departments):
            next_order[department] += 1
            memberships.append(
                MembershipRecord(
                    department=refs[department],
                    sort_order=next_order[department],
                    is_leader=leads and position_in_list == 0,
                )
            )
        records.append(
            MemberRecord(
                row=index + 2,
                userid=userid,
                name=name,
                gender=gender,
                mobile=_unique_mobile(rng, mobiles),
                telephone=f"021-2402{rng.randrange(10000):04d}"
                if rng.random() < 0.8
                else "",
                email=f"{userid}@{EMAIL_DOMAIN}",
                position=position,
                memberships=tuple(memberships),
                sort_order=rng.randrange(100) if leads else 0,
                hidden=rng.random() < 0.005,
                enabled=rng.random() >= 0.01,
            )
        )
    return records


def _unique_mobile(rng: random.Random, used: set[str]) -> str:
    while True:
        mobile = f"{rng.choice(('13', '15', '18'))}{rng.randrange(10**9):09d}"
        if mobile not in used:
            used.add(mobile)
            return mobile


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def write_csv(
    departments: Sequence[DepartmentRecord],
    members: Sequence[MemberRecord],
    folder: Path,
) -> tuple[Path, Path]:
    """departments.csv and members.csv in id mode, UTF-8 with BOM (opens in Excel)."""
    folder.mkdir(parents=True, exist_ok=True)
    department_path = folder / "departments.csv"
    member_path = folder / "members.csv"
    department_fields = (
        "id",
        "name",
        "parent_id",
        "sort_order",
        "hidden",
        "restricted",
    )
    with department_path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([DEPARTMENT_COLUMNS[f][0] for f in department_fields])
        for d in departments:
            writer.writerow(
                [
                    d.id,
                    d.name,
                    "" if d.parent_id is None else d.parent_id,
                    d.sort_order,
                    _yes_no(d.hidden),
                    _yes_no(d.restricted),
                ]
            )
    member_fields = (
        "userid",
        "name",
        "gender",
        "mobile",
        "telephone",
        "email",
        "position",
        "departments",
        "department_orders",
        "leaders",
        "sort_order",
        "hidden",
        "enabled",
    )
    genders = {GENDER_MALE: "男", GENDER_FEMALE: "女"}
    with member_path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([MEMBER_COLUMNS[f][0] for f in member_fields])
        for m in members:
            writer.writerow(
                [
                    m.userid,
                    m.name,
                    genders.get(m.gender, ""),
                    m.mobile,
                    m.telephone,
                    m.email,
                    m.position,
                    LIST_SEPARATOR.join(
                        str(s.department.department_id) for s in m.memberships
                    ),
                    LIST_SEPARATOR.join(str(s.sort_order) for s in m.memberships),
                    LIST_SEPARATOR.join(_yes_no(s.is_leader) for s in m.memberships),
                    m.sort_order,
                    _yes_no(m.hidden),
                    _yes_no(m.enabled),
                ]
            )
    return department_path, member_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m modules.directory.sample",
        description="生成示例通讯录（departments.csv、members.csv）",
    )
    parser.add_argument("--departments", type=int, default=40, help="部门数量")
    parser.add_argument("--members", type=int, default=300, help="成员数量")
    parser.add_argument(
        "--seed", type=int, default=1, help="随机种子（相同种子结果相同）"
    )
    parser.add_argument(
        "--big-department-members", type=int, default=0, help="放入同一个部门的成员数"
    )
    parser.add_argument("--out", type=Path, required=True, help="输出目录")
    args = parser.parse_args(argv)
    try:
        departments, members = generate_directory(
            args.departments, args.members, args.seed, args.big_department_members
        )
    except ValueError as e:
        parser.error(str(e))
    department_path, member_path = write_csv(departments, members, args.out)
    print(f"{department_path}: {len(departments)} 个部门")
    print(f"{member_path}: {len(members)} 名成员")
    return 0


if __name__ == "__main__":
    sys.exit(main())
