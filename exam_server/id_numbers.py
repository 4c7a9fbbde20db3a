"""Identity document numbers (证件号码) as registration accepts them.

The 18-digit 居民身份证 number follows GB 11643-1999: region (6 digits, the place of first registration), birth
date (YYYYMMDD), sequence (3 digits; the last is odd for men, even for women) and an ISO 7064 MOD 11-2 check
character (0-9 or X). Other documents are checked by format only. Pure: the caller passes today's date.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Optional

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
# Leading two digits of the provinces (GB/T 2260), and 81/82/83 used by the residence permits of
# Hong Kong, Macao and Taiwan residents.
PROVINCES = frozenset({"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
                       "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
                       "65", "71", "81", "82", "83"})
OTHER_FORMATS = {
    "passport": re.compile(r"[A-Z0-9]{6,9}"),    # 护照: E12345678 / EA1234567; ICAO numbers have ≤ 9
    "hk_macau": re.compile(r"[HM]\d{8}(\d{2})?"),             # 港澳居民来往内地通行证
    "taiwan": re.compile(r"\d{8}|\d{10}[A-Z]?"),              # 台湾居民来往大陆通行证
}
ID_TYPES = ("resident_id",) + tuple(OTHER_FORMATS)


@dataclass(frozen=True)
class ResidentId:
    number: str
    region: str
    birth_date: date
    sex: str          # "M" | "F"


class InvalidIdNumber(ValueError):
    """``reason`` names what is wrong: format, region, birth_date, future_birth, check_character."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def normalise(number: str) -> str:
    return re.sub(r"\s", "", str(number or "")).upper()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def parse_resident_id(number: str, today: date) -> ResidentId:
    """The parts of a valid 居民身份证 number (normalised: spaces dropped, x upper-cased); raises InvalidIdNumber."""
    number = normalise(number)
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise InvalidIdNumber("format")
    if number[:2] not in PROVINCES or number[2:6] == "0000" and number[:2] not in {"81", "82", "83"}:
        raise InvalidIdNumber("region")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber("birth_date") from None
    if born > today:
        raise InvalidIdNumber("future_birth")
    if number[17] != check_character(number[:17]):
        raise InvalidIdNumber("check_character")
    return ResidentId(number, number[:6], born, "M" if int(number[16]) % 2 else "F")


def check(id_type: str, number: str, today: date) -> Optional[str]:
    """None when ``number`` is a valid number of ``id_type``, else the reason it is not."""
    if id_type == "resident_id":
        try:
            parse_resident_id(number, today)
        except InvalidIdNumber as invalid:
            return invalid.reason
        return None
    pattern = OTHER_FORMATS.get(id_type)
    if pattern is None:
        return "id_type"
    return None if pattern.fullmatch(normalise(number)) else "format"


def is_valid_resident_id(number: str, today: date) -> bool:
    return check("resident_id", number, today) is None


def make_resident_id(region: str, born: date, sequence: int) -> str:
    """A well-formed number (for demos and tests): the sequence's parity gives the sex."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)
