"""The demo says it is a demo: a banner on every page while the demo data is
loaded, or when DEMO=1; never with DEMO=0."""

import pytest

BANNER = 'class="demo-banner"'

pytestmark = pytest.mark.smoke


def test_no_banner_without_demo_data(client):
    assert BANNER not in client.get("/").get_data(as_text=True)


def test_banner_on_every_page_while_demo_data_is_loaded(client, make_user, login_as, db):
    user = make_user("staff", email="ohjaaja9@demo.kotiapu.fi")
    db.session.commit()
    for page in ("/", "/login", "/password/forgot"):
        assert BANNER in client.get(page).get_data(as_text=True)
    c = login_as(user)
    for page in ("/dashboard", "/account"):
        assert BANNER in c.get(page).get_data(as_text=True)


def test_setting_turns_it_on_and_off(app, client, make_user, db):
    app.config["DEMO"] = "1"
    assert BANNER in client.get("/").get_data(as_text=True)
    make_user("staff", email="ohjaaja9@demo.kotiapu.fi")
    db.session.commit()
    app.config["DEMO"] = "0"
    assert BANNER not in client.get("/").get_data(as_text=True)


def test_production_shows_no_banner_unless_told(app, client, make_user, db):
    make_user("staff", email="ohjaaja9@demo.kotiapu.fi")
    db.session.commit()
    app.config["PRODUCTION"] = True
    assert BANNER not in client.get("/").get_data(as_text=True)
