# SPDX-License-Identifier: AGPL-3.0-or-later
"""Generated ID cards and driving licences for modules.ocr: rendered with Pillow and the
CJK font, with known fields, optionally degraded (rotation, noise, JPEG compression).
Used by tests/modules/ocr and by the accuracy benchmark:

    python -m benchmarks.ocr_cards [--cards 200] [--backs 50] [--seed 1]

which reads each card (ID card fronts and driving licences in turn, then ID card backs)
with the module's own engine and parser and prints character accuracy of the fields,
exact-match rate per field, and latency p50/p99 per image (`--lines FILE` keeps each
card's OCR lines, to judge a parser change on the same reading); then
throughput: the same images read again by `--concurrency` threads sharing one engine
(as modules.ocr's `concurrency` shares one in Synapse's thread pool, each image with
`--threads` ONNX runtime threads), in images per second of wall time."""

import argparse
import io
import json
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from benchmarks.stats import Summary
from modules.ocr.cards import driving_licence, id_card, id_card_back, id_card_side
from modules.ocr.config import OcrConfig
from modules.ocr.engine import Line, decode, reading_order

FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅海燕云飞鹏辉宇浩然子涵欣怡思远文博嘉怡晨阳"
NATIONS = ("汉", "汉", "汉", "回", "满", "蒙古", "壮", "藏", "维吾尔", "苗")
PLACES = (
    ("330106", "浙江省杭州市西湖区"),
    ("330102", "浙江省杭州市上城区"),
    ("110105", "北京市朝阳区"),
    ("440305", "广东省深圳市南山区"),
    ("320102", "江苏省南京市玄武区"),
    ("510107", "四川省成都市武侯区"),
)
ROADS = [
    "文三路",
    "教工路",
    "延安路",
    "解放路",
    "中山路",
    "人民路",
    "建设路",
    "和平路",
    "滨江大道",
    "学院路",
]
CLASSES = ("C1", "C2", "B1", "B2", "A1", "A2", "C1D")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def font_path() -> str | None:
    return next((f for f in FONTS if Path(f).exists()), None)


def id_number(region: str, birth: date, sequence: int) -> str:
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


@dataclass(frozen=True)
class Person:
    name: str
    sex: str
    nation: str
    birth: date
    address: str
    number: str


def person(rng: random.Random) -> Person:
    name = rng.choice(SURNAMES) + "".join(
        rng.choice(GIVEN) for _ in range(rng.randint(1, 2))
    )
    sex = rng.choice("男女")
    birth = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 45))
    region, place = rng.choice(PLACES)
    address = f"{place}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
    sequence = rng.randrange(0, 500) * 2 + (1 if sex == "男" else 0)
    return Person(
        name,
        sex,
        rng.choice(NATIONS),
        birth,
        address,
        id_number(region, birth, sequence),
    )


def _canvas(size: tuple[int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", size, (232, 238, 242))
    return image, ImageDraw.Draw(image)


def render_id_card(p: Person) -> Image.Image:
    path = font_path()
    assert path is not None, "no CJK font (make install installs fonts-wqy-microhei)"
    label, value = ImageFont.truetype(path, 26), ImageFont.truetype(path, 30)
    image, d = _canvas((856, 540))
    grey, black = (70, 90, 110), (10, 10, 10)
    d.text((50, 50), "姓名", font=label, fill=grey)
    d.text((140, 47), p.name, font=value, fill=black)
    d.text((50, 115), "性别", font=label, fill=grey)
    d.text((140, 112), p.sex, font=value, fill=black)
    d.text((260, 115), "民族", font=label, fill=grey)
    d.text((350, 112), p.nation, font=value, fill=black)
    d.text((50, 180), "出生", font=label, fill=grey)
    birth = f"{p.birth.year} 年 {p.birth.month} 月 {p.birth.day} 日"
    d.text((140, 177), birth, font=value, fill=black)
    d.text((50, 245), "住址", font=label, fill=grey)
    first, rest = p.address[:14], p.address[14:]
    d.text((140, 242), first, font=value, fill=black)
    if rest:
        d.text((140, 292), rest, font=value, fill=black)
    d.text((50, 440), "公民身份号码", font=label, fill=grey)
    d.text((260, 436), p.number, font=value, fill=black)
    return image


AUTHORITIES = (
    "杭州市公安局西湖分局",
    "杭州市公安局上城分局",
    "北京市公安局朝阳分局",
    "深圳市公安局南山分局",
    "南京市公安局玄武分局",
    "成都市公安局武侯分局",
)


def back_fields(p: Person, rng: random.Random) -> dict[str, str]:
    """The back's fields of p's card: the office of p's region, a validity of 10 or
    20 years (or 长期 past 46)."""
    region = next(i for i, (code, _) in enumerate(PLACES) if p.number.startswith(code))
    start = p.birth + timedelta(days=365 * rng.randint(16, 50))
    if start.month == 2 and start.day == 29:
        start = start.replace(day=28)
    age = start.year - p.birth.year
    years = 10 if age < 26 else 20
    end = "长期" if age >= 46 else start.replace(year=start.year + years).isoformat()
    return {
        "authority": AUTHORITIES[region],
        "valid_from": start.isoformat(),
        "valid_to": end,
    }


def render_id_card_back(fields: dict[str, str]) -> Image.Image:
    """The back: the national emblem's place, the title, 签发机关 and 有效期限
    (dates as printed: 2015.03.07-2035.03.07)."""
    path = font_path()
    assert path is not None, "no CJK font (make install installs fonts-wqy-microhei)"
    title, label, value = (
        ImageFont.truetype(path, 44),
        ImageFont.truetype(path, 26),
        ImageFont.truetype(path, 30),
    )
    image, d = _canvas((856, 540))
    grey, black = (70, 90, 110), (10, 10, 10)
    d.ellipse((50, 40, 170, 160), outline=(180, 40, 40), width=6)
    d.text((260, 60), "中华人民共和国", font=title, fill=black)
    d.text((300, 140), "居民身份证", font=title, fill=black)
    d.text((160, 360), "签发机关", font=label, fill=grey)
    d.text((300, 356), fields["authority"], font=value, fill=black)

    def dotted(iso: str) -> str:
        return iso.replace("-", ".") if iso != "长期" else iso

    validity = f"{dotted(fields['valid_from'])}-{dotted(fields['valid_to'])}"
    d.text((160, 430), "有效期限", font=label, fill=grey)
    d.text((300, 426), validity, font=value, fill=black)
    return image


def render_driving_licence(
    p: Person, rng: random.Random
) -> tuple[Image.Image, dict[str, str]]:
    path = font_path()
    assert path is not None, "no CJK font (make install installs fonts-wqy-microhei)"
    title, label, value = (
        ImageFont.truetype(path, 32),
        ImageFont.truetype(path, 24),
        ImageFont.truetype(path, 26),
    )
    first = p.birth + timedelta(days=365 * 20 + rng.randrange(2000))
    start = first + timedelta(days=365 * 6)
    fields = {
        "licence_number": p.number,
        "name": p.name,
        "sex": p.sex,
        "nationality": "中国",
        "address": p.address,
        "birth": p.birth.isoformat(),
        "first_issue": first.isoformat(),
        "class": rng.choice(CLASSES),
        "valid_from": start.isoformat(),
        "valid_to": start.replace(year=start.year + 10).isoformat(),
    }
    image, d = _canvas((900, 600))
    grey, black = (70, 90, 110), (10, 10, 10)
    d.text((200, 30), "中华人民共和国机动车驾驶证", font=title, fill=black)
    rows = [
        (("证号", fields["licence_number"]),),
        (("姓名", p.name), ("性别", p.sex), ("国籍", "中国")),
        (("住址", p.address),),
        (("出生日期", fields["birth"]),),
        (("初次领证日期", fields["first_issue"]),),
        (("准驾车型", fields["class"]),),
        (("有效期限", f"{fields['valid_from']}至{fields['valid_to']}"),),
    ]
    y = 100
    for row in rows:
        x = 40
        for name, text in row:
            d.text((x, y + 2), name, font=label, fill=grey)
            x += 30 * len(name) + 20
            d.text((x, y), text, font=value, fill=black)
            x += 30 * len(text) + 40
        y += 66
    return image, fields


def degrade(image: Image.Image, rng: random.Random, quality: int = 70) -> bytes:
    """Slight rotation, sensor noise, blur and JPEG compression: a phone photo."""
    image = image.rotate(rng.uniform(-3, 3), expand=True, fillcolor=(200, 200, 200))
    noise = Image.effect_noise(image.size, rng.uniform(8, 20)).convert("RGB")
    image = Image.blend(image, noise, 0.08).filter(ImageFilter.GaussianBlur(0.6))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = (
                row[j],
                min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb)),
            )
    return row[-1]


def _cards(
    count: int, backs: int, seed: int
) -> list[tuple[str, dict[str, str], bytes]]:
    """(kind, expected fields, degraded image) of `count` cards, ID card fronts and
    licences in turn, then `backs` ID card backs (drawn apart: the first cards stay the
    same whatever `backs` is)."""
    rng = random.Random(seed)
    made: list[tuple[str, dict[str, str], bytes]] = []
    for i in range(count):
        p = person(rng)
        if i % 2 == 0:
            image = render_id_card(p)
            expected = {
                "name": p.name,
                "sex": p.sex,
                "nation": p.nation,
                "birth": p.birth.isoformat(),
                "address": p.address,
                "id_number": p.number,
            }
            kind = "idcard"
        else:
            image, expected = render_driving_licence(p, rng)
            kind = "licence"
        made.append((kind, expected, degrade(image, rng, quality=rng.randint(45, 85))))
    other = random.Random(seed + 1000)
    for _ in range(backs):
        fields = back_fields(person(other), other)
        image = render_id_card_back(fields)
        quality = other.randint(45, 85)
        made.append(("idcard_back", fields, degrade(image, other, quality=quality)))
    return made


def parse(kind: str, texts: list[str]) -> dict[str, Any]:
    """The module's parser for the kind (modules/ocr/service.py's choice)."""
    if kind == "licence":
        return driving_licence(texts)
    if id_card_side(texts) == "back":
        return {"side": "back", **id_card_back(texts)}
    return {"side": "front", **id_card(texts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--backs", type=int, default=None, help="default cards/4")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2, help="0: no second pass")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lines", help="write each card's OCR lines here (JSON)")
    args = parser.parse_args()
    from rapidocr import RapidOCR

    engine = RapidOCR(
        params={
            "Global.log_level": "warning",
            "EngineConfig.onnxruntime.intra_op_num_threads": args.threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )
    backs = args.cards // 4 if args.backs is None else args.backs
    cards = _cards(args.cards, backs, args.seed)
    config = OcrConfig()
    times, read = [], []
    for n, (kind, expected, data) in enumerate(cards, 1):
        started = time.perf_counter()
        result = engine(decode(data, config))
        times.append((time.perf_counter() - started) * 1000)
        lines = reading_order(
            [
                Line(str(t), float(s), tuple((int(x), int(y)) for x, y in b))
                for t, s, b in zip(
                    result.txts or (),
                    result.scores or (),
                    result.boxes if result.boxes is not None else (),
                    strict=True,
                )
            ]
        )
        read.append({"kind": kind, "expected": expected, "lines": lines})
        if n % 20 == 0:
            print(f"  {n}/{len(cards)} read", file=sys.stderr, flush=True)
    if args.lines:
        dump = [{**r, "lines": [line.as_json() for line in r["lines"]]} for r in read]
        Path(args.lines).write_text(json.dumps(dump, ensure_ascii=False))
    report(read)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(
        f"latency per image ({len(times)}): p50 {statistics.median(times):.0f} ms,"
        f" p99 {p99:.0f} ms"
    )
    print(
        f"  throughput, one at a time: {len(times) / (sum(times) / 1000):.2f} images/s"
    )
    if args.concurrency > 0:
        images = [data for _kind, _expected, data in cards]
        rate, summary = throughput(engine, config, images, args.concurrency)
        print(
            f"throughput, {args.concurrency} at once ({args.threads} ONNX threads each):"
            f" {rate:.2f} images/s over {len(images)} images;"
            f" latency p50 {summary.p50:.0f} ms, p99 {summary.p99:.0f} ms"
        )


def report(read: list[dict[str, Any]]) -> None:
    """Character accuracy of the fields (fronts and licences; backs apart) and the
    exact-match rate of each field, from the cards' lines (Line objects or their
    JSON, as --lines wrote them)."""
    chars: dict[str, int] = {}
    errors: dict[str, int] = {}
    matches: dict[str, list[bool]] = {}
    for card in read:
        kind, expected = card["kind"], card["expected"]
        texts = [
            line["text"] if isinstance(line, dict) else line.text
            for line in card["lines"]
        ]
        fields = parse(kind, texts)
        group = "backs" if kind == "idcard_back" else "cards"
        truth = "".join(expected.values())
        got = "".join(str(fields.get(k, "")) for k in expected)
        chars[group] = chars.get(group, 0) + len(truth)
        errors[group] = errors.get(group, 0) + _edit_distance(truth, got)
        for key, want in expected.items():
            matches.setdefault(f"{kind}.{key}", []).append(fields.get(key) == want)
    counts = {k: sum(1 for c in read if c["kind"] == k) for k in ("idcard", "licence")}
    backs = sum(1 for c in read if c["kind"] == "idcard_back")
    print(
        f"cards: {counts['idcard']} ID card fronts, {counts['licence']} licences,"
        f" {backs} ID card backs"
    )
    for group, total in chars.items():
        print(
            f"  character accuracy of the fields ({group}):"
            f" {1 - errors[group] / total:.4f}"
        )
    for key, hits in sorted(matches.items()):
        print(f"  {key:24} exact {sum(hits) / len(hits):.3f} ({sum(hits)}/{len(hits)})")


def throughput(
    engine: Any, config: OcrConfig, images: list[bytes], concurrency: int
) -> tuple[float, Summary]:
    """Images per second of wall time with `concurrency` threads sharing the engine,
    and the latency of each image meanwhile (decoding included, as the module does)."""

    def one(data: bytes) -> float:
        started = time.perf_counter()
        engine(decode(data, config))
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(one, images))
    wall = time.perf_counter() - started
    return len(images) / wall, Summary.of(latencies, wall)


if __name__ == "__main__":
    main()
