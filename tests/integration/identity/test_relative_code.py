"""Staff link a relative's own identity code (kept as a keyed hash) from the
client's page; the relative then logs in with strong identification."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from tests.integration.identity.conftest import RELATIVE_CODE

pytestmark = pytest.mark.smoke


@pytest.fixture
def setting(db, make_user):
    helvi = factories.ClientFactory(first_name="Helvi", last_name="Äiti")
    db.session.flush()
    relative = make_user("client", client_id=None, name="Leena Omainen", email="leena@example.fi", language="en")
    rep = factories.ClientRepresentativeFactory(client_id=helvi.id, user_id=relative.id)
    staff = make_user("staff", language="en")
    db.session.commit()
    return helvi, relative, rep, staff


def test_staff_link_a_relatives_code_and_the_relative_logs_in(setting, login_as, client, db):
    from identity.models import IdentityLink

    helvi, relative, rep, staff = setting
    login_as(staff)
    detail = client.get(f"/clients/{helvi.id}").get_data(as_text=True)
    assert f"/relatives/{rep.id}/identity-code" in detail
    page = client.get(f"/relatives/{rep.id}/identity-code")
    assert page.status_code == 200 and "No personal identity code is linked yet" in page.get_data(as_text=True)

    bad = client.post(f"/relatives/{rep.id}/identity-code", data={"form": "code", "code-identity_code": "010101-0000"})
    assert bad.status_code == 422 and "Not a valid personal identity code" in bad.get_data(as_text=True)

    ok = client.post(f"/relatives/{rep.id}/identity-code", data={"form": "code", "code-identity_code": RELATIVE_CODE})
    assert ok.status_code == 302
    page = client.get(f"/relatives/{rep.id}/identity-code").get_data(as_text=True)
    assert "A personal identity code is linked" in page and RELATIVE_CODE not in page
    db.session.expire_all()
    link = db.session.scalars(sa.select(IdentityLink)).one()
    assert link.user_id == relative.id and link.created_by_id == staff.id and RELATIVE_CODE not in link.code_hash
    client.post("/logout")

    from tests.integration.identity.conftest import Browser

    browser = Browser(client)
    assert browser.log_in(RELATIVE_CODE).status_code == 302
    assert "Leena Omainen" in client.get("/dashboard").get_data(as_text=True)


def test_staff_remove_the_code(setting, login_as, client, db):
    from identity.services import link_identity_code

    helvi, relative, rep, staff = setting
    link_identity_code(relative, RELATIVE_CODE)
    db.session.commit()
    login_as(staff)
    response = client.post(f"/relatives/{rep.id}/identity-code", data={"form": "remove"})
    assert response.status_code == 302
    client.post("/logout")
    from tests.integration.identity.conftest import Browser

    answer = Browser(client).log_in(RELATIVE_CODE)
    assert answer.status_code == 200 and "No services found for you" in answer.get_data(as_text=True)


def test_only_staff_reach_the_page(setting, login_as, client):
    helvi, relative, rep, staff = setting
    login_as(relative)
    assert client.get(f"/relatives/{rep.id}/identity-code").status_code in (403, 404)
