"""The access matrix: every route in the url_map (web and API) requested as anonymous,
as each platform role, as the administrator and a worker of one organisation, as
the administrator of another organisation and as a staffing agency, against the
expectation declared below. A route without an expectation fails the test, so a
new route must be declared here.

Ids in paths are those of organisation A's rows where the matrix knows them
(``org_a_ids``), else an id that does not exist. The outcome of a request is
'reached' (the route's guard let the subject in), 'denied' (401, 403, 404 or sent
to the login page) or 'error' (5xx, never allowed). ``EXPECTED`` lists, per
"METHOD endpoint", the subjects that reach it ("*": everybody). The web session
and the API bearer token of each subject come from the demo logins
(tests/integration/security/conftest.py)."""

from __future__ import annotations

import pytest

from tests.integration.security.conftest import SUBJECTS
from tests.integration.security.matrix_probe import fill, outcome

# Logging out and revoking the token end the subject's session: they are requested
# by the tests of accounts, not in the middle of the matrix.
NOT_IN_MATRIX = {"POST accounts.logout", "DELETE api.delete_token"}

EXPECTED = {
    "GET accounts.account": "admin staff manager org_admin org_worker other_org agency client",
    "GET accounts.login": "*",
    "GET api.access_log": "staff",
    "GET api.download_report": "",
    "GET api.export": "staff",
    "GET api.feedback_link": "",
    "GET api.get": "staff",
    "GET api.get_order": "staff org_admin org_worker",
    "GET api.get_provider": "*",
    "GET api.get_report": "",
    "GET api.get_shop_order": "",
    "GET api.list_offerings": "*",
    "GET api.list_orders": "admin staff manager org_admin org_worker other_org agency client",
    "GET api.list_providers": "*",
    "GET api.list_reports": "admin manager",
    "GET api.me": "admin staff manager org_admin org_worker other_org agency client",
    "GET api.openapi_document": "*",
    "GET api.order_events": "staff org_admin org_worker",
    "GET api.provider_feedback": "*",
    "GET api.service_types": "*",
    "GET api.staffing_get_coverage": "agency",
    "GET api.staffing_get_request": "",
    "GET api.staffing_list_requests": "staff org_admin org_worker other_org agency",
    "GET clients.accept_invitation": "",
    "GET clients.access_log": "staff",
    "GET clients.choose": "client",
    "GET clients.detail": "staff",
    "GET clients.edit": "staff",
    "GET clients.guidance_contacts": "staff",
    "GET clients.my_access_log": "client",
    "GET clients.my_data": "client",
    "GET clients.my_export": "client",
    "GET clients.my_messages": "client",
    "GET clients.my_network": "client",
    "GET clients.network_new": "staff",
    "GET clients.new": "staff",
    "GET clients.relative_new": "staff",
    "GET clients.search": "staff",
    "GET clients.staff_export": "staff",
    "GET core.admin_jobs": "admin",
    "GET core.dashboard": "admin staff manager org_admin org_worker other_org agency client",
    "GET core.dev_mail": "*",
    "GET core.health": "*",
    "GET core.index": "*",
    "GET feedback.by_phone": "staff",
    "GET feedback.form": "",
    "GET feedback.moderation": "admin",
    "GET feedback.needs_met": "admin manager",
    "GET feedback.order_feedback": "staff",
    "GET feedback.provider_feedback": "org_admin org_worker other_org agency",
    "GET feedback.provider_public": "*",
    "GET feedback.staff_item": "",
    "GET feedback.thanks": "",
    "GET marketplace.admin_catalogue": "admin",
    "GET marketplace.admin_category_edit": "",
    "GET marketplace.admin_category_new": "admin",
    "GET marketplace.admin_type_edit": "",
    "GET marketplace.admin_type_new": "admin",
    "GET marketplace.cart_view": "*",
    "GET marketplace.catalogue": "*",
    "GET marketplace.checkout": "*",
    "GET marketplace.checkout_return": "",
    "GET marketplace.my_purchases": "client",
    "GET marketplace.offering_edit": "org_admin",
    "GET marketplace.offering_new": "org_admin other_org agency",
    "GET marketplace.order": "",
    "GET marketplace.provider_offerings": "org_admin org_worker other_org agency",
    "GET marketplace.provider_page": "*",
    "GET marketplace.provider_purchase": "",
    "GET marketplace.provider_purchases": "admin org_admin org_worker other_org agency",
    "GET orders.detail": "staff org_admin org_worker",
    "GET orders.new": "staff",
    "GET orders.provider_inbox": "org_admin org_worker other_org agency",
    "GET orders.staff_list": "staff",
    "GET providers.accept_invitation": "",
    "GET providers.admin_detail": "admin",
    "GET providers.admin_list": "admin",
    "GET providers.application_sent": "*",
    "GET providers.apply": "*",
    "GET providers.attachment_download": "",
    "GET providers.edit_profile": "org_admin other_org agency",
    "GET providers.logo": "",
    "GET providers.organisation": "org_admin org_worker other_org agency",
    "GET providers.profile": "*",
    "GET reports.detail": "",
    "GET reports.download": "",
    "GET reports.index": "manager",
    "GET reports.status": "",
    "GET staffing.agency_inbox": "agency",
    "GET staffing.coverage": "agency",
    "GET staffing.detail": "",
    "GET staffing.new_request": "staff",
    "GET staffing.staff_list": "staff",
    "GET static": "",
    "POST accounts.account": "admin staff manager org_admin org_worker other_org agency client",
    "POST accounts.login": "*",
    "POST api.accept_order": "org_admin org_worker",
    "POST api.approve_provider": "admin",
    "POST api.cancel": "staff",
    "POST api.cancel_shop_order": "",
    "POST api.close": "staff",
    "POST api.complete": "org_admin org_worker",
    "POST api.confirm_shop_order_time": "admin org_admin org_worker other_org agency",
    "POST api.create": "staff",
    "POST api.create_offering": "org_admin org_worker other_org agency",
    "POST api.create_order": "staff",
    "POST api.create_provider": "admin",
    "POST api.create_report": "manager",
    "POST api.create_token": "*",
    "POST api.decline_order": "org_admin org_worker other_org agency",
    "POST api.fulfil_shop_order": "",
    "POST api.give_feedback": "",
    "POST api.mark_shop_order_paid": "",
    "POST api.refund_shop_order": "admin org_admin org_worker other_org agency",
    "POST api.reoffer": "staff",
    "POST api.report_visit": "org_admin org_worker other_org agency",
    "POST api.shop_checkout": "*",
    "POST api.staffing_cancel_request": "",
    "POST api.staffing_create_offer": "agency",
    "POST api.staffing_create_request": "staff",
    "POST api.staffing_reopen_request": "",
    "POST api.staffing_report_hours": "agency",
    "POST api.staffing_select_offer": "",
    "POST api.staffing_set_coverage": "agency",
    "POST api.staffing_withdraw_offer": "",
    "POST clients.accept_invitation": "",
    "POST clients.consent": "staff",
    "POST clients.edit": "staff",
    "POST clients.erase": "staff",
    "POST clients.erasure_decline": "staff",
    "POST clients.follow_up_done": "",
    "POST clients.give_login": "staff",
    "POST clients.guidance_contacts": "staff",
    "POST clients.handover": "staff",
    "POST clients.my_erasure_request": "client",
    "POST clients.my_messages": "client",
    "POST clients.network_end": "",
    "POST clients.network_new": "staff",
    "POST clients.new": "staff",
    "POST clients.order_message": "staff org_admin org_worker",
    "POST clients.relative_end": "",
    "POST clients.relative_new": "staff",
    "POST clients.retention_keep": "staff",
    "POST clients.staff_message": "staff",
    "POST core.admin_jobs_dispatch": "admin",
    "POST core.admin_jobs_retry": "admin",
    "POST feedback.by_phone": "staff",
    "POST feedback.form": "",
    "POST feedback.hide": "",
    "POST feedback.respond": "",
    "POST feedback.unhide": "",
    "POST marketplace.admin_category_edit": "",
    "POST marketplace.admin_category_new": "admin",
    "POST marketplace.admin_type_active": "",
    "POST marketplace.admin_type_edit": "",
    "POST marketplace.admin_type_new": "admin",
    "POST marketplace.buyer_cancel": "",
    "POST marketplace.cart_add": "*",
    "POST marketplace.cart_update": "*",
    "POST marketplace.checkout": "*",
    "POST marketplace.offering_active": "org_admin org_worker",
    "POST marketplace.offering_edit": "org_admin",
    "POST marketplace.offering_new": "org_admin other_org agency",
    "POST marketplace.pay": "",
    "POST marketplace.payment_onboarding": "org_admin org_worker other_org agency",
    "POST marketplace.purchase_cancel": "",
    "POST marketplace.purchase_confirm_time": "",
    "POST marketplace.purchase_fulfil": "",
    "POST marketplace.purchase_mark_paid": "",
    "POST marketplace.purchase_refund": "",
    "POST marketplace.stripe_webhook": "*",
    "POST orders.accept": "org_admin org_worker",
    "POST orders.cancel": "staff",
    "POST orders.close": "staff",
    "POST orders.complete": "org_admin org_worker",
    "POST orders.decline": "org_admin org_worker other_org agency",
    "POST orders.new": "staff",
    "POST orders.reoffer": "staff",
    "POST orders.visit": "org_admin org_worker other_org agency",
    "POST providers.accept_invitation": "",
    "POST providers.admin_decide": "admin",
    "POST providers.admin_reinstate": "admin",
    "POST providers.admin_suspend": "admin",
    "POST providers.apply": "*",
    "POST providers.attachment_delete": "",
    "POST providers.attachment_upload": "org_admin other_org agency",
    "POST providers.capacity_delete": "",
    "POST providers.capacity_save": "org_admin other_org agency",
    "POST providers.edit_profile": "org_admin other_org agency",
    "POST providers.invite_member": "org_admin other_org agency",
    "POST providers.member_role": "org_admin other_org agency",
    "POST providers.remove_member": "",
    "POST providers.resubmit": "org_admin other_org agency",
    "POST providers.revoke_invitation": "",
    "POST providers.rule_create": "org_admin other_org agency",
    "POST providers.rule_delete": "",
    "POST providers.rule_toggle": "",
    "POST reports.create": "manager",
    "POST staffing.cancel": "",
    "POST staffing.coverage": "agency",
    "POST staffing.new_request": "staff",
    "POST staffing.reopen": "",
    "POST staffing.report_hours": "",
    "POST staffing.select": "",
    "POST staffing.submit_offer": "",
    "POST staffing.withdraw": "",
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield f"{method} {rule.endpoint}", method, rule


@pytest.mark.smoke
def test_every_route_has_an_expectation(app):
    keys = {key for key, _, _ in _routes(app)}
    missing = sorted(keys - EXPECTED.keys() - NOT_IN_MATRIX)
    assert missing == [], "declare these routes in EXPECTED: " + ", ".join(missing)
    assert sorted(EXPECTED.keys() - keys) == []


@pytest.mark.slow
def test_access_matrix(app, subject_clients, org_a_ids):
    unexpected = []
    for subject, client in subject_clients.items():
        for key, method, rule in _routes(app):
            if key in NOT_IN_MATRIX:
                continue
            url = fill(rule, org_a_ids)
            kwargs = {"json": {}} if url.startswith("/api/") and method != "GET" else {}
            response = client.open(url, method=method, **kwargs)
            got = outcome(response)
            allowed = EXPECTED[key] == "*" or subject in EXPECTED[key].split()
            want = "reached" if allowed else "denied"
            if got != want:
                unexpected.append(f"{subject} {method} {url}: {got} ({response.status_code}), expected {want}")
    assert unexpected == []
    assert set(subject_clients) == set(SUBJECTS)
