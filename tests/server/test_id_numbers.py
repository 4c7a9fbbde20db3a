"""居民身份证 numbers (GB 11643-1999) and the other identity documents, checked against hand calculations."""
from __future__ import annotations

from datetime import date

import pytest

from exam_server import demo, id_numbers

TODAY = date(2026, 11, 26)

# Check characters computed by hand: Σ(digit × weight) with weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2,
# then "10X98765432"[Σ mod 11].
VALID = [
    # 11010519491231002: 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 → X (the standard's example)
    ("11010519491231002X", date(1949, 12, 31), "F"),
    # 44052418800101001: 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195; 195 mod 11 = 8 → 4
    ("440524188001010014", date(1880, 1, 1), "M"),
    # 32010619900307123: 21+18+0+5+0+24+2+9+54+0+0+27+0+35+8+8+6 = 217; 217 mod 11 = 8 → 4
    ("320106199003071234", date(1990, 3, 7), "M"),
    # 32050520000229002 (a leap day): 21+18+0+25+0+20+4+0+0+0+0+18+20+45+0+0+4 = 175; 175 mod 11 = 10 → 2
    ("320505200002290022", date(2000, 2, 29), "F"),
]

INVALID = [
    ("320106199003071235", "check_character"),   # the valid 320106199003071234 with a wrong last digit
    # Feb 30, with its own check character right: Σ = 203, 203 mod 11 = 5 → 7
    ("320106199002301237", "birth_date"),
    # born 2030-01-01 (after TODAY), check right: Σ = 126, 126 mod 11 = 5 → 7
    ("320106203001011237", "future_birth"),
    # region 000000, check right: Σ = 149, 149 mod 11 = 6 → 6
    ("000000199003071236", "region"),
    ("32010619900307123", "format"),             # 17 characters
    ("32010619900307123Y", "format"),
    ("3201061990030712X4", "format"),            # X only in last place
]


@pytest.mark.parametrize("number, born, sex", VALID)
def test_valid_numbers_give_birth_date_and_sex(number, born, sex):
    parsed = id_numbers.parse_resident_id(number, TODAY)
    assert (parsed.birth_date, parsed.sex, parsed.region) == (born, sex, number[:6])
    assert id_numbers.check("resident_id", number, TODAY) is None
    assert id_numbers.check_character(number[:17]) == number[17]


@pytest.mark.parametrize("number, reason", INVALID)
def test_invalid_numbers_name_the_reason(number, reason):
    assert id_numbers.check("resident_id", number, TODAY) == reason
    with pytest.raises(id_numbers.InvalidIdNumber):
        id_numbers.parse_resident_id(number, TODAY)


def test_a_lower_case_x_and_spaces_are_normalised():
    assert id_numbers.parse_resident_id(" 11010519491231002x ", TODAY).number == "11010519491231002X"


def test_born_today_is_valid_but_tomorrow_is_not():
    born_today = id_numbers.make_resident_id("320106", TODAY, 123)
    assert id_numbers.check("resident_id", born_today, TODAY) is None
    assert id_numbers.check("resident_id", born_today, date(2026, 11, 25)) == "future_birth"


@pytest.mark.parametrize("id_type, number, reason", [
    ("passport", "E12345678", None), ("passport", "EA1234567", None), ("passport", "E12-345", "format"),
    ("hk_macau", "H12345678", None), ("hk_macau", "M1234567890", None), ("hk_macau", "A12345678", "format"),
    ("taiwan", "12345678", None), ("taiwan", "1234567", "format"), ("driving_licence", "123", "id_type"),
])
def test_other_documents_are_checked_by_format(id_type, number, reason):
    assert id_numbers.check(id_type, number, TODAY) == reason


def test_demo_helpers_use_the_module():
    assert demo.id_check_character("32010619900307123") == "4"
    assert demo.is_valid_id_number("320106199003071234")
    assert not demo.is_valid_id_number("320106199003071235")
