"""The staff client page's orders and network rows, written in Python
(``clients.views.order_rows`` and ``network_rows``, one f-string per row): every
text from the database is escaped on the page, and the rows are byte for byte
what the template's loops wrote, in Finnish, Swedish and English."""

from __future__ import annotations

from datetime import timedelta

import pytest
from markupsafe import escape

from clients import queries, views
from core.time import local_today
from tests import factories as f

MARK = "<b>&\"x'</b>"  # a text with every character escaping changes
ESCAPED = str(escape(MARK))  # &lt;b&gt;&amp;&#34;x&#39;&lt;/b&gt;

# templates/clients/detail.html's loops as they were before the rows were written
# in Python, with the variables the template set for them.
OLD_ORDERS = """{%- set order_url = row_url('orders.detail', 'order_id') %}
{%- set order_head, order_tail = order_url.head|e, order_url.tail|e -%}
{% autoescape false %}{% for o in orders %}
    <tr><td><a href="{{ order_head }}{{ o.id }}{{ order_tail }}">{{ o.number|e }}</a></td><td>{{ o.service|e }}</td>
      <td>{{ (o.provider_name or "–")|e }}</td><td><span class="status status-{{ o.status|e }}">{{ status_label(o.status)|e }}</span></td>
      <td>{{ o.start_date|d }}</td></tr>
  {% else %}<tr><td colspan="5">{{ _("No orders yet.") }}</td></tr>{% endfor %}{% endautoescape %}"""

OLD_NETWORK = """{% from "clients/_macros.html" import post_button with context %}
{%- set order_url = row_url('orders.detail', 'order_id') -%}
{% for e in network %}
      <tr{% if e.ended %} class="muted"{% endif %}>
        <td>{% if e.order_id %}<a href="{{ order_url(e.order_id) }}">{{ e.name }}</a>{% else %}{{ e.name }}{% endif %}</td>
        <td>{{ e.role }}{% if e.organisation and e.organisation != e.name %}, {{ e.organisation }}{% endif %}</td>
        <td>{% if e.kind == "worker" %}{{ _("Coordinates the client's services") }}{% else %}{{ e.responsibility }}{% endif %}</td>
        <td>{{ e.phone or "" }}{% if e.phone and e.email %}<br>{% endif %}{{ e.email or "" }}</td>
        <td>{{ e.starts_on|d if e.starts_on else "" }} – {{ e.ends_on|d if e.ends_on else "" }}{% if e.ended %} ({{ _("ended") }}){% elif e.upcoming %} ({{ _("starts later") }}){% endif %}</td>
        <td>{% if e.member_id and not e.ended %}{{ post_button(url_for('clients.network_end', member_id=e.member_id), _("Mark ended"), e.name) }}{% endif %}</td></tr>
  {% endfor %}"""


@pytest.fixture
def marked(db, make_user):
    """A client whose orders, providers, service, responsible worker, network members
    and relative carry markup in every text the two tables show; orders served now,
    not yet served and without a provider, network members current, ended and
    upcoming."""
    today = local_today()
    worker = make_user("staff", name=f"Worker {MARK}", email="worker@example.fi", phone=f"040 {MARK}")
    provider = f.ProviderFactory(name=f"Provider {MARK}", phone=f"03 {MARK}", email="info@provider.example.fi")
    service = f.ServiceTypeFactory(name_fi=f"Palvelu {MARK}", name_sv=f"Tjänst {MARK}", name_en=f"Service {MARK}")
    client = f.ClientFactory(first_name="Merkki", last_name="Asiakas", responsible_worker_id=worker.id)
    for number, status, with_provider, start in ((f"SO-{MARK}-1", "in_progress", True, today - timedelta(days=5)),
                                                 (f"SO-{MARK}-2", "accepted", True, today + timedelta(days=3)),
                                                 (f"SO-{MARK}-3", "offered", False, today + timedelta(days=9))):
        f.ServiceOrderFactory(number=number, client=client, service_type=service, status=status,
                              provider=provider if with_provider else None, ordered_by_id=worker.id, start_date=start,
                              end_date=today + timedelta(days=60) if with_provider else None)
    f.NetworkMemberFactory(client_id=client.id, name=f"Member {MARK}", organisation=f"Organisation {MARK}",
                           role=f"Role {MARK}", responsibility=f"Responsibility {MARK}", phone=f"050 {MARK}",
                           email=f"member {MARK}")
    f.NetworkMemberFactory(client_id=client.id, name=f"Ended {MARK}", organisation=f"Ended {MARK}", role="nurse",
                           starts_on=today - timedelta(days=30), ends_on=today - timedelta(days=1))
    f.NetworkMemberFactory(client_id=client.id, name=f"Later {MARK}", organisation="", role="therapist",
                           starts_on=today + timedelta(days=2), email="later@example.fi")
    relative = make_user("client", client=None, client_id=None, email="relative@example.fi", name=f"Relative {MARK}",
                         phone=f"044 {MARK}")
    f.ClientRepresentativeFactory(client_id=client.id, user_id=relative.id, relationship_=f"son {MARK}",
                                  consent_recorded_by_id=worker.id)
    db.session.commit()
    return client, worker


def _tables(html: str) -> str:
    """The page from the orders table to the end of the network table."""
    return html.split('<caption id="orders-h">', 1)[1].split('id="relatives-h"', 1)[0]


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_every_text_of_the_orders_and_network_rows_is_escaped(client, marked, login_as, lang):
    record, worker = marked
    login_as(worker)
    answer = client.get(f"/clients/{record.id}?lang={lang}")
    assert answer.status_code == 200
    tables = _tables(answer.get_data(as_text=True))
    assert MARK not in tables and "<b>" not in tables
    service = {"fi": "Palvelu", "sv": "Tjänst", "en": "Service"}[lang]
    shown = [f"SO-{ESCAPED}-1", f"SO-{ESCAPED}-2", f"SO-{ESCAPED}-3", f"{service} {ESCAPED}",
             f"Provider {ESCAPED}", f"03 {ESCAPED}", f"Worker {ESCAPED}", f"040 {ESCAPED}", f"Member {ESCAPED}",
             f"Organisation {ESCAPED}", f"Role {ESCAPED}", f"Responsibility {ESCAPED}", f"050 {ESCAPED}",
             f"member {ESCAPED}", f"Ended {ESCAPED}", f"Later {ESCAPED}", f"Relative {ESCAPED}", f"044 {ESCAPED}",
             f"son {ESCAPED}"]
    for text in shown:
        assert text in tables, text
    # The current member's button to mark it ended names it, escaped; the ended one has none.
    assert f'<span class="visually-hidden"> – Member {ESCAPED}</span></button>' in tables
    assert f"– Ended {ESCAPED}</span>" not in tables
    assert tables.count('class="inline-form"') == 2  # the current member and the upcoming one


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_rows_are_what_the_template_loops_wrote(app, marked, lang):
    record, worker = marked
    with app.test_request_context(f"/clients/{record.id}?lang={lang}"):
        page = queries.staff_client_page(queries.staff_page_client(record.id, worker.id))
        assert len(page["orders"]) == 3 and len(page["network"]) == 7  # worker, 2 providers, 3 members, relative
        order_url, end_url = views._row_urls()
        old_orders = app.jinja_env.from_string(OLD_ORDERS).render(orders=page["orders"])
        assert str(views.order_rows(page["orders"], order_url)) == old_orders
        old_network = app.jinja_env.from_string(OLD_NETWORK).render(network=page["network"])
        assert str(views.network_rows(page["network"], order_url, end_url)) == old_network
        assert views.order_rows([], order_url) == "" and views.network_rows([], order_url, end_url) == ""
