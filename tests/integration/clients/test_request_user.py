"""The logged-in user is looked up once per request (``core.current.request_user``)
and handed to the portal's scoping as the object itself: browsers of different users
taking turns in the same worker each get their own pages, scoping and access-log
rows, never those of the user before them."""

from __future__ import annotations

import sqlalchemy as sa

from core.models import AccessLogEntry
from tests.fixtures import PASSWORD


def _browser(app, user):
    c = app.test_client()
    r = c.post("/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return c


def _last_row(db, client_id):
    db.session.expire_all()
    return db.session.scalar(sa.select(AccessLogEntry).where(AccessLogEntry.client_id == client_id)
                             .order_by(AccessLogEntry.id.desc()).limit(1))


def test_users_taking_turns_in_one_worker_each_see_their_own_pages(app, db, world):
    aino, bertta, relative = (_browser(app, u) for u in (world.aino_user, world.bertta_user, world.relative))
    for _round in range(3):
        page = aino.get("/clients/me/data?lang=en").get_data(as_text=True)
        assert "Aino" in page and "Bertta" not in page and "Leena" not in page
        assert _last_row(db, world.aino.id).actor_id == world.aino_user.id

        page = bertta.get("/clients/me/data?lang=en").get_data(as_text=True)
        assert "Bertta" in page and "Aino" not in page
        assert _last_row(db, world.bertta.id).actor_id == world.bertta_user.id

        # The relative acts for Aino only; Bertta's record is a 404 to them.
        page = relative.get("/clients/me/data?lang=en").get_data(as_text=True)
        assert "Aino" in page and "Leena" in page and "Bertta" not in page
        row = _last_row(db, world.aino.id)
        assert (row.actor_id, row.purpose) == (world.relative.id, "a relative acting for the client")
        assert relative.get(f"/clients/me/data?client={world.bertta.id}").status_code == 404
        assert aino.get(f"/clients/me/data?client={world.bertta.id}").status_code == 404


def test_staff_and_client_taking_turns_get_their_own_dashboards(app, db, world):
    staff, aino = _browser(app, world.worker), _browser(app, world.aino_user)
    for _round in range(2):
        page = staff.get("/dashboard?lang=en").get_data(as_text=True)
        assert "Sanna Ohjaaja" in page and "Aino Asiakas" not in page.split("</header>")[0]
        page = aino.get("/dashboard?lang=en").get_data(as_text=True)
        assert "Aino Asiakas" in page and "Sanna Ohjaaja" not in page.split("</header>")[0]
        assert staff.get("/clients/me/data").status_code == 403  # the client portal is the client role's
        assert aino.get(f"/clients/{world.aino.id}").status_code == 403  # the staff page is staff's
