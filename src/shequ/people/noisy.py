"""Noisy source files from persons: the four formats of ``dev-20k`` with their kinds of noise.

One implementation for the benchmark generator (``bench/gen_linkage.py``, synthetic persons)
and the demo (``shequ.people.demo``, the demo city's residents). Given households of persons
and the compounds they live in, :func:`write_sources` writes ``police_hukou.csv``,
``property_mgmt.csv``, ``visit_forms.csv`` and ``clinic.csv`` (the columns of the data set's
README) with the noise the README lists: households sharing address and phone, moved
households (hukou and stale property rows left at the old flat), surname + title names,
masked / missing / mistyped IDs, 15-digit IDs, homophone, look-alike, dropped and traditional
characters, pinyin names, ages instead of birth dates (虚岁), lunar birthdays, phone formats,
household phones, address formats F1-F4 and compound name variants, within-source
duplicates. Deterministic for a given ``random.Random``.

Inputs (plain dicts and tuples, so that both callers can build them):

* a compound: ``(code, name, community_code, district_code, district_name, road_address,
  managed)``;
* a flat: ``(compound index, building, unit, room)`` with room ``floor * 100 + number``;
* a person: ``{"pid", "name", "sex" ("1"/"2"), "dob" (date), "id", "phone"}``;
* a household: ``{"members": [(person, relation code)], "local" (hukou here), "flat",
  "old" (the previous flat), "moved", "hh" (household number), "phone" (household phone)}``.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅兰波辉鹏宇浩然欣怡子涵梓萱雨轩一诺思远俊杰宏伟晓东婷雪琳晨阳博文佳琪嘉怡浩宇天佑瑶凯帆鑫蕾颖凡斌亮坤琴燕萍健海峰"  # noqa: E501
HOMOPHONE = {
    "伟": "玮",
    "芳": "方",
    "娜": "纳",
    "静": "婧",
    "丽": "莉",
    "强": "墙",
    "军": "君",
    "洋": "阳",
    "勇": "永",
    "艳": "燕",
    "杰": "洁",
    "娟": "鹃",
    "涛": "韬",
    "明": "铭",
    "霞": "侠",
    "平": "萍",
    "刚": "钢",
    "华": "桦",
    "红": "宏",
    "玉": "钰",
    "梅": "玫",
    "波": "博",
    "辉": "晖",
    "鹏": "朋",
    "宇": "雨",
    "浩": "皓",
    "欣": "新",
    "怡": "仪",
    "琳": "林",
    "晨": "辰",
    "文": "雯",
    "佳": "嘉",
    "琪": "淇",
    "凯": "恺",
    "颖": "莹",
    "斌": "彬",
    "亮": "谅",
    "琴": "勤",
    "海": "亥",
    "峰": "锋",
}
LOOKALIKE = {"玉": "王", "未": "末", "己": "已", "土": "士", "日": "曰", "天": "夫", "人": "入"}
TRADITIONAL = {"伟": "偉", "丽": "麗", "军": "軍", "艳": "艷", "涛": "濤", "华": "華", "国": "國"}
TRADITIONAL.update({"红": "紅", "辉": "輝", "鹏": "鵬", "浩": "浩", "东": "東", "婷": "婷"})
TRADITIONAL.update({"刘": "劉", "陈": "陳", "杨": "楊", "黄": "黃", "赵": "趙", "吴": "吳"})
CN = "零一二三四五六七八九"
TITLE = {"1": "先生", "2": "女士"}
REF = dt.date(2024, 6, 30)

HEADERS = {
    "police_hukou": [
        "RYBH", "GMSFHM", "XM", "CYM", "XBDM", "CSRQ", "MZDM", "HJDZ_XZQHDM", "HJDZ_DZMC", "HH",
        "YHZGXDM", "DJRQ",
    ],
    "property_mgmt": [
        "登记编号", "小区名称", "楼栋房号", "住户姓名", "住户类型", "联系电话", "证件号码",
        "登记日期", "备注",
    ],
    "visit_forms": [
        "form_id", "visit_date", "worker_id", "street", "community", "address", "name", "gender",
        "age", "id_no", "phone", "temp_c", "health_status", "remark",
    ],
    "clinic": [
        "patient_no", "patient_name", "sex", "birth_date", "id_card", "mobile", "home_address",
        "first_visit", "insurance_type",
    ],
}  # fmt: skip


def cn_num(v: int) -> str:
    if v < 10:
        return CN[v]
    t, o = divmod(v, 10)
    return ("" if t == 1 else CN[t]) + "十" + (CN[o] if o else "") if v < 100 else str(v)


class Noise:
    """The noise of each field, drawn from ``rng``."""

    def __init__(self, rng: random.Random, compounds: Sequence[tuple]):
        self.rng = rng
        self.compounds = compounds
        self.used: set[str] = set()

    def rid(self, prefix: str) -> str:
        while True:
            v = f"{prefix}{self.rng.randrange(10**9):09d}"
            if v not in self.used:
                self.used.add(v)
                return v

    def noisy_name(self, name: str, rates: dict) -> str:
        r = self.rng
        x = r.random()
        if x < rates.get("homophone", 0):
            k = r.randrange(1, len(name))
            return name[:k] + HOMOPHONE.get(name[k], name[k]) + name[k + 1 :]
        x -= rates.get("homophone", 0)
        if x < rates.get("lookalike", 0):
            return (
                "".join(LOOKALIKE.get(c, c) for c in name)
                if r.random() < 0.5
                else (name[:-1] + GIVEN[r.randrange(len(GIVEN))])
            )
        x -= rates.get("lookalike", 0)
        if x < rates.get("drop", 0) and len(name) > 2:
            return name[:-1]
        return name

    def noisy_id(self, pid: str, rates: dict) -> str:
        r = self.rng
        if not pid:
            return ""
        x = r.random()
        for kind, rate in rates.items():
            if x >= rate:
                x -= rate
                continue
            if kind == "blank":
                return ""
            if kind == "transpose":
                k = r.randrange(6, 16)
                return pid[:k] + pid[k + 1] + pid[k] + pid[k + 2 :]
            if kind == "wrong_digit":
                k = r.randrange(6, 17)
                return pid[:k] + str((int(pid[k]) + r.randint(1, 9)) % 10) + pid[k + 1 :]
            if kind == "masked":
                keep = r.choice([(6, 4), (6, 4), (3, 4), (4, 4), (1, 1)])
                return pid[: keep[0]] + "*" * (18 - sum(keep)) + pid[-keep[1] :]
            if kind == "lower_x":
                return pid.lower()
        return pid

    def noisy_phone(self, phone: str, rates: dict) -> str:
        r = self.rng
        if not phone or r.random() < rates.get("blank", 0.05):
            return ""
        if r.random() < rates.get("wrong", 0.01):
            k = r.randrange(3, 11)
            phone = phone[:k] + str((int(phone[k]) + 1) % 10) + phone[k + 1 :]
        fmt = r.random()
        if fmt < 0.15:
            return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
        if fmt < 0.25:
            return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
        if fmt < 0.3:
            return "+86 " + phone
        return phone

    def compound_text(self, c: int) -> str:
        r = self.rng
        name, dname = self.compounds[c][1], self.compounds[c][4]
        x = r.random()
        if x < 0.08:
            base = name.split("期")[0].rstrip(CN) if "期" in name else name
            return base[:3] if len(base) > 3 else base
        if x < 0.15 and "期" in name:
            return name[: name.index("期") - 1]
        if x < 0.2:
            return dname[:-1] + name
        return name

    def spec(self, flat) -> str:
        _, b, u, room = flat
        fmt = self.rng.choices("1234", [45, 35, 12, 8])[0]
        if fmt == "1":
            return f"{b}栋{u}单元{room}"
        if fmt == "2":
            return f"{b}-{u}-{room}"
        if fmt == "3":
            return f"{cn_num(b)}栋{cn_num(u)}单元{room}室"
        return f"{b}幢{u}单元{room}号"


def write_sources(
    out: Path,
    households: Iterable[dict],
    compounds: Sequence[tuple],
    rng: random.Random,
    *,
    ref: dt.date = REF,
    truth: bool = True,
) -> dict:
    """Write the four source files (and ``ground_truth.csv`` if ``truth``) into ``out``;
    return the number of persons and of records per source."""
    r = rng
    noise = Noise(rng, compounds)
    out.mkdir(parents=True, exist_ok=True)
    handles = {s: open(out / f"{s}.csv", "w", newline="", encoding="utf-8") for s in HEADERS}  # noqa: SIM115
    writers = {s: csv.writer(h) for s, h in handles.items()}
    for s, header in HEADERS.items():
        writers[s].writerow(header)
    truth_fh = open(out / "ground_truth.csv", "w", newline="", encoding="utf-8") if truth else None  # noqa: SIM115
    truth_w = csv.writer(truth_fh) if truth_fh else None
    if truth_w:
        truth_w.writerow(["source", "record_id", "person_id"])
    counts = dict.fromkeys(HEADERS, 0)
    persons = 0

    def emit(source, row, pid, dup_rate=0.0):
        writers[source].writerow(row)
        if truth_w:
            truth_w.writerow([source, row[0], pid])
        counts[source] += 1
        if dup_rate and r.random() < dup_rate:
            copy = list(row)
            copy[0] = noise.rid(row[0][:2])
            writers[source].writerow(copy)
            if truth_w:
                truth_w.writerow([source, copy[0], pid])
            counts[source] += 1

    try:
        for hh in households:
            persons += len(hh["members"])
            _household(hh, noise, emit, ref)
    finally:
        for h in handles.values():
            h.close()
        if truth_fh:
            truth_fh.close()
    return {"persons": persons, **counts, "records": sum(counts.values())}


def _household(hh: dict, noise: Noise, emit, ref: dt.date) -> None:
    r = noise.rng
    compounds = noise.compounds
    c = hh["flat"][0]
    comp = compounds[c]
    hukou_flat = hh["old"] if hh["moved"] or r.random() < 0.3 else hh["flat"]
    hc = compounds[hukou_flat[0]]
    for p, rel in hh["members"]:
        age = (ref - p["dob"]).days // 365
        sex = p["sex"]
        own_phone = p["phone"] or hh["phone"]
        # police: registered locals
        if hh["local"] and r.random() < 0.99:
            addr = (
                f"四川省成都市{hc[4]}{hc[5]}{hukou_flat[1]}栋{hukou_flat[2]}单元"
                f"{hukou_flat[3] // 100}楼{hukou_flat[3] % 100}号"
            )
            emit(
                "police_hukou",
                [
                    noise.rid("RK"),
                    p["id"],
                    p["name"],
                    "",
                    sex,
                    f"{p['dob']:%Y%m%d}",
                    "01",
                    hc[3],
                    addr,
                    hh["hh"],
                    rel,
                    f"{p['dob'] + dt.timedelta(days=r.randint(30, 400)):%Y%m%d}",
                ],
                p["pid"],
                0.003,
            )
        # property: managed compounds
        for flat, stale in ((hh["flat"], False), (hh["old"], True)):
            if stale and (not hh["moved"] or r.random() < 0.5):
                continue
            fc = compounds[flat[0]]
            if not fc[6] or r.random() > (0.95 if rel == "02" else 0.4):
                continue
            name = p["name"]
            x = r.random()
            if x < 0.1:
                name = name[0] + TITLE[sex]
            elif x < 0.11:
                name = ""
            else:
                name = noise.noisy_name(name, {"homophone": 0.015, "lookalike": 0.01})
            ident = noise.noisy_id(p["id"], {"blank": 0.43, "masked": 0.42})
            emit(
                "property_mgmt",
                [
                    noise.rid("WY"),
                    noise.compound_text(flat[0]),
                    noise.spec(flat),
                    name,
                    "业主" if rel == "02" else "家属",
                    noise.noisy_phone(
                        hh["phone"] if r.random() < 0.3 else own_phone,
                        {"blank": 0.04, "wrong": 0.006},
                    ),
                    ident,
                    f"{2010 + r.randrange(15)}{r.randint(1, 12):02d}15",
                    "房屋出租" if r.random() < 0.02 else "",
                ],
                p["pid"],
                0.015,
            )
        # visit forms
        if r.random() < 0.62:
            ident = p["id"] if age >= 16 else ""
            ident = noise.noisy_id(
                ident,
                {"blank": 0.3, "transpose": 0.025, "wrong_digit": 0.02, "lower_x": 0.4},
            )
            shown_age = age + (1 if r.random() < 0.3 else 0)
            address = f"{comp[2][-3:]}社区" if r.random() < 0.3 else ""
            address += noise.compound_text(c) + noise.spec(hh["flat"])
            emit(
                "visit_forms",
                [
                    noise.rid("ZF"),
                    f"2024{r.randint(3, 6):02d}{r.randint(1, 28):02d}",
                    f"WG{r.randrange(100):03d}",
                    "",
                    "",
                    address,
                    noise.noisy_name(
                        p["name"], {"homophone": 0.05, "lookalike": 0.03, "drop": 0.01}
                    ),
                    ("男" if sex == "1" else "女") if r.random() > 0.05 else "",
                    str(shown_age) if r.random() > 0.04 else "",
                    ident,
                    noise.noisy_phone(
                        hh["phone"] if r.random() < 0.35 else own_phone,
                        {"blank": 0.1, "wrong": 0.05},
                    ),
                    f"36.{r.randrange(10)}",
                    "正常",
                    "",
                ],
                p["pid"],
                0.04,
            )
        # clinic
        if r.random() < (0.55 if age < 14 or age > 60 else 0.25):
            name = p["name"]
            x = r.random()
            if x < 0.03:
                name = "".join(TRADITIONAL.get(ch, ch) for ch in name)
            elif x < 0.055:
                from pypinyin import lazy_pinyin

                py = lazy_pinyin(name)
                name = (py[0] + " " + "".join(py[1:])).upper()
            dob = p["dob"]
            if age > 60 and r.random() < 0.08:
                dob = dob - dt.timedelta(days=r.randint(20, 50))
            fmt = r.choice(["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"])
            ident = p["id"] if age > 14 else ""
            if age > 60 and ident and r.random() < 0.3:
                ident = ident[:6] + ident[8:17]
            emit(
                "clinic",
                [
                    noise.rid("MZ"),
                    name,
                    "M" if sex == "1" else "F",
                    dob.strftime(fmt).replace("/0", "/") if r.random() > 0.03 else "",
                    noise.noisy_id(ident, {"blank": 0.2, "lower_x": 0.3}),
                    noise.noisy_phone(own_phone, {"blank": 0.05}),
                    f"{comp[4]}{noise.compound_text(c)}{noise.spec(hh['flat'])}"
                    if r.random() > 0.05
                    else "",
                    f"{2015 + r.randrange(9)}0{r.randint(1, 9)}10",
                    "城镇职工医保",
                ],
                p["pid"],
                0.04,
            )
