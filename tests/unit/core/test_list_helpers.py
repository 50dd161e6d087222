"""The helpers that let a long list render without a template call per row or per
option: RowUrl gives exactly what url_for gives, select_options the same options as
a loop would, with the current value selected and every text escaped."""

import pytest
from flask import Flask, url_for
from flask_babel import Babel

from core.templating import RowUrl, select_options


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
