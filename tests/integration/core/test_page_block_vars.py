"""The busiest pages set no variable inside a block.

A ``{% set %}`` inside a block (``content``, ``title``) makes Jinja pass the block's
variables to every later call of a function that takes the context, and ``_()``,
``ngettext()`` and the templates' other helpers do: each such call then derives a
new context (a copy of the page's variables), about fifty per view of the staff
client page. Their variables are set at the top of the template, outside the
blocks, instead; these tests fail when a ``set`` creeps back into a block (the
compiled template then assigns ``_block_vars``), and check that the pages still
read the variables set outside their blocks.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import url_for

from core.time import local_today
from tests import factories as f

PAGES = ("clients/detail.html", "core/dashboard_staff.html", "core/dashboard_client.html")


@pytest.mark.parametrize("name", PAGES)
def test_page_sets_no_variable_inside_a_block(app, name):
    source = app.jinja_env.loader.get_source(app.jinja_env, name)[0]
    compiled = app.jinja_env.compile(source, name, raw=True)
    assigned = re.findall(r"_block_vars(?:\[[^\]]+\] = |\.update\()", compiled)
    assert not assigned, f"{name}: a {{% set %}} inside a block ({len(assigned)} assignments)"


def test_a_set_inside_a_block_is_what_the_test_sees(app):
    """The check above can fail: a template with a set inside its block assigns it."""
    source = '{% extends "core/base.html" %}{% block content %}{% set x = 1 %}{{ _("Orders") }}{% endblock %}'
    assert "_block_vars['x']" in app.jinja_env.compile(source, "probe.html", raw=True)


def test_the_pages_use_the_variables_set_outside_their_blocks(app, client, db, login_as):
    """The follow-ups' links, the orders' links and the client's own login on the staff
    client page and the dashboard; the cards' links on the portfolio."""
    staff = f.UserFactory(role="staff")
    person = f.ClientFactory(responsible_worker_id=staff.id)
    provider = f.ProviderFactory()
    order = f.ServiceOrderFactory(client=person, status="in_progress", provider=provider, ordered_by_id=staff.id,
                                  start_date=local_today() - timedelta(days=3))
    follow_up = f.FollowUpFactory(client_id=person.id, assigned_to_id=staff.id, order_id=order.id)
    login = f.UserFactory(role="client", client_id=person.id, email="own-login@example.invalid")
    db.session.commit()

    with app.test_request_context():
        done = url_for("clients.follow_up_done", follow_up_id=follow_up.id)
    login_as(staff)
    page = client.get(f"/clients/{person.id}?lang=en").get_data(as_text=True)
    assert f'<a href="/orders/{order.id}">{order.number}</a>' in page  # the orders' table
    assert f'action="{done}"' in page  # the follow-up's links
    assert "own-login@example.invalid" in page  # the client's own login
    dashboard = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert f'<a href="/orders/{order.id}">{order.number}</a>' in dashboard
    assert f'action="{done}"' in dashboard and f'href="/clients/{person.id}"' in dashboard  # the follow-up's links

    token = re.search(r'action="/logout" class="inline-form">\s*<input type="hidden" name="csrf_token" value="([^"]+)"',
                      dashboard).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    login_as(login)
    portfolio = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert "<h1>My services</h1>" in portfolio  # own record: "own" is set outside the block
    assert f'<a href="/orders/{order.id}">Details and messages about this service' in portfolio
