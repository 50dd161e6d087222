"""Fixtures for the interoperability tests: a small market (one service type offered
by two approved providers at 33100, a staff member, a consenting client), a real
HTTP receiver on 127.0.0.1 and a real RQ worker that also runs RQ's scheduler."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests import factories as f


@dataclass
class Market:
    service_type: object
    providers: list
    admins: list
    staff: object
    client: object


@pytest.fixture
def market(db, make_user):
    service_type = f.ServiceTypeFactory()
    providers, admins = [], []
    for i in range(2):
        provider = f.ProviderFactory(name=f"Kotiapu {i} Oy", languages=["fi"], phone="03 123 456",
                                     description="Kotihoitoa Tampereella.")
        f.OfferingFactory(provider=provider, service_type=service_type, price_cents=4200 + i * 300,
                          postal_codes=["33100", "33200"], languages=["fi", "sv"], household_deduction=i == 0)
        providers.append(provider)
        admins.append(make_user("provider", provider=provider, provider_role="admin"))
    staff = make_user("staff", name="Sanna Ohjaaja")
    client = f.ClientFactory(first_name="Aino", last_name="Asiakas", postal_code="33100", languages=["fi"],
                             responsible_worker_id=staff.id, email="aino@example.fi", address="Hämeenkatu 1")
    db.session.commit()
    return Market(service_type, providers, admins, staff, client)


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """A provider's system: records every POST and answers ``status``."""

    url: str
    requests: list = field(default_factory=list)
    status: int = 200

    def of_type(self, type_: str) -> list[Received]:
        return [r for r in self.requests if r.json()["type"] == type_]


@pytest.fixture
def receiver():
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(Received(self.path, dict(self.headers), body, time.monotonic()))
            self.send_response(state.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/kotiapu/hooks"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def running_worker(worker_env, tmp_path, db):
    """``running_worker(**settings)`` starts ``flask worker`` (a real RQ worker with
    RQ's scheduler, in its own process) with extra settings in its environment."""
    from tests.fixtures import start_worker, stop_worker

    started = []

    def start(**settings):
        db.session.commit()
        env = dict(worker_env, **{k: str(v) for k, v in settings.items()})
        started.append(start_worker(env, tmp_path / f"worker{len(started)}.log"))

    yield start
    for worker, log in started:
        stop_worker(worker, log)


def wait_until(db, predicate, timeout: float) -> bool:
    """Poll ``predicate()`` (on fresh reads) until it holds or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        if predicate():
            return True
        time.sleep(0.2)
    return False
