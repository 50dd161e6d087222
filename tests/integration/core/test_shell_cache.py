"""The page shell (header, menu, footer) is rendered once per language, role and page
and kept (core/shell.py): what each user sees in it must still be their own."""

import re

import pytest

from tests.fixtures import PASSWORD

pytestmark = pytest.mark.smoke

LOGOUT_TOKEN = re.compile(r'action="/logout" class="inline-form">\s*<input type="hidden" name="csrf_token" value="([^"]+)"')


def _login(app, db, user):
    db.session.commit()
    c = app.test_client()
    assert c.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return c


def _header(html: str) -> str:
    return html[html.index("<body"):html.index('<main id="main"')]


def test_each_user_sees_their_own_name_escaped_in_the_kept_header(app, db, make_user):
    first = make_user("staff", name="Aino <b>Ahonen</b>")
    second = make_user("staff", name="Bertil Berg")
    a, b = _login(app, db, first), _login(app, db, second)
    for _ in range(2):  # the second round is served from the kept header
        page_a = _header(a.get("/dashboard").get_data(as_text=True))
        page_b = _header(b.get("/dashboard").get_data(as_text=True))
        assert "Aino &lt;b&gt;Ahonen&lt;/b&gt;" in page_a and "<b>Ahonen" not in page_a
        assert "Bertil Berg" not in page_a
        assert "Bertil Berg" in page_b and "Ahonen" not in page_b


def test_a_changed_name_shows_at_once(app, db, make_user):
    user = make_user("staff", name="Ennen Nimi")
    c = _login(app, db, user)
    assert "Ennen Nimi" in _header(c.get("/dashboard").get_data(as_text=True))
    user.name = "Uusi Nimi"
    db.session.commit()
    header = _header(c.get("/dashboard").get_data(as_text=True))
    assert "Uusi Nimi" in header and "Ennen Nimi" not in header


def test_the_logout_form_carries_each_sessions_own_token_and_works(app, db, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    first, second = make_user("staff"), make_user("staff")
    clients = []
    for user in (first, second):
        db.session.commit()
        c = app.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', c.get("/login").get_data(as_text=True))
        assert c.post("/login", data={"email": user.email, "password": PASSWORD,
                                      "csrf_token": token.group(1)}).status_code == 302
        clients.append(c)
    tokens = [LOGOUT_TOKEN.search(c.get("/dashboard").get_data(as_text=True)).group(1) for c in clients]
    assert tokens[0] != tokens[1]
    # Another session's token is refused; the page's own one logs out.
    assert clients[0].post("/logout", data={"csrf_token": tokens[1]}).status_code == 400
    assert clients[0].post("/logout", data={"csrf_token": tokens[0]}).status_code == 302
    assert clients[0].get("/dashboard").status_code == 302  # logged out
    assert clients[1].get("/dashboard").status_code == 200


def test_the_menu_marks_the_page_it_is_on(app, db, make_user):
    c = _login(app, db, make_user("staff"))
    dashboard = _header(c.get("/dashboard").get_data(as_text=True))
    clients = _header(c.get("/clients/").get_data(as_text=True))
    assert re.search(r'href="/dashboard" aria-current="page"', dashboard)
    assert not re.search(r'href="/clients/" aria-current="page"', dashboard)
    assert re.search(r'href="/clients/" aria-current="page"', clients)
    assert not re.search(r'href="/dashboard" aria-current="page"', clients)


def test_the_header_follows_the_language(app, db, make_user):
    c = _login(app, db, make_user("staff"))
    assert "Kirjaudu ulos" in _header(c.get("/dashboard").get_data(as_text=True))
    swedish = _header(c.get("/dashboard?lang=sv").get_data(as_text=True))
    assert "Logga ut" in swedish and "Kirjaudu ulos" not in swedish
    english = c.get("/dashboard?lang=en").get_data(as_text=True)
    assert "Log out" in _header(english) and "Home-care services of the wellbeing" not in english[:100]
    assert "Kotiapu – home-care services of the wellbeing services county" in english  # the footer too
    assert "Kirjaudu ulos" in _header(c.get("/dashboard?lang=fi").get_data(as_text=True))


def test_a_client_and_a_relative_each_get_their_own_menu_and_badge(app, db, make_user):
    client_user = make_user("client", name="Asiakas Itse")
    relative = make_user("client", client_id=None, name="Omainen Auttaja")
    own = _header(_login(app, db, client_user).get("/dashboard?lang=en").get_data(as_text=True))
    rel = _header(_login(app, db, relative).get("/dashboard?lang=en").get_data(as_text=True))
    assert "Who helps me" in own and "People who help" not in own
    assert "People who help" in rel and "Who helps me" not in rel
    assert '<span class="role-badge">Relative</span>' in rel
    assert '<span class="role-badge">Client</span>' in own


def test_anonymous_pages_have_no_user_box(app, db, make_user):
    c = _login(app, db, make_user("staff"))
    c.get("/dashboard")  # a logged-in header is kept for the front page's key too
    c.get("/")
    html = app.test_client().get("/").get_data(as_text=True)
    assert "user-box" not in _header(html) and 'href="/login"' in _header(html)


def test_the_header_and_footer_are_rendered_once_per_key(app, db, make_user):
    from flask import template_rendered

    rendered = []

    def note(sender, template, context, **extra):
        rendered.append(template.name)

    c = _login(app, db, make_user("staff"))
    other = _login(app, db, make_user("staff"))
    with template_rendered.connected_to(note, app):
        for _ in range(3):
            c.get("/dashboard")
            other.get("/dashboard")
        c.get("/clients/")  # another page: its menu marks another item
        c.get("/dashboard?lang=sv")
    assert rendered.count("core/_shell_header.html") <= 3  # fi dashboard, fi clients, sv dashboard
    assert rendered.count("core/_shell_footer.html") <= 2  # fi, sv
    assert rendered.count("core/dashboard_staff.html") == 7  # the pages themselves every time


def test_a_menu_label_worked_out_per_user_is_never_kept(app, db, make_user, monkeypatch):
    from core.registry import NAVIGATION

    # A label that depends on the user (as marketplace's purchases label does): the
    # role's menu is then worked out for each user, not kept.
    monkeypatch.setitem(NAVIGATION, "staff", [*NAVIGATION["staff"],
                                              (999, "core.accessibility", lambda user: f"Menu of {user.email}")])
    first, second = make_user("staff"), make_user("staff")
    a, b = _login(app, db, first), _login(app, db, second)
    for _ in range(2):
        menu_a = _header(a.get("/dashboard").get_data(as_text=True))
        menu_b = _header(b.get("/dashboard").get_data(as_text=True))
        assert f"Menu of {first.email}" in menu_a and second.email not in menu_a
        assert f"Menu of {second.email}" in menu_b and first.email not in menu_b


def test_a_kept_menu_follows_the_language_and_the_page(app, db, make_user):
    c = _login(app, db, make_user("staff"))
    for _ in range(2):
        fi = _header(c.get("/orders/?lang=fi").get_data(as_text=True))
        en = _header(c.get("/orders/?lang=en").get_data(as_text=True))
        assert fi != en and "Orders" in en and "Orders" not in fi
        dashboard = _header(c.get("/dashboard?lang=en").get_data(as_text=True))
        assert dashboard.count('aria-current="page"') == en.count('aria-current="page"') == 1
        assert dashboard != en
