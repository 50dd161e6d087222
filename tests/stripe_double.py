"""A local stand-in for Stripe's API, and webhook payloads signed as Stripe signs them.

``StripeDouble`` is a small threaded HTTP server on 127.0.0.1 (a random port). The
official ``stripe`` library is pointed at it through ``STRIPE_API_BASE``; it answers
the calls the platform makes with Stripe-shaped JSON:

- ``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}``,
  ``POST /v1/checkout/sessions/{id}/expire``
- ``POST /v1/refunds`` (refuses more than the payment's unrefunded amount)
- ``POST /v1/accounts``, ``POST /v1/account_links``

It honours ``Idempotency-Key`` like Stripe (the same key replays the first answer
and creates nothing new) and records every request (method, path, decoded form
parameters, headers) in ``requests`` so tests can assert what was sent. Tests move
a session on with ``complete_session`` / ``expire_session`` and build the matching
webhook with ``event`` + ``sign``.

Nothing here reaches the internet.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}"


def _missing(kind: str, ident) -> tuple[int, dict]:
    return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                           "message": f"No such {kind}: '{ident}'"}}


def decode_form(pairs: list[tuple[str, str]]) -> dict:
    """``a[b][0][c]=x`` form encoding (as the stripe library sends) back to nested values."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for i, part in enumerate(parts):
            if i == len(parts) - 1:
                node[part] = value
            else:
                node = node.setdefault(part, {})

    def listify(node):
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(root)


@dataclass
class Recorded:
    method: str
    path: str
    params: dict
    headers: dict

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class StripeDouble:
    sessions: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
    accounts: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)
    # path prefix -> [times left, (status, error body)], e.g. to simulate an outage
    failures: dict = field(default_factory=dict)
    _idempotent: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> StripeDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _answer(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", _id("req"))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                params = decode_form(parse_qsl(raw or parts.query, keep_blank_values=True))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, body = double.dispatch(method, parts.path, params, headers)
                self._answer(status, body)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # ------------------------------------------------------------------ requests

    def calls(self, method: str, path_prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def fail_next(self, path_prefix: str, status: int = 500, message: str = "Something went wrong",
                  kind: str = "api_error", times: int = 1) -> None:
        """The next ``times`` requests to ``path_prefix`` get this error (the stripe
        library itself retries a 500 with the same idempotency key)."""
        self.failures[path_prefix] = [times, (status, {"error": {"type": kind, "message": message}})]

    def dispatch(self, method: str, path: str, params: dict, headers: dict) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(Recorded(method, path, params, headers))
            if not headers.get("authorization", "").startswith("Bearer sk_"):
                return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
            for prefix, entry in list(self.failures.items()):
                if path.startswith(prefix):
                    entry[0] -= 1
                    if entry[0] <= 0:
                        del self.failures[prefix]
                    return entry[1]
            key = headers.get("idempotency-key")
            if method == "POST" and key and (key, path) in self._idempotent:
                return self._idempotent[(key, path)]
            answer = self._route(method, path, params)
            if method == "POST" and key and answer[0] < 500:
                self._idempotent[(key, path)] = answer
            return answer

    def _route(self, method, path, params):
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        m = re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path)
        if m:
            session = self.sessions.get(m.group(1))
            if session is None:
                return _missing("checkout.session", m.group(1))
            if m.group(2) and method == "POST":
                if session["status"] != "open":
                    return 400, {"error": {"type": "invalid_request_error", "code": "checkout_session_not_open",
                                           "message": f"Only Checkout Sessions with a status of open can be expired. "
                                                      f"This session has a status of {session['status']}."}}
                session.update(status="expired", url=None)
            return 200, session
        if method == "POST" and path == "/v1/refunds":
            return self._create_refund(params)
        if method == "POST" and path == "/v1/accounts":
            account = {"id": _id("acct"), "object": "account", "type": params.get("type"), "email": params.get("email"),
                       "country": params.get("country"), "charges_enabled": False, "payouts_enabled": False,
                       "details_submitted": False, "metadata": params.get("metadata") or {}}
            self.accounts[account["id"]] = account
            return 200, account
        if method == "POST" and path == "/v1/account_links":
            if params.get("account") not in self.accounts:
                return _missing("account", params.get("account"))
            now = int(time.time())
            return 200, {"object": "account_link", "created": now, "expires_at": now + 300,
                         "url": f"https://connect.stripe.com/setup/e/{params['account']}/{_id('link')}"}
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({method}: {path})"}}

    def _create_session(self, params):
        items = params.get("line_items") or []
        try:
            total = sum(int(i["price_data"]["unit_amount"]) * int(i["quantity"]) for i in items)
        except (KeyError, TypeError, ValueError):
            return 400, {"error": {"type": "invalid_request_error", "message": "Invalid line_items"}}
        intent = params.get("payment_intent_data") or {}
        destination = (intent.get("transfer_data") or {}).get("destination")
        if destination and destination not in self.accounts and not destination.startswith("acct_ok"):
            return 400, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                   "message": f"No such destination: '{destination}'"}}
        session_id = _id("cs")
        session = {
            "id": session_id, "object": "checkout.session", "mode": params.get("mode"), "status": "open",
            "payment_status": "unpaid", "amount_total": total, "amount_subtotal": total,
            "currency": params.get("currency") or (items[0]["price_data"]["currency"] if items else "eur"),
            "customer_email": params.get("customer_email"), "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {}, "payment_intent": None,
            "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
            "expires_at": int(params.get("expires_at") or time.time() + 86400),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "_fee": int(intent.get("application_fee_amount") or 0), "_destination": destination,
        }
        self.sessions[session_id] = session
        return 200, session

    def _create_refund(self, params):
        intent = params.get("payment_intent")
        session = next((s for s in self.sessions.values() if s.get("payment_intent") == intent), None)
        if session is None or session["payment_status"] != "paid":
            return _missing("payment_intent", intent)
        amount = int(params.get("amount") or session["amount_total"])
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent)
        if amount < 1 or refunded + amount > session["amount_total"]:
            return 400, {"error": {"type": "invalid_request_error", "code": "amount_too_large",
                                   "message": f"Refund amount ({amount}) is greater than unrefunded amount "
                                              f"({session['amount_total'] - refunded})."}}
        refund = {"id": _id("re"), "object": "refund", "amount": amount, "currency": session["currency"],
                  "payment_intent": intent, "status": "succeeded", "metadata": params.get("metadata") or {},
                  "reverse_transfer": params.get("reverse_transfer"),
                  "refund_application_fee": params.get("refund_application_fee")}
        self.refunds[refund["id"]] = refund
        return 200, refund

    # ------------------------------------------------------------------ test controls

    def complete_session(self, session_id: str, payment_status: str = "paid", amount_total: int | None = None) -> dict:
        """The buyer paid on Stripe's page: the session is complete (``paid``, or
        ``unpaid`` for a delayed payment method)."""
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status=payment_status, url=None,
                           payment_intent=session.get("payment_intent") or _id("pi"))
            if amount_total is not None:
                session["amount_total"] = amount_total
            return dict(session)

    def expire_session(self, session_id: str) -> dict:
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="expired", url=None)
            return dict(session)

    def refunded_total(self, payment_intent: str) -> int:
        return sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == payment_intent)


def event(event_type: str, obj: dict, event_id: str | None = None, created: int | None = None) -> dict:
    """A Stripe event envelope around ``obj`` (test-only keys starting with ``_`` removed)."""
    return {"id": event_id or _id("evt"), "object": "event", "api_version": "2025-01-27.acacia",
            "created": created or int(time.time()), "livemode": False, "pending_webhooks": 1,
            "type": event_type, "data": {"object": {k: v for k, v in obj.items() if not k.startswith("_")}}}


def sign(payload: dict | str | bytes, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
    """The body and ``Stripe-Signature`` header exactly as Stripe sends them:
    ``t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``."""
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    body = body.encode() if isinstance(body, str) else body
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={t},v1={mac}"
