"""Who may act on a feedback item (feedback.policy), without a database."""

from __future__ import annotations

from types import SimpleNamespace as NS

from feedback import policy


def _item(**kw):
    values = {"provider_id": 7, "response": None, "hidden_at": None}
    values.update(kw)
    return NS(**values)


def test_the_items_provider_answers_once():
    member = NS(role="provider", provider_id=7)
    assert policy.actions(member, _item()) == {"respond"}
    assert policy.actions(member, _item(response="Kiitos")) == set()
    assert policy.actions(NS(role="provider", provider_id=8), _item()) == set()


def test_administrators_hide_and_publish_again():
    admin = NS(role="admin", provider_id=None)
    assert policy.actions(admin, _item()) == {"hide"}
    assert policy.actions(admin, _item(hidden_at="2026-01-01")) == {"unhide"}
    assert policy.actions(NS(role="staff", provider_id=None), _item()) == set()


def test_staff_record_by_phone_on_a_completed_order_without_feedback():
    staff, manager = NS(role="staff"), NS(role="manager")
    completed, open_order = NS(status="completed"), NS(status="accepted")
    assert policy.order_actions(staff, completed, None) == {"record_by_phone"}
    assert policy.order_actions(staff, completed, _item()) == set()
    assert policy.order_actions(staff, open_order, None) == set()
    assert policy.order_actions(manager, completed, None) == set()
