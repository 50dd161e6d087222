"""The public feedback page: no login, in the link's language, large and
accessible, used once, expired links, bad input and the per-address rate limit."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from feedback.models import Feedback

pytestmark = pytest.mark.smoke


def _answers(**kw):
    data = {"rating": "4", "needs_met": "yes", "comment": "Siivooja oli ystävällinen."}
    data.update(kw)
    return data


def test_form_works_without_login_and_describes_the_service(client, order, make_link):
    _link, token = make_link(order)
    page = client.get(f"/feedback/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert order.number in html and order.provider.name in html and order.service_type.name_fi in html
    # words as well as stars, in a fieldset with a legend; the comment field is optional
    assert html.count('type="radio"') == 7
    assert "<legend>" in html and "Excellent" in html or "Erinomainen" in html
    assert 'aria-hidden="true">★★★★★' in html
    assert 'name="comment"' in html and "2000" in html
    assert "<script>" not in html  # no inline script (CSP)


def test_form_is_in_the_links_language_unless_another_is_chosen(client, order, make_link):
    _, token = make_link(order, language="sv")
    assert '<html lang="sv">' in client.get(f"/feedback/{token}").get_data(as_text=True)
    assert '<html lang="en">' in client.get(f"/feedback/{token}?lang=en").get_data(as_text=True)


def test_giving_feedback_stores_it_and_thanks(client, db, order, make_link, count):
    _link, token = make_link(order)
    response = client.post(f"/feedback/{token}", data=_answers())
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/feedback/{token}/thanks")
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    assert count(Feedback) == 1
    feedback = db.session.scalar(sa.select(Feedback))
    assert (feedback.rating, feedback.needs_met, feedback.comment) == (4, True, "Siivooja oli ystävällinen.")
    assert feedback.order_id == order.id and feedback.client_id == order.client_id
    assert feedback.service_type_id == order.service_type_id and feedback.recorded_by_id is None
    assert feedback.hidden_at is None  # published at once


def test_a_second_use_says_politely_that_feedback_was_given(client, order, make_link, count):
    _, token = make_link(order)
    client.post(f"/feedback/{token}", data=_answers())
    again = client.get(f"/feedback/{token}")
    assert again.status_code == 410
    assert "already" in again.get_data(as_text=True) or "jo" in again.get_data(as_text=True)
    resend = client.post(f"/feedback/{token}", data=_answers(rating="1"))
    assert resend.status_code == 410
    assert count(Feedback) == 1


def test_an_expired_link_is_refused_politely(client, order, make_link, count):
    _, token = make_link(order, expired=True)
    page = client.get(f"/feedback/{token}")
    assert page.status_code == 410
    assert "expired" in page.get_data(as_text=True) or "vanhentunut" in page.get_data(as_text=True)
    assert client.post(f"/feedback/{token}", data=_answers()).status_code == 410
    assert count(Feedback) == 0


@pytest.mark.parametrize("token", ["x" * 43, "short", "a" * 300, "%3Cscript%3E", "../../etc/passwd"])
def test_unknown_or_malformed_tokens_give_404_revealing_nothing(client, order, make_link, token):
    make_link(order)
    page = client.get(f"/feedback/{token}")
    assert page.status_code == 404
    assert order.number not in page.get_data(as_text=True)


def test_a_tampered_token_gives_404(client, order, make_link, count):
    _, token = make_link(order)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/feedback/{tampered}").status_code == 404
    assert client.post(f"/feedback/{tampered}", data=_answers()).status_code == 404
    assert count(Feedback) == 0


def test_missing_answers_are_named_and_linked(client, order, make_link, count):
    _, token = make_link(order)
    page = client.post(f"/feedback/{token}", data={"comment": ""})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'class="error-summary"' in html
    assert 'aria-describedby="rating-error"' in html and 'aria-describedby="needs_met-error"' in html
    # The summary's link reaches the group's first radio button, not just the group.
    assert 'href="#rating-0"' in html and 'id="rating-0"' in html
    assert count(Feedback) == 0


@pytest.mark.parametrize("rating", ["0", "6", "-1", "five", "4.5"])
def test_ratings_out_of_range_are_refused(client, order, make_link, count, rating):
    _, token = make_link(order)
    assert client.post(f"/feedback/{token}", data=_answers(rating=rating)).status_code == 422
    assert count(Feedback) == 0


def test_an_oversized_comment_gets_a_clear_message_and_keeps_the_link(client, order, make_link, count):
    _, token = make_link(order)
    page = client.post(f"/feedback/{token}", data=_answers(comment="a" * 2001))
    assert page.status_code == 422
    assert "2000" in page.get_data(as_text=True)
    assert count(Feedback) == 0
    assert client.post(f"/feedback/{token}", data=_answers(comment="a" * 2000)).status_code == 303


def test_html_in_a_comment_is_stripped_before_storing_and_escaped_when_shown(client, db, order, make_link, provider):
    _, token = make_link(order)
    comment = 'Hyvä <script>alert("x")</script><b>siivous</b> & <a href="http://evil">linkki</a> 3 < 5'
    assert client.post(f"/feedback/{token}", data=_answers(comment=comment)).status_code == 303
    stored = db.session.scalar(sa.select(Feedback.comment))
    assert "<" not in stored.replace("3 < 5", "") and "script" not in stored.lower().replace("alert", "")
    assert "siivous" in stored and "linkki" in stored and "3 < 5" in stored and " & " in stored
    page = client.get(f"/feedback/providers/{provider.id}").get_data(as_text=True)
    assert "3 &lt; 5" in page and "&amp;" in page and "<b>" not in page


def test_submitting_is_rate_limited_per_address(app, client, make_order, make_link, count):
    app.config["FEEDBACK_MAX_ATTEMPTS_PER_ADDRESS"] = 3
    tokens = [make_link(make_order())[1] for _ in range(3)]
    for guess in ("a" * 43, "b" * 43, "c" * 43):  # guessing burns the allowance
        assert client.post(f"/feedback/{guess}", data=_answers()).status_code == 404
    blocked = client.post(f"/feedback/{tokens[0]}", data=_answers())
    assert blocked.status_code == 429
    assert re.search(r"\b15\b", blocked.get_data(as_text=True))  # says how long to wait
    assert count(Feedback) == 0
    # Another address is not affected.
    other = client.post(f"/feedback/{tokens[1]}", data=_answers(), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 303
    # Reading the form is not limited.
    assert client.get(f"/feedback/{tokens[2]}").status_code == 200


def test_thanks_page_tells_about_the_follow_up_after_a_low_rating(client, order, make_link):
    _, token = make_link(order, language="en")
    response = client.post(f"/feedback/{token}", data=_answers(rating="2", needs_met="no"))
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "guidance worker" in thanks


def test_the_form_page_passes_axe_like_basics(client, order, make_link):
    """Every radio has a label, the page has one h1 and the language is set."""
    _, token = make_link(order)
    html = client.get(f"/feedback/{token}").get_data(as_text=True)
    ids = re.findall(r'<input[^>]*type="radio"[^>]*id="([^"]+)"', html) or \
        re.findall(r'<input[^>]*id="([^"]+)"[^>]*type="radio"', html)
    assert len(ids) == 7
    for input_id in ids:
        assert f'<label for="{input_id}">' in html  # the input sits inside its label
    assert html.count("<h1") == 1


def test_the_public_form_works_with_csrf_protection_on(app, client, order, make_link, count):
    """Anonymous visitors get a CSRF token in the form (the session cookie), and a
    post without it is refused."""
    app.config["WTF_CSRF_ENABLED"] = True
    _, token = make_link(order)
    html = client.get(f"/feedback/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert csrf, html[:2000]
    assert client.post(f"/feedback/{token}", data=_answers()).status_code == 400
    assert count(Feedback) == 0
    assert client.post(f"/feedback/{token}", data=_answers(csrf_token=csrf.group(1))).status_code == 303
    assert count(Feedback) == 1
