"""The masks shown by default for personal fields: exact forms, short and empty values."""

import pytest

from shequ.core.masking import mask_id_number, mask_middle, mask_name, mask_phone


def test_id_number_mask_keeps_region_prefix_and_last_three():
    assert mask_id_number("51010819900307123X") == "5101***********23X"
    assert mask_id_number("11010519491231002X") == "1101***********02X"
    assert len(mask_id_number("51010819900307123X")) == 18


def test_old_15_digit_id_number_mask():
    assert mask_id_number("510104900307123") == "5101********123"


def test_mobile_mask_keeps_first_three_and_last_four():
    assert mask_phone("13856785678") == "138****5678"
    assert mask_phone("13880001234") == "138****1234"


@pytest.mark.parametrize(
    ("landline", "masked"),
    [
        ("02885551234", "028****1234"),  # Chengdu: 3-digit area code
        ("01088888888", "010****8888"),  # Beijing
        ("075512345678", "0755****5678"),  # Shenzhen: 4-digit area code
        ("08161234567", "0816***4567"),  # Mianyang
    ],
)
def test_landline_mask_keeps_area_code_and_last_four(landline, masked):
    assert mask_phone(landline) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("", ""),
        (None, ""),
        ("1234567", "*******"),  # no longer than what would be kept: all hidden
        ("12345", "*****"),
        ("1", "*"),
    ],
)
def test_short_or_empty_values_reveal_nothing(value, masked):
    assert mask_id_number(value) == masked
    assert mask_phone(value) == masked


def test_mask_middle():
    assert mask_middle("abcdefgh", 2, 2) == "ab****gh"
    assert mask_middle("abcd", 2, 2) == "****"
    assert mask_middle("", 2, 2) == ""


def test_name_mask_keeps_the_first_character():
    assert mask_name("张三丰") == "张**"
    assert mask_name("李娜") == "李*"
    assert mask_name("王") == "王"
    assert mask_name("") == ""
