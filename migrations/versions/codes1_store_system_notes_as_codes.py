"""store system notes as codes

What the system writes on an order's timeline, in a client record's history, as a
follow-up's title and as a network row's role becomes a message code with JSON
parameters (``core.messages``), rendered in the reader's language when shown.
``order_events``, ``client_events`` and ``network_members`` get ``code`` and
``params`` (``follow_ups`` already had them). Existing rows are converted: the
known English sentences (and the demo's Finnish ones) become codes; a sentence no
pattern knows, where the system wrote it, is kept under the ``legacy_text`` code;
what a person wrote (a reason, an outcome note) stays in ``note``. The downgrade
writes the English sentences back and drops the columns.

Revision ID: codes1
Revises: totp1
Create Date: 2026-12-06 06:00:00

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'codes1'
down_revision = 'totp1'
branch_labels = None
depends_on = None


LEGACY = "legacy_text"

# -- order_events ----------------------------------------------------------------

# Actions whose note is what a person wrote: kept in ``note`` as it is.
PERSON_NOTE_ACTIONS = {"decline", "cancel", "close", "complete"}

ORDER_FIXED = {
    "first visit reported": "order.first_visit",
    "visit reported": "order.visit_reported",
    "visit reported with a concern": "order.visit_reported_concern",
    "visit missed": "order.visit_missed",
    "visit missed with a concern": "order.visit_missed_concern",
    "every provider declined or did not answer in time": "order.no_provider_left",
    "provider suspended: staff asked to arrange the service": "order.provider_suspended",
    "accepted automatically by the provider's rule": "offer.auto_accepted",
    "no answer by the deadline": "offer.expired",
    "offered to the next provider on the ranked list": "offer.next_ranked",
    "provider suspended": "offer.provider_suspended",
}
OFFERED = re.compile(r"^(single|broadcast|ranked): offered to (\d+) provider\(s\)$")


def order_note_to_code(action, note):
    """(code, params, note) for an old row's ``note``."""
    if note is None:
        return None, None, None
    text = note.strip()
    if text in ORDER_FIXED:
        return ORDER_FIXED[text], {}, None
    match = OFFERED.match(text)
    if match:
        return "order.offered", {"mode": match.group(1), "num": int(match.group(2))}, None
    if action in PERSON_NOTE_ACTIONS:
        return None, None, note
    return LEGACY, {"text": note}, None


def order_code_to_note(code, params):
    params = params or {}
    if code == LEGACY:
        return params.get("text")
    if code == "order.offered":
        return f"{params.get('mode')}: offered to {params.get('num')} provider(s)"
    for text, known in ORDER_FIXED.items():
        if known == code:
            return text
    return None


# -- client_events ---------------------------------------------------------------

SYSTEM_NOTE_ACTIONS = {"segment_changed", "retention_flagged", "handover"}
SEGMENT = re.compile(r"^(independent|guidance|intensive) → (independent|guidance|intensive)$")
NO_ACTIVITY = re.compile(r"^no activity for (\d+) days$")
HANDOVER = re.compile(r"^(.*) → (.*); (\d+) open follow-up\(s\) moved$", re.S)


def client_note_to_code(action, note):
    if note is None or action not in SYSTEM_NOTE_ACTIONS:
        return None, None, note
    text = note.strip()
    for pattern, code, names in ((SEGMENT, "client.segment_changed", ("from", "to")),
                                 (NO_ACTIVITY, "client.no_activity", ("num",)),
                                 (HANDOVER, "client.handover", ("from", "to", "num"))):
        match = pattern.match(text)
        if match:
            params = dict(zip(names, match.groups()))
            if "num" in params:
                params["num"] = int(params["num"])
            return code, params, None
    return LEGACY, {"text": note}, None


def client_code_to_note(code, params):
    params = params or {}
    if code == LEGACY:
        return params.get("text")
    if code == "client.segment_changed":
        return f"{params.get('from')} → {params.get('to')}"
    if code == "client.no_activity":
        return f"no activity for {params.get('num')} days"
    if code == "client.handover":
        return f"{params.get('from')} → {params.get('to')}; {params.get('num')} open follow-up(s) moved"
    return None


# -- follow_ups ------------------------------------------------------------------

# Codes written before this revision (``concern``, ``concern_escalated``, ``signals``)
# stay; these are the ones it adds.
FOLLOW_UP_FIXED = {
    "Check-up of an independent client (every 180 days)": "segment_check_independent",
    "Check-up of a client who needs guidance (every 60 days)": "segment_check_guidance",
    "Check-up of a client who needs intensive coordination (every 14 days)": "segment_check_intensive",
    "Tehostetun asiakkaan tilannekatsaus": "segment_check_intensive",  # the demo's Finnish title
    "No services for the retention period: erase the record, or keep it if still needed": "retention",
    "The client asked for their data to be erased: decide": "erasure",
}
FOLLOW_UP_PATTERNS = (
    (re.compile(r"^Order (\S+): the client did not get the service$"), "not_received", ("order",)),
    (re.compile(r"^The provider of order (\S+) was suspended: arrange the service$"), "provider_suspended", ("order",)),
    # The feedback follow-up was written in its worker's language.
    (re.compile(r"^Feedback on (\S+) needs attention: rating (\d)/5, needs met: (yes|no)$"), "feedback",
     ("order", "rating", "met")),
    (re.compile(r"^Palaute tilauksesta (\S+) vaatii huomiota: arvio (\d)/5, tarpeet täyttyivät: (kyllä|ei)$"),
     "feedback", ("order", "rating", "met")),
    (re.compile(r"^Respons på (\S+) kräver uppmärksamhet: betyg (\d)/5, behoven uppfylldes: (ja|nej)$"),
     "feedback", ("order", "rating", "met")),
)
YES_NO = {"yes": "yes", "no": "no", "kyllä": "yes", "ei": "no", "ja": "yes", "nej": "no"}
ADDED_FOLLOW_UP_CODES = set(FOLLOW_UP_FIXED.values()) | {p[1] for p in FOLLOW_UP_PATTERNS} | {LEGACY}


def follow_up_title_to_code(title):
    text = (title or "").strip()
    if text in FOLLOW_UP_FIXED:
        return FOLLOW_UP_FIXED[text], {}
    for pattern, code, names in FOLLOW_UP_PATTERNS:
        match = pattern.match(text)
        if match:
            params = dict(zip(names, match.groups()))
            if "rating" in params:
                params["rating"] = int(params["rating"])
            if "met" in params:
                params["met"] = YES_NO[params["met"]]
            return code, params
    return LEGACY, {"text": title}


# -- network_members -------------------------------------------------------------

NETWORK_ROLES = {"Palveluntuottaja": "network.provider"}  # the role the demo wrote in Finnish


def _table(name, *columns):
    return sa.table(name, sa.column("id", sa.Integer), *columns)


ORDER_EVENTS = _table("order_events", sa.column("action", sa.String), sa.column("note", sa.Text),
                      sa.column("code", sa.String), sa.column("params", sa.JSON))
CLIENT_EVENTS = _table("client_events", sa.column("action", sa.String), sa.column("note", sa.Text),
                       sa.column("code", sa.String), sa.column("params", sa.JSON))
FOLLOW_UPS = _table("follow_ups", sa.column("title", sa.String), sa.column("code", sa.String),
                    sa.column("params", sa.JSON))
NETWORK_MEMBERS = _table("network_members", sa.column("role", sa.String), sa.column("provider_id", sa.Integer),
                         sa.column("code", sa.String), sa.column("params", sa.JSON))


def _batches(conn, table, stmt, size=1000):
    last = 0
    while True:
        rows = conn.execute(stmt.where(table.c.id > last).order_by(table.c.id).limit(size)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _convert_events(conn, table, to_code):
    stmt = sa.select(table.c.id, table.c.action, table.c.note).where(table.c.note.is_not(None))
    for rows in _batches(conn, table, stmt):
        for row in rows:
            code, params, note = to_code(row.action, row.note)
            if code is not None:
                conn.execute(sa.update(table).where(table.c.id == row.id).values(code=code, params=params, note=note))


def _restore_events(conn, table, to_note):
    stmt = sa.select(table.c.id, table.c.note, table.c.code, table.c.params).where(table.c.code.is_not(None))
    for rows in _batches(conn, table, stmt):
        for row in rows:
            text = to_note(row.code, row.params)
            if text is not None and row.note is None:
                conn.execute(sa.update(table).where(table.c.id == row.id).values(note=text))


def upgrade():
    for name in ('order_events', 'client_events', 'network_members'):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('code', sa.String(length=60), nullable=True))
            batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))

    conn = op.get_bind()
    _convert_events(conn, ORDER_EVENTS, order_note_to_code)
    _convert_events(conn, CLIENT_EVENTS, client_note_to_code)
    stmt = sa.select(FOLLOW_UPS.c.id, FOLLOW_UPS.c.title).where(FOLLOW_UPS.c.code.is_(None))
    for rows in _batches(conn, FOLLOW_UPS, stmt):
        for row in rows:
            code, params = follow_up_title_to_code(row.title)
            conn.execute(sa.update(FOLLOW_UPS).where(FOLLOW_UPS.c.id == row.id).values(code=code, params=params))
    for role, code in NETWORK_ROLES.items():
        conn.execute(sa.update(NETWORK_MEMBERS).where(NETWORK_MEMBERS.c.role == role,
                                                      NETWORK_MEMBERS.c.provider_id.is_not(None))
                     .values(code=code, params={}))


def downgrade():
    conn = op.get_bind()
    _restore_events(conn, ORDER_EVENTS, order_code_to_note)
    _restore_events(conn, CLIENT_EVENTS, client_code_to_note)
    # Follow-ups keep their English ``title``: only the codes this revision added go.
    conn.execute(sa.update(FOLLOW_UPS).where(FOLLOW_UPS.c.code.in_(sorted(ADDED_FOLLOW_UP_CODES)))
                 .values(code=None, params=None))
    conn.execute(sa.update(NETWORK_MEMBERS).where(NETWORK_MEMBERS.c.code == "network.provider",
                                                  NETWORK_MEMBERS.c.role == "")
                 .values(role="Service provider"))

    for name in ('network_members', 'client_events', 'order_events'):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column('params')
            batch_op.drop_column('code')
