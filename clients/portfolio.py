"""The texts of the client portfolio's service cards ("My services"), made in one pass
over the cards.

A card shows a dozen texts, most of them the same on every card (the labels) or
repeating between cards (plural forms such as "2 times a week", "60 minutes", the
dates): written in the template, each was a translation, a plural form or a date
formatted afresh for each card and visit (about 50 per page). Here each distinct
text is made once per page and the template writes the results. The texts are
made exactly as the template's ``_``/``ngettext`` and ``|d`` make them (the
platform's own catalogue as markup, the values escaped by ``Markup``'s
formatting), so the page reads the same; every text from the database (the
provider's name and phone, the service's name, a visit's tasks) is escaped here.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from core.i18n import current_translations
from core.messages import plural_text
from core.templating import fmt_date, status_label


def N_(msgid: str) -> str:
    """Marks a text for extraction (pybabel's default keyword); translated when a
    page is made."""
    return msgid


# The labels every card repeats; the status texts as the client reads them.
_LABELS = {"arranging": N_("Being arranged"), "provider": N_("Provider"), "started": N_("Started"),
           "starts": N_("Starts"), "ended": N_("Ended"), "ends": N_("Ends"), "how_often": N_("How often"),
           "visits_so_far": N_("Visits so far"), "next": N_("What happens next"), "latest": N_("Latest visits"),
           "details": N_("Details and messages about this service")}
_STATUS = {"offered": N_("Being arranged"), "escalated": N_("Being arranged"), "accepted": N_("Agreed"),
           "in_progress": N_("Ongoing"), "completed": N_("Finished"), "closed": N_("Finished"),
           "cancelled": N_("Cancelled")}
_TIMES_A_WEEK = plural_text("%(num)s time a week", "%(num)s times a week")
_ABOUT_MINUTES = plural_text("about %(num)s minute", "about %(num)s minutes")
_MINUTES = plural_text("%(num)s minute", "%(num)s minutes")
_CONTINUE = plural_text("The visits continue %(num)s time a week.", "The visits continue %(num)s times a week.")

# "What happens next", about the client (a relative reads it) or to them.
_NEXT = {
    True: {"arranging": N_("A provider is being found. The responsible worker tells when one has been found."),
           "started": N_("%(provider)s will come. They contact the client to agree on the first visit."),
           "starts": N_("%(provider)s starts on %(date)s. They contact the client before the first visit."),
           "completed": N_("The service is finished. The responsible worker will check that the client got what "
                           "they needed."),
           "closed": N_("The service is finished and the responsible worker has checked it.")},
    False: {"arranging": N_("We are finding a provider for you. Your guidance worker tells you when one has been "
                            "found."),
            "started": N_("%(provider)s will come to you. They contact you to agree on the first visit."),
            "starts": N_("%(provider)s starts on %(date)s. They contact you before the first visit."),
            "completed": N_("The service is finished. You can give feedback through the link we sent you. Your "
                            "guidance worker will check that you got what you needed."),
            "closed": N_("The service is finished and your guidance worker has checked it.")},
}
_AS_AGREED = N_("The visits continue as agreed.")
_ENDS_ON = N_("The service ends on %(date)s.")
_CANCELLED = N_("The service was cancelled.")
_LATEST_ON = N_("the latest on %(date)s")


@dataclass(slots=True)
class Card:
    """One service card's texts as HTML, ready to write under ``autoescape false``
    (the translations as the catalogue has them, every value escaped)."""

    service: str
    status: str
    provider: str
    phone: str | None  # shown while the service is not finished
    phone_href: str | None
    start_label: str
    start: str
    end_label: str | None  # None: no end date
    end: str | None
    how_often: str | None  # None: no visits a week agreed
    visits_so_far: str
    next_step: str
    visits: list  # "date: N minutes – tasks" of the latest visits


class _Texts:
    """The current language's texts for one page, each distinct one made once."""

    def __init__(self):
        self.translations = current_translations()
        self.made: dict = {}

    def text(self, msgid: str, **variables) -> Markup:
        """As the template's ``_`` under autoescape: the translation as markup,
        %-formatted (always) with the values escaped."""
        key = (msgid, *variables.items())
        made = self.made.get(key)
        if made is None:
            made = self.made[key] = Markup(self.translations.ugettext(msgid)) % variables  # nosec B704
        return made

    def plural(self, singular: str, plural: str, num: int) -> Markup:
        """As the template's ``ngettext`` under autoescape."""
        key = (singular, num)
        made = self.made.get(key)
        if made is None:
            made = self.made[key] = Markup(self.translations.ungettext(singular, plural, num)) % {"num": num}  # nosec B704
        return made

    def date(self, value) -> Markup:
        """As ``{{ value|d }}`` under autoescape."""
        key = ("|d", value)
        made = self.made.get(key)
        if made is None:
            made = self.made[key] = escape(fmt_date(value))
        return made


def _next_step(texts: _Texts, s, provider: str, about_client: bool) -> str:
    """The card's "what happens next", with the whitespace the template's macro wrote
    around it (the page reads byte for byte as before)."""
    o = s.order
    status = o.status
    words = _NEXT[about_client]
    if status in ("offered", "escalated"):
        text = texts.text(words["arranging"])
    elif status == "accepted":
        text = (texts.text(words["started"], provider=provider) if s.started
                else texts.text(words["starts"], provider=provider, date=texts.date(o.start_date)))
    elif status == "in_progress":
        text = texts.plural(*_CONTINUE, o.visits_per_week) if o.visits_per_week else texts.text(_AS_AGREED)
        if o.end_date and not s.ended:
            text = f"{text} {texts.text(_ENDS_ON, date=texts.date(o.end_date))}"
    elif status in ("completed", "closed"):
        text = texts.text(words[status])
    elif status == "cancelled":
        text = texts.text(_CANCELLED)
    else:
        text = ""
    # The macro's line breaks: one more before the text about the client, one after
    # every text but the last branch's ("cancelled") and none for an unknown status.
    before = "\n\n\n" if about_client else "\n\n"
    after = "\n\n\n" if status in _STATUS and status != "cancelled" else "\n\n"
    return f"{before}{text}{after}"


def service_cards(groups: dict, about_client: bool) -> dict:
    """Each service's ``Card`` (set as ``ServiceView.card``) for the groups of
    ``clients.queries.portfolio``, and the labels every card repeats (returned, as
    markup); ``about_client``: a relative reads the page (the texts speak about the
    client, not to them)."""
    texts = _Texts()
    labels = {name: texts.text(msgid) for name, msgid in _LABELS.items()}
    status_texts = {status: texts.text(msgid) for status, msgid in _STATUS.items()}
    for phase in ("arranging", "active", "past"):
        for s in groups[phase]:
            o = s.order
            served = o.provider_id is not None
            provider = escape(o.provider_name)
            phone = escape(o.provider_phone) if served and o.provider_phone and phase != "past" else None
            if o.visits_per_week:
                how_often = texts.plural(*_TIMES_A_WEEK, o.visits_per_week)
                if o.minutes_per_visit:
                    how_often = f"{how_often}, {texts.plural(*_ABOUT_MINUTES, o.minutes_per_visit)}"
            else:
                how_often = None
            so_far = (f"{s.visit_count} – {texts.text(_LATEST_ON, date=texts.date(s.last_visit.date))}"
                      if s.last_visit else str(s.visit_count))
            visits = []
            for v in s.visits:
                line = f"{texts.date(v.date)}: {texts.plural(*_MINUTES, v.minutes)}"
                visits.append(f"{line} – {escape(', '.join(map(str, v.tasks)))}" if v.tasks else line)
            s.card = Card(
                service=str(escape(o.service)),
                status=status_texts.get(o.status) or escape(status_label(o.status)),
                provider=provider if served else labels["arranging"],
                phone=phone, phone_href=phone.replace(" ", "") if phone is not None else None,
                start_label=labels["started"] if s.started else labels["starts"], start=texts.date(o.start_date),
                end_label=(labels["ended"] if s.ended else labels["ends"]) if o.end_date else None,
                end=texts.date(o.end_date) if o.end_date else None,
                how_often=how_often, visits_so_far=so_far, next_step=_next_step(texts, s, provider, about_client),
                visits=visits)
    return labels
