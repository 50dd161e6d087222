"""Client fields as the web form and the API check them: the personal identity code
(valid, wrong checksum, wrong format, every century sign in force since 2023), its
masking, and the rest of the record."""

from datetime import date

import pytest

from clients.models import Client
from clients.services import validate_client_fields

pytestmark = pytest.mark.smoke

BASE = {"first_name": "Aino", "last_name": "Virtanen", "address": "Hämeenkatu 1", "postal_code": "33100",
        "municipality": "Tampere", "languages": ["fi"], "consent_to_share": True}


def check(**fields):
    return validate_client_fields({**BASE, **fields})


@pytest.mark.parametrize("code,born", [
    ("131052-308T", date(1952, 10, 13)),
    ("131052Y308T", date(1952, 10, 13)),   # the new 1900s signs Y, X, W, V, U
    ("131052X308T", date(1952, 10, 13)),
    ("131052W308T", date(1952, 10, 13)),
    ("131052V308T", date(1952, 10, 13)),
    ("131052U308T", date(1952, 10, 13)),
    ("020502A902X", date(2002, 5, 2)),     # 2000s: A and the new B, C, D, E, F
    ("020502B902X", date(2002, 5, 2)),
    ("020502F902X", date(2002, 5, 2)),
    ("010199+9001", date(1899, 1, 1)),     # 1800s
    (" 131052-308t ", date(1952, 10, 13)),  # spaces and a lower-case check character
])
def test_a_valid_code_is_accepted_and_gives_the_birth_date(code, born):
    clean, errors = check(personal_identity_code=code)
    assert errors == {}
    assert clean["birth_date"] == born
    assert clean["personal_identity_code"] == code.strip().upper()


@pytest.mark.parametrize("code", ["131052-308U", "131052-3081", "020502A902Y"])
def test_a_wrong_check_character_is_refused(code):
    _, errors = check(personal_identity_code=code)
    assert list(errors) == ["personal_identity_code"]


@pytest.mark.parametrize("code", [
    "131052308T",      # no century sign
    "131052-308",      # too short
    "131052-3088T",    # too long
    "131052Z308T",     # no such century sign
    "311352-308T",     # no 13th month
    "300252-308T",     # no 30th of February
    "131052-001T",     # individual number 001 is not used
    "13105Z-308T",
    "hello",
    12345,
])
def test_a_wrong_format_is_refused(code):
    _, errors = check(personal_identity_code=code)
    assert "personal_identity_code" in errors


def test_the_code_is_optional():
    clean, errors = check(personal_identity_code="")
    assert errors == {} and clean["personal_identity_code"] is None


def test_a_birth_date_that_contradicts_the_code_is_refused():
    _, errors = check(personal_identity_code="131052-308T", birth_date=date(1952, 10, 14))
    assert list(errors) == ["birth_date"]


def test_the_code_is_only_ever_shown_masked():
    client = Client(personal_identity_code="131052-308T")
    assert client.masked_identity_code == "131052-****"
    assert "308T" not in repr(client) and "131052" not in repr(client)
    assert Client(personal_identity_code=None).masked_identity_code is None


def test_the_other_fields_are_checked():
    _, errors = validate_client_fields({"first_name": " ", "last_name": "x" * 101, "postal_code": "3310",
                                        "address": "", "municipality": "", "languages": ["xx"],
                                        "consent_to_share": "yes", "segment": "sometimes",
                                        "email": "not-an-address", "birth_date": date(2999, 1, 1)})
    assert set(errors) == {"first_name", "last_name", "postal_code", "address", "municipality", "languages",
                           "consent_to_share", "segment", "email", "birth_date"}
