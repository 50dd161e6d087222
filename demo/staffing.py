"""Staffing: the two agencies' coverage (qualifications and postal codes) and one
open request from a home-care unit, sent to both agencies, with one agency's offer."""

from __future__ import annotations

import secrets
from datetime import timedelta

from demo.base import ALL_AREAS, TAMPERE, Demo, number
from staffing.models import (
    Qualification,
    StaffingCoverage,
    StaffingOffer,
    StaffingOfferStatus,
    StaffingRecipient,
    StaffingRequest,
    StaffingShift,
    StaffingStatus,
)

STAFFING_COVERAGE = {
    "hoivarekry": ((Qualification.PRACTICAL_NURSE, Qualification.HOME_CARE_ASSISTANT,
                    Qualification.REGISTERED_NURSE), TAMPERE),
    "sijaispooli": ((Qualification.PRACTICAL_NURSE, Qualification.REGISTERED_NURSE, Qualification.PHYSIOTHERAPIST,
                     Qualification.SOCIAL_CARE_INSTRUCTOR), ALL_AREAS),
}


def build_staffing_coverage(d: Demo) -> None:
    """Qualifications and postal codes the two staffing agencies cover."""
    for slug, (qualifications, codes) in STAFFING_COVERAGE.items():
        for qualification in qualifications:
            for code in codes:
                d.add(StaffingCoverage(provider_id=d.providers[slug].id, qualification=qualification,
                                          postal_code=code))
                d.count("staffing_coverage")
    d.session.flush()


def build_staffing_request(d: Demo) -> None:
    """One open request from a home-care unit, sent to both agencies, with one offer."""
    staff = d.staff[2]
    created = d.ago(hours=5)
    request = StaffingRequest(
        number=f"tmp-{secrets.token_hex(8)}", created_by_id=staff.id,
        unit="Tampereen kotihoito, Hervannan lähipalvelualue", qualification=Qualification.PRACTICAL_NURSE,
        postal_code="33720", headcount=2, respond_by=d.now + timedelta(hours=31),
        note="Kaksi lähihoitajaa aamuvuoroihin sairauslomien ajaksi. Lääkeluvat ja oma auto edellytetään.",
        status=StaffingStatus.OPEN, created_at=created)
    monday = d.today + timedelta(days=7 - d.today.weekday())
    request.shifts = [StaffingShift(start_at=d.local(monday + timedelta(days=n), 7),
                                    end_at=d.local(monday + timedelta(days=n), 15)) for n in range(3)]
    d.add(request)
    d.session.flush()
    request.number = number("SR", created, request.id)
    for slug in ("hoivarekry", "sijaispooli"):
        d.add(StaffingRecipient(request_id=request.id, provider_id=d.providers[slug].id,
                                   created_at=created, notified_at=created + timedelta(minutes=1)))
    agency = d.providers["hoivarekry"]
    d.add(StaffingOffer(
        request_id=request.id, provider_id=agency.id, created_by_id=d.provider_admins[agency.id].id,
        headcount=1, hourly_rate_cents=3890, status=StaffingOfferStatus.OFFERED,
        candidates=["Laura K., lähihoitaja, 6 vuotta kotihoidossa, lääkeluvat voimassa"],
        note="Toinen työntekijä vahvistuu huomenna aamupäivällä.", created_at=created + timedelta(hours=2)))
    d.count("staffing_requests")
    d.count("staffing_offers")


