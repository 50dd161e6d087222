"""The administrator's decisions: approve, reject with reasons, ask for more
information, suspend and reinstate. Each is recorded and e-mailed; the state
machine refuses everything its table lacks."""

import itertools

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.errors import ConflictError
from orders.models import Offer
from providers import decisions
from providers import services as svc
from providers.models import (
    PROVIDER_TRANSITIONS,
    ProviderAction,
    ProviderDecision,
    ProviderInvitation,
    ProviderStatus,
)
from tests import factories as f
from tests.integration.providers.conftest import emails, link_in

pytestmark = pytest.mark.smoke


@pytest.fixture
def admin(make_user):
    return make_user("admin", language="en")


@pytest.fixture
def applicant(db):
    provider = f.ProviderFactory(status="pending", approved_at=None, email="hakija@example.fi", languages=["en"])
    f.ProviderAttachmentFactory(provider_id=provider.id, kind="insurance")  # the required document
    db.session.commit()
    return provider


def _decisions(db, provider):
    db.session.expire_all()
    return db.session.scalars(sa.select(ProviderDecision).where(ProviderDecision.provider_id == provider.id)
                              .order_by(ProviderDecision.id)).all()


def test_admin_approves_an_application(client, db, admin, applicant, login_as):
    login_as(admin)
    page = client.get(f"/admin/providers/{applicant.id}?lang=en").get_data(as_text=True)
    assert "Record the decision" in page and applicant.business_id in page
    r = client.post(f"/admin/providers/{applicant.id}/decision", data={"action": "approve", "reasons": ""})
    assert r.status_code == 302
    db.session.expire_all()
    assert applicant.status == "approved" and applicant.approved_at is not None
    (decision,) = _decisions(db, applicant)
    assert decision.decision == "approved" and decision.decided_by_id == admin.id
    (mail,) = emails(db, "hakija@example.fi")
    assert "has been approved" in mail.subject and mail.dedupe_key == f"provider-decision-{decision.id}"
    # Nobody has a login yet: the e-mail carries a fresh invitation to create one.
    assert "/invitations/" in mail.body
    # A second decision on the same application is refused with a message, not a 500.
    r = client.post(f"/admin/providers/{applicant.id}/decision?lang=en", data={"action": "reject", "reasons": "x"},
                    follow_redirects=True)
    assert r.status_code == 200 and "not possible while the provider" in r.get_data(as_text=True)
    assert len(_decisions(db, applicant)) == 1


def test_rejection_needs_reasons_and_sends_them(client, db, admin, applicant, login_as):
    login_as(admin)
    r = client.post(f"/admin/providers/{applicant.id}/decision?lang=en", data={"action": "reject", "reasons": "  "})
    assert r.status_code == 422 and "Write the reasons" in r.get_data(as_text=True)
    assert _decisions(db, applicant) == [] and applicant.status == "pending"
    f.ProviderInvitationFactory(provider_id=applicant.id, email=applicant.email)
    db.session.commit()
    # Rejecting is final: the first step only shows what will happen (issue 13, point 2).
    r = client.post(f"/admin/providers/{applicant.id}/decision?lang=en",
                    data={"action": "reject", "reasons": "Vakuutustodistus puuttuu."})
    assert r.status_code == 200 and "The decision is final" in r.get_data(as_text=True)
    db.session.expire_all()
    assert applicant.status == "pending"
    r = client.post(f"/admin/providers/{applicant.id}/decision",
                    data={"action": "reject", "reasons": "Vakuutustodistus puuttuu.", "confirmed": "yes"})
    assert r.status_code == 302
    db.session.expire_all()
    assert applicant.status == "rejected"
    (mail,) = emails(db, applicant.email)
    assert "Vakuutustodistus puuttuu." in mail.body and "/invitations/" not in mail.body
    # Open invitations of a rejected organisation stop working.
    expiries = db.session.scalars(sa.select(ProviderInvitation.expires_at).where(
        ProviderInvitation.provider_id == applicant.id)).all()
    assert expiries and all(e <= utcnow() for e in expiries)


def test_information_request_and_resubmission(client, db, admin, applicant, login_as, make_user):
    member = make_user("provider", provider=applicant, language="en")
    login_as(admin)
    r = client.post(f"/admin/providers/{applicant.id}/decision",
                    data={"action": "request_info", "reasons": "Lähettäkää omavalvontasuunnitelma."})
    assert r.status_code == 302
    client.post("/logout")
    db.session.expire_all()
    assert applicant.status == "info_requested"
    (mail,) = emails(db, applicant.email)
    assert "More information needed" in mail.subject and "omavalvontasuunnitelma" in mail.body
    assert link_in(mail.body, "/organisation") == "/organisation"
    login_as(member)
    page = client.get("/organisation?lang=en").get_data(as_text=True)
    assert "More information is needed" in page and "omavalvontasuunnitelma" in page
    r = client.post("/organisation/resubmit", data={"re-note": "Liitetty."})
    assert r.status_code == 302
    db.session.expire_all()
    assert applicant.status == "pending"
    assert [d.decision for d in _decisions(db, applicant)] == ["info_requested", "resubmitted"]
    (to_admin,) = emails(db, admin.email)
    assert "Liitetty." in to_admin.body


def test_suspension_withdraws_offers_and_flags_active_orders(client, db, admin, login_as, make_user):
    from clients.models import FollowUp

    org = f.ProviderFactory(email="org@example.fi")
    other = f.ProviderFactory()
    pending = f.OfferFactory(provider=org)
    other_offer = f.OfferFactory(provider=other)
    active_order = f.ServiceOrderFactory(status="accepted", provider=org)
    f.OfferFactory(order=active_order, provider=org, status="accepted")
    db.session.commit()
    login_as(admin)
    r = client.post(f"/admin/providers/{org.id}/suspend", data={"sus-reasons": ""})
    assert r.status_code == 422  # reasons are required
    r = client.post(f"/admin/providers/{org.id}/suspend?lang=en", data={"sus-reasons": "Vakuutus on päättynyt."})
    assert r.status_code == 200 and "Yes, suspend the provider" in r.get_data(as_text=True)
    db.session.expire_all()
    assert org.status == "approved"
    r = client.post(f"/admin/providers/{org.id}/suspend", data={"sus-reasons": "Vakuutus on päättynyt.",
                                                                 "confirmed": "yes"})
    assert r.status_code == 302
    db.session.expire_all()
    assert org.status == "suspended" and org.suspended_at is not None
    assert db.session.get(Offer, pending.id).status == "withdrawn"
    assert db.session.get(Offer, other_offer.id).status == "pending"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowUp).where(
        FollowUp.order_id == active_order.id)) == 1
    (mail,) = emails(db, "org@example.fi")
    assert "keskeytetty" in mail.subject and "Vakuutus on päättynyt." in mail.body
    r = client.post(f"/admin/providers/{org.id}/reinstate", data={"rei-reasons": ""})
    assert r.status_code == 302
    db.session.expire_all()
    assert org.status == "approved" and org.suspended_at is None
    assert [d.decision for d in _decisions(db, org)] == ["suspended", "reinstated"]
    assert len(emails(db, "org@example.fi")) == 2


def test_admin_pages_are_for_admins_only(client, db, login_as, make_user, applicant):
    for role in ("staff", "provider", "client", "manager"):
        login_as(make_user(role))
        assert client.get("/admin/providers").status_code == 403
        assert client.get(f"/admin/providers/{applicant.id}").status_code == 403
        assert client.post(f"/admin/providers/{applicant.id}/decision", data={"action": "approve"}).status_code == 403
        client.post("/logout")
    db.session.expire_all()
    assert applicant.status == "pending"


def test_admin_list_tabs_and_search(client, db, admin, login_as, applicant):
    f.ProviderFactory(name="Approved Helpers Oy")
    f.ProviderFactory(name="Suspended Ky", status="suspended")
    db.session.commit()
    login_as(admin)
    html = client.get("/admin/providers?lang=en").get_data(as_text=True)
    assert applicant.name in html and "Approved Helpers" not in html and "Applications (1)" in html
    html = client.get("/admin/providers?status=approved").get_data(as_text=True)
    assert "Approved Helpers" in html and applicant.name not in html
    html = client.get("/admin/providers?status=all&q=suspended").get_data(as_text=True)
    assert "Suspended Ky" in html and "Approved Helpers" not in html
    html = client.get(f"/admin/providers?status=all&q={applicant.business_id}").get_data(as_text=True)
    assert applicant.name in html
    assert client.get("/admin/providers/999999").status_code == 404


def _call(action, provider, admin, member):
    if action == ProviderAction.RESUBMIT:
        return svc.resubmit_application(provider.id, "", member)
    if action == ProviderAction.SUSPEND:
        return svc.suspend_provider(provider.id, "reasons", admin)
    if action == ProviderAction.REINSTATE:
        return svc.reinstate_provider(provider.id, "", admin)
    return svc.decide_application(provider.id, action, "reasons", admin)


@pytest.mark.parametrize("status,action", list(itertools.product(ProviderStatus, ProviderAction)))
def test_transition_table(db, make_user, status, action):
    """Every (state, action) pair: allowed pairs reach the table's state and are
    recorded; the others are refused with a 409 and change nothing."""
    admin = make_user("admin")
    provider = f.ProviderFactory(status=status)
    member = make_user("provider", provider=provider)
    db.session.commit()
    target = PROVIDER_TRANSITIONS.get((status, action))
    if target is None:
        with pytest.raises(ConflictError) as exc:
            _call(action, provider, admin, member)
        assert exc.value.status == 409 and exc.value.code == "invalid_transition"
        db.session.rollback()
        db.session.expire_all()
        assert db.session.get(type(provider), provider.id).status == status
    else:
        decision = _call(action, provider, admin, member)
        db.session.commit()
        db.session.expire_all()
        assert provider.status == target
        assert decision.decision == {"approve": "approved", "reject": "rejected", "request_info": "info_requested",
                                     "resubmit": "resubmitted", "suspend": "suspended",
                                     "reinstate": "reinstated"}[action]


def test_two_admins_deciding_at_once_one_wins(db, make_user, applicant, monkeypatch):
    """The decision is a conditional UPDATE: if the status changed after it was read,
    the second decision is refused, not applied on top."""
    admin = make_user("admin")
    db.session.commit()
    original = svc._provider

    def stale_read(provider_id):
        provider = original(provider_id)
        # Another admin's decision lands between our read and our update.
        db.session.execute(sa.text("UPDATE providers SET status = 'rejected' WHERE id = :id"), {"id": provider_id})
        return provider

    monkeypatch.setattr(decisions, "_provider", stale_read)
    with pytest.raises(ConflictError) as exc:
        svc._transition(applicant.id, ProviderAction.APPROVE, admin, "")
    assert exc.value.code == "changed_meanwhile"


def test_approving_needs_soteri_when_the_services_need_it(db, make_user):
    admin = make_user("admin")
    care = f.ServiceTypeFactory(needs_soteri=True)
    provider = f.ProviderFactory(status="pending", soteri_registered=False, requested_service_type_ids=[care.id])
    db.session.commit()
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        svc.approve_provider(provider.id, admin)
    assert exc.value.code == "soteri_required"


def test_approving_without_a_required_document_needs_a_stated_reason(client, db, admin, login_as):
    """Issue 13, point 7: the admin page says which document is missing, and approving
    without a reason is refused with the message on the form."""
    bare = f.ProviderFactory(status="pending", approved_at=None, email="vajaa@example.fi", languages=["fi"])
    db.session.commit()
    login_as(admin)
    page = client.get(f"/admin/providers/{bare.id}?lang=en").get_data(as_text=True)
    assert "A required document is missing or expired: Insurance certificate" in page
    r = client.post(f"/admin/providers/{bare.id}/decision?lang=en", data={"action": "approve", "reasons": ""})
    assert r.status_code == 422 and "Required: a required document is missing" in r.get_data(as_text=True)
    db.session.expire_all()
    assert bare.status == "pending"
    r = client.post(f"/admin/providers/{bare.id}/decision",
                    data={"action": "approve", "reasons": "Vakuutustodistus nähty paperisena, lisätään viikon sisällä."})
    assert r.status_code == 302
    db.session.expire_all()
    assert bare.status == "approved"
    (decision,) = _decisions(db, bare)
    assert decision.reasons.startswith("Vakuutustodistus nähty")
