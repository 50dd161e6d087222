"""The development mail page (every stored e-mail, one-time links included) exists
only in development without SMTP, only for logged-in administrators, and no page
links it for anyone else."""

import pytest

from core.mail import queue_email

pytestmark = pytest.mark.smoke


@pytest.fixture
def development(app):
    """The app as under `make run` (APP_ENV=development, no MAIL_URL)."""
    app.config["APP_ENV"] = "development"
    return app


@pytest.fixture
def stored_mail(db):
    queue_email("asiakas@example.fi", "Tilaus vastaanotettu", "Hei! Linkki: /password/new/secret-token")
    db.session.commit()


def test_admin_sees_stored_mail_in_development(development, stored_mail, make_user, login_as):
    c = login_as(make_user("admin"))
    response = c.get("/dev/mail")
    assert response.status_code == 200
    assert "Tilaus vastaanotettu" in response.get_data(as_text=True)
    assert "/dev/mail" in c.get("/dashboard").get_data(as_text=True)  # the footer links it for the admin


def test_anonymous_gets_404_and_no_link(development, stored_mail, client):
    response = client.get("/dev/mail")
    assert response.status_code == 404
    assert "secret-token" not in response.get_data(as_text=True)
    for page in ("/", "/login", "/password/forgot"):
        assert "/dev/mail" not in client.get(page).get_data(as_text=True)


@pytest.mark.parametrize("role", ["staff", "manager", "provider", "client"])
def test_other_roles_get_404_and_no_link(development, stored_mail, make_user, login_as, role):
    c = login_as(make_user(role))
    assert c.get("/dev/mail").status_code == 404
    assert "/dev/mail" not in c.get("/dashboard").get_data(as_text=True)


@pytest.mark.parametrize("env", ["production", "test"])
def test_not_outside_development(app, stored_mail, make_user, login_as, env):
    app.config["APP_ENV"] = env
    app.config["PRODUCTION"] = env == "production"
    c = login_as(make_user("admin"))
    assert c.get("/dev/mail").status_code == 404
    assert "/dev/mail" not in c.get("/dashboard").get_data(as_text=True)


def test_not_with_smtp(development, stored_mail, make_user, login_as):
    development.config["MAIL_URL"] = "smtp://127.0.0.1:2525"
    c = login_as(make_user("admin"))
    assert c.get("/dev/mail").status_code == 404

