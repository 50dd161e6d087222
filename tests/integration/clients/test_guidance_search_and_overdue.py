"""Issue 13, point 7 (the guidance side): a guidance contact's client is found by
name and chosen from a list (plain links and a GET form: no JavaScript, no numeric
id), topics are codes that the statistics group by, and overdue follow-ups are
highlighted in words on the dashboard and the client's page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from clients.models import GuidanceContact
from core.db import utcnow
from tests import factories as f

pytestmark = pytest.mark.smoke


def test_the_client_is_found_by_name_and_chosen_from_a_list(client, db, world, login_as):
    login_as(world.worker)
    page = client.get("/clients/guidance-contacts?lang=en").get_data(as_text=True)
    assert 'name="client_id"' not in page  # no number to type
    assert 'type="search"' in page and "Find the client by name" in page
    found = client.get("/clients/guidance-contacts?lang=en&find=Asiakas").get_data(as_text=True)
    assert "Choose Asiakas, Aino" in found and "Bertta" not in found
    link = f"/clients/guidance-contacts?client_id={world.aino.id}"
    assert link in found
    chosen = client.get(link + "&lang=en").get_data(as_text=True)
    assert "For the client Aino Asiakas." in chosen
    r = client.post("/clients/guidance-contacts", data={"client_id": world.aino.id, "channel": "phone",
                                                        "topic": "memory", "outcome": "Ohjattu muistihoitajalle"})
    assert r.status_code == 302
    contact = db.session.scalar(sa.select(GuidanceContact))
    assert contact.client_id == world.aino.id and contact.topic == "memory"
    none = client.get("/clients/guidance-contacts?lang=en&find=Zyxw").get_data(as_text=True)
    assert "No client matches" in none


def test_topics_are_codes_that_the_statistics_group_by(client, db, world, login_as):
    from clients.services import log_guidance_contact
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        log_guidance_contact(world.worker, channel="phone", topic="siivousasiaa")
    assert set(exc.value.fields) == {"topic"}
    db.session.rollback()
    for topic in ("cleaning", "cleaning", "memory"):
        log_guidance_contact(world.worker, channel="phone", topic=topic)
    db.session.commit()
    login_as(world.worker)
    page = client.get("/clients/guidance-contacts?lang=en").get_data(as_text=True)
    by_topic = page[page.index("By topic"):]
    assert "<td>Cleaning</td><td class=\"num\">2</td>" in by_topic.replace("\n", "")
    assert "<td>Memory concerns</td><td class=\"num\">1</td>" in by_topic.replace("\n", "")


def test_overdue_follow_ups_are_highlighted_in_words(client, db, world, login_as):
    f.FollowUpFactory(client_id=world.aino.id, assigned_to_id=world.worker.id, title="Soita tyttärelle",
                      due_at=utcnow() - timedelta(days=2))
    f.FollowUpFactory(client_id=world.aino.id, assigned_to_id=world.worker.id, title="Tarkista lääkitys",
                      due_at=utcnow() + timedelta(days=2))
    db.session.commit()
    login_as(world.worker)
    for url in ("/dashboard?lang=en", f"/clients/{world.aino.id}?lang=en"):
        page = client.get(url).get_data(as_text=True)
        late = page[page.index("Soita tyttärelle") - 600:page.index("Soita tyttärelle")]
        assert "follow-up overdue" in late and ">Overdue<" in late, url
        on_time = page[page.index("Tarkista lääkitys") - 400:page.index("Tarkista lääkitys")]
        assert "Overdue" not in on_time.split("Soita tyttärelle")[-1], url
    dashboard = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert 'stat-value">1</span> <span class="stat-label">overdue follow-ups' in dashboard
