"""The platform's own users: the administrator, four guidance workers and two
service managers (provider and client logins are made with their organisations
and clients)."""

from __future__ import annotations

from datetime import timedelta

from accounts.models import Role
from demo.base import DOMAIN, Demo

STAFF = [  # (login, name, phone)
    ("ohjaaja1", "Sanna Lehtinen", "040 718 2231"),
    ("ohjaaja2", "Mikko Rantanen", "040 718 2232"),
    ("ohjaaja3", "Johanna Salo", "040 718 2233"),
    ("ohjaaja4", "Antti Koskinen", "040 718 2234"),
]
MANAGERS = [("johtaja", "Päivi Laaksonen"), ("johtaja2", "Jukka Hakala")]
ADMIN_NAME = "Tiina Virta"


def build_platform_users(d: Demo) -> None:
    """The administrator, four guidance workers and two managers."""
    started = d.ago(days=720)  # the platform went live about two years ago
    d.admin = d.user(f"admin@{DOMAIN}", Role.ADMIN, ADMIN_NAME, started)
    for login, name, phone in STAFF:
        staff = d.user(f"{login}@{DOMAIN}", Role.STAFF, name, started + timedelta(days=d.rng.uniform(1, 30)))
        staff.phone = phone
        d.staff.append(staff)
    d.staff_by_id = {s.id: s for s in d.staff}
    for login, name in MANAGERS:
        d.user(f"{login}@{DOMAIN}", Role.MANAGER, name, started + timedelta(days=d.rng.uniform(1, 60)))


