"""The helpers that let a long list render without a template call per row or per
option: RowUrl gives exactly what url_for gives, select_options the same options as
a loop would, with the current value selected and every text escaped; ``|esc`` the
text ``|e`` gives, and the short ways of ``|d`` and ``|dt`` the long ways' texts."""

from datetime import UTC, date, datetime

import pytest
from flask import Flask, url_for
from flask_babel import Babel, force_locale
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from core.templating import (
    _TIME_FORMATS,
    RowUrl,
    _date_text,
    escape_text,
    fmt_date,
    fmt_dt,
    select_options,
)
from core.time import to_local


@pytest.fixture(scope="module")
def app():
    app = Flask(__name__)
    Babel(app)
    app.add_url_rule("/orders/<int:order_id>", "detail", lambda order_id: "")
    app.add_url_rule("/clients/<int:client_id>/orders/<int:order_id>/visits", "visits", lambda client_id, order_id: "")
    app.add_url_rule("/search", "search", lambda: "")
    return app


def test_row_url_reads_as_url_for(app):
    with app.test_request_context("/"):
        detail = RowUrl("detail", "order_id")
        for number in (1, 42, 987654321, 10**12):
            assert detail(number) == url_for("detail", order_id=number)
        visits = RowUrl("visits", "order_id", client_id=17)
        assert visits(5) == url_for("visits", client_id=17, order_id=5) == "/clients/17/orders/5/visits"


def test_row_url_also_fills_a_query_argument(app):
    with app.test_request_context("/"):
        assert RowUrl("search", "page")(3) == url_for("search", page=3) == "/search?page=3"


def test_select_options_select_and_escape(app):
    with app.test_request_context("/"):
        html = str(select_options([(1, "Siivous"), (2, 'Ateria <"kotiin">'), (12, "Kylvetys")], 2))
        assert html == ('<option value="1">Siivous</option>'
                        '<option value="2" selected>Ateria &lt;&#34;kotiin&#34;&gt;</option>'
                        '<option value="12">Kylvetys</option>')
        # The kept markup of the same choices never carries the last request's choice.
        assert "selected" not in str(select_options([(1, "Siivous"), (2, 'Ateria <"kotiin">'), (12, "Kylvetys")], None))
        assert str(select_options([(1, "a"), (12, "b")], 12)).count("selected") == 1
        assert "selected" not in str(select_options([(1, "a"), (12, "b")], "12"))  # a string is not the number 12
        assert str(select_options(["open", "done"], "done", text=str.upper)) == (
            '<option value="open">OPEN</option><option value="done" selected>DONE</option>')


def test_select_options_takes_a_kept_tuple_of_pairs_as_it_is(app):
    """The staff list's kept choice lists are tuples of pairs, used without copying;
    a tuple of lists reads the same."""
    with app.test_request_context("/"):
        pairs = ((1, "Siivous"), (2, 'Ateria <"kotiin">'))
        expected = '<option value="1">Siivous</option><option value="2" selected>Ateria &lt;&#34;kotiin&#34;&gt;</option>'
        assert str(select_options(pairs, 2)) == expected
        assert str(select_options(([1, "Siivous"], [2, 'Ateria <"kotiin">']), 2)) == expected
        assert "selected" not in str(select_options(pairs, "2"))


EVIL_TEXTS = ["", "Sukunimi", "<b>x</b>&'\"", "Åke & <Öberg>", "a\u00a0b", "&amp;", "\"'<>&" * 20]


@pytest.mark.parametrize("value", EVIL_TEXTS + [None, 12, Markup("<i>kept</i>")])
def test_esc_escapes_as_e_does(value):
    """``|esc`` (rows written with autoescape off) gives exactly ``|e``'s text."""
    assert escape_text(value) == str(escape(value))
    assert type(escape_text(value)) is str


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
       moment=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 12, 31)),
       aware=st.booleans())
def test_short_ways_of_dates_read_as_the_long_ways(app, lang, day, moment, aware):
    """``|d`` of a date and ``|dt`` of a timestamp take a short way (one f-string per
    language); they read exactly as the general formats, naive instants taken as UTC."""
    if aware:
        moment = moment.replace(tzinfo=UTC)
    with app.test_request_context("/"), force_locale(lang):
        assert fmt_date(day) == _date_text(day, lang)
        local = to_local(moment)
        assert fmt_dt(moment) == f"{_date_text(local.date(), lang)} {_TIME_FORMATS[lang].format(t=local)}"
