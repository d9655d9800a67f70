"""Parsers of every kind, on values written the way the four source lists write them."""

import datetime as dt

import pytest

from shequ.core import idnumber, phone
from shequ.people.standardise import (
    DateError,
    Geography,
    birth_range_from_age,
    parse_address,
    parse_age,
    parse_date,
    parse_name,
    parse_spec,
    replace_numbers,
    to_int,
)
from shequ.people.standardise.geography import Compound

# ----------------------------------------------------------------------------- numerals


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十三", 23),
        ("一百零五", 105),
        ("三〇一", 301),
        ("两", 2),
        ("12", 12),
    ],
)
def test_chinese_numerals(text, value):
    assert to_int(text) == value


def test_numerals_replaced_inside_text():
    assert replace_numbers("三栋二单元501室") == "3栋2单元501室"
    assert replace_numbers("十一栋") == "11栋"


# ----------------------------------------------------------------------------- names


def test_name_cleaning_spaces_fullwidth_and_traditional():
    assert parse_name(" 王 小明 ").text == "王小明"
    assert parse_name("張偉").text == "张伟"
    assert parse_name("張偉").key == parse_name("张伟").key == "zhangwei"


def test_surname_readings():
    assert parse_name("单雄").surname_key == "shan"
    assert parse_name("曾小贤").surname_key == "zeng"
    assert parse_name("解晓东").surname_key == "xie"
    assert parse_name("欧阳娜娜").surname == "欧阳"


def test_homophones_share_the_pinyin_key():
    assert parse_name("李伟").key == parse_name("李维").key
    assert parse_name("李伟").text != parse_name("李维").text


def test_pinyin_spellings_meet_the_han_name():
    han = parse_name("王小明")
    for spelling in ("WANG XIAOMING", "Wang Xiaoming", "wang xiao ming"):
        latin = parse_name(spelling)
        assert latin.kind == "latin"
        assert latin.key == han.key, spelling


def test_given_name_first_is_recognised():
    assert parse_name("Xiaoming Wang").key == parse_name("王小明").key
    # both orders are possible when each part can be a surname: the other order is kept
    both = parse_name("WEI DENG")
    assert parse_name("邓伟").key in (both.key, both.alt_key)


def test_u_umlaut_written_v_u_or_yu():
    han = parse_name("吕文").key
    assert parse_name("LV WEN").key == han
    assert parse_name("LYU WEN").key == han
    assert parse_name("LU WEN").key == han


def test_sichuan_near_homophones_share_the_fuzzy_key():
    assert parse_name("刘兰").fuzzy_key == parse_name("牛南").fuzzy_key  # l/n
    assert parse_name("黄飞").fuzzy_key == parse_name("方飞").fuzzy_key  # h/f
    assert parse_name("张森").fuzzy_key == parse_name("臧生").fuzzy_key  # zh/z, -n/-ng


def test_surname_with_title():
    mrs = parse_name("刘女士")
    assert (mrs.kind, mrs.surname, mrs.sex_hint) == ("title", "刘", "2")
    mr = parse_name("Mr. Wilson")
    assert (mr.kind, mr.surname, mr.sex_hint) == ("title", "WILSON", "1")


def test_foreign_and_minority_names():
    assert parse_name("SMITH/JOHN").text == parse_name("SMITH JOHN").text == "SMITH JOHN"
    yi = parse_name("曲比·日哈")
    assert (yi.surname, yi.given) == ("曲比", "日哈")
    assert parse_name("").kind == "blank"


# ----------------------------------------------------------------------------- dates


def test_dates_in_several_formats():
    formats = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
    for raw in ("1985-03-07", "1985/3/7", "19850307"):
        assert parse_date(raw, formats) == dt.date(1985, 3, 7)
    assert parse_date("", formats) is None


def test_impossible_dates_are_refused_with_a_reason():
    with pytest.raises(DateError, match=r"does not exist|not a date"):
        parse_date("19850230", ("%Y%m%d",))
    with pytest.raises(DateError, match="plausible range"):
        parse_date("20990101", ("%Y%m%d",), latest=dt.date(2024, 6, 30))


def test_age_gives_a_birth_range_that_allows_the_nominal_age():
    visit = dt.date(2024, 6, 13)
    lo, hi = birth_range_from_age(54, visit)
    assert lo <= dt.date(1970, 5, 11) <= hi  # full age 54 on the visit
    assert lo <= dt.date(1971, 6, 1) <= hi  # 虚岁: full age 53, says 54
    assert not lo <= dt.date(1960, 1, 1) <= hi
    assert parse_age("54") == 54
    with pytest.raises(DateError):
        parse_age("五十")


# ----------------------------------------------------------------------------- IDs


def test_id_numbers_as_lists_write_them():
    valid = idnumber.make("510104", dt.date(1985, 3, 7), 123)
    assert idnumber.read(valid.lower()).kind == "resident"
    spaced = " ".join([valid[:6], valid[6:14], valid[14:]])
    assert idnumber.read(spaced).number == valid
    fullwidth = valid.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert idnumber.read(fullwidth).number == valid


def test_old_15_digit_number_is_upgraded():
    reading = idnumber.read("510132830112531")
    assert reading.kind == "resident"
    assert reading.upgraded_from_15
    assert reading.number.startswith("51013219830112531")


def test_transposed_or_wrong_digit_fails_the_check():
    valid = idnumber.make("510104", dt.date(1985, 3, 7), 123)
    transposed = valid[:8] + valid[9] + valid[8] + valid[10:]
    reading = idnumber.read(transposed)
    assert reading.kind == "invalid"
    assert "check character" in reading.problem or "date" in reading.problem


def test_masked_ids_and_passports():
    masked = idnumber.read("510108********123X")
    assert (masked.kind, masked.prefix, masked.suffix, masked.length) == (
        "masked",
        "510108",
        "123X",
        18,
    )
    assert idnumber.read("5****************3").kind == "masked"
    assert idnumber.read("M63017611").kind == "passport"
    assert idnumber.read("").kind == "blank"


# ----------------------------------------------------------------------------- phones


def test_phones_in_their_formats():
    for raw in ("13880001234", "138-8000-1234", "138 8000 1234", "+86 138 8000 1234"):
        assert phone.read_many(raw) == [("13880001234", "")]


def test_several_numbers_and_landlines():
    assert [d for d, _ in phone.read_many("158-7511-0492/13880001234")] == [
        "15875110492",
        "13880001234",
    ]
    assert phone.read_many("87407370") == [("02887407370", "")]
    assert phone.read_many("028-85551234") == [("02885551234", "")]
    digits, problem = phone.read_many("1388000123")[0]
    assert digits == "1388000123" and "11 digits" in problem


# ----------------------------------------------------------------------------- addresses


@pytest.fixture
def geo():
    g = Geography()
    g.add_district("510104", "锦江区")
    g.add_district("510117", "郫都区")
    g.streets["510104001"] = ("花林街道", "510104")
    g.street_by_name["花林街道"] = ["510104001"]
    for code, name in (("510104001001", "武溪路社区"), ("510117001201", "新民村")):
        g.communities[code] = (name, code[:9])
        g.community_by_name[name] = [code]
    for code, name, community, road in (
        ("C1", "北苑桥新居三期", "510104001001", "三环街323号"),
        ("C2", "明珠家园二期", "510104001001", "华兴路369号"),
        ("C3", "锦华花园一期", "510117001201", "望江大道122号"),
    ):
        g.add_compound(
            Compound(code, name, community, community[:9], community[:6], "", road, True)
        )
    return g


@pytest.mark.parametrize(
    "raw",
    [
        "北苑桥新居三期3栋2单元501",
        "北苑桥新居三期3-2-501",
        "北苑桥新居三期三栋二单元501室",
        "北苑桥新居三期3幢2单元501号",
    ],
)
def test_the_four_flat_formats(geo, raw):
    a = parse_address(raw, geo)
    assert (a.compound, a.building, a.unit, a.room) == ("C1", 3, 2, 501)
    assert a.community == "510104001001" and a.district == "510104"


def test_compound_name_variants(geo):
    assert parse_address("明珠二期4-1-1904", geo).compound == "C2"  # abbreviation
    assert parse_address("锦华花园2栋101", geo).compound == "C3"  # without 期
    assert parse_address("郫都锦华花园一期7-2-201", geo).compound == "C3"  # district prefix
    assert parse_address("郫都区锦华一期十栋四单元2704室", geo).compound == "C3"


def test_police_road_address_with_floor_and_flat(geo):
    a = parse_address("四川省成都市锦江区三环街323号22栋2单元8楼4号", geo)
    assert (a.compound, a.building, a.unit, a.room) == ("C1", 22, 2, 804)


def test_a_road_address_in_two_districts_is_chosen_by_the_district_in_the_text():
    g = Geography()
    g.add_district("510104", "锦江区")
    g.add_district("510105", "青羊区")
    for code, community in (("C1", "510104001001"), ("C2", "510105002001")):
        g.communities[community] = ("", community[:9])
        g.add_compound(
            Compound(code, f"小区{code}", community, community[:9], community[:6], "",
                     "人民路1号", True)
        )  # fmt: skip
    jinjiang = parse_address("锦江区人民路1号3栋2单元5楼1号", g)
    assert (jinjiang.compound, jinjiang.district, jinjiang.room) == ("C1", "510104", 501)
    qingyang = parse_address("四川省成都市青羊区人民路1号3栋2单元5楼1号", g)
    assert (qingyang.compound, qingyang.district) == ("C2", "510105")
    # The record's own district field chooses too; with no district both stay candidates.
    assert parse_address("人民路1号3-2-501", g, district="510105").compound == "C2"
    both = parse_address("人民路1号3-2-501", g)
    assert set(both.compounds) == {"C1", "C2"} and both.compound in ("", None)


def test_road_only_village_and_unit_omitted(geo):
    road = parse_address("郫都区望江大道122号", geo)
    assert (road.kind, road.compound, road.building) == ("compound", "C3", None)
    village = parse_address("新民村3组25号", geo, district="510117")
    assert (village.kind, village.building, village.room) == ("village", 3, 25)
    assert village.place == "V510117001201"
    no_unit = parse_address("武溪路社区北苑桥新居三期6栋2701", geo)
    assert (no_unit.compound, no_unit.building, no_unit.unit, no_unit.room) == ("C1", 6, None, 2701)


def test_flat_specification_forms():
    assert parse_spec("3-2-501") == (3, 2, 501)
    assert parse_spec("十栋一单元206室") == (10, 1, 206)
    assert parse_spec("6栋2701") == (6, None, 2701)
    assert parse_spec("") == (None, None, None)
    assert parse_spec("东门") is None
