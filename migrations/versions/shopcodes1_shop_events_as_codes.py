"""store a purchase's system notes as codes

What the system writes on a purchase's history (``shop_order_events``) becomes a
message code with JSON parameters (``marketplace.texts``), rendered in the reader's
language when shown, as ``codes1`` did for orders. The table gets ``code`` and
``params``. Existing rows are converted: the sentences the system wrote were
translated into the language of whoever caused them, so the English, Finnish and
Swedish forms (and the demo's Finnish ones) are recognised; amounts become cents.
What a person wrote (a delivery note, a reason) stays in ``note``; a refund's
reason that followed "Refunded X." is kept there too. A sentence no pattern knows
stays as it was: in ``note`` when a person's action wrote it, under the
``legacy_text`` code when the system did. The downgrade writes the English
sentences back (a person's words after them) and drops the columns.

Revision ID: shopcodes1
Revises: codes1
Create Date: 2026-12-06 09:40:00

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'shopcodes1'
down_revision = 'codes1'
branch_labels = None
depends_on = None


LEGACY = "legacy_text"

# Sentences without parameters, in every language they were stored in.
FIXED = {
    "shop.invoice_paid": ("Invoice paid.", "Lasku maksettu.", "Fakturan betald.",
                          "Ennakkolasku maksettu."),  # the demo's
    "shop.card_paid": ("Card payment received.", "Korttimaksu on saatu.", "Kortbetalningen har kommit in."),
    "shop.amount_mismatch": (
        "The payment service reported a different amount; the purchase was not marked paid.",
        "Maksupalvelu ilmoitti eri summan. Ostoa ei merkitty maksetuksi.",
        "Betaltjänsten rapporterade ett annat belopp. Köpet markerades inte som betalt."),
    "shop.late_payment_refunded": (
        "The payment arrived after the purchase was cancelled and was refunded in full.",
        "Maksu tuli vasta, kun osto oli jo peruttu. Se hyvitettiin kokonaan.",
        "Betalningen kom efter att köpet hade annullerats och återbetalades i sin helhet."),
    "shop.payment_expired": ("The payment time ran out; the purchase was released.",
                             "Maksuaika loppui, ja osto vapautettiin.", "Betalningstiden gick ut och köpet släpptes."),
    "shop.payment_not_completed": ("The payment was not completed; the purchase was released.",
                                   "Maksu ei onnistunut, ja osto vapautettiin.",
                                   "Betalningen slutfördes inte och köpet släpptes.",
                                   "Korttimaksua ei suoritettu loppuun."),  # the demo's
}
FIXED_TEXT = {text: code for code, texts in FIXED.items() for text in texts}

# The default reason of a paid purchase cancelled by its seller.
CANCELLED = {"Cancelled.", "Peruttu.", "Annullerat."}

PATTERNS = (  # (code, pattern); groups: time, amount, service, old, new, rest
    ("shop.time_confirmed", re.compile(r"^(?:Time confirmed|Aika vahvistettu|Tiden bekräftad): (?P<time>.+)$", re.DOTALL)),
    ("shop.refunded_by_service", re.compile(
        r"^(?:Refunded through the payment service; (?P<a1>.+?) refunded in all\."
        r"|Hyvitetty maksupalvelun kautta\. Hyvitetty yhteensä (?P<a2>.+?)\."
        r"|Återbetalat via betaltjänsten\. Sammanlagt återbetalat (?P<a3>.+?)\.)$")),
    ("shop.refunded", re.compile(r"^(?:Refunded|Hyvitetty|Återbetalat) (?P<amount>.+?)\.(?: (?P<rest>.*))?$", re.DOTALL)),
    ("shop.price_rose", re.compile(
        r"^(?:The price of (?P<s1>.+?) has risen from (?P<o1>.+?) to (?P<n1>.+?) since it was shown to you\. "
        r"This order keeps the price shown, .+?\."
        r"|Palvelun (?P<s2>.+?) hinta on noussut sen jälkeen, kun se näytettiin sinulle: ennen (?P<o2>.+?), "
        r"nyt (?P<n2>.+?)\. Tämä tilaus pitää näytetyn hinnan .+?\."
        r"|Priset för (?P<s3>.+?) har stigit från (?P<o3>.+?) till (?P<n3>.+?) sedan det visades för dig\. "
        r"Den här beställningen behåller det visade priset, .+?\.)$")),
    ("shop.price_dropped", re.compile(
        r"^(?:The price of (?P<s1>.+?) has dropped from (?P<o1>.+?) to (?P<n1>.+?) since it was shown to you\. "
        r"You pay the new price, .+?\."
        r"|Palvelun (?P<s2>.+?) hinta on laskenut sen jälkeen, kun se näytettiin sinulle: ennen (?P<o2>.+?), "
        r"nyt (?P<n2>.+?)\. Maksat uuden hinnan .+?\."
        r"|Priset för (?P<s3>.+?) har sjunkit från (?P<o3>.+?) till (?P<n3>.+?) sedan det visades för dig\. "
        r"Du betalar det nya priset, .+?\.)$")),
)
_MONEY = re.compile(r"^(?:€\s?)?-?\d{1,3}(?:[\s\u00a0\u202f,.]?\d{3})*[.,]\d{2}(?:[\s\u00a0\u202f]?€)?$")


def cents(text):
    """A formatted euro amount ("€1,234.50", "1 234,50 €") in cents, or None."""
    text = (text or "").strip()
    if not _MONEY.match(text):
        return None
    return int(re.sub(r"\D", "", text))


def _first(match, *names):
    return next((match.group(n) for n in names if match.group(n) is not None), None)


def note_to_code(actor_id, note):
    """(code, params, note) for an old row's ``note``."""
    if note is None:
        return None, None, None
    text = note.strip()
    if text in FIXED_TEXT:
        return FIXED_TEXT[text], {}, None
    for code, pattern in PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        if code == "shop.time_confirmed":
            return code, {"time": match.group("time")}, None
        if code == "shop.refunded_by_service":
            amount = cents(_first(match, "a1", "a2", "a3"))
            if amount is not None:
                return code, {"amount": amount}, None
            continue
        if code == "shop.refunded":
            amount = cents(match.group("amount"))
            if amount is None:
                continue
            rest = (match.group("rest") or "").strip() or None
            if rest in CANCELLED:
                return "shop.cancelled_refunded", {"amount": amount}, None
            return code, {"amount": amount}, rest
        old, new = cents(_first(match, "o1", "o2", "o3")), cents(_first(match, "n1", "n2", "n3"))
        if old is not None and new is not None:
            return code, {"service": _first(match, "s1", "s2", "s3"), "old": old, "new": new}, None
    if actor_id is not None:
        return None, None, note  # a person's words
    return LEGACY, {"text": note}, None


def euro_text(amount):
    return f"€{amount / 100:,.2f}" if isinstance(amount, int) else str(amount)


ENGLISH = {code: texts[0] for code, texts in FIXED.items()}


def code_to_note(code, params, note, service_name):
    """The English sentence of ``code`` (a person's ``note`` after it), or None."""
    params = params or {}
    if code == LEGACY:
        text = params.get("text")
    elif code in ENGLISH:
        text = ENGLISH[code]
    elif code == "shop.time_confirmed":
        text = f"Time confirmed: {params.get('time')}"
    elif code == "shop.refunded":
        text = f"Refunded {euro_text(params.get('amount'))}."
    elif code == "shop.cancelled_refunded":
        text = f"Refunded {euro_text(params.get('amount'))}. Cancelled."
    elif code == "shop.refunded_by_service":
        text = f"Refunded through the payment service; {euro_text(params.get('amount'))} refunded in all."
    elif code in ("shop.price_rose", "shop.price_dropped"):
        service, old, new = service_name(params.get("service")), euro_text(params.get("old")), euro_text(params.get("new"))
        if code == "shop.price_rose":
            text = (f"The price of {service} has risen from {old} to {new} since it was shown to you. "
                    f"This order keeps the price shown, {old}.")
        else:
            text = (f"The price of {service} has dropped from {old} to {new} since it was shown to you. "
                    f"You pay the new price, {new}.")
    else:
        return None
    return f"{text} {note}" if note and text else (text or note)


EVENTS = sa.table("shop_order_events", sa.column("id", sa.Integer), sa.column("actor_id", sa.Integer),
                  sa.column("note", sa.Text), sa.column("code", sa.String), sa.column("params", sa.JSON))
SERVICE_TYPES = sa.table("service_types", sa.column("id", sa.Integer), sa.column("name_fi", sa.String),
                         sa.column("name_en", sa.String))


def _batches(conn, stmt, size=1000):
    last = 0
    while True:
        rows = conn.execute(stmt.where(EVENTS.c.id > last).order_by(EVENTS.c.id).limit(size)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def upgrade():
    with op.batch_alter_table('shop_order_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))

    conn = op.get_bind()
    stmt = sa.select(EVENTS.c.id, EVENTS.c.actor_id, EVENTS.c.note).where(EVENTS.c.note.is_not(None))
    for rows in _batches(conn, stmt):
        for row in rows:
            code, params, note = note_to_code(row.actor_id, row.note)
            if code is not None:
                conn.execute(sa.update(EVENTS).where(EVENTS.c.id == row.id).values(code=code, params=params, note=note))


def downgrade():
    conn = op.get_bind()

    def service_name(value):
        if isinstance(value, int) and not isinstance(value, bool):
            row = conn.execute(sa.select(SERVICE_TYPES.c.name_en, SERVICE_TYPES.c.name_fi)
                               .where(SERVICE_TYPES.c.id == value)).first()
            return (row.name_en or row.name_fi) if row else "–"
        return str(value)

    stmt = sa.select(EVENTS.c.id, EVENTS.c.note, EVENTS.c.code, EVENTS.c.params).where(EVENTS.c.code.is_not(None))
    for rows in _batches(conn, stmt):
        for row in rows:
            text = code_to_note(row.code, row.params, row.note, service_name)
            if text is not None:
                conn.execute(sa.update(EVENTS).where(EVENTS.c.id == row.id).values(note=text))

    with op.batch_alter_table('shop_order_events', schema=None) as batch_op:
        batch_op.drop_column('params')
        batch_op.drop_column('code')
