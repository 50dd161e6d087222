"""The JSON API's generic validation messages are in the caller's language
(Accept-Language; Finnish when none is given), with the error codes and field
names of API.md unchanged, and a limit with a number in the right plural form."""

import pytest

pytestmark = pytest.mark.smoke

BAD_LOGIN = {"email": "x" * 300 + "@example.fi", "name": 5}   # too long, a number for a string, no password

EXPECTED = {
    "en": ("Some fields are invalid.", "At most 254 characters.", "This field is required.", "Must be a string."),
    "fi": ("Osa kentistä ei kelpaa.", "Enintään 254 merkkiä.", "Tämä tieto on pakollinen.",
           "Arvon pitää olla merkkijono."),
    "sv": ("En del fält är inte giltiga.", "Högst 254 tecken.", "Den här uppgiften är obligatorisk.",
           "Värdet ska vara en sträng."),
}


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
def test_a_422_speaks_the_callers_language(client, db, language):
    r = client.post("/api/v1/tokens", json=BAD_LOGIN, headers={"Accept-Language": language})
    assert r.status_code == 422
    error = r.get_json()["error"]
    message, too_long, required, not_string = EXPECTED[language]
    assert error["code"] == "validation_failed"
    assert error["message"] == message
    assert error["fields"] == {"email": [too_long], "password": [required], "name": [not_string]}


def test_finnish_when_no_language_is_asked_for(client, db):
    r = client.post("/api/v1/tokens", json=BAD_LOGIN)
    assert r.status_code == 422 and r.get_json()["error"]["message"] == EXPECTED["fi"][0]


def test_a_count_of_one_takes_the_singular(app):
    """ngettext picks the form by the number: one character, many characters."""
    from flask_babel import force_locale

    from core.api import _message

    with app.test_request_context("/api/v1/x"):
        for language, one, many in (("en", "At least 1 item.", "At least 3 items."),
                                    ("fi", "Vähintään 1 kohta.", "Vähintään 3 kohtaa."),
                                    ("sv", "Minst 1 post.", "Minst 3 poster.")):
            with force_locale(language):
                assert _message({"type": "too_short", "ctx": {"min_length": 1}}) == one
                assert _message({"type": "too_short", "ctx": {"min_length": 3}}) == many


@pytest.mark.parametrize("language,text", [("en", "Order not found."), ("fi", "Tilausta ei löytynyt."),
                                           ("sv", "Beställningen hittades inte.")])
def test_a_404_of_the_api_is_translated(client, db, make_user, api_token, language, text):
    headers = api_token(make_user("staff")) | {"Accept-Language": language}
    r = client.get("/api/v1/orders/999999/service-events", headers=headers)
    assert r.status_code == 404
    assert r.get_json()["error"] == {"code": "not_found", "message": text}
