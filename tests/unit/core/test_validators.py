"""Finnish business IDs and personal identity codes."""

from datetime import date

import pytest

from core.validators import business_id_check_digit, normalise_business_id, parse_personal_identity_code

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("value", ["0737546-2", "2224996-6", "1572860-0", " 0737546-2 ", "737546-2"])
def test_valid_business_ids(value):
    assert normalise_business_id(value) is not None


@pytest.mark.parametrize("value", ["0737546-3", "07375462", "0737546", "abcdefg-h", "", "12345678-9", None, 7375462])
def test_invalid_business_ids(value):
    assert normalise_business_id(value) is None


def test_remainder_one_has_no_check_digit():
    seven = next(f"{n:07d}" for n in range(1000000, 1001000)
                 if sum(int(d) * w for d, w in zip(f"{n:07d}", (7, 9, 10, 5, 8, 4, 2))) % 11 == 1)
    assert business_id_check_digit(seven) is None
    assert all(normalise_business_id(f"{seven}-{d}") is None for d in range(10))


@pytest.mark.parametrize("code,born", [
    ("131052-308T", date(1952, 10, 13)),
    ("010594Y9032", date(1994, 5, 1)),
    ("010594Y9021", date(1994, 5, 1)),
    ("020502E902X", date(2002, 5, 2)),
    ("020502A902X", date(2002, 5, 2)),
    ("010181-900C", date(1981, 1, 1)),
])
def test_valid_identity_codes(code, born):
    assert parse_personal_identity_code(code) == born


@pytest.mark.parametrize("code", [
    "131052-308U",   # wrong check character
    "131052-308",    # too short
    "311352-308T",   # no 13th month
    "131052Z308T",   # unknown century sign
    "131052-001T",   # individual number out of range (002-999)
    "131052 308T",
    "",
])
def test_invalid_identity_codes(code):
    assert parse_personal_identity_code(code) is None
