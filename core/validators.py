"""Finnish identifiers: the business ID (Y-tunnus) and the personal identity code
(henkilötunnus), with their checksums, and postal codes."""

from __future__ import annotations

import re
from datetime import date

_BUSINESS_ID = re.compile(r"^(\d{7})-(\d)$")
_BUSINESS_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def business_id_check_digit(first_seven: str) -> int | None:
    """The check digit for seven digits, or None when no valid ID has them
    (remainder 1)."""
    remainder = sum(int(d) * w for d, w in zip(first_seven, _BUSINESS_WEIGHTS)) % 11
    if remainder == 1:
        return None
    return 0 if remainder == 0 else 11 - remainder


def normalise_business_id(value: str) -> str | None:
    """``1234567-8`` when ``value`` is a valid Y-tunnus (spaces trimmed, an old
    six-digit form padded with a leading zero), else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if re.fullmatch(r"\d{6}-\d", value):
        value = "0" + value
    m = _BUSINESS_ID.match(value)
    if not m:
        return None
    check = business_id_check_digit(m.group(1))
    return value if check is not None and check == int(m.group(2)) else None


# Century signs in force since 2023 (Valtioneuvoston asetus 128/2010, amended).
_CENTURY = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
            "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}
_HETU = re.compile(r"^(\d{2})(\d{2})(\d{2})([-+YXWVUABCDEF])(\d{3})([0-9A-Y])$")
_CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def parse_personal_identity_code(value: str) -> date | None:
    """The birth date of a valid henkilötunnus, else None. Checks the format, the
    century sign, the date, the individual number (002-999) and the check character."""
    if not isinstance(value, str):
        return None
    m = _HETU.match(value.strip().upper())
    if not m:
        return None
    dd, mm, yy, sign, individual, check = m.groups()
    if not 2 <= int(individual) <= 999:  # 900-999: temporary codes, still valid
        return None
    try:
        born = date(_CENTURY[sign] + int(yy), int(mm), int(dd))
    except ValueError:
        return None
    if _CHECK_CHARS[int(dd + mm + yy + individual) % 31] != check:
        return None
    return born


def normalise_personal_identity_code(value: str) -> str | None:
    return value.strip().upper() if parse_personal_identity_code(value) else None


POSTAL_CODE = re.compile(r"^\d{5}$")


def valid_postal_code(value: str) -> bool:
    return isinstance(value, str) and bool(POSTAL_CODE.match(value))
