"""Phone numbers: mobiles and landlines in the many ways people write them."""

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from shequ.core.phone import PhoneError, is_mobile, normalise


@pytest.fixture(autouse=True)
def english():
    """The messages are asserted in English; the project's default language is Chinese."""
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13880001234", "13880001234"),
        ("138-8000-1234", "13880001234"),
        ("138 8000 1234", "13880001234"),
        ("+86 138 8000 1234", "13880001234"),
        ("+8613880001234", "13880001234"),
        ("0086 13880001234", "13880001234"),
        ("１３８８０００１２３４", "13880001234"),  # full-width
        ("＋８６－１３８８０００１２３４", "13880001234"),
        ("  19912345678 ", "19912345678"),
        ("028-8555 1234", "02885551234"),
        ("(028)85551234", "02885551234"),
        ("（028）8555-1234", "02885551234"),
        ("0755-12345678", "075512345678"),
        ("010.8888.8888", "01088888888"),
    ],
)
def test_normalise_accepts_common_forms(raw, expected):
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1388000123", "11 digits"),  # one digit dropped
        ("138800012345", "11 digits"),  # one too many
        ("12880001234", "not a mobile"),  # no mobile starts with 12
        ("138-8000-12a4", "only digits"),
        ("13880001234/13990001234", "only digits"),  # two numbers in one field
        ("85551234", "not a mobile"),  # a landline without its area code
        ("0281234", "not a mobile"),
    ],
)
def test_normalise_refuses_what_is_not_a_phone(raw, words):
    with pytest.raises(PhoneError, match=words):
        normalise(raw)


def test_is_mobile():
    assert is_mobile("13880001234")
    assert not is_mobile("02885551234")
    assert not is_mobile("1388000123")
    assert not is_mobile("")
    assert not is_mobile(None)


mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z")


@given(number=mobiles, style=st.sampled_from(["plain", "dash", "space", "+86", "0086", "wide"]))
def test_every_written_form_of_a_mobile_normalises_back(number, style):
    a, b, c = number[:3], number[3:7], number[7:]
    written = {
        "plain": number,
        "dash": f"{a}-{b}-{c}",
        "space": f"{a} {b} {c}",
        "+86": f"+86 {number}",
        "0086": f"0086{number}",
        "wide": number.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    }[style]
    assert normalise(written) == number
    assert is_mobile(normalise(written))
