"""GB 11643 citizen ID numbers: check character, cleaning, 15->18 upgrade, sex, foreigners."""

import datetime as dt

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from shequ.core import idnumber
from shequ.core.idnumber import IdNumberError, check_char, parse


@pytest.fixture(autouse=True)
def english():
    """The messages are asserted in English; the project's default language is Chinese."""
    with translation.override("en"):
        yield


# Check characters worked out by hand: sum of digit x weight (7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2),
# modulo 11, then "10X98765432"[remainder].
#  11010519491231002: 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167, 167 mod 11 = 2 -> X
#  44052418800101001: 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195, 195 mod 11 = 8 -> 4
#  51010419900307123: 35+9+0+5+0+16+2+9+54+0+0+27+0+35+8+8+6 = 214, 214 mod 11 = 5 -> 7
#  95184019850615001: 63+45+10+40+32+0+2+9+48+15+0+54+10+25+0+0+2 = 355, 355 mod 11 = 3 -> 9
HAND_CHECKED = [
    ("11010519491231002", "X"),  # the example printed in GB 11643-1999
    ("44052418800101001", "4"),  # the standard's other example
    ("51010419900307123", "7"),
    ("95184019850615001", "9"),  # foreigner's permanent residence ID (2017 format)
]


@pytest.mark.parametrize(("first17", "expected"), HAND_CHECKED)
def test_check_character_matches_the_hand_computation(first17, expected):
    assert check_char(first17) == expected


def test_parse_a_valid_number():
    parsed = parse("510104199003071237")
    assert parsed.number == "510104199003071237"
    assert parsed.region == "510104"
    assert parsed.birth_date == dt.date(1990, 3, 7)
    assert parsed.sex == "1"  # sequence 123: odd, male
    assert parsed.foreign_permanent is False


def test_sex_follows_the_parity_of_the_sequence():
    assert parse("11010519491231002X").sex == "2"  # sequence 002: even, female
    assert parse(idnumber.make("510104", dt.date(2001, 5, 6), 14)).sex == "2"
    assert parse(idnumber.make("510104", dt.date(2001, 5, 6), 15)).sex == "1"


def test_old_15_digit_numbers_are_upgraded():
    assert idnumber.upgrade_15("510104900307123") == "510104199003071237"
    parsed = parse("510104900307123")
    assert parsed.number == "510104199003071237"
    assert parsed.birth_date == dt.date(1990, 3, 7)
    with pytest.raises(IdNumberError):
        idnumber.upgrade_15("51010490030712X")


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002x",  # lowercase x
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and X
        "110105 19491231 002X",  # spaces
        " 110105-19491231-002X\n",  # hyphens and surrounding white space
        "１１０１０５ １９４９１２３１ ００２ｘ",
    ],
)
def test_noise_is_cleaned(raw):
    assert parse(raw).number == "11010519491231002X"
    assert idnumber.is_valid(raw)


def test_foreign_permanent_residence_ids_start_with_9():
    parsed = parse("951840198506150019")
    assert parsed.foreign_permanent is True
    assert parsed.birth_date == dt.date(1985, 6, 15)
    assert parsed.sex == "1"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("510104199003071238", "check character"),  # the check should be 7
        ("51010419900307123X", "check character"),
        ("510104199002301234", "does not exist"),  # 30 February
        ("510104199013011234", "does not exist"),  # month 13
        ("440524188001010014", "not plausible"),  # valid check, born 1880
        ("5101041990030712", "18 characters"),
        ("5101041990030712377", "18 characters"),
        ("51010419900307A237", "17 digits"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(raw, words):
    with pytest.raises(IdNumberError, match=words):
        parse(raw)
    assert not idnumber.is_valid(raw)


def test_birth_dates_in_the_future_are_refused():
    number = idnumber.make("510104", dt.date(2030, 1, 1), 1)
    assert parse(number, today=dt.date(2030, 1, 1)).birth_date == dt.date(2030, 1, 1)
    with pytest.raises(IdNumberError, match="not plausible"):
        parse(number, today=dt.date(2029, 12, 31))


regions = st.from_regex(r"\A[1-9][0-9]{5}\Z")
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 6, 30))
sequences = st.integers(min_value=0, max_value=999)


@given(region=regions, birth=births, sequence=sequences)
def test_make_always_parses_back(region, birth, sequence):
    number = idnumber.make(region, birth, sequence)
    parsed = parse(number, today=dt.date(2024, 6, 30))
    assert parsed.number == number and len(number) == 18
    assert parsed.region == region
    assert parsed.birth_date == birth
    assert parsed.sex == ("1" if sequence % 2 else "2")
    assert parsed.foreign_permanent == region.startswith("9")
    assert parse(number.lower(), today=dt.date(2024, 6, 30)) == parsed


@given(
    region=regions,
    birth=births,
    sequence=sequences,
    position=st.integers(0, 16),
    delta=st.integers(1, 9),
)
def test_any_single_wrong_digit_is_detected(region, birth, sequence, position, delta):
    number = idnumber.make(region, birth, sequence)
    wrong = str((int(number[position]) + delta) % 10)
    typo = number[:position] + wrong + number[position + 1 :]
    assert not idnumber.is_valid(typo)


@given(region=regions, birth=births, sequence=sequences, position=st.integers(0, 15))
def test_any_swap_of_neighbouring_digits_is_detected(region, birth, sequence, position):
    number = idnumber.make(region, birth, sequence)
    a, b = number[position], number[position + 1]
    swapped = number[:position] + b + a + number[position + 2 :]
    assert idnumber.is_valid(swapped) == (a == b)
