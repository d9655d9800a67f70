"""Source definitions: the shipped ones load; a bad one is refused naming file and field."""

import datetime as dt
from pathlib import Path

import pytest

from shequ.people.sourcedefs import (
    SourceDefinitionError,
    SourceFileError,
    builtin_definitions,
    load_definition,
    read_rows,
)
from shequ.people.standardise import Geography, Standardiser
from shequ.people.standardise.geography import Compound

GOOD = """
schema = 1
name = "{name}"
version = "1"
record_id = "id"

[fields.name]
column = "姓名"
parse = "name"

[fields.sex]
column = "性别"
parse = "code"
table = "sex"

[fields.birth_date]
column = "出生日期"
parse = "date"
formats = ["%Y-%m-%d"]

[codes.sex]
"男" = "1"
"女" = "2"
"""


def write(tmp_path: Path, text: str, name: str = "school_roll") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace("{name}", name), encoding="utf-8")
    return path


def test_the_four_shipped_definitions_load():
    defs = builtin_definitions()
    assert set(defs) == {"police_hukou", "property_mgmt", "visit_forms", "clinic"}
    police = defs["police_hukou"]
    assert police.record_id == "RYBH" and police.address_role == "hukou"
    assert police.codes["sex_gb2261"]["1"] == "1"
    assert defs["property_mgmt"].fields["address"].columns == ("小区名称", "楼栋房号")
    assert defs["visit_forms"].fields["age"].on == "record_date"
    assert defs["clinic"].fields["birth_date"].formats == ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")


def test_a_fifth_source_is_a_new_file_only(tmp_path):
    defn = load_definition(write(tmp_path, GOOD))
    assert defn.name == "school_roll"
    csv_path = tmp_path / "school_roll.csv"
    csv_path.write_text("id,姓名,性别,出生日期\nS1,張 偉,男,2012-05-01\nS2,李娜,X,2013-02-30\n")
    rows = list(read_rows(defn, csv_path))
    std = Standardiser(defn, Geography(), today=dt.date(2024, 6, 30))
    first, second = (std.standardise(line, row) for line, row in rows)
    assert (first.name.text, first.sex, first.birth_date) == ("张伟", "1", dt.date(2012, 5, 1))
    # bad values are kept and flagged, never dropped
    assert second.record_id == "S2" and second.sex == "" and second.birth_date is None
    assert {field for field, _ in second.issues} == {"sex", "birth_date"}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda t: t.replace('parse = "name"', 'parse = "nmae"'), "fields.name.parse"),
        (lambda t: t.replace('table = "sex"', 'table = "gender"'), "fields.sex.table"),
        (lambda t: t.replace('"女" = "2"', '"女" = "F"'), "codes.sex"),
        (
            lambda t: t.replace('formats = ["%Y-%m-%d"]', 'formats = ["%d.%m"]'),
            "fields.birth_date.formats",
        ),
        (lambda t: t.replace("[fields.name]", "[fields.nickname]"), "fields.nickname"),
        (lambda t: t.replace('record_id = "id"', ""), "record_id"),
        (lambda t: t.replace("schema = 1", "schema = 7"), "schema"),
        (lambda t: t.replace('column = "姓名"', 'column = "姓名"\nwidth = 3'), "fields.name.width"),
    ],
)
def test_a_bad_definition_is_refused_naming_file_and_field(tmp_path, change, where):
    path = write(tmp_path, change(GOOD))
    with pytest.raises(SourceDefinitionError) as exc:
        load_definition(path)
    message = str(exc.value)
    assert str(path) in message
    assert where in message


def test_name_must_match_the_file_and_toml_must_parse(tmp_path):
    with pytest.raises(SourceDefinitionError, match="must match the file name"):
        load_definition(write(tmp_path, GOOD.replace("{name}", "other"), name="roll"))
    broken = tmp_path / "broken.toml"
    broken.write_text("schema = = 1", encoding="utf-8")
    with pytest.raises(SourceDefinitionError, match=r"broken\.toml: not valid TOML"):
        load_definition(broken)


def test_a_file_missing_a_column_is_refused_whole(tmp_path):
    defn = load_definition(write(tmp_path, GOOD))
    csv_path = tmp_path / "school_roll.csv"
    csv_path.write_text("id,姓名,出生日期\nS1,张伟,2012-05-01\n")
    with pytest.raises(SourceFileError, match="line 1: the columns 性别"):
        list(read_rows(defn, csv_path))
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("id,姓名,性别,出生日期\n".encode("gb18030"))
    with pytest.raises(SourceFileError, match="not utf-8"):
        list(read_rows(defn, latin1))


def test_shipped_definitions_read_real_looking_rows():
    defs = builtin_definitions()
    geo = Geography()
    geo.add_district("510108", "成华区")
    geo.add_compound(
        Compound(
            "C9",
            "梧桐小区",
            "510108002002",
            "510108002",
            "510108",
            "商品房",
            "双林路二段301号",
            True,
        )
    )
    police = Standardiser(defs["police_hukou"], geo, today=dt.date(2024, 6, 30)).standardise(
        2,
        {
            "RYBH": "RK1",
            "GMSFHM": "51010319780210813X",
            "XM": "林伟",
            "CYM": "林小伟",
            "XBDM": "1",
            "CSRQ": "19780210",
            "MZDM": "01",
            "HJDZ_XZQHDM": "510108",
            "HJDZ_DZMC": "四川省成都市成华区双林路二段301号2栋2单元5楼1号",
            "HH": "H1",
            "YHZGXDM": "02",
            "DJRQ": "19850919",
        },
    )
    assert police.former_name.text == "林小伟" and police.relation == "02"
    assert (police.address.compound, police.address.room, police.address_role) == (
        "C9",
        501,
        "hukou",
    )
    prop = Standardiser(defs["property_mgmt"], geo).standardise(
        2,
        {
            "登记编号": "WY1",
            "小区名称": "梧桐小区",
            "楼栋房号": "二栋二单元501室",
            "住户姓名": "林先生",
            "住户类型": "业主",
            "联系电话": "138-8000-1234/13880001235",
            "证件号码": "510103********813X",
            "登记日期": "20161219",
            "备注": "房屋出租",
        },
    )
    assert prop.name.kind == "title" and prop.best_sex == "1"
    assert prop.phones == ("13880001234", "13880001235")
    assert prop.id.kind == "masked" and prop.occupancy == "owner" and prop.flags == ("lets_out",)
    assert (prop.address.compound, prop.address.building, prop.address.room) == ("C9", 2, 501)
