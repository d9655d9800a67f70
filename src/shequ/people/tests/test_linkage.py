"""Linkage end to end on a small generated city whose truth is known, and the ``link``
command's contract."""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from pypinyin import Style, lazy_pinyin

from shequ.core import idnumber
from shequ.people.linkage import link_records, load_config, standardise_directory
from shequ.people.linkage.comparisons import id_levels, name_levels
from shequ.people.linkage.frame import RecordFrame
from shequ.people.standardise.records import StandardRecord

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞斌宇浩凯晨瑶琳雪梅婷健"
HOMOPHONE = {
    "伟": "维",
    "芳": "方",
    "静": "敬",
    "丽": "力",
    "军": "君",
    "明": "铭",
    "华": "化",
    "红": "宏",
    "婷": "亭",
    "杰": "洁",
    "涛": "韬",
    "霞": "侠",
    "敏": "闽",
    "宇": "雨",
}
COMPOUNDS = [  # code, name, community, road address
    ("C1", "北苑桥新居三期", "510104001001", "三环街323号"),
    ("C2", "明珠家园二期", "510104001001", "华兴路369号"),
    ("C3", "锦华花园一期", "510104001002", "望江大道122号"),
    ("C4", "翡翠春天", "510104001002", "水碾路88号"),
]
COMMUNITY_NAMES = {"510104001001": "武溪路社区", "510104001002": "蜀门社区"}
TODAY = dt.date(2024, 6, 30)


def _pinyin_name(name: str) -> str:
    syllables = lazy_pinyin(name, style=Style.NORMAL)
    return f"{syllables[0].upper()} {''.join(syllables[1:]).upper()}"


def make_city(directory: Path, households: int = 110, seed: int = 7) -> dict[tuple[str, str], str]:
    """Write the four source files and geography.csv of a small noisy city; return the truth
    {(source, record id): person}."""
    rnd = random.Random(seed)
    truth: dict[tuple[str, str], str] = {}
    rows: dict[str, list[list[str]]] = defaultdict(list)
    used_names: set[str] = set()
    seq = Counter()

    def new_name(surname: str) -> str:
        while True:
            name = surname + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2, 2))))
            if name not in used_names:
                used_names.add(name)
                return name

    def rid(prefix: str) -> str:
        seq[prefix] += 1
        return f"{prefix}{seq[prefix]:06d}"

    for h in range(households):
        code, compound, community, road = rnd.choice(COMPOUNDS)
        building, unit, floor, flat = (
            rnd.randint(1, 20),
            rnd.randint(1, 3),
            rnd.randint(1, 25),
            rnd.randint(1, 4),
        )
        room = floor * 100 + flat
        surname = rnd.choice(SURNAMES)
        home_phone = f"13{rnd.randint(100000000, 999999999)}"
        members = []
        for k in range(rnd.choice((1, 2, 3, 3, 4))):
            sex = rnd.choice("12")
            if k < 2:
                birth = dt.date(rnd.randint(1950, 1995), rnd.randint(1, 12), rnd.randint(1, 28))
            else:
                birth = dt.date(rnd.randint(2005, 2020), rnd.randint(1, 12), rnd.randint(1, 28))
            person_surname = surname if k != 1 else rnd.choice(SURNAMES)
            name = new_name(person_surname)
            region = rnd.choice(("510104", "510105", "510122"))
            number = idnumber.make(
                region, birth, rnd.randrange(1, 999, 2) if sex == "1" else rnd.randrange(0, 998, 2)
            )
            own_phone = f"1{rnd.choice('3589')}{rnd.randint(100000000, 999999999)}" if k < 2 else ""
            members.append((f"P{h:04d}{k}", name, sex, birth, number, own_phone))
        for pid, name, sex, birth, number, own_phone in members:
            age = TODAY.year - birth.year - ((TODAY.month, TODAY.day) < (birth.month, birth.day))
            phone = own_phone or home_phone
            if rnd.random() < 0.9:  # police roll: clean, hukou address in road form
                r = rid("RK")
                rows["police_hukou"].append(
                    [
                        r,
                        number,
                        name,
                        "",
                        sex,
                        f"{birth:%Y%m%d}",
                        "01",
                        "510104",
                        f"四川省成都市锦江区{road}{building}栋{unit}单元{floor}楼{flat}号",
                        f"H{h}",
                        "02",
                        "20000101",
                    ]
                )
                truth[("police_hukou", r)] = pid
            if age >= 18 and rnd.random() < 0.8:  # property roll
                r = rid("WY")
                shown = (
                    name if rnd.random() > 0.15 else name[0] + ("先生" if sex == "1" else "女士")
                )
                masked = number[:6] + "*" * 8 + number[-4:] if rnd.random() < 0.5 else ""
                fmt = rnd.choice(
                    (
                        f"{building}栋{unit}单元{room}",
                        f"{building}-{unit}-{room}",
                        f"{building}幢{unit}单元{room}号",
                    )
                )
                rows["property_mgmt"].append(
                    [r, compound, fmt, shown, "业主", phone, masked, "20200101", ""]
                )
                truth[("property_mgmt", r)] = pid
            if rnd.random() < 0.75:  # door-to-door visit: the noisiest
                r = rid("ZF")
                typed = name
                if rnd.random() < 0.15:
                    typed = "".join(HOMOPHONE.get(ch, ch) for ch in name)
                id_no = number if rnd.random() < 0.7 else ""
                if id_no and rnd.random() < 0.15:
                    id_no = id_no[:10] + id_no[11] + id_no[10] + id_no[12:]  # transposed pair
                    if idnumber.is_valid(id_no):
                        id_no = number
                said_age = age + (1 if rnd.random() < 0.3 else 0)  # nominal age
                rows["visit_forms"].append(
                    [
                        r,
                        "20240601",
                        "WG01",
                        "花林街道",
                        COMMUNITY_NAMES[community],
                        f"{compound}{building}-{unit}-{room}",
                        typed,
                        "男" if sex == "1" else "女",
                        str(said_age),
                        id_no.lower(),
                        home_phone if rnd.random() < 0.4 else phone,
                        "36.5",
                        "正常",
                        "",
                    ]
                )
                truth[("visit_forms", r)] = pid
            if rnd.random() < 0.45:  # clinic: birth date formats, pinyin names, 15-digit IDs
                r = rid("MZ")
                shown = _pinyin_name(name) if rnd.random() < 0.15 else name
                birth_text = rnd.choice(
                    (
                        f"{birth:%Y-%m-%d}",
                        f"{birth.year}/{birth.month}/{birth.day}",
                        f"{birth:%Y%m%d}",
                    )
                )
                id_card = number if rnd.random() < 0.7 else ""
                if id_card and birth.year < 1970 and rnd.random() < 0.5:
                    id_card = id_card[:6] + id_card[8:17]  # old 15-digit form
                rows["clinic"].append(
                    [
                        r,
                        shown,
                        "M" if sex == "1" else "F",
                        birth_text,
                        id_card,
                        phone,
                        f"锦江区{compound}{building}栋{unit}单元{room}室",
                        "20220101",
                        "城镇职工医保",
                    ]
                )
                truth[("clinic", r)] = pid

    headers = {
        "police_hukou": "RYBH,GMSFHM,XM,CYM,XBDM,CSRQ,MZDM,HJDZ_XZQHDM,HJDZ_DZMC,HH,YHZGXDM,DJRQ",
        "property_mgmt": "登记编号,小区名称,楼栋房号,住户姓名,住户类型,联系电话,证件号码,"
        "登记日期,备注",
        "visit_forms": "form_id,visit_date,worker_id,street,community,address,name,gender,age,"
        "id_no,phone,temp_c,health_status,remark",
        "clinic": "patient_no,patient_name,sex,birth_date,id_card,mobile,home_address,first_visit,"
        "insurance_type",
    }
    for source, header in headers.items():
        with open(directory / f"{source}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header.split(","))
            writer.writerows(rows[source])
    with open(directory / "geography.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["level", "code", "name", "parent_code", "kind", "road_address", "managed"])
        writer.writerow(["district", "510104", "锦江区", "510100", "core", "", ""])
        writer.writerow(["street", "510104001", "花林街道", "510104", "", "", ""])
        for code, name in COMMUNITY_NAMES.items():
            writer.writerow(["community", code, name, "510104001", "community", "", ""])
        for code, name, community, road in COMPOUNDS:
            writer.writerow(["compound", code, name, community, "商品房", road, "1"])
    return truth


def pairwise_f1(truth: dict, predicted: dict) -> tuple[float, float, float]:
    def pairs(groups: dict) -> set:
        by = defaultdict(list)
        for key, label in groups.items():
            by[label].append(key)
        out = set()
        for members in by.values():
            members.sort()
            out.update((a, b) for n, a in enumerate(members) for b in members[n + 1 :])
        return out

    t, p = pairs(truth), pairs(predicted)
    tp = len(t & p)
    precision, recall = tp / len(p), tp / len(t)
    return precision, recall, 2 * precision * recall / (precision + recall)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    directory = tmp_path_factory.mktemp("city")
    truth = make_city(directory)
    return directory, truth


def test_linkage_finds_the_persons_of_a_small_noisy_city(city):
    directory, truth = city
    records = standardise_directory(directory, today=TODAY)
    assert len(records) == len(truth)
    result = link_records(records, load_config())
    labels = result.cluster_labels()
    predicted = {(r.source, r.record_id): label for r, label in zip(records, labels, strict=True)}
    precision, recall, f1 = pairwise_f1(truth, predicted)
    assert f1 >= 0.97, (precision, recall, f1)
    assert precision >= 0.95


def test_every_link_explains_itself(city):
    directory, _ = city
    records = standardise_directory(directory, today=TODAY)
    result = link_records(records, load_config())
    k = int(result.linked_pairs()[0])
    why = result.explain(k)
    assert why["linked"] is True
    assert why["match_probability"] >= 0.5
    names = [c["comparison"] for c in why["comparisons"]]
    assert names == ["name", "birth", "sex", "id", "household", "sources"]
    total = why["prior_weight"] + sum(c["weight"] for c in why["comparisons"])
    assert total == pytest.approx(why["match_weight"], abs=0.01)
    # weights come from EM: agreeing on the ID number counts for, a different one against
    params = {p["comparison"]: p for p in result.model.describe()}
    id_weights = {lvl["label"]: lvl["weight"] for lvl in params["id"]["levels"]}
    assert id_weights["exact"] > 5 > 0 > id_weights["different"]


def test_threshold_comes_from_configuration(city, tmp_path):
    directory, _ = city
    records = standardise_directory(directory, today=TODAY)
    strict = tmp_path / "strict.toml"
    strict.write_text("[clustering]\nmatch_probability = 0.999999\n", encoding="utf-8")
    loose = link_records(records, load_config())
    tight = link_records(records, load_config(strict))
    assert tight.n_clusters > loose.n_clusters


def _frame(*records: StandardRecord) -> RecordFrame:
    return RecordFrame.from_records(list(records))


def test_twins_with_consecutive_ids_are_not_one_person():
    from shequ.core import idnumber as idn
    from shequ.people.standardise import parse_name

    birth = dt.date(2015, 4, 1)
    a = StandardRecord(
        "police_hukou",
        "1",
        name=parse_name("王小明"),
        sex="1",
        birth_date=birth,
        id=idn.read(idn.make("510104", birth, 11)),
    )
    b = StandardRecord(
        "police_hukou",
        "2",
        name=parse_name("王小朋"),
        sex="1",
        birth_date=birth,
        id=idn.read(idn.make("510104", birth, 13)),
    )
    c = StandardRecord(
        "visit_forms",
        "3",
        name=parse_name("王小朋"),
        id=idn.read(idn.make("510104", birth, 13)[:17] + "0"),
    )  # wrong check
    f = _frame(a, b, c)
    i, j = np.array([0, 1]), np.array([1, 2])
    levels = id_levels(f, i, j, {})
    assert levels.tolist() == [6, 2]  # both valid and different; one typo away
    names = name_levels(f, i, j, {})
    assert names.tolist() == [7, 1]  # one character substituted; exact


def test_link_command_writes_the_contract_file(city, tmp_path):
    directory, truth = city
    out = tmp_path / "clusters.csv"
    pairs = tmp_path / "pairs.csv"
    call_command("link", str(directory), "--out", str(out), "--pairs", str(pairs))
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert set(rows[0]) == {"source", "record_id", "cluster_id"}
    assert {(r["source"], r["record_id"]) for r in rows} == set(truth)
    with open(pairs, newline="", encoding="utf-8") as fh:
        explained = list(csv.DictReader(fh))
    assert explained and "name_level" in explained[0] and "match_weight" in explained[0]


def test_link_command_refuses_a_folder_without_sources(tmp_path):
    (tmp_path / "geography.csv").write_text("level,code,name,parent_code\n", encoding="utf-8")
    with pytest.raises(CommandError, match="none of the source files"):
        call_command("link", str(tmp_path), "--out", str(tmp_path / "x.csv"))


def _at_flat(source, rid, name, *, room=501, phone="13800000001", sex="", **kw):
    from shequ.people.standardise import Address, parse_name

    address = Address(
        kind="dwelling",
        district="510104",
        community="510104001001",
        compounds=("C1",),
        building=3,
        unit=2,
        room=room,
    )
    return StandardRecord(
        source,
        rid,
        name=parse_name(name),
        sex=sex,
        phones=(phone,) if phone else (),
        address=address,
        **kw,
    )


def _title_roots(*records):
    from shequ.people.linkage.collective import attach_titles
    from shequ.people.linkage.comparisons import household_levels, sex_levels

    f = _frame(*records)
    i, j = np.triu_indices(f.n, k=1)
    roots = np.arange(f.n)
    weights = np.full(len(i), -5.0)  # the model links nothing on its own
    new, _ = attach_titles(
        f,
        i,
        j,
        weights,
        0.0,
        roots,
        np.zeros(len(i), dtype=bool),
        household_levels(f, i, j, {}),
        sex_levels(f, i, j, {}),
    )
    return new.tolist()


def test_a_surname_and_title_record_joins_the_only_person_it_can_be():
    mr = _at_flat("property_mgmt", "1", "杜先生")
    father = _at_flat("visit_forms", "2", "杜建国", sex="1")
    mother = _at_flat("visit_forms", "3", "王芳", sex="2")
    daughter = _at_flat("visit_forms", "4", "杜小雨", sex="2")
    roots = _title_roots(mr, father, mother, daughter)
    assert roots[0] == roots[1]  # the only 杜 man at the flat
    assert len(set(roots[1:])) == 3


def test_a_surname_and_title_record_stays_alone_when_two_persons_fit():
    mr = _at_flat("property_mgmt", "1", "杜先生")
    father = _at_flat("visit_forms", "2", "杜建国", sex="1")
    son = _at_flat("visit_forms", "3", "杜浩", sex="1")
    assert _title_roots(mr, father, son) == [0, 1, 2]


def test_a_moved_household_links_its_hukou_records_through_its_other_members():
    from shequ.core import idnumber as idn
    from shequ.people.linkage.collective import inferred_dwellings
    from shequ.people.standardise import Address, parse_name

    old = Address(kind="dwelling", district="510104", compounds=("C9",), building=1, room=101)
    birth = dt.date(1970, 3, 1)
    number = idn.make("510104", birth, 11)

    def police(rid, name):
        return StandardRecord(
            "police_hukou",
            rid,
            name=parse_name(name),
            address=old,
            address_role="hukou",
            household_number="H1",
        )

    head, spouse = police("1", "张伟"), police("2", "李芳")
    head.id = idn.read(number)
    visit = _at_flat("visit_forms", "3", "张伟", id=idn.read(number))
    prop = _at_flat("property_mgmt", "4", "李芳")
    stranger = _at_flat("property_mgmt", "5", "李芳", room=1202)
    f = _frame(head, spouse, visit, prop, stranger)
    i, j = np.array([0, 1, 1]), np.array([2, 3, 4])
    roots = np.array([0, 1, 0, 3, 4])  # the head is linked (by ID) to the visit form
    assert inferred_dwellings(f, i, j, roots).tolist() == [False, True, False]


def test_a_birth_date_before_1970_is_a_date():
    from shequ.people.linkage.blocking import key_columns
    from shequ.people.linkage.comparisons import birth_levels
    from shequ.people.standardise import parse_name

    old = [
        StandardRecord(s, str(k), name=parse_name("张伟"), birth_date=dt.date(1948, 3, d))
        for k, (s, d) in enumerate((("police_hukou", 7), ("clinic", 7), ("clinic", 8)))
    ]
    f = _frame(*old)
    assert (f.dob >= 0).all()
    assert key_columns(f, "birth_year")[0].tolist() == [1948, 1948, 1948]
    levels = birth_levels(f, np.array([0, 0]), np.array([1, 2]), {})
    assert levels.tolist() == [1, 2]  # exact; one digit off


def test_a_blocking_rule_can_have_its_own_block_size_cap():
    from shequ.people.linkage.blocking import candidate_pairs
    from shequ.people.standardise import parse_name

    records = [StandardRecord("clinic", str(k), name=parse_name("王伟")) for k in range(5)]
    f = _frame(*records)
    assert len(candidate_pairs(f, [["name_key"]], 60)[0]) == 10
    assert len(candidate_pairs(f, [{"keys": ["name_key"], "max_block_size": 4}], 60)[0]) == 0
    with pytest.raises(ValueError, match="no keys"):
        candidate_pairs(f, [{"max_block_size": 4}], 60)


def test_one_person_registered_under_two_numbers_is_one_person():
    from shequ.core import idnumber as idn
    from shequ.people.linkage.cluster import cluster, second_registration
    from shequ.people.standardise import parse_name

    birth = dt.date(2004, 4, 5)

    def police(rid, name, seq):
        return StandardRecord(
            "police_hukou",
            rid,
            name=parse_name(name),
            birth_date=birth,
            id=idn.read(idn.make("510114", birth, seq)),
        )

    f = _frame(police("1", "周英婵", 110), police("2", "周英婵", 176), police("3", "周英娟", 112))
    i, j = np.array([0, 0]), np.array([1, 2])
    names = name_levels(f, i, j, {})
    exempt = second_registration(f, i, j, names)
    assert exempt.tolist() == [True, False]  # same name: registered twice; 周英娟: her twin
    weights = np.array([5.0, 5.0])
    roots, _ = cluster(f, i, j, weights, 0.0, exempt=exempt)
    assert roots.tolist() == [0, 0, 2]
    roots, _ = cluster(f, i, j, weights, 0.0)  # without the exception: never two numbers
    assert roots.tolist() == [0, 1, 2]


def test_a_title_record_takes_the_one_person_sharing_its_phone():
    mr = _at_flat("property_mgmt", "1", "杜先生", phone="13900000009")
    father = _at_flat("visit_forms", "2", "杜建国", sex="1", phone="13900000009")
    son = _at_flat("visit_forms", "3", "杜浩", sex="1", phone="13900000003")
    assert _title_roots(mr, father, son) == [1, 1, 2]


def test_a_title_record_is_not_the_person_its_roll_already_lists_by_name():
    mr = _at_flat("property_mgmt", "1", "杜先生", phone="")
    father = _at_flat("visit_forms", "2", "杜建国", sex="1", phone="")
    son = _at_flat("visit_forms", "3", "杜浩", sex="1", phone="")
    son_on_roll = _at_flat("property_mgmt", "4", "杜浩", phone="")
    f = _frame(mr, father, son, son_on_roll)
    roots = _title_roots_of(f, links=[(2, 3)])
    assert roots[0] == roots[1] == 1  # the roll lists the son by name: the title is the father


def _title_roots_of(f, links):
    from shequ.people.linkage.collective import attach_titles
    from shequ.people.linkage.comparisons import household_levels, sex_levels

    i, j = np.triu_indices(f.n, k=1)
    roots = np.arange(f.n)
    for a, b in links:
        roots[b] = roots[a]
    new, _ = attach_titles(
        f,
        i,
        j,
        np.full(len(i), -5.0),
        0.0,
        roots,
        np.zeros(len(i), dtype=bool),
        household_levels(f, i, j, {}),
        sex_levels(f, i, j, {}),
    )
    return new.tolist()


def test_a_person_known_only_by_name_joins_the_only_identified_person_of_that_name():
    from shequ.core import idnumber as idn
    from shequ.people.linkage.collective import attach_unique_names
    from shequ.people.standardise import parse_name

    birth = dt.date(1966, 12, 29)
    police = StandardRecord(
        "police_hukou",
        "1",
        name=parse_name("沈丽华"),
        birth_date=birth,
        id=idn.read(idn.make("510113", birth, 420)),
    )
    landlord = _at_flat("property_mgmt", "2", "沈丽华", phone="")
    common = [
        StandardRecord("clinic", str(k), name=parse_name("王伟"), birth_date=dt.date(1980, 1, k))
        for k in (3, 4)
    ]
    roll_wang = _at_flat("property_mgmt", "5", "王伟", phone="")
    f = _frame(police, landlord, *common, roll_wang)
    i, j = np.array([0, 2, 3]), np.array([1, 4, 4])
    roots = np.arange(f.n)
    weights = np.array([-2.0, -2.0, -2.0])
    new, linked = attach_unique_names(f, i, j, weights, -4.0, roots, np.zeros(3, dtype=bool))
    assert new.tolist() == [0, 0, 2, 3, 4]  # two persons are called 王伟: no telling which
    assert linked.tolist() == [True, False, False]
    # a pair that weighs clearly against it (another phone, a masked ID that conflicts) stays
    new, _ = attach_unique_names(f, i, j, weights - 5, -4.0, roots, np.zeros(3, dtype=bool))
    assert new.tolist() == [0, 1, 2, 3, 4]


def test_review_asks_one_question_per_pair_of_groups():
    from shequ.people.linkage.engine import review_selection

    # records 0-1 and 2-3 are certain groups; 4 stands alone
    i = np.array([0, 2, 0, 1, 1, 0, 3])
    j = np.array([1, 3, 2, 3, 2, 4, 4])
    p = np.array([0.99, 0.97, 0.30, 0.60, 0.10, 0.02, 0.50])
    linked = p >= 0.5
    chosen = review_selection(i, j, p, linked, 5, 0.05, 0.95)
    # between the two groups only the most probable pair; 0-4 is below the band
    assert chosen.tolist() == [3, 6]
    inside = review_selection(np.array([0]), np.array([1]), np.array([0.5]), None, 2, 0.05, 0.95)
    assert inside.tolist() == [0]


def test_a_stored_model_scores_records_of_fewer_sources(city):
    directory, _ = city
    records = standardise_directory(directory, today=TODAY)
    full = link_records(records, load_config())
    params = full.model.to_params(full.frame.n)
    two = [r for r in records if r.source in ("police_hukou", "clinic")]
    reused = link_records(two, load_config(), params)
    sources = next(p for p in reused.model.describe() if p["comparison"] == "sources")
    assert [lvl["label"] for lvl in sources["levels"]][1:] == [
        "clinic ~ clinic",
        "clinic ~ police_hukou",
        "police_hukou ~ police_hukou",
    ]
    stored = next(c for c in params["comparisons"] if c["name"] == "sources")
    k = stored["labels"].index("clinic ~ police_hukou")
    assert sources["levels"][2]["m"] == pytest.approx(stored["m"][k])
    assert reused.linked.sum() > 0


def _brute_pairs(f: RecordFrame, keys: list[str], cap: int) -> set[tuple[int, int]]:
    """Reference blocking: every pair of records agreeing on every key (any value of a
    multi-valued key), groups of more than ``cap`` records left out."""
    from itertools import product

    from shequ.people.linkage.blocking import key_columns

    groups: dict[tuple, set[int]] = defaultdict(set)
    cols = [key_columns(f, k) for k in keys]
    for r in range(f.n):
        for combo in product(*[[int(c[r]) for c in kc] for kc in cols]):
            if all(v >= 0 for v in combo):
                groups[combo].add(r)
    out = set()
    for members in groups.values():
        if 2 <= len(members) <= cap:
            ms = sorted(members)
            out.update((a, b) for k, a in enumerate(ms) for b in ms[k + 1 :])
    return out


def test_blocking_pairs_are_those_of_a_plain_enumeration():
    from shequ.people.linkage.blocking import candidate_pairs
    from shequ.people.standardise import parse_name

    rng = random.Random(3)
    names = ["王伟", "王卫", "李娜", "张敏", "刘洋"]
    records = [
        _at_flat(
            "visit_forms",
            str(k),
            rng.choice(names),
            room=rng.choice([101, 102, 501]),
            phone=rng.choice(["", "13800000001", "13900000002"]),
            birth_date=rng.choice([None, dt.date(1980, 1, 2), dt.date(1990, 5, 6)]),
            former_name=parse_name(rng.choice(["", "王小伟"])),
        )
        for k in range(60)
    ]
    f = _frame(*records)
    rules = (
        (["any_name_key", "phone"], 60),
        (["place", "building", "room"], 60),
        (["surname_key", "dob"], 8),
        (["name_key"], 20),
    )
    for keys, cap in rules:
        i, j, _ = candidate_pairs(f, [keys], cap)
        assert set(zip(i.tolist(), j.tolist(), strict=True)) == _brute_pairs(f, keys, cap), keys
    # building numbers too large to fold the keys into one integer: the other grouping
    f.building[::2] = 10**15
    keys = ["place", "building", "room"]
    i, j, _ = candidate_pairs(f, [keys], 60)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == _brute_pairs(f, keys, 60)


def test_pairs_in_groups_does_not_depend_on_the_order_of_the_entries():
    from shequ.people.linkage.blocking import pairs_in_groups

    rec = np.array([0, 1, 2, 3, 4, 5, 6])
    group = np.array([0, 0, 0, 1, 1, 2, 3])
    expected = {(0, 1), (0, 2), (1, 2), (3, 4)}
    shuffled = np.array([6, 3, 0, 5, 2, 4, 1])
    for r, g in ((rec, group), (rec[shuffled], group[shuffled])):
        i, j = pairs_in_groups(r, g, 10)
        assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected
        assert (i < j).all()


def test_a_column_gets_the_codes_one_value_at_a_time_would():
    from shequ.people.linkage.frame import Coder

    values = ["b", "", "a", "b", "c", "", "a"]
    one, column = Coder(), Coder()
    one("z"), column("z")  # codes already handed out carry on
    assert column.column(values).tolist() == [one(v) for v in values] == [1, -1, 2, 1, 3, -1, 2]


def test_clustering_joins_components_but_never_two_valid_ids():
    from shequ.core import idnumber as idn
    from shequ.people.linkage.cluster import cluster

    birth = dt.date(1980, 1, 1)
    ids = [idn.make("510104", birth, 11), idn.make("510104", birth, 13)]
    recs = [
        StandardRecord("clinic", "0", id=idn.read(ids[0])),
        StandardRecord("clinic", "1"),
        StandardRecord("clinic", "2", id=idn.read(ids[1])),
        StandardRecord("clinic", "3"),
        StandardRecord("clinic", "4"),
        StandardRecord("clinic", "5"),
    ]
    f = _frame(*recs)
    # 0-1 strong, 1-2 weaker (would put both IDs in one person), 3-4, 4-5 a chain
    i, j = np.array([0, 1, 3, 4, 0]), np.array([1, 2, 4, 5, 5])
    w = np.array([9.0, 5.0, 4.0, 3.0, -2.0])
    roots, linked = cluster(f, i, j, w, 0.0)
    assert roots.tolist() == [0, 0, 2, 3, 3, 3]
    assert linked.tolist() == [True, False, True, True, False]
    roots, linked = cluster(f, i, j, w, 0.0, respect_ids=False)
    assert roots.tolist() == [0, 0, 0, 3, 3, 3]


def test_phones_one_digit_off_or_swapped_are_close_two_off_are_not():
    from shequ.people.linkage.comparisons import phone_levels

    phones = ["13812345678", "13812345679", "13812345687", "13812345600", ""]
    f = _frame(*[_at_flat("clinic", str(k), "王伟", phone=p) for k, p in enumerate(phones)])
    i, j = np.array([0, 0, 0, 0, 1]), np.array([0, 1, 2, 3, 4])
    # same number; one digit off; neighbours swapped; two digits off; one side unknown
    assert phone_levels(f, i, j, {}).tolist() == [1, 2, 2, 3, 0]
