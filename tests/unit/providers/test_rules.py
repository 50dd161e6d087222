"""Pure rules of the provider domain: text sanitising, list parsing, file checks by
name and content, and the shape of the state machine."""

import pytest

from providers.models import (
    DECISION_OF_ACTION,
    PROVIDER_TRANSITIONS,
    ProviderAction,
    ProviderStatus,
)
from providers.services import (
    FILE_TYPES,
    Upload,
    _check_file,
    parse_list,
    sanitise_text,
)

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("raw,clean", [
    ("Hei <b>maailma</b>", "Hei maailma"),
    ("<script>alert('x')</script>Siivous", "Siivous"),
    ("<STYLE type=text/css>p{}</STYLE>Teksti", "Teksti"),
    ("A &amp; B < C", "A & B < C"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;ok", "ok"),
    ('<a href="javascript:alert(1)">linkki</a>', "linkki"),
    ("Rivi 1\r\nRivi 2\n\nKappale", "Rivi 1\nRivi 2\n\nKappale"),
    ("  ", ""),
    (None, ""),
])
def test_sanitise_text(raw, clean):
    assert sanitise_text(raw) == clean


def test_sanitise_text_limits_length():
    assert len(sanitise_text("x" * 10000, limit=100)) == 100


def test_parse_list():
    assert parse_list("33100, 33200;\n33100\r\n Tampere ,,") == ["33100", "33200", "Tampere"]
    assert parse_list("") == [] and parse_list(None) == []


PDF, PNG, JPEG = b"%PDF-1.7 x", b"\x89PNG\r\n\x1a\nrest", b"\xff\xd8\xff\xe0rest"


@pytest.mark.parametrize("name,data,ok", [
    ("a.pdf", PDF, True), ("A.PDF", PDF, True), ("kuva.png", PNG, True), ("kuva.jpg", JPEG, True),
    ("kuva.jpeg", JPEG, True), ("a.pdf", PNG, False), ("kuva.png", JPEG, False), ("kuva.jpg", PDF, False),
    ("a.exe", PDF, False), ("a", PDF, False), ("a.pdf.exe", PDF, False), ("a.html", b"<html>", False),
    ("a.pdf", b"", False), ("a.pdf", PDF + b"x" * 100, False),
])
def test_file_is_checked_by_name_and_content(name, data, ok):
    errors = {}
    result = _check_file(Upload(name, data), errors, "file", limit=64)
    assert (result is not None) is ok and bool(errors) is not ok
    if ok:
        assert result[1] == FILE_TYPES[result[0]][0]


def test_state_machine_shape():
    # Only admins' decisions lead out of an application; rejected is final.
    assert not [k for k in PROVIDER_TRANSITIONS if k[0] == ProviderStatus.REJECTED]
    assert {t for t in PROVIDER_TRANSITIONS.values()} <= set(ProviderStatus)
    assert set(DECISION_OF_ACTION) == set(ProviderAction)
    approved_from = {s for (s, a), t in PROVIDER_TRANSITIONS.items() if t == ProviderStatus.APPROVED}
    assert approved_from == {ProviderStatus.PENDING, ProviderStatus.INFO_REQUESTED, ProviderStatus.SUSPENDED}
