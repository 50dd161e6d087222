"""Provider.rating_sum / rating_count follow published feedback (stored, hidden,
unhidden); the rating shows and sorts; managers' needs-met figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from feedback import services
from feedback.models import Feedback
from providers.models import Provider
from tests import factories as f
from tests.fixtures import run_flask

pytestmark = pytest.mark.smoke


def _give(client, make_link, order, rating, needs_met=True):
    _, token = make_link(order)
    response = client.post(f"/api/v1/feedback/{token}", json={"rating": rating, "needs_met": needs_met})
    assert response.status_code == 201, response.get_json()


def test_ratings_follow_stored_hidden_and_unhidden_feedback(client, db, provider, make_order, make_link):
    for rating in (5, 4, 2):
        _give(client, make_link, make_order(), rating)
    assert services.provider_rating(provider.id) == {"average": 3.67, "count": 3}
    admin = f.UserFactory(role="admin")
    low = db.session.scalar(sa.select(Feedback).where(Feedback.rating == 2))
    services.hide_feedback(low.id, "Asiaton kommentti", admin)
    db.session.commit()
    assert services.provider_rating(provider.id) == {"average": 4.5, "count": 2}
    services.unhide_feedback(low.id, admin)
    db.session.commit()
    assert services.provider_rating(provider.id) == {"average": 3.67, "count": 3}
    db.session.expire_all()
    assert (db.session.get(Provider, provider.id).rating_sum, db.session.get(Provider, provider.id).rating_count) == (11, 3)


def test_a_provider_without_feedback_has_no_average(db, provider):
    assert services.provider_rating(provider.id) == {"average": None, "count": 0}
    assert services.provider_rating(999999) == {"average": None, "count": 0}


def test_rating_update_adds_in_sql_so_concurrent_writers_do_not_lose_counts(app, db, provider):
    """The update is ``rating_sum = rating_sum + r``: a stale in-memory value does not
    overwrite another transaction's increment."""
    stale = db.session.get(Provider, provider.id)
    assert stale.rating_count == 0
    db.session.execute(sa.update(Provider).where(Provider.id == provider.id).values(rating_sum=4, rating_count=1))
    services._add_to_rating(provider.id, 5, +1)
    db.session.commit()
    db.session.expire_all()
    fresh = db.session.get(Provider, provider.id)
    assert (fresh.rating_sum, fresh.rating_count) == (9, 2)


def test_rating_order_by_puts_best_first_and_unrated_last(db):
    best = f.ProviderFactory(name="C", rating_sum=19, rating_count=4)     # 4.75
    good = f.ProviderFactory(name="A", rating_sum=8, rating_count=2)      # 4.0
    unrated = f.ProviderFactory(name="B")
    weak = f.ProviderFactory(name="D", rating_sum=2, rating_count=1)      # 2.0
    ids = db.session.scalars(sa.select(Provider.id).where(Provider.id.in_([best.id, good.id, unrated.id, weak.id]))
                             .order_by(*services.rating_order_by(), Provider.name)).all()
    assert ids == [best.id, good.id, weak.id, unrated.id]


def test_rating_summary_macro_for_catalogue_lists(app, db):
    from flask import render_template_string

    rated = f.ProviderFactory(rating_sum=13, rating_count=3)
    unrated = f.ProviderFactory()
    with app.test_request_context("/?lang=en"):
        html = render_template_string('{% from "feedback/_rating.html" import rating_summary %}'
                                      "{{ rating_summary(a) }}|{{ rating_summary(b) }}", a=rated, b=unrated)
    shown, none = html.split("|")
    assert "4.3" in shown and "3 ratings" in shown and f"/feedback/providers/{rated.id}" in shown
    assert 'aria-hidden="true">★★★★☆' in shown
    assert "No ratings yet" in none


def test_recount_command_repairs_the_denormalised_ratings(app, db, provider, worker_env):
    f.FeedbackFactory(provider_id=provider.id, rating=4)
    f.FeedbackFactory(provider_id=provider.id, rating=2)
    hidden = f.FeedbackFactory(provider_id=provider.id, rating=1)
    hidden.hidden_at = utcnow()
    provider.rating_sum, provider.rating_count = 100, 7
    db.session.commit()
    result = run_flask(["feedback", "recount-ratings"], worker_env)
    assert result.returncode == 0, result.stderr
    assert "1 provider" in result.stdout
    db.session.expire_all()
    assert services.provider_rating(provider.id) == {"average": 3.0, "count": 2}


def _answers(provider, service_type, clients, met, hidden=False):
    for n in range(clients):
        client = f.ClientFactory()
        fb = f.FeedbackFactory(provider_id=provider.id, service_type_id=service_type.id, client_id=client.id,
                               rating=4 if n < met else 2, needs_met=n < met)
        if hidden:
            fb.hidden_at = utcnow()


def test_needs_met_rates_per_provider_and_service_type_with_small_groups_suppressed(db, provider):
    cleaning, meals = f.ServiceTypeFactory(name_fi="Siivous"), f.ServiceTypeFactory(name_fi="Ateriat")
    _answers(provider, cleaning, clients=6, met=3, hidden=False)
    _answers(provider, cleaning, clients=2, met=2, hidden=True)   # hidden comments still count as answers
    _answers(provider, meals, clients=4, met=4)                     # fewer than five clients
    db.session.commit()
    rows, suppressed = services.needs_met_rates()
    assert suppressed == 1
    assert len(rows) == 1
    row = rows[0]
    assert (row.provider_id, row.service_type_id, row.clients, row.answers, row.needs_met) == \
        (provider.id, cleaning.id, 8, 8, 5)
    assert row.rate == pytest.approx(5 / 8)


def test_needs_met_counts_distinct_clients_not_answers(db, provider):
    cleaning = f.ServiceTypeFactory()
    client = f.ClientFactory()
    for _ in range(6):
        f.FeedbackFactory(provider_id=provider.id, service_type_id=cleaning.id, client_id=client.id)
    db.session.commit()
    rows, suppressed = services.needs_met_rates()
    assert rows == [] and suppressed == 1


def test_needs_met_period_filter(db, provider):
    cleaning = f.ServiceTypeFactory()
    _answers(provider, cleaning, clients=5, met=5)
    db.session.commit()
    assert len(services.needs_met_rates(since=date.today() - timedelta(days=1))[0]) == 1
    assert services.needs_met_rates(until=date.today() - timedelta(days=2)) == ([], 0)


def test_managers_page_shows_only_large_groups_without_client_names(client, db, make_user, login_as, provider):
    cleaning = f.ServiceTypeFactory(name_fi="Siivous")
    _answers(provider, cleaning, clients=5, met=4)
    small = f.ServiceTypeFactory(name_fi="Kauppa-apu")
    _answers(provider, small, clients=2, met=1)
    first = db.session.scalar(sa.select(Feedback).order_by(Feedback.id)).client_id
    from clients.models import Client

    name = db.session.get(Client, first).first_name
    login_as(make_user("manager"))
    page = client.get("/feedback/needs-met")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Siivous" in html and "80\u00a0%" in html
    assert "Kauppa-apu" not in html
    assert name not in html
    assert client.get("/feedback/needs-met?from=yesterday").status_code == 422


def test_needs_met_page_is_for_managers_and_admins(client, make_user, login_as):
    login_as(make_user("staff"))
    assert client.get("/feedback/needs-met").status_code == 403
