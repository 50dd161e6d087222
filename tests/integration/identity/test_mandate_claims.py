"""Mandate claims: when the ID token lists persons the user may act for
(OIDC_MANDATE_CLAIM), their mandates are created or refreshed at login, logged
in the client's history. Against the local OpenID provider."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

from identity.local_provider import LocalProvider, Person
from tests import factories
from tests.factories import valid_identity_code
from tests.integration.identity.conftest import (
    AFTER_LOGOUT,
    CALLBACK,
    CLIENT_ID,
    CLIENT_SECRET,
    RELATIVE_CODE,
    oidc_app,
)

pytestmark = pytest.mark.smoke

MOTHER_CODE = valid_identity_code(404, datetime.date(1940, 3, 3))
FATHER_CODE = valid_identity_code(505, datetime.date(1938, 7, 9))


@pytest.fixture
def provider():
    leena = Person(RELATIVE_CODE, "Leena", "Omainen", mandates=[
        {"identity_code": MOTHER_CODE, "scopes": ["services", "messages"]},
        {"identity_code": FATHER_CODE, "scopes": ["services", "not-a-scope"]},
        {"identity_code": "010101-0000", "scopes": ["services"]},  # not a valid code: skipped
        "nonsense"])
    op = LocalProvider(CLIENT_ID, CLIENT_SECRET, [CALLBACK], [AFTER_LOGOUT], persons=[leena],
                       mandate_claim="mandates").start()
    yield op
    op.stop()


@pytest.fixture
def app(database_url, redis_url, provider):
    yield from oidc_app(database_url, redis_url, provider, OIDC_MANDATE_CLAIM="mandates")


@pytest.fixture
def family(db, make_user):
    from identity.services import link_identity_code

    mother = factories.ClientFactory(first_name="Helvi", last_name="Äiti", personal_identity_code=MOTHER_CODE)
    father = factories.ClientFactory(first_name="Veikko", last_name="Isä", personal_identity_code=FATHER_CODE)
    db.session.flush()
    leena = make_user("client", client_id=None, name="Leena Omainen", email="leena@example.fi", language="en")
    link_identity_code(leena, RELATIVE_CODE)  # no mandate yet: only the provider's claim gives her one
    db.session.commit()
    return mother, father, leena


def mandates_of(db, user_id):
    from clients.models import ClientRepresentative

    db.session.expire_all()
    return {rep.client_id: rep for rep in db.session.scalars(
        sa.select(ClientRepresentative).where(ClientRepresentative.user_id == user_id))}


def test_the_claim_creates_the_mandates_and_the_relative_acts_for_the_client(browser, family, db, client):
    from clients.models import ClientEvent

    mother, father, leena = family
    response = browser.log_in(RELATIVE_CODE)
    assert response.status_code == 302  # logged in: before the claim she acted for nobody
    mandates = mandates_of(db, leena.id)
    assert set(mandates) == {mother.id, father.id}
    assert sorted(mandates[mother.id].scopes) == ["messages", "services"]
    assert mandates[father.id].scopes == ["services"]  # the unknown scope is left out
    assert mandates[mother.id].consent_recorded_by_id is None  # vouched for by the provider, not staff
    events = db.session.scalars(sa.select(ClientEvent).where(ClientEvent.client_id == mother.id)).all()
    assert [e.action for e in events] == ["representative_added"] and events[0].actor_id == leena.id
    assert "identity provider" in events[0].note and MOTHER_CODE not in events[0].note
    assert "Helvi" in client.get("/dashboard", follow_redirects=True).get_data(as_text=True)


def test_a_second_login_refreshes_changed_scopes_and_leaves_a_revoked_mandate_ended(browser, family, db, app):
    from clients.models import ClientEvent
    from core.db import utcnow

    mother, father, leena = family
    browser.log_in(RELATIVE_CODE)
    browser.client.post("/logout")
    mandates = mandates_of(db, leena.id)
    mandates[mother.id].may_send_messages = False  # changed here since
    mandates[father.id].ended_at = utcnow()  # the father revoked it here
    db.session.commit()
    assert browser.log_in(RELATIVE_CODE).status_code == 302
    mandates = mandates_of(db, leena.id)
    assert sorted(mandates[mother.id].scopes) == ["messages", "services"]  # the provider's word again
    assert mandates[father.id].ended_at is not None  # not brought back
    actions = [e.action for e in db.session.scalars(sa.select(ClientEvent).where(ClientEvent.client_id == mother.id)
                                                    .order_by(ClientEvent.id))]
    assert actions == ["representative_added", "mandate_changed"]


def test_without_the_setting_claims_are_not_read(browser, family, db, app):
    app.config["OIDC_MANDATE_CLAIM"] = ""
    leena = family[2]
    response = browser.log_in(RELATIVE_CODE)
    assert response.status_code == 200 and "No services found for you" in response.get_data(as_text=True)
    assert mandates_of(db, leena.id) == {}
