# SPDX-License-Identifier: AGPL-3.0-or-later
"""Generated chat history for the search benchmarks: police-work Chinese with realistic
vocabulary, names, places, plates, ID and case numbers, some English and digits;
deterministic for a seed. Also the queries (of several kinds) and the ground truth a
substring search must return."""

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强海燕鹏飞晓东春梅立新文博宇航子涵浩然欣怡"
PLACES = [
    "城东分局",
    "城西分局",
    "高新区派出所",
    "火车站派出所",
    "刑侦支队",
    "交警支队",
    "治安大队",
    "网安支队",
    "经侦支队",
    "禁毒支队",
    "特警支队",
    "指挥中心",
    "江北派出所",
    "滨江路",
    "人民路",
    "解放大道",
    "中山北路",
    "长江大桥",
    "体育中心",
    "会展中心",
]
SUBJECTS = [
    "协查通报",
    "布控指令",
    "警情通报",
    "案件线索",
    "嫌疑人信息",
    "车辆信息",
    "失踪人员",
    "治安巡逻",
    "值班安排",
    "会议通知",
    "培训计划",
    "专项行动",
    "反诈宣传",
    "交通管制",
    "现场勘查",
    "笔录材料",
    "证据清单",
    "出警记录",
    "督办事项",
    "情况说明",
]
VERBS = [
    "请各单位注意",
    "请尽快核实",
    "已上报指挥中心",
    "请于今日下班前反馈",
    "已移交刑侦支队",
    "请配合调查",
    "现已布控",
    "请注意查收",
    "已完成比对",
    "正在核查中",
    "请相关民警到场",
    "已通知家属",
    "请做好记录",
    "明天上午九点开会",
    "已签收",
    "收到，马上处理",
]
CHATTER = [
    "收到",
    "好的",
    "明白",
    "辛苦了",
    "马上到",
    "在路上",
    "稍等",
    "已处理",
    "谢谢",
    "今晚加班",
    "中午一起吃饭吗",
    "文件已发群里",
    "请看附件",
    "电话联系",
    "OK",
]
ENGLISH = ["report", "police", "urgent", "meeting", "checkpoint", "case file", "GPS"]
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


@dataclass(frozen=True)
class Message:
    room: int
    sender: int
    text: str


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def _plate(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return (
        rng.choice(PROVINCES)
        + rng.choice(letters)
        + "".join(rng.choices("0123456789" + letters[:6], k=5))
    )


def _id_number(rng: random.Random) -> str:
    return (
        f"{rng.randint(110000, 659999)}"
        f"{rng.randint(1950, 2006)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        f"{rng.randint(0, 999):03d}{rng.choice('0123456789X')}"
    )


def _case_number(rng: random.Random) -> str:
    return f"{rng.choice(PLACES)[:2]}公（刑）字〔{rng.randint(2018, 2026)}〕{rng.randint(1, 9999)}号"


def sentence(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return rng.choice(CHATTER)
    if kind < 0.6:
        return (
            f"关于{rng.choice(PLACES)}{rng.choice(SUBJECTS)}的说明，{rng.choice(VERBS)}"
        )
    if kind < 0.72:
        return f"车牌{_plate(rng)}于{rng.randint(1, 23)}时出现在{rng.choice(PLACES)}，{rng.choice(VERBS)}"
    if kind < 0.8:
        return f"嫌疑人{_name(rng)}，身份证号{_id_number(rng)}，{rng.choice(VERBS)}"
    if kind < 0.88:
        return f"{_case_number(rng)}{rng.choice(SUBJECTS)}，{rng.choice(VERBS)}"
    if kind < 0.95:
        return f"{_name(rng)}：{rng.choice(SUBJECTS)} {rng.choice(ENGLISH)} {rng.randint(1, 999)}"
    return f"{rng.choice(VERBS)}，联系人{_name(rng)}，电话1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}"


def messages(count: int, rooms: int, senders: int, seed: int = 19) -> Iterator[Message]:
    rng = random.Random(seed)
    for _ in range(count):
        yield Message(rng.randrange(rooms), rng.randrange(senders), sentence(rng))


# Query kinds: what officers type, cut from messages of the corpus itself (so every
# query has matches): Chinese of 2 and 4 characters, 4 digits, the start of a plate,
# Chinese next to digits or letters, the start of an English word.
QUERY_KINDS = ("2 chars", "4 chars", "digits", "plate part", "mixed", "english")
_SHAPES = {
    "2 chars": re.compile(r"[\u4e00-\u9fff]{2}"),
    "4 chars": re.compile(r"[\u4e00-\u9fff]{4}"),
    "digits": re.compile(r"[0-9]{4}"),
    "plate part": re.compile(r"(?<=车牌)[\u4e00-\u9fff][A-Z][0-9A-F]{2}"),
    "mixed": re.compile(
        r"[\u4e00-\u9fff]{2}[0-9A-Za-z]{2}|[0-9A-Za-z]{2}[\u4e00-\u9fff]{2}"
    ),
    "english": re.compile(r"(?<![A-Za-z])[a-z]{4}"),
}


def queries(texts: list[str], kind: str, count: int, seed: int = 7) -> list[str]:
    """`count` queries of `kind`, each a substring of a random message."""
    rng = random.Random(seed + QUERY_KINDS.index(kind))
    shape = _SHAPES[kind]
    found: list[str] = []
    for _ in range(count * 200):
        if len(found) >= count:
            break
        text = rng.choice(texts)
        spots = [m.start() for m in shape.finditer(text)] + [
            i for i in range(len(text)) if shape.match(text, i)
        ]
        if spots:
            start = rng.choice(spots)
            match = shape.match(text, start)
            if match is not None:
                found.append(match.group())
    return found
