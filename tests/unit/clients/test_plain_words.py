"""The access log in plain words for the client, and the segment intervals."""

import pytest

from clients.models import SEGMENT_CHECK_DAYS, Segment

pytestmark = pytest.mark.smoke


def test_every_segment_has_a_check_interval_and_closer_follow_up_is_more_often():
    assert set(SEGMENT_CHECK_DAYS) == set(Segment)
    assert SEGMENT_CHECK_DAYS[Segment.INTENSIVE] < SEGMENT_CHECK_DAYS[Segment.GUIDANCE] \
        < SEGMENT_CHECK_DAYS[Segment.INDEPENDENT]


def test_known_actions_purposes_and_data_read_as_plain_words(app):
    from flask_babel import force_locale

    from clients.queries import action_words, purpose_words, what_words
    from core.access import Purpose

    with app.test_request_context(), force_locale("en"):
        assert action_words("view") == "looked at"
        assert action_words("something_new") == "something_new"
        assert purpose_words(Purpose.SERVICE) == "to provide a service you have"
        assert purpose_words("a relative acting for the client") == "a relative acting for you"
        assert what_words("order SO-2026-000123") == "order SO-2026-000123"
        assert what_words("name, for feedback on order SO-2026-000001") == \
            "your name, for feedback on order SO-2026-000001"
        assert what_words("client record") == "your client record"
