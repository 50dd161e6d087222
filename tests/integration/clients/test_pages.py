"""The client pages as staff and clients use them: registering and editing a
client, the network, relatives and logins (with the e-mailed password link),
guidance contacts, and "My services" in plain, past-tense-aware words."""

import logging
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.time import local_today

from accounts.models import User
from clients.models import Client, GuidanceContact, NetworkMember
from core.models import AccessLogEntry, OutboxJob, OutgoingEmail
from tests import factories as f

pytestmark = pytest.mark.smoke


def _text(response):
    """The page as a reader hears it: the words, without tags."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def test_my_services_groups_orders_and_uses_past_tense_for_past_dates(client, db, world, login_as):
    today = date.today()
    f.ServiceOrderFactory(number="SO-2026-920001", client=world.aino, service_type=world.service_type,
                          provider=world.provider, status="closed", start_date=today - timedelta(days=90),
                          end_date=today - timedelta(days=30))
    f.ServiceOrderFactory(number="SO-2026-920002", client=world.aino, service_type=world.service_type,
                          status="offered", start_date=today + timedelta(days=5))
    db.session.commit()
    login_as(world.aino_user)
    html = _text(client.get("/dashboard?lang=en"))
    now, arranging, past = (html.index("Services now"), html.index("Being arranged"), html.index("Finished services"))
    assert now < arranging < past
    finished = html[past:]
    assert "Started" in finished and "Ended" in finished and "Starts" not in finished and "Ends " not in finished
    current = html[now:arranging]
    assert "Started" in current and "Ends" in current  # started 20 days ago, ends in 60 days
    assert "Visits so far 1" in current and "What happens next: The visits continue 2 times a week." in current
    assert "We are finding a provider for you." in html[arranging:past]
    assert "Sanna Ohjaaja" in html  # the responsible worker


def test_staff_register_edit_and_view_a_client(client, db, world, login_as):
    login_as(world.worker)
    r = client.post("/clients/new", data={
        "first_name": "Helmi", "last_name": "Heinonen", "personal_identity_code": "010594Y9032",
        "address": "Kauppakatu 2", "postal_code": "33200", "municipality": "Tampere", "languages": ["fi"],
        "segment": "intensive", "consent_to_share": "y"})
    assert r.status_code == 302
    helmi = db.session.scalar(sa.select(Client).where(Client.first_name == "Helmi"))
    assert helmi.birth_date == date(1994, 5, 1) and helmi.responsible_worker_id == world.worker.id
    page = client.get(f"/clients/{helmi.id}").get_data(as_text=True)
    assert "010594Y****" in page and "9032" not in page
    edit = client.get(f"/clients/{helmi.id}/edit").get_data(as_text=True)
    assert 'value="Kauppakatu 2"' in edit and "9032" not in edit
    r = client.post(f"/clients/{helmi.id}/edit", data={
        "first_name": "Helmi", "last_name": "Heinonen", "address": "Kauppakatu 4", "postal_code": "33200",
        "municipality": "Tampere", "languages": ["fi", "sv"], "segment": "guidance", "non_disclosure": "y"})
    assert r.status_code == 302
    db.session.expire_all()
    assert helmi.address == "Kauppakatu 4" and helmi.personal_identity_code == "010594Y9032"
    assert helmi.segment == "guidance" and helmi.non_disclosure and helmi.languages == ["fi", "sv"]
    r = client.post(f"/clients/{helmi.id}/edit", data={
        "first_name": "Helmi", "last_name": "Heinonen", "address": "Kauppakatu 4", "postal_code": "33200",
        "municipality": "Tampere", "languages": ["fi"], "segment": "guidance", "personal_identity_code": "010594Y9033"})
    assert r.status_code == 422
    assert "Henkilötunnus ei ole kelvollinen" in r.get_data(as_text=True)  # the Finnish page, in Finnish
    history = client.get(f"/clients/{helmi.id}?lang=en").get_data(as_text=True)
    assert "Coordination need changed" in history and "Non-disclosure marking set" in history


def test_the_identity_code_never_reaches_logs_jobs_emails_or_the_access_log(client, db, world, login_as, run_jobs,
                                                                            caplog):
    caplog.set_level(logging.DEBUG)
    login_as(world.worker)
    client.post("/clients/new", data={
        "first_name": "Helmi", "last_name": "Heinonen", "personal_identity_code": "010594Y9032",
        "address": "Kauppakatu 2", "postal_code": "33200", "municipality": "Tampere", "languages": ["fi"],
        "segment": "intensive", "consent_to_share": "y", "email": "helmi@example.fi"})
    helmi = db.session.scalar(sa.select(Client).where(Client.first_name == "Helmi"))
    client.post(f"/clients/{helmi.id}/login", data={"email": "helmi.login@example.fi"})
    client.post(f"/clients/{helmi.id}/messages", data={"to": "client", "body": "Tervetuloa"})
    client.get(f"/clients/{helmi.id}")
    client.get(f"/clients/{helmi.id}/export.json")
    client.post("/clients/new", data={"first_name": "X", "last_name": "Y", "personal_identity_code": "010594Y9033",
                                      "address": "a", "postal_code": "33200", "municipality": "T"})
    run_jobs()
    texts = [caplog.text]
    texts += [" ".join(map(str, (r.what, r.purpose, r.action))) for r in db.session.scalars(sa.select(AccessLogEntry))]
    texts += [f"{j.func} {j.args} {j.kwargs}" for j in db.session.scalars(sa.select(OutboxJob))]
    texts += [e.subject + e.body for e in db.session.scalars(sa.select(OutgoingEmail))]
    for text in texts:
        assert "9032" not in text and "9033" not in text


def test_network_members_are_added_ended_and_shown_to_the_client(app, client, db, world, login_as):
    with app.app_context():
        today = local_today()  # the county's day (Helsinki), not the machine's
    login_as(world.worker)
    r = client.post(f"/clients/{world.aino.id}/network/new", data={
        "name": "Liisa Lääkäri", "organisation": "Hervannan terveysasema", "role": "Omalääkäri",
        "responsibility": "Reseptit", "phone": "03 565 000", "starts_on": today.isoformat()})
    assert r.status_code == 302
    r = client.post(f"/clients/{world.aino.id}/network/new", data={"name": ""})
    assert r.status_code == 422
    member = db.session.scalar(sa.select(NetworkMember))
    client.post("/logout")
    login_as(world.aino_user)
    html = _text(client.get("/clients/me/network?lang=en"))
    assert "Liisa Lääkäri" in html and "Kirkas Koti Oy" in html and "Sanna Ohjaaja" in html
    assert "Leena Tytär" in html  # the relative acting for her
    assert html.index("Sanna Ohjaaja") < html.index("Kirkas Koti Oy")  # the responsible worker first
    client.post("/logout")
    login_as(world.worker)
    yesterday_member = f.NetworkMemberFactory(client_id=world.aino.id, name="Vanha Hoitaja",
                                              ends_on=today - timedelta(days=1))
    db.session.commit()
    assert client.post(f"/clients/network/{member.id}/end").status_code == 302
    db.session.expire_all()
    assert member.ends_on == today
    client.post("/logout")
    login_as(world.aino_user)
    assert yesterday_member.name not in client.get("/clients/me/network").get_data(as_text=True)


def test_a_relative_is_invited_chooses_a_password_and_logs_in(client, db, world, login_as, run_jobs, emails):
    login_as(world.worker)
    r = client.post(f"/clients/{world.bertta.id}/relatives/new", data={
        "name": "Pekka Poika", "email": "pekka@example.fi", "relationship": "poika", "client_consents": "y",
        "scopes": ["services", "messages"]})
    assert r.status_code == 302
    run_jobs()
    [(to, subject, body)] = [m for m in emails() if m[0] == "pekka@example.fi"]
    link = next(line for line in body.splitlines() if "/clients/access/" in line).strip()
    assert "Bertta" not in body
    client.post("/logout")
    page = client.get(link)
    assert page.status_code == 200 and "pekka@example.fi" in page.get_data(as_text=True)
    r = client.post(link, data={"password": "uusi-salasana-1", "repeat": "uusi-salasana-1"})
    assert r.status_code == 302
    assert client.get(link).status_code == 410  # used
    r = client.post("/login", data={"email": "pekka@example.fi", "password": "uusi-salasana-1"})
    assert r.status_code == 302
    assert "Bertta Toinen" in client.get("/dashboard").get_data(as_text=True)
    assert client.get("/clients/access/not-a-token").status_code == 404


def test_staff_give_the_client_a_login(client, db, world, login_as, run_jobs, emails):
    login_as(world.worker)
    r = client.post(f"/clients/{world.aino.id}/login", data={"email": "aino2@example.fi"})
    assert r.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == "aino2@example.fi")) == 0
    world.aino_user.active = False
    db.session.commit()
    r = client.post(f"/clients/{world.aino.id}/login", data={"email": "aino2@example.fi"})
    assert r.status_code == 302
    login = db.session.scalar(sa.select(User).where(User.email == "aino2@example.fi"))
    assert login.client_id == world.aino.id and login.role == "client"
    run_jobs()
    assert any(m[0] == "aino2@example.fi" and "/clients/access/" in m[2] for m in emails())


def test_guidance_contacts_are_logged_for_clients_and_anonymous_callers(client, db, world, login_as):
    login_as(world.worker)
    r = client.post("/clients/guidance-contacts", data={
        "channel": "phone", "topic": "cleaning", "outcome": "Kerrottu kotitalousvähennyksestä",
        "municipality": "Nokia", "minutes": "10"})
    assert r.status_code == 302
    r = client.post("/clients/guidance-contacts", data={
        "channel": "visit", "topic": "memory", "outcome": "Ohjattu muistihoitajalle", "referral": "Muistihoitaja",
        "client_id": str(world.aino.id)})
    assert r.status_code == 302 and f"/clients/{world.aino.id}" in r.headers["Location"]
    r = client.post("/clients/guidance-contacts", data={"channel": "fax", "topic": "memory", "client_id": "99999"})
    assert r.status_code == 422
    rows = db.session.scalars(sa.select(GuidanceContact).order_by(GuidanceContact.id)).all()
    assert [(g.client_id, g.channel, g.municipality) for g in rows] == [
        (None, "phone", "Nokia"), (world.aino.id, "visit", world.aino.municipality)]
    html = _text(client.get("/clients/guidance-contacts?lang=en"))
    assert "2 contacts" in html and "1 anonymous callers" in html and "1 referrals made" in html
    only_visits = _text(client.get("/clients/guidance-contacts?lang=en&channel=visit"))
    assert "1 contacts" in only_visits and "Asiakas, Aino" in only_visits


def test_search_filters_and_hides_protected_postal_codes(client, db, world, login_as):
    world.bertta.non_disclosure = True
    world.bertta.postal_code = "33100"
    db.session.commit()
    login_as(world.worker)
    mine = client.get("/clients/?mine=y").get_data(as_text=True)
    assert "Asiakas, Aino" in mine and "Toinen, Bertta" not in mine
    by_code = client.get("/clients/?postal_code=33100").get_data(as_text=True)
    assert "Asiakas, Aino" in by_code and "Toinen, Bertta" not in by_code
    by_name = client.get("/clients/?q=bertta").get_data(as_text=True)
    assert "Toinen, Bertta" in by_name and "33100" not in by_name.split("<tbody>")[1]


def _select(html: str) -> list[str]:
    select = html.split('<select id="new_worker_id"', 1)[1].split("</select>", 1)[0]
    return re.findall(r"<option [^>]*>([^<]*)</option>", select)


def test_the_record_s_form_fields_follow_the_language_and_the_workers(client, db, world, login_as):
    """The record's empty form fields are kept once written (clients.views._kept_field):
    each language has its own, and the hand-over choice lists the workers there are
    now, without the client's own responsible worker."""
    login_as(world.worker)
    english = client.get(f"/clients/{world.aino.id}?lang=en").get_data(as_text=True)
    finnish = client.get(f"/clients/{world.aino.id}?lang=fi").get_data(as_text=True)
    assert 'for="note">How was the consent given or withdrawn? (optional)</label>' in english
    assert "The client is told by e-mail that they have a new message" in english
    assert 'for="note">How was the consent given or withdrawn? (optional)</label>' not in finnish
    assert "The client is told by e-mail that they have a new message" not in finnish
    assert _select(english) == ["Mikko Ohjaaja"]  # not Sanna, Aino's own worker
    assert _select(client.get(f"/clients/{world.bertta.id}?lang=en").get_data(as_text=True)) == ["Sanna Ohjaaja"]
    f.UserFactory(role="staff", name="Anna <Uusi> & co")
    db.session.commit()
    html = client.get(f"/clients/{world.aino.id}?lang=en").get_data(as_text=True)
    assert _select(html) == ["Anna &lt;Uusi&gt; &amp; co", "Mikko Ohjaaja"]


def test_the_record_s_small_forms_carry_the_csrf_token_and_are_accepted(app, client, db, world, login_as):
    """The consent, message, login and hand-over forms are written around their kept
    fields with a form of no fields of its own: each carries the session's token."""
    login_as(world.worker)
    app.config["WTF_CSRF_ENABLED"] = True
    html = client.get(f"/clients/{world.aino.id}?lang=en").get_data(as_text=True)
    tokens = re.findall(r'<input name="csrf_token" type="hidden" value="([^"]+)">', html)
    assert len(tokens) == 3 and len(set(tokens)) == 1  # Aino has a login: no form to give one
    for action in ("consent", "handover", "messages"):
        form = html.split(f'action="/clients/{world.aino.id}/{action}"', 1)[1].split("</form>", 1)[0]
        assert f'value="{tokens[0]}"' in form
    answer = client.post(f"/clients/{world.aino.id}/consent",
                         data={"csrf_token": tokens[0], "consent": "no", "note": "Puhelimessa"})
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(Client, world.aino.id).consent_to_share is False
