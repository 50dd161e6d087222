"""Cleaning user text before storing: tags out, characters kept, output escaping
left to the templates; and the star display."""

import pytest

from feedback.services import clean_text
from feedback.templating import stars

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("raw,clean", [
    ("Hyvää palvelua", "Hyvää palvelua"),
    ("  väliä ympärillä \n", "väliä ympärillä"),
    ("<b>lihava</b> teksti", "lihava teksti"),
    ('<script>alert("x")</script>ok', 'alert("x")ok'),
    ("<img src=x onerror=alert(1)>kuva", "kuva"),
    ("3 < 5 & 6 > 4", "3 < 5 & 6 > 4"),
    ("&lt;b&gt;entity&lt;/b&gt;", "entity"),
    ("rivi 1\r\nrivi 2", "rivi 1\nrivi 2"),
    ("ohjaus\x00merkki\x07", "ohjausmerkki"),
    ("<!-- kommentti -->teksti", "teksti"),
    ("", None),
    ("   ", None),
    (None, None),
])
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_cleaned_text_has_no_tags_left():
    nasty = "&amp;lt;script&amp;gt;x&amp;lt;/script&amp;gt;<<b>b>"
    out = clean_text(nasty)
    assert "<script" not in out.lower() and "<b>" not in out


@pytest.mark.parametrize("average,shown", [(None, "☆☆☆☆☆"), (1, "★☆☆☆☆"), (4.25, "★★★★☆"), (4.5, "★★★★★"), (5, "★★★★★")])
def test_stars(average, shown):
    assert stars(average) == shown
