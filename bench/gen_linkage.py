#!/usr/bin/env python3
"""Synthetic linkage data at any size, in the four formats of ``dev-20k`` (for the scale figure).

    .venv/bin/python bench/gen_linkage.py OUT --persons 1000000 --seed 1

Writes ``police_hukou.csv``, ``property_mgmt.csv``, ``visit_forms.csv``, ``clinic.csv``,
``geography.csv`` and ``ground_truth.csv`` (``source,record_id,person_id``) into OUT. Our
own generator (deterministic for a seed), written from the data set's README: the columns and
formats are the same, and so are the kinds of noise (``shequ.people.noisy``, which the demo
uses too) — households sharing address and phone,
moved households (hukou and stale property rows left at the old flat), landlords, surname +
title names, masked / missing / mistyped / guardian IDs, 15-digit IDs, homophone,
look-alike, dropped and traditional characters, pinyin names, ages instead of birth dates
(虚岁), lunar birthdays, phone formats, household phones, address formats F1-F4 and compound
name variants, within-source duplicates. Rates are near the README's; the point is a
realistic load for throughput and memory at 1M persons, and a second, independently made
data set to score on (``--persons 20000``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from shequ.core.idnumber import check_char  # noqa: E402
from shequ.people.noisy import GIVEN, REF, cn_num, write_sources  # noqa: E402

DISTRICTS = [
    ("510104", "锦江区"),
    ("510105", "青羊区"),
    ("510106", "金牛区"),
    ("510107", "武侯区"),
    ("510108", "成华区"),
    ("510112", "龙泉驿区"),
    ("510113", "青白江区"),
    ("510114", "新都区"),
    ("510115", "温江区"),
    ("510116", "双流区"),
    ("510117", "郫都区"),
    ("510118", "新津区"),
]
OTHER_REGIONS = ["500106", "420111", "511921", "530103", "511502", "510681", "513701", "610113"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万严覃"  # noqa: E501
ROADS = [
    "人民",
    "金沙",
    "蜀汉",
    "光华",
    "天府",
    "建设",
    "锦绣",
    "龙腾",
    "青龙",
    "太升",
    "倪家",
    "红星",
]
TAILS = ["花园", "家园", "新村", "新居", "公馆", "雅苑", "名邸", "小区", "丽景", "华庭"]
NAME_CHARS = "锦城东华金府明珠龙湖蓝光翠竹青城南苑北辰西岭天韵御景中海合能保利万科融创麓山紫薇"


def id_number(region: str, dob: dt.date, seq: int) -> str:
    first = f"{region}{dob:%Y%m%d}{seq:03d}"
    return first + check_char(first)


class Gen:
    def __init__(self, persons: int, seed: int):
        self.n = persons
        self.rng = random.Random(seed)
        self.seq = 0

    # ------------------------------------------------------------------ geography
    def geography(self) -> None:
        r = self.rng
        n_compounds = max(20, self.n // 120)
        self.compounds = []  # (code, name, community, district, road, managed, kind)
        rows = []
        streets_per_district = max(2, n_compounds // 60)
        communities = []
        for dcode, dname in DISTRICTS:
            rows.append(["district", dcode, dname, "510100", "core", "", ""])
            for s in range(1, streets_per_district + 1):
                scode = f"{dcode}{s:03d}"
                rows.append(["street", scode, f"{dname[:2]}{s}街道", dcode, "street", "", ""])
                for c in range(1, 3):
                    ccode = f"{scode}{c:03d}"
                    rows.append(["community", ccode, f"{dname[:2]}{s}-{c}社区", scode, "", "", ""])
                    communities.append((ccode, dcode, dname))
        names = set()
        for k in range(n_compounds):
            ccode, dcode, dname = communities[k % len(communities)]
            while True:
                name = "".join(r.sample(NAME_CHARS, 2)) + r.choice(TAILS)
                if r.random() < 0.25:
                    name += cn_num(r.randint(1, 4)) + "期"
                if name not in names:
                    names.add(name)
                    break
            road = f"{r.choice(ROADS)}{r.choice('东西南北中')}路{k + 1}号"
            kind = r.choices(["商品房", "安置房", "老旧院落"], [70, 20, 10])[0]
            managed = kind == "商品房" or r.random() < 0.5
            code = f"C{k:06d}"
            self.compounds.append((code, name, ccode, dcode, dname, road, managed))
            rows.append(["compound", code, name, ccode, kind, road, "1" if managed else "0"])
        self.geo_rows = rows

    # ------------------------------------------------------------------ population
    def flat(self):
        r = self.rng
        c = r.randrange(len(self.compounds))
        return (c, r.randint(1, 30), r.randint(1, 4), r.randint(1, 30) * 100 + r.randint(1, 4))

    def person(self, surname: str, dob: dt.date, sex: str, region: str) -> dict:
        r = self.rng
        k = min(len(GIVEN) - 1, int(r.paretovariate(1.1)) - 1 + (dob.year % 7) * 3)
        given = GIVEN[k % len(GIVEN)]
        if r.random() < 0.7:
            given += GIVEN[int(r.random() ** 2 * len(GIVEN))]
        self.seq += 1
        return {
            "pid": f"P{self.seq:08d}",
            "name": surname + given,
            "sex": sex,
            "dob": dob,
            "id": id_number(region, dob, (r.randrange(500) * 2 + (1 if sex == "1" else 0)) % 1000),
            "phone": f"1{r.choice('3578')}{r.randrange(10**9):09d}" if dob.year < 2008 else "",
        }

    def households(self):
        r = self.rng
        made = 0
        while made < self.n:
            local = r.random() < 0.63
            region = (
                r.choice(DISTRICTS)[0]
                if local and r.random() < 0.8
                else r.choice([*OTHER_REGIONS, "510122", "510102"])
            )
            surname = SURNAMES[int(r.random() ** 2.2 * len(SURNAMES))]
            age = r.randint(22, 75)
            head_dob = REF - dt.timedelta(days=age * 365 + r.randrange(365))
            sex = r.choice("12")
            members = [(self.person(surname, head_dob, sex, region), "02")]
            if r.random() < 0.75:
                sdob = head_dob + dt.timedelta(days=r.randint(-1500, 1500))
                spouse_surname = SURNAMES[int(r.random() ** 2.2 * len(SURNAMES))]
                members.append(
                    (self.person(spouse_surname, sdob, "2" if sex == "1" else "1", region), "10")
                )
                for _ in range(r.choice([0, 1, 1, 2])):
                    cdob = head_dob + dt.timedelta(days=r.randint(22 * 365, 38 * 365))
                    if cdob < REF:
                        csex = r.choice("12")
                        members.append(
                            (
                                self.person(surname, cdob, csex, region),
                                "20" if csex == "1" else "30",
                            )
                        )
            if r.random() < 0.15 and age < 60:
                pdob = head_dob - dt.timedelta(days=r.randint(24 * 365, 34 * 365))
                members.append((self.person(surname, pdob, "1", region), "51"))
            flat = self.flat()
            moved = r.random() < 0.1
            old = self.flat() if moved else flat
            home_phone = members[0][0]["phone"] or f"13{r.randrange(10**9):09d}"
            made += len(members)
            yield {
                "members": members,
                "local": local,
                "flat": flat,
                "old": old,
                "moved": moved,
                "hh": f"{members[0][0]['id'][:6]}{r.randrange(10**9):09d}",
                "phone": home_phone,
            }

    # ------------------------------------------------------------------ writing
    def run(self, out: Path) -> dict:
        self.geography()
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "geography.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["level", "code", "name", "parent_code", "kind", "road_address", "managed"])
            w.writerows(self.geo_rows)
        return write_sources(out, self.households(), self.compounds, self.rng)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--persons", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    started = time.perf_counter()
    counts = Gen(a.persons, a.seed).run(a.out)
    counts["seconds"] = round(time.perf_counter() - started, 1)
    print(", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
