"""Staffing API (API.md "Staffing-agency requests"): ``POST /staffing-coverage``
(agencies), ``POST /staffing-requests`` (staff), ``GET /staffing-requests/{id}``
(staff; agencies it was sent to), ``POST /staffing-requests/{id}/offers``
(agencies it was sent to) and ``POST .../offers/{offer_id}/select`` (staff); beyond
the contract: the list, withdrawing an offer, reporting hours, re-opening and
cancelling. The same services as the web pages and the serializers of
``staffing.serializers``; the request's unit of work commits."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from accounts.models import Role
from core.api import Body, Out, Page, Paging, answer, api_user, page_json, route
from core.bounds import AwareDatetime, LongText, PostalCode, Text
from staffing import services as svc
from staffing.models import Qualification, StaffingStatus
from staffing.serializers import offer_json, request_json

TAGS = ("Staffing-agency requests",)
QUALIFICATIONS = tuple(str(q) for q in Qualification)
STATUSES = tuple(str(s) for s in StaffingStatus)
_ID = {"request_id": "id"}


# --------------------------------------------------------------------------- declarations

class Candidate(Body):
    name: str | None = Field(None, max_length=100, description="Empty or null: anonymous")
    qualification: Literal[QUALIFICATIONS]  # type: ignore[valid-type]
    description: str | None = Field(None, max_length=300)


class CandidateOut(Out):
    name: str | None
    qualification: Literal[QUALIFICATIONS]  # type: ignore[valid-type]
    description: str | None


class AgencyRef(Out):
    id: int
    name: str


class StaffingOffer(Out):
    """The offer"""

    id: int
    request_id: int
    provider: AgencyRef
    headcount: int
    hourly_rate_cents: int
    currency: Literal["EUR"]
    candidates: list[CandidateOut]
    note: str | None
    status: Literal["offered", "withdrawn", "selected", "not_selected"]
    created_at: datetime
    selected_at: datetime | None
    withdrawn_at: datetime | None
    minutes_worked: int | None
    hours_reported_at: datetime | None


class Shift(Out):
    start: datetime
    end: datetime


class StaffingRequest(Out):
    """The staffing request"""

    id: int
    number: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    unit: str
    qualification: Literal[QUALIFICATIONS]  # type: ignore[valid-type]
    postal_code: str
    headcount: int
    covered: int = Field(description="People covered by selected offers")
    respond_by: datetime
    note: str | None
    shifts: list[Shift]
    created_at: datetime
    closed_at: datetime | None
    filled_at: datetime | None
    cancelled_at: datetime | None
    url: str
    recipients: int | None = Field(None, description="Staff only: agencies it was sent to")
    offers: list[StaffingOffer] | None = Field(None, description="Sorted by price and fit; an agency sees only "
                                                                 "its own")


class Coverage(Out):
    """What the agency covers"""

    qualifications: list[str]
    postal_codes: list[str]


class CoverageIn(Body):
    qualifications: list[Literal[QUALIFICATIONS]] = Field(max_length=20)  # type: ignore[valid-type]
    postal_codes: list[PostalCode] = Field(max_length=svc.MAX_POSTAL_CODES)


class ShiftIn(Body):
    start: AwareDatetime
    end: AwareDatetime


class RequestIn(Body):
    collapse_errors = ("shifts",)

    unit: Text(200)
    qualification: Literal[QUALIFICATIONS]  # type: ignore[valid-type]
    postal_code: PostalCode
    shifts: list[ShiftIn] = Field(min_length=1, max_length=200)
    headcount: int = Field(ge=1, le=10_000)
    respond_by: AwareDatetime
    note: LongText(2000) | None = None


class OfferIn(Body):
    collapse_errors = ("candidates",)

    headcount: int = Field(ge=1, le=10_000)
    hourly_rate_cents: int = Field(ge=0, le=2**31 - 1)
    candidates: list[Candidate] | None = Field(None, max_length=svc.MAX_CANDIDATES)
    note: LongText(2000) | None = None


class HoursIn(Body):
    minutes_worked: int = Field(ge=0, le=2**31 - 1)


class ReopenIn(Body):
    respond_by: AwareDatetime


class RequestQuery(Paging):
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]


def _agency(**_kwargs) -> None:
    svc.agency_of(api_user())  # 403 before looking at the body


_AGENCY = {403: "Not a member of an agency (`not_agency`)"}


# --------------------------------------------------------------------------- routes

@route("POST", "/staffing-coverage", "Replace what the caller's agency covers", roles=(Role.PROVIDER,),
       body=CoverageIn, before=_agency, tags=TAGS, responses={201: Coverage}, errors=_AGENCY)
def staffing_set_coverage(body: CoverageIn):
    user = api_user()
    svc.set_coverage(user, list(dict.fromkeys(body.qualifications)), list(dict.fromkeys(body.postal_codes)))
    qualifications, postal_codes = svc.coverage_of(user.provider_id)
    return answer({"qualifications": qualifications, "postal_codes": postal_codes}, 201)


@route("GET", "/staffing-coverage", "What the caller's agency covers", roles=(Role.PROVIDER,), tags=TAGS,
       responses={200: Coverage}, errors=_AGENCY)
def staffing_get_coverage():
    agency = svc.agency_of(api_user())
    qualifications, postal_codes = svc.coverage_of(agency.id)
    return answer({"qualifications": qualifications, "postal_codes": postal_codes})


@route("POST", "/staffing-requests", "Open a staffing round; agencies are notified by a job", roles=(Role.STAFF,),
       body=RequestIn, tags=TAGS, responses={201: StaffingRequest},
       errors={422: "Invalid fields (a shift ending before it starts or in the past, an answer time after the "
                    "first shift)"})
def staffing_create_request(body: RequestIn):
    user = api_user()
    req = svc.create_request(user, unit=body.unit, qualification=body.qualification, postal_code=body.postal_code,
                             shifts=[(s.start, s.end) for s in body.shifts], headcount=body.headcount,
                             respond_by=body.respond_by, note=body.note)
    return answer(request_json(req, user), 201)


@route("GET", "/staffing-requests", "Staffing requests: staff see all, an agency those sent to it",
       roles=(Role.STAFF, Role.PROVIDER), query=RequestQuery, tags=TAGS, responses={200: Page[StaffingRequest]})
def staffing_list_requests(query: RequestQuery):
    user = api_user()
    rows = svc.list_requests(user, status=query.status, limit=query.limit, cursor=query.cursor)
    items = [request_json(r.request, user, with_offers=False, covered=r.covered) for r in rows]
    return answer(page_json(items, [r.request for r in rows], query.limit, "api.staffing_list_requests"))


@route("GET", "/staffing-requests/<int:request_id>", "One staffing request with its offers (staff; agencies it "
       "was sent to)", tags=TAGS, param_names=_ID, responses={200: StaffingRequest})
def staffing_get_request(request_id: int):
    user = api_user()
    req = svc.visible_request(user, request_id)  # 404 for everyone it is not visible to
    return answer(request_json(req, user))


@route("POST", "/staffing-requests/<int:request_id>/offers", "Offer people (an agency it was sent to)",
       roles=(Role.PROVIDER,), body=OfferIn, before=_agency, tags=TAGS, param_names=_ID,
       responses={201: StaffingOffer},
       errors={**_AGENCY, 404: "Not sent to your agency",
               409: "No longer open (`not_open`), or your offer stands (`already_offered`)"})
def staffing_create_offer(request_id: int, body: OfferIn):
    user = api_user()
    candidates = [c.model_dump() for c in body.candidates] if body.candidates is not None else None
    offer = svc.submit_offer(user, request_id, headcount=body.headcount, hourly_rate_cents=body.hourly_rate_cents,
                             candidates=candidates, note=body.note)
    return answer(offer_json(offer, user), 201)


@route("POST", "/staffing-requests/<int:request_id>/offers/<int:offer_id>/select", "Select an offer",
       roles=(Role.STAFF,), tags=TAGS, param_names=_ID,
       responses={200: (StaffingRequest, "The request after the selection (`filled` once the headcount is "
                                         "covered)")},
       errors={409: "Filled or cancelled, or the offer was withdrawn or decided"})
def staffing_select_offer(request_id: int, offer_id: int):
    user = api_user()
    result = svc.select_offer(user, request_id, offer_id)
    return answer(request_json(result.request, user))


@route("POST", "/staffing-requests/<int:request_id>/offers/<int:offer_id>/withdraw",
       "Withdraw an offer before selection (the agency that made it)", roles=(Role.PROVIDER,), tags=TAGS,
       param_names=_ID, responses={200: StaffingOffer}, errors={**_AGENCY, 409: "Already decided or withdrawn"})
def staffing_withdraw_offer(request_id: int, offer_id: int):
    user = api_user()
    offer = svc.withdraw_offer(user, request_id, offer_id)
    return answer(offer_json(offer, user))


@route("POST", "/staffing-requests/<int:request_id>/offers/<int:offer_id>/hours",
       "Report the minutes actually worked on a selected offer, after the last shift", roles=(Role.PROVIDER,),
       body=HoursIn, before=_agency, tags=TAGS, param_names=_ID, responses={200: StaffingOffer},
       errors={**_AGENCY, 409: "Not selected, or the shifts are not over"})
def staffing_report_hours(request_id: int, offer_id: int, body: HoursIn):
    user = api_user()
    offer = svc.report_hours(user, request_id, offer_id, body.minutes_worked)
    return answer(offer_json(offer, user))


def _visible(request_id: int) -> None:
    svc.visible_request(api_user(), request_id)


@route("POST", "/staffing-requests/<int:request_id>/reopen", "Open a closed round again with a new answer time",
       roles=(Role.STAFF,), body=ReopenIn, before=_visible, tags=TAGS, param_names=_ID,
       responses={200: StaffingRequest}, errors={409: "Not closed"})
def staffing_reopen_request(request_id: int, body: ReopenIn):
    user = api_user()
    req = svc.reopen_request(user, request_id, body.respond_by)
    return answer(request_json(req, user))


@route("POST", "/staffing-requests/<int:request_id>/cancel", "Cancel a request", roles=(Role.STAFF,), tags=TAGS,
       param_names=_ID, responses={200: StaffingRequest}, errors={409: "Already cancelled"})
def staffing_cancel_request(request_id: int):
    user = api_user()
    req = svc.cancel_request(user, request_id)
    return answer(request_json(req, user))
