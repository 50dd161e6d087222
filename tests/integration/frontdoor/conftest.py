"""Fixtures for the front-door tests: guidance staff and request bodies."""

from __future__ import annotations

import pytest


@pytest.fixture
def staff(make_user):
    return make_user("staff", language="en", name="Sanna Ohjaaja", email="sanna@kotiapu.example.fi")


@pytest.fixture
def colleague(make_user):
    return make_user("staff", language="en", name="Pekka Ohjaaja", email="pekka@kotiapu.example.fi")


def body(**overrides) -> dict:
    """A valid API body: a daughter asking for her mother in 33100."""
    data = {"for_whom": "relative", "topics": ["cleaning", "meals"], "name": "Liisa Virtanen",
            "phone": "040 123 4567", "email": None, "postal_code": "33100", "language": "fi",
            "best_time": "arkiaamuisin", "message": "Äiti ei enää jaksa siivota.", "consent_to_contact": True}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def form(**overrides) -> dict:
    """The same request as the public form posts it."""
    data = {"for_whom": "relative", "topics": ["cleaning", "meals"], "name": "Liisa Virtanen",
            "phone": "040 123 4567", "email": "", "postal_code": "33100", "language": "fi",
            "best_time": "arkiaamuisin", "message": "Äiti ei enää jaksa siivota.", "consent_to_contact": "y",
            "homepage": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def rules(db, make_user):
    """The suggestion rules of these tests, kept by an administrator (whatever the
    migration seeded is replaced: PostgreSQL runs start from empty tables)."""
    import sqlalchemy as sa

    from frontdoor.models import SuggestionRule
    from frontdoor.services import save_rule

    admin = make_user("admin")
    db.session.execute(sa.delete(SuggestionRule))
    made = {}
    for key, question, answer, segment in (
            ("some_help", "daily_tasks", "some_help", "guidance"),
            ("every_day", "daily_tasks", "help_every_day", "intensive"),
            ("nobody", "helpers", "nobody", "guidance"),
            ("high", "complexity", "high", "intensive")):
        made[key] = save_rule(admin, None, {"question": question, "answer": answer, "segment": segment,
                                            "note": f"{question} {answer}"})
    db.session.commit()
    made["admin"] = admin
    return made
