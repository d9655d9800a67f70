"""Population-data objects for tests (the access matrix of shequ/core/tests)."""

from __future__ import annotations

from .models import Batch, BatchStatus, Source


def batch_pair(city) -> tuple[Batch, Batch]:
    """Two finished batches: one in the first district's first community, one in the last
    community of the other district."""
    source, _ = Source.objects.get_or_create(code="police_hukou", defaults={"trust": 90})
    inside = Batch.objects.create(
        source=source,
        file_name="inside.csv",
        sha256="a" * 64,
        file_format="csv",
        area_code=city["communities"][0].code,
        status=BatchStatus.DONE,
        progress=100,
    )
    outside = Batch.objects.create(
        source=source,
        file_name="outside.csv",
        sha256="b" * 64,
        file_format="csv",
        area_code=city["communities"][-1].code,
        status=BatchStatus.DONE,
        progress=100,
    )
    return inside, outside


# --------------------------------------------------------------------------- small source files
import csv  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

from shequ.core import idnumber  # noqa: E402

POLICE_COLUMNS = ["RYBH", "GMSFHM", "XM", "CYM", "XBDM", "CSRQ", "MZDM", "HJDZ_XZQHDM",
                  "HJDZ_DZMC", "HH", "YHZGXDM", "DJRQ"]  # fmt: skip
CLINIC_COLUMNS = ["patient_no", "patient_name", "sex", "birth_date", "id_card", "mobile",
                  "home_address", "first_visit", "insurance_type"]  # fmt: skip
VISIT_COLUMNS = ["form_id", "visit_date", "worker_id", "street", "community", "address",
                 "name", "gender", "age", "id_no", "phone", "temp_c", "health_status",
                 "remark"]  # fmt: skip
PROPERTY_COLUMNS = ["登记编号", "小区名称", "楼栋房号", "住户姓名", "住户类型", "联系电话",
                    "证件号码", "登记日期", "备注"]  # fmt: skip

# Three people of the tests' own (not in build_city): name, sex, birth date, ID, phone.
PEOPLE = [
    ("王建国", "1", dt.date(1968, 5, 12), idnumber.make("510104", dt.date(1968, 5, 12), 123),
     "13880001234"),
    ("李秀英", "2", dt.date(1971, 9, 1), idnumber.make("510104", dt.date(1971, 9, 1), 246),
     "13990005678"),
    ("陈思远", "1", dt.date(1995, 2, 3), idnumber.make("510105", dt.date(1995, 2, 3), 357),
     "15800112233"),
]  # fmt: skip


def police_rows(people=PEOPLE, prefix="RK"):
    return [
        {
            "RYBH": f"{prefix}{n:04d}",
            "GMSFHM": id_,
            "XM": name,
            "CYM": "",
            "XBDM": sex,
            "CSRQ": birth.strftime("%Y%m%d"),
            "MZDM": "01",
            "HJDZ_XZQHDM": "510104",
            "HJDZ_DZMC": "四川省成都市锦江区人民路1号1栋1单元5楼1号",
            "HH": f"H{n:03d}",
            "YHZGXDM": "02",
            "DJRQ": "20100101",
        }
        for n, (name, sex, birth, id_, _phone) in enumerate(people, start=1)
    ]


def clinic_rows(people=PEOPLE, prefix="MZ", first_visit="20230301"):
    return [
        {
            "patient_no": f"{prefix}{n:04d}",
            "patient_name": name,
            "sex": "M" if sex == "1" else "F",
            "birth_date": f"{birth.year}/{birth.month}/{birth.day}",
            "id_card": id_,
            "mobile": phone,
            "home_address": "",
            "first_visit": first_visit,
            "insurance_type": "城乡居民医保",
        }
        for n, (name, sex, birth, id_, phone) in enumerate(people, start=1)
    ]


def visit_rows(people=PEOPLE, prefix="ZF", address="锦绣苑00 1-1-501", visit="20240610"):
    return [
        {
            "form_id": f"{prefix}{n:04d}",
            "visit_date": visit,
            "worker_id": "WG01",
            "street": "锦江区一街道",
            "community": "锦江区社区1",
            "address": address,
            "name": name,
            "gender": "男" if sex == "1" else "女",
            "age": str(2024 - birth.year - 1),
            "id_no": id_,
            "phone": phone,
            "temp_c": "36.5",
            "health_status": "正常",
            "remark": "",
        }
        for n, (name, sex, birth, id_, phone) in enumerate(people, start=1)
    ]


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def write_xlsx(path: Path, columns: list[str], rows: list[dict]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    for r in rows:
        ws.append([r[c] for c in columns])
    wb.save(path)
    return path


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"


def population(n: int, seed: int = 7):
    """``n`` made-up people (name, sex, birth date, ID, phone) in PEOPLE's shape."""
    import random

    rng = random.Random(seed)
    out = []
    for k in range(n):
        sex = "1" if k % 2 == 0 else "2"
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60))
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        id_ = idnumber.make("510104", birth, 2 * rng.randrange(400) + (1 if sex == "1" else 0))
        out.append((name, sex, birth, id_, f"139{k:08d}"))
    return out
