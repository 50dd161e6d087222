"""Finnish and Swedish that read as written by a person (issue 20 point 7) and the
small form fixes of point 5, checked on the rendered pages: plural forms chosen by
the count, the client's own access log in the second person, unique ids, an
error-summary link to a radio group that reaches its first control, and the hint of
a checkbox shown and tied to it."""

import re
from collections import Counter
from html.parser import HTMLParser

import pytest

pytestmark = pytest.mark.smoke


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: Counter = Counter()
        self.labels_for: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids[attrs["id"]] += 1
        if tag == "label" and attrs.get("for"):
            self.labels_for.append(attrs["for"])


def parse_ids(html: str) -> _Ids:
    parser = _Ids()
    parser.feed(html)
    return parser


def duplicate_ids(html: str) -> list[str]:
    return sorted(i for i, n in parse_ids(html).ids.items() if n > 1)


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


@pytest.mark.parametrize("lang,own,other,wrong", [
    ("fi", "Katsoit: ", "katsoi: asiakastietosi", "Sinä katsoi"),
    ("sv", "Du tittade på: ", "tittade på: dina klientuppgifter", None),
    ("en", "You looked at: ", "looked at: your client record", None),
])
def test_the_clients_own_access_log_speaks_to_them_in_the_second_person(client, world, login_as, api_token,
                                                                         lang, own, other, wrong):
    client.get(f"/api/v1/clients/{world.aino.id}", headers=api_token(world.worker))
    login_as(world.aino_user)
    client.get(f"/clients/me/data?lang={lang}")  # the client looks at their own data: a row of their own
    page = _text(client.get(f"/clients/me/access-log?lang={lang}"))
    assert own in page
    assert other in page  # someone else's row keeps the third person
    if wrong:
        assert wrong not in page


@pytest.mark.parametrize("lang,expected", [
    ("fi", "Asiakkaalla on 1 avoin tilaus. Peru tai sulje se ensin."),
    ("sv", "Klienten har 1 öppen beställning. Avbeställ eller stäng den först."),
    ("en", "The client has 1 open order: cancel or close it first."),
])
def test_one_open_order_is_named_in_the_singular(client, world, login_as, lang, expected):
    login_as(world.aino_user)
    assert client.post("/clients/me/data/erasure", data={"reason": "En tarvitse", "confirm": "y"}).status_code == 302
    client.post("/logout")
    login_as(world.worker)
    client.get(f"/dashboard?lang={lang}")
    r = client.post(f"/clients/{world.aino.id}/erase", data={"confirmed": "yes"}, follow_redirects=True)
    assert expected in _text(r)


@pytest.mark.parametrize("lang,many,one", [
    ("fi", "45 minuuttia", "1 minuutti"),
    ("sv", "45 minuter", "1 minut"),
])
def test_visit_minutes_take_the_plural_form_of_their_count(client, db, world, login_as, lang, one, many):
    from datetime import date, timedelta

    from tests import factories as f

    f.VisitReportFactory(order_id=world.aino_order.id, provider_id=world.provider.id,
                         date=date.today() - timedelta(days=1), minutes=1, note="")
    db.session.commit()
    login_as(world.aino_user)
    page = _text(client.get(f"/dashboard?lang={lang}"))
    assert one in page and many in page
    assert "1 minuuttia" not in page and "1 minuter" not in page


def test_the_guidance_contacts_page_has_unique_ids_and_every_filter_is_labelled(client, world, login_as):
    login_as(world.worker)
    html = client.get(f"/clients/guidance-contacts?client_id={world.aino.id}&lang=fi").get_data(as_text=True)
    assert duplicate_ids(html) == []
    parsed = parse_ids(html)
    for control in ("topic", "filter-topic", "filter-channel", "filter-since", "filter-until",
                    "filter-mine"):
        assert parsed.ids[control] == 1 and control in parsed.labels_for, control
    # The filters keep their names: a filtered address still works.
    assert client.get("/clients/guidance-contacts?topic=housing&channel=phone").status_code == 200


def test_an_error_summary_link_to_a_radio_group_reaches_its_first_radio(client, world, login_as):
    login_as(world.aino_user)
    r = client.post("/clients/me/messages?lang=en", data={"body": "Hei"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    summary = html[html.index('class="error-summary"'):]
    summary = summary[:summary.index("</div>")]
    targets = re.findall(r'href="#([^"]*)"', summary)
    assert targets, summary
    ids = parse_ids(html).ids
    for target in targets:
        assert ids[target] == 1, f"#{target} reaches nothing"
    assert "to-0" in targets  # the first radio of "Who is the message for?"
    assert re.search(r'<input[^>]*id="to-0"[^>]*type="radio"|<input[^>]*type="radio"[^>]*id="to-0"', html)
    assert duplicate_ids(html) == []


@pytest.mark.parametrize("page", ["/clients/{aino}/edit", "/clients/new"])
def test_a_checkbox_hint_is_shown_and_tied_to_the_checkbox(client, world, login_as, page):
    login_as(world.worker)
    html = client.get(page.format(aino=world.aino.id) + "?lang=en").get_data(as_text=True)
    assert 'id="non_disclosure-hint"' in html
    assert "Address and phone are then shown only to the responsible worker" in html
    checkbox = re.search(r'<input[^>]*id="non_disclosure"[^>]*>', html).group(0)
    assert 'aria-describedby="non_disclosure-hint"' in checkbox
    assert duplicate_ids(html) == []
