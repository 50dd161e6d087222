"""Staffing: the two agencies' coverage (qualifications and postal codes) and one
open request from a home-care unit, sent to both agencies, with one agency's offer.

All three are made through ``staffing.services`` as the agencies and the guidance
worker would make them; only the timestamps are moved a few hours back, and the
round's recipients are written as the fan-out job would write them (see below)."""

from __future__ import annotations

from datetime import timedelta


from demo.base import ALL_AREAS, TAMPERE, Demo
from staffing.models import Qualification, StaffingRecipient
from staffing.services import create_request, set_coverage, submit_offer

STAFFING_COVERAGE = {
    "hoivarekry": ((Qualification.PRACTICAL_NURSE, Qualification.HOME_CARE_ASSISTANT,
                    Qualification.REGISTERED_NURSE), TAMPERE),
    "sijaispooli": ((Qualification.PRACTICAL_NURSE, Qualification.REGISTERED_NURSE, Qualification.PHYSIOTHERAPIST,
                     Qualification.SOCIAL_CARE_INSTRUCTOR), ALL_AREAS),
}


def build_staffing_coverage(d: Demo) -> None:
    """Qualifications and postal codes the two staffing agencies cover, set by each
    agency's org admin."""
    for slug, (qualifications, codes) in STAFFING_COVERAGE.items():
        admin = d.provider_admins[d.providers[slug].id]
        rows = set_coverage(admin, qualifications, codes)
        d.count("staffing_coverage", len(rows))


def build_staffing_request(d: Demo) -> None:
    """One open request from a home-care unit, sent to both agencies, with one offer."""
    staff = d.staff[2]
    created = d.ago(hours=5)
    respond_by = d.now + timedelta(hours=31)
    monday = d.today + timedelta(days=7 - d.today.weekday())
    if d.local(monday, 7) <= respond_by:  # loaded on a Sunday: the agencies answer before the first shift
        monday += timedelta(days=7)
    shifts = [(d.local(monday + timedelta(days=n), 7), d.local(monday + timedelta(days=n), 15)) for n in range(3)]
    request = create_request(
        staff, unit="Tampereen kotihoito, Hervannan lähipalvelualue", qualification=Qualification.PRACTICAL_NURSE,
        postal_code="33720", shifts=shifts, headcount=2, respond_by=respond_by,
        note="Kaksi lähihoitajaa aamuvuoroihin sairauslomien ajaksi. Lääkeluvat ja oma auto edellytetään.")
    # The request was opened five hours before the demo was loaded (the service stamps now).
    request.created_at = created
    # Sent to both agencies: these are the rows the fan-out job (queued by
    # create_request) writes together with its e-mails. Written here so the round
    # already shows as sent without e-mailing the demo's made-up addresses; when the
    # job runs it finds both agencies served and sends nothing.
    for slug in ("hoivarekry", "sijaispooli"):
        d.add(StaffingRecipient(request_id=request.id, provider_id=d.providers[slug].id,
                                created_at=created, notified_at=created + timedelta(minutes=1)))
    d.session.flush()
    agency = d.providers["hoivarekry"]
    offer = submit_offer(
        d.provider_admins[agency.id], request.id, headcount=1, hourly_rate_cents=3890,
        candidates=[{"name": "Laura K.", "qualification": Qualification.PRACTICAL_NURSE,
                     "description": "6 vuotta kotihoidossa, lääkeluvat voimassa"}],
        note="Toinen työntekijä vahvistuu huomenna aamupäivällä.")
    offer.created_at = created + timedelta(hours=2)  # made two hours after the request
    d.count("staffing_requests")
    d.count("staffing_offers")
