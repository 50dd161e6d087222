"""Every id once per page (WCAG 4.1.1, issue 20 point 5), on the pages the demo roles
reach, with CSRF protection on as in production (the hidden token of each form used
to repeat ``id="csrf_token"``, up to six times on the order page).

With the demo data loaded, each demo login walks the same-origin GET links from its
dashboard (one page per kind of address); guidance staff and the provider's
organisation admin also open an order of every state, where the order page shows all
the forms the state allows (accept and decline, visit report and completion, close
the loop, re-offer and cancel, messages), and then send each of those forms empty or
wrong, so the page comes back with its errors shown. Every page is parsed and must
not hold an id twice, and every ``label for`` must point to an id of the page.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest

from demo import DEMO_PASSWORD
from tests.integration.clients.test_wording_and_ids import duplicate_ids, parse_ids
from tests.integration.core.test_untranslated_strings import BASE, LOGINS, _next_urls, _shape

pytestmark = pytest.mark.slow

PAGES_PER_LOGIN = 45
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# The forms of the order page, each sent as the page's own form would send it, but
# with what a hurried user leaves out: every one is refused and shown again in place.
WRONG_POSTS = {
    "decline": {"reason": " "},
    "visits": {"date": "", "minutes": ""},
    "complete": {"reason": "x" * 2001},
    "close": {"note": ""},
    "cancel": {"reason": ""},
    "reoffer": {"mode": "lottery"},
}


@pytest.fixture
def demo_with_csrf(app, db):
    from demo import load_demo

    load_demo()
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield app
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _problems(html: str, where: str) -> list[str]:
    found = [f"{where}: id {i!r} more than once" for i in duplicate_ids(html)]
    parsed = parse_ids(html)
    found += [f"{where}: <label for={target!r}> names no element" for target in parsed.labels_for
              if not parsed.ids.get(target)]
    return found


def _log_in(client, email: str) -> None:
    token = TOKEN.search(client.get("/login?lang=fi").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, (email, response.status_code)


def _walk(client, start: list[str], who: str, problems: list[str]) -> int:
    seen: set[str] = set()
    shapes: set[str] = set()
    queue = deque(start)
    visited = 0
    while queue and visited < PAGES_PER_LOGIN:
        url = queue.popleft()
        path, _, query = url.partition("?")
        shape = _shape(path, query)
        if url in seen or (shape in shapes and url not in start):
            continue
        seen.add(url)
        shapes.add(shape)
        response = client.get(url)
        visited += 1
        if response.status_code in (301, 302, 303, 307, 308):
            target = urlsplit(urljoin(urljoin(BASE, url), response.headers["Location"]))
            if target.netloc == urlsplit(BASE).netloc:
                queue.appendleft(target.path + ("?" + target.query if target.query else ""))
            continue
        if response.mimetype == "text/html":
            body = response.get_data(as_text=True)
            problems += _problems(body, f"{who} GET {url}")
            queue.extend(_next_urls(body, url))
    return visited


def _orders_of_every_state(provider_id: int | None = None) -> list[int]:
    import sqlalchemy as sa

    from core.extensions import db
    from orders.models import Offer, ServiceOrder

    query = sa.select(sa.func.min(ServiceOrder.id)).group_by(ServiceOrder.status)
    if provider_id is not None:
        query = query.join(Offer, Offer.order_id == ServiceOrder.id).where(Offer.provider_id == provider_id)
    return sorted(db.session.scalars(query))


def _send_the_order_forms_wrong(client, order_id: int, who: str, problems: list[str]) -> set[str]:
    """Post each form the order page shows, wrong; return the forms that came back in place."""
    page = client.get(f"/orders/{order_id}?lang=fi").get_data(as_text=True)
    token = TOKEN.search(page).group(1)
    shown_again = set()
    for action, data in WRONG_POSTS.items():
        if f'action="/orders/{order_id}/{action}"' not in page:
            continue
        response = client.post(f"/orders/{order_id}/{action}", data={**data, "csrf_token": token})
        assert response.status_code != 400, f"{who}: {action} was refused for its CSRF token"
        if response.status_code == 422:
            shown_again.add(action)
            problems += _problems(response.get_data(as_text=True), f"{who} POST /orders/{order_id}/{action}")
    if f'action="/clients/orders/{order_id}/messages"' in page:
        response = client.post(f"/clients/orders/{order_id}/messages", data={"body": " ", "csrf_token": token})
        if response.status_code == 422:
            shown_again.add("messages")
            problems += _problems(response.get_data(as_text=True), f"{who} POST messages of order {order_id}")
    return shown_again


def test_no_page_a_demo_role_reaches_repeats_an_id(demo_with_csrf):
    from accounts.models import User
    from core.extensions import db
    from orders.models import ServiceOrder

    problems: list[str] = []
    visited: dict[str, int] = {}
    shown_again: set[str] = set()
    client = demo_with_csrf.test_client()
    visited["public"] = _walk(client, ["/", "/login", "/accessibility"], "public", problems)
    for who, email in LOGINS.items():
        client = demo_with_csrf.test_client()
        _log_in(client, email)
        orders: list[int] = []
        if who == "staff":
            # Every escalated order too: only some still have providers to offer to (the re-offer form).
            orders = sorted(set(_orders_of_every_state()) | set(db.session.scalars(
                db.select(ServiceOrder.id).where(ServiceOrder.status == "escalated"))))
        elif who == "provider admin":
            user = db.session.scalar(db.select(User).where(User.email == email))
            orders = _orders_of_every_state(user.provider_id)
        visited[who] = _walk(client, ["/dashboard?lang=fi"] + [f"/orders/{o}" for o in orders], who, problems)
        for order_id in orders:
            shown_again |= _send_the_order_forms_wrong(client, order_id, who, problems)
    assert all(n >= 5 for n in visited.values()), visited
    # The order page's forms were all reached and refused in place (so their errors were checked too).
    assert shown_again >= {"decline", "visits", "close", "cancel", "reoffer"}, shown_again
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_order_page_with_several_forms_names_no_csrf_token_id(demo_with_csrf):
    """The order page of an escalated order shows the re-offer and cancel forms (and
    messages): each carries the CSRF token, none of them with an id."""
    from orders.models import ServiceOrder
    from core.extensions import db

    client = demo_with_csrf.test_client()
    _log_in(client, LOGINS["staff"])
    escalated = db.session.scalars(db.select(ServiceOrder.id).where(ServiceOrder.status == "escalated")).all()
    pages = [client.get(f"/orders/{i}?lang=fi").get_data(as_text=True) for i in escalated]
    html = next(p for p in pages if re.search(r'action="/orders/\d+/reoffer"', p))  # one with providers left
    assert re.search(r'action="/orders/\d+/cancel"', html)
    assert html.count('name="csrf_token"') >= 2
    assert 'id="csrf_token"' not in html
    assert duplicate_ids(html) == []
