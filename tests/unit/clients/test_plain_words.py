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


def test_every_stored_what_of_a_client_page_reads_in_the_clients_language(app):
    """What the untranslated-string check found on the client's access log: the dashboard,
    the purchase list, vouchers and webhook events were shown in English."""
    from flask_babel import force_locale

    from clients.queries import what_words

    with app.test_request_context(), force_locale("fi"):
        assert what_words("name on the dashboard") == "nimesi hänen etusivullaan"
        assert what_words("purchase SH-2026-000005: name and address") == \
            "nimesi ja osoitteesi ostoa SH-2026-000005 varten"
        assert what_words("vouchers list") == "nimesi palvelusetelien listassa"
    with app.test_request_context(), force_locale("sv"):
        assert what_words("buyer's name in the purchase list") == "ditt namn i tjänsteproducentens lista över köp"
        assert what_words("purchase SH-2026-000001: contact details") == \
            "dina kontaktuppgifter för köpet SH-2026-000001"
        assert what_words("order.accepted event 3f2a to the provider's system") == \
            "uppgifter om din beställning, skickade till tjänsteproducentens system"
        assert what_words("service voucher 12") == "din servicesedel 12"
