"""The untranslated-string check (issue 20 point 2, docs/translations.md).

With the demo data loaded, every page each demo role can reach by following links
from its dashboard (same-origin GET links, a bounded number), the public pages and
every e-mail template are rendered in Finnish and in Swedish, with catalogues in which
a missing translation shows as ``⦃English⦄`` (tests/i18n_marks.py). The test fails on

- a mark: a text went through gettext and has no Finnish or Swedish translation;
- an English message id (two words or more) found verbatim in the page's text: a text
  that never went through gettext (or was translated outside a request and kept);
- a page that answers 500.

``ALLOWED`` may list findings that come from rows the system stored in the database,
keyed by where the row comes from. It is empty since what the system writes is stored
as codes (issue 20 point 1); an entry that matches nothing fails the test. Never add a
page's or a template's own text to it.
"""

from __future__ import annotations

import os
import re
from collections import deque
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest

from demo import DEMO_LOGINS, DEMO_PASSWORD
from tests.i18n_marks import (CHECKED, RawEnglish, english_runs, install, links, marking_domain, marks, text_parts,
                              visible_text)

BASE = "http://kotiapu.test/"
PAGES_PER_ROLE = 140       # per role and language: enough to reach every kind of page
SAME_SHAPE = 2             # pages with the same path shape (ids replaced) visited at most
NEVER = re.compile(r"^/(static|api/v1)/|/logout$|/healthz$|/metrics$")

# Who logs in: every demo role, the provider's organisation admin and worker, the
# staffing agency, both clients and the relative.
LOGINS = {
    "staff": next(e for r, e, _ in DEMO_LOGINS if r == "staff"),
    "manager": next(e for r, e, _ in DEMO_LOGINS if r == "manager"),
    "admin": next(e for r, e, _ in DEMO_LOGINS if r == "admin"),
    "provider admin": next(e for _, e, _ in DEMO_LOGINS if e.startswith("tilaukset@hyvaarki")),
    "provider worker": next(e for _, e, _ in DEMO_LOGINS if e.startswith("tyontekija@hyvaarki")),
    "staffing agency": next(e for _, e, _ in DEMO_LOGINS if e.startswith("tilaukset@hoivarekry")),
    "client": next(e for _, e, _ in DEMO_LOGINS if e.startswith("asiakas@")),
    "relative": next(e for _, e, _ in DEMO_LOGINS if e.startswith("omainen@")),
}

# Findings allowed for now, keyed by where the text comes from:
# {"origin": (path pattern, predicate on the text)}. Empty: the order timeline and the
# staff access log are stored as codes and shown in the reader's language now.
ALLOWED: dict[str, tuple[re.Pattern, object]] = {}


_VISITED: list[str] = []  # written to $I18N_CHECK_VISITED when set, to see what the walk reached


_USED: set[str] = set()  # the ALLOWED entries that matched something in this run


def _allowed(url: str, text: str) -> bool:
    path = url.partition("?")[0]
    for origin, (where, what) in ALLOWED.items():
        if where.search(path) and what(text):
            _USED.add(origin)
            return True
    return False


def _shape(path: str, query: str) -> str:
    keys = sorted(k for k, _ in parse_qsl(query, keep_blank_values=True))
    return re.sub(r"\d+", "N", path) + ("?" + "&".join(keys) if keys else "")


def _next_urls(page: str, here: str) -> list[str]:
    found = []
    for href in links(page):
        if href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        url = urljoin(urljoin(BASE, here), href)
        parts = urlsplit(url)
        if parts.netloc != urlsplit(BASE).netloc or NEVER.search(parts.path):
            continue
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
        if len(query) != len(parse_qsl(parts.query, keep_blank_values=True)):
            continue  # a language switch: this walk stays in one language
        found.append(parts.path + ("?" + urlencode(query) if query else ""))
    return found


def crawl(client, start: list[str], lang: str, raw: RawEnglish, findings: list[str], who: str) -> int:
    """Walk same-origin GET links breadth-first from ``start`` (each start page is
    opened whatever its shape); record what is wrong."""
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    queue = deque(start)
    visited = 0
    while queue and visited < PAGES_PER_ROLE:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        path, _, query = url.partition("?")
        shape = _shape(path, query)
        if shapes.get(shape, 0) >= SAME_SHAPE and url not in start:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        response = client.get(url)
        visited += 1
        _VISITED.append(f"{who} [{lang}] {response.status_code} {url}")
        where = f"{who} [{lang}] GET {url}"
        if response.status_code >= 500:
            findings.append(f"{where}: answered {response.status_code}")
            continue
        if response.status_code in (301, 302, 303, 307, 308):
            target = urlsplit(urljoin(urljoin(BASE, url), response.headers["Location"]))
            if target.netloc == urlsplit(BASE).netloc and "lang=" not in target.query:
                queue.appendleft(target.path + ("?" + target.query if target.query else ""))
            continue
        kind = response.mimetype or ""
        if not (kind.startswith("text/") or kind in ("application/json", "application/xhtml+xml")):
            continue
        body = response.get_data(as_text=True)
        findings += [f"{where}: untranslated {m!r}" for m in marks(body) if not _allowed(url, m)]
        if kind == "text/html":
            parts = [p for p in text_parts(body) if not _allowed(url, p)]
            english = set(raw.find(" ".join(parts))) | set(english_runs(parts))
            findings += [f"{where}: English text {s!r}" for s in sorted(english)]
            queue.extend(_next_urls(body, url))
    return visited


@pytest.fixture
def marked(app, db):
    """The demo data, and the marking catalogues installed for every app context."""
    from demo import load_demo

    remove = install(app, marking_domain())
    try:
        load_demo()
        db.session.commit()
        yield app
    finally:
        remove()


def _log_in(client, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, (email, response.status_code)


@pytest.mark.slow
def test_every_page_of_every_role_is_in_finnish_and_swedish(marked):
    import sqlalchemy as sa

    from core.extensions import db
    from orders.models import ServiceOrder

    # The order page differs by state: guidance staff also open one order of each state.
    first_of_state = sa.select(sa.func.min(ServiceOrder.id)).group_by(ServiceOrder.status)
    orders_in_every_state = [f"/orders/{i}" for i in sorted(db.session.scalars(first_of_state))]
    assert len(orders_in_every_state) >= 5, orders_in_every_state
    findings: list[str] = []
    visited: dict[str, int] = {}
    for lang in CHECKED:
        raw = RawEnglish(lang)
        client = marked.test_client()
        visited[f"public {lang}"] = crawl(client, [f"/?lang={lang}", "/"], lang, raw, findings, "public")
        for who, email in LOGINS.items():
            client = marked.test_client()
            _log_in(client, email)
            client.get(f"/dashboard?lang={lang}")
            start = ["/dashboard"] + (orders_in_every_state if who == "staff" else [])
            visited[f"{who} {lang}"] = crawl(client, start, lang, raw, findings, who)
    # The e-mails the demo's story queued (rendered while the marking catalogues were in use).
    from core.models import OutgoingEmail

    emails = db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.language.in_(CHECKED))).all()
    raws = {lang: RawEnglish(lang) for lang in CHECKED}
    for email in emails:
        text = f"{email.subject}\n{email.body}"
        where = f"e-mail {email.id} [{email.language}] {email.subject[:40]!r}"
        findings += [f"{where}: untranslated {m!r}" for m in marks(text)]
        lines = [" ".join(line.split()) for line in text.splitlines()]
        english = set(raws[email.language].find("\n".join(lines))) | set(english_runs(lines))
        findings += [f"{where}: English text {s!r}" for s in sorted(english)]
    visited["stored e-mails"] = len(emails)
    if os.environ.get("I18N_CHECK_VISITED"):
        Path(os.environ["I18N_CHECK_VISITED"]).write_text("\n".join(_VISITED) + "\n")
    # Every role really saw its pages (a login that failed would make the check empty).
    print(visited)
    assert all(n >= 5 for k, n in visited.items() if k != "stored e-mails"), visited
    # An entry that excuses nothing any more (the rows became codes) must go.
    assert set(ALLOWED) <= _USED, f"remove from ALLOWED, nothing matches them now: {sorted(set(ALLOWED) - _USED)}"
    assert not findings, f"{len(findings)} finding(s) ({visited}):\n" + "\n".join(
        sorted(set(findings)))


# --------------------------------------------------------------------------- e-mails


class _Anything(int):
    """A stand-in for every value an e-mail template is given: a number (2, so plural
    forms are used) that also has any attribute, can be called and holds two items, so
    every branch and loop of the template is rendered."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __str__(self):
        return "X-2"

    def __format__(self, spec):
        return "2"

    def __iter__(self):
        return iter((_Anything(2), _Anything(2)))  # two of everything a loop goes over (or unpacks)

    def __len__(self):
        return 2


def _email_templates() -> list[str]:
    from tests.i18n_marks import ROOT

    folder = ROOT / "templates"
    return sorted(str(p.relative_to(folder)) for p in folder.glob("*/email/*.txt"))


def test_every_email_template_is_in_finnish_and_swedish(app):
    """Each e-mail template (subject and body, every optional part shown) in fi and sv,
    rendered as the jobs render them (core.mail and the domains' jobs)."""
    import jinja2.meta

    from flask import render_template
    from flask_babel import force_locale

    templates = _email_templates()
    assert len(templates) >= 20, templates
    raws = {lang: RawEnglish(lang) for lang in CHECKED}
    remove = install(app, marking_domain())
    findings = []
    try:
        for name in templates:
            names, todo, done = set(), [name], set()
            while todo:  # the template and the ones it includes
                current = todo.pop()
                done.add(current)
                tree = app.jinja_env.parse(app.jinja_env.loader.get_source(app.jinja_env, current)[0])
                names |= jinja2.meta.find_undeclared_variables(tree)
                todo += [t for t in jinja2.meta.find_referenced_templates(tree) if t and t not in done]
            context = {n: _Anything(2) for n in names if n not in app.jinja_env.globals}
            for lang, raw in raws.items():
                with app.test_request_context("/"), force_locale(lang):
                    text = "\n".join(" ".join(line.split()) for line in render_template(name, **context).splitlines())
                findings += [f"{name} [{lang}]: untranslated {m!r}" for m in marks(text)]
                english = set(raw.find(text)) | set(english_runs(text.split("\n")))
                findings += [f"{name} [{lang}]: English text {s!r}" for s in sorted(english)]
    finally:
        remove()
    assert not findings, "\n".join(findings)


# --------------------------------------------------------------------------- the check itself


def test_the_check_sees_a_missing_translation_and_raw_english(app, client):
    """The check can fail: a message without a translation shows marked on a real page,
    and English that never went through gettext is found in a Finnish text."""
    remove = install(app, marking_domain(drop=("Log in",)))
    try:
        page = client.get("/login?lang=fi").get_data(as_text=True)
        assert "Log in" in marks(page)
        page_sv = client.get("/login?lang=sv").get_data(as_text=True)
        assert "Log in" in marks(page_sv)
    finally:
        remove()
    remove = install(app, marking_domain())
    try:
        page = client.get("/login?lang=fi").get_data(as_text=True)
        assert marks(page) == []
        text = visible_text(page)
        raw = RawEnglish("fi")
        assert raw.find(text) == []
        assert raw.find(text + " Ask for help at home") == ["Ask for help at home"]
    finally:
        remove()
