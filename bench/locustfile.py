"""Load on loopback over the main journeys (issue 16, point 7), run by bench/load.py.

Three kinds of simulated users, with the demo logins:

- staff place service orders through the API (each with a unique marker in its
  instructions, so the check afterwards finds lost or doubled orders);
- providers (two organisations' administrators and workers) list the orders offered
  to them and accept them: several accept the same order at once, one must win;
- clients and guests browse: the catalogue, a provider's page, their dashboard.

Any 5xx is a failure; refusals the journeys expect (409 already taken, 422 no
capacity left) are not. ``KOTIAPU_LOAD_PLAN`` (JSON written by bench/load.py) names
the logins and the (client, service type) pairs that have eligible providers;
``KOTIAPU_LOAD_RESULT`` is where the created orders' markers are written at the end.
"""

from __future__ import annotations

import json
import os
import random
import re
import uuid

from locust import HttpUser, between, events, task

PLAN = json.loads(os.environ.get("KOTIAPU_LOAD_PLAN", "{}") or "{}")
CREATED: dict[str, int] = {}  # marker -> order id, from 201 answers
ACCEPTED: dict[int, list[int]] = {}  # order id -> provider ids that got 200 on accept


def _check(response):
    """A 5xx fails; anything else is a journey's normal answer (409 lost race, 422
    no capacity left are expected refusals)."""
    if response.status_code >= 500:
        response.failure(f"server error {response.status_code}")
    elif response.status_code == 0:
        # The connection broke without an answer (e.g. a keep-alive connection the
        # server closed as the request went out, or a request cut off at the end).
        response.failure(f"no answer: {type(response.error).__name__}")
    else:
        response.success()


class _ApiUser(HttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)
    logins: list[str] = []

    def on_start(self):
        email = random.choice(self.logins)
        with self.client.post("/api/v1/tokens", json={"email": email, "password": PLAN["password"]},
                              name="POST /api/v1/tokens", catch_response=True) as r:
            _check(r)
            self.headers = {"Authorization": f"Bearer {r.json()['token']}"} if r.status_code == 201 else {}


class Staff(_ApiUser):
    weight = 2

    def on_start(self):
        self.logins = PLAN["staff"]
        super().on_start()

    @task
    def place_order(self):
        client_id, service_type_id = random.choice(PLAN["pairs"])
        marker = f"load-{uuid.uuid4().hex}"
        body = {"client_id": client_id, "service_type_id": service_type_id, "start_date": PLAN["start_date"],
                "instructions": marker, "visits_per_week": 1, "minutes_per_visit": 60}
        with self.client.post("/api/v1/orders", json=body, headers=self.headers, name="POST /api/v1/orders",
                              catch_response=True) as r:
            _check(r)
            if r.status_code == 201:
                CREATED[marker] = r.json()["id"]

    @task
    def list_orders(self):
        with self.client.get("/api/v1/orders?limit=20", headers=self.headers, name="GET /api/v1/orders",
                             catch_response=True) as r:
            _check(r)


class Provider(_ApiUser):
    weight = 2

    def on_start(self):
        self.logins = PLAN["providers"]
        super().on_start()

    @task
    def accept_offers(self):
        with self.client.get("/api/v1/orders?status=offered&limit=20", headers=self.headers,
                             name="GET /api/v1/orders?status=offered", catch_response=True) as r:
            _check(r)
            items = r.json().get("items", []) if r.status_code == 200 else []
        pending = [o["id"] for o in items if any(x["status"] == "pending" for x in o.get("offers", []))]
        for order_id in pending[:3]:
            with self.client.post(f"/api/v1/orders/{order_id}/accept", headers=self.headers,
                                  name="POST /api/v1/orders/{id}/accept", catch_response=True) as r:
                _check(r)
                if r.status_code == 200:
                    ACCEPTED.setdefault(order_id, []).append(r.json()["provider_id"])


class Browser(HttpUser):
    """Clients (logged in through the login form) and guests browse."""

    weight = 1
    wait_time = between(0.2, 1.0)

    def on_start(self):
        self.logged_in = random.random() < 0.5
        if self.logged_in:
            page = self.client.get("/login", name="GET /login").text
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
            data = {"email": random.choice(PLAN["clients"]), "password": PLAN["password"]}
            if token:
                data["csrf_token"] = token.group(1)
            with self.client.post("/login", data=data, name="POST /login", allow_redirects=False,
                                  catch_response=True) as r:
                _check(r)

    @task(3)
    def catalogue(self):
        with self.client.get("/services", name="GET /services", catch_response=True) as r:
            _check(r)

    @task
    def search(self):
        with self.client.get("/services?q=siivous&sort=rating", name="GET /services?q=", catch_response=True) as r:
            _check(r)

    @task
    def provider_page(self):
        provider_id = random.choice(PLAN["provider_ids"])
        with self.client.get(f"/services/providers/{provider_id}", name="GET /services/providers/{id}",
                             catch_response=True) as r:
            _check(r)

    @task
    def dashboard(self):
        if self.logged_in:
            with self.client.get("/dashboard", name="GET /dashboard", catch_response=True) as r:
                _check(r)


@events.quitting.add_listener
def _write_result(environment, **_kw):
    path = os.environ.get("KOTIAPU_LOAD_RESULT")
    if path:
        with open(path, "w") as f:
            json.dump({"created": CREATED, "accepted": {str(k): v for k, v in ACCEPTED.items()}}, f)
