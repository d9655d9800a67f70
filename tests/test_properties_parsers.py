"""Properties of the shared parsers and masks, over arbitrary input (Hypothesis).

* ID numbers (GB 11643) and phones: any text either parses or raises the parser's own error,
  with a message in both languages; never another exception. Valid values round-trip, in every
  way people write them. ``read``/``read_many`` (the importers' readers) never raise.
* Masks: a masked form keeps the value's length, shows at most the allowed characters (ID 4 + 3,
  mobile 3 + 4, landline area code + 4), each where it was, and never holds a plain ID number or
  mobile number (what the suite's leak scanner looks for).

Example-based tests of the same modules live in src/shequ/core/tests/test_{idnumber,phone,
masking}.py; these add the "whatever comes in" properties.
"""

from __future__ import annotations

import datetime as dt

from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequ.core import idnumber, leakscan, phone
from shequ.core.masking import mask_id_number, mask_name, mask_phone

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text as it arrives: any characters, plus the ones ID and phone fields are made of, full-width
# forms, separators and the digits of other scripts ("²", Arabic-Indic) that str.isdigit accepts.
ALPHABET = st.sampled_from(
    list("0123456789Xx*-+() /;,、")
    + list("０１２３４５６７８９Ｘ＋－（）")
    + ["²", "٣", "߁", "\n", "\t"]
)
id_like = st.one_of(
    st.text(),
    st.text(ALPHABET, max_size=25),
    st.from_regex(r"\A[1-9][0-9]{16}[0-9X]\Z"),
    st.from_regex(r"\A[0-9]{15}\Z"),
)
phone_like = st.one_of(
    st.text(),
    st.text(ALPHABET, max_size=30),
    st.from_regex(r"\A\+?(86)?1[3-9][0-9]{9}\Z"),
    st.from_regex(r"\A0[0-9]{2,3}-?[0-9]{7,8}\Z"),
)
regions = st.from_regex(r"\A[1-9][0-9]{5}\Z")
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 6, 30))
TODAY = dt.date(2024, 6, 30)


def message_in_both_languages(exc) -> None:
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert str(exc).strip()
    assert exc.source_text.strip()


# --- ID numbers ----------------------------------------------------------------------------------


@SETTINGS
@given(raw=id_like)
def test_an_id_number_parses_or_says_what_is_wrong(raw):
    try:
        parsed = idnumber.parse(raw, today=TODAY)
    except idnumber.IdNumberError as exc:
        message_in_both_languages(exc)
        return
    number = parsed.number
    assert len(number) == 18 and number.isascii()
    assert number[:17].isdigit() and number[17] in "0123456789X"
    assert idnumber.check_char(number[:17]) == number[17]
    assert parsed.birth_date <= TODAY and parsed.sex in ("1", "2")
    assert idnumber.parse(number, today=TODAY) == parsed  # normalised form is a fixed point


@SETTINGS
@given(raw=id_like)
def test_reading_an_id_field_never_raises(raw):
    reading = idnumber.read(raw, today=TODAY)
    assert reading.kind in {"resident", "invalid", "masked", "passport", "other", "blank"}
    if reading.kind == "resident":
        assert idnumber.parse(reading.number, today=TODAY).number == reading.number
    if reading.kind in ("invalid", "other"):
        assert reading.problem
        with translation.override("zh-hans"):  # stored with the record: the same in any language
            assert idnumber.read(raw, today=TODAY).problem == reading.problem
    if reading.kind == "masked":
        assert len(reading.number) == reading.length and "*" in reading.number


@SETTINGS
@given(region=regions, birth=births, sequence=st.integers(0, 999), noise=st.integers(0, 3))
def test_valid_id_numbers_round_trip_however_they_are_written(region, birth, sequence, noise):
    number = idnumber.make(region, birth, sequence)
    written = [
        number,
        number.lower(),
        f" {number[:6]} {number[6:14]} {number[14:]} ",
        f"{number[:6]}-{number[6:14]}-{number[14:]}",
        number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
    ][noise:]
    for form in written:
        assert idnumber.parse(form, today=TODAY).number == number
        assert idnumber.read(form, today=TODAY).number == number


@SETTINGS
@given(
    region=regions,
    birth=st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)),
    seq=st.integers(0, 999),
)
def test_old_15_digit_numbers_upgrade_to_the_18_digit_one(region, birth, seq):
    number18 = idnumber.make(region, birth, seq)
    number15 = number18[:6] + number18[8:17]
    assert idnumber.upgrade_15(number15) == number18
    assert idnumber.parse(number15, today=TODAY).number == number18


# --- phones ----------------------------------------------------------------------------------


@SETTINGS
@given(raw=phone_like)
def test_a_phone_normalises_or_says_what_is_wrong(raw):
    try:
        digits = phone.normalise(raw)
    except phone.PhoneError as exc:
        message_in_both_languages(exc)
        return
    assert digits.isascii() and digits.isdigit()
    assert phone.MOBILE.match(digits) or phone.LANDLINE.match(digits)
    assert phone.normalise(digits) == digits  # idempotent


@SETTINGS
@given(raw=phone_like, area=st.sampled_from(["028", "010", "0816"]))
def test_reading_a_phone_field_never_raises(raw, area):
    readings = phone.read_many(raw, area_code=area)
    for digits, problem in readings:
        assert digits.isascii() and digits.isdigit()
        if not problem:
            assert phone.MOBILE.match(digits) or phone.LANDLINE.match(digits)
    with translation.override("zh-hans"):  # stored with the record: the same in any language
        assert phone.read_many(raw, area_code=area) == readings


@SETTINGS
@given(
    number=st.from_regex(r"\A1[3-9][0-9]{9}\Z"),
    landline=st.from_regex(r"\A0[1-9][0-9]{1,2}[2-9][0-9]{6,7}\Z"),
)
def test_valid_numbers_round_trip_and_several_in_one_field_are_all_read(number, landline):
    for form in (number, f"+86 {number}", f"{number[:3]}-{number[3:7]}-{number[7:]}"):
        assert phone.normalise(form) == number
    expected = phone.normalise(landline)
    assert [d for d, _p in phone.read_many(f"{number} / {landline}")] == [number, expected]


# --- masks -----------------------------------------------------------------------------------


def shown(original: str, masked: str) -> int:
    assert len(masked) == len(original)
    kept = 0
    for a, b in zip(original, masked, strict=True):
        if b != "*":
            assert a == b  # what is shown is shown where it was
            kept += 1
    return kept


@SETTINGS
@given(value=id_like)
def test_an_id_mask_shows_at_most_seven_characters_and_no_id(value):
    masked = mask_id_number(value)
    assert shown(value, masked) <= 7
    if value:
        assert "*" in masked
    assert leakscan.find(masked) == []


@SETTINGS
@given(value=st.one_of(phone_like, st.from_regex(r"\A0[0-9]{9,11}\Z")))
def test_a_phone_mask_shows_at_most_eight_digits_and_no_mobile(value):
    masked = mask_phone(value)
    limit = 8 if value.startswith("0") else 7  # a landline keeps its area code (up to 4)
    assert shown(value, masked) <= limit
    if value:
        assert "*" in masked
    assert leakscan.find(masked) == []


@SETTINGS
@given(value=st.text())
def test_a_name_mask_shows_one_character(value):
    masked = mask_name(value)
    assert shown(value, masked) <= 1
