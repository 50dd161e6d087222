"""The two ceilings of DESIGN.md section 9, served under the same gunicorn settings
as the platform:

- ``hello_app()`` – a bare Flask "hello world";
- ``minimal_app()`` – the minimal list page: one indexed SQLAlchemy query for 50 rows
  of the 100,000-row ``bench_items`` table (made by bench/seed.py), rendered by a
  Jinja template with one ``url_for`` per row;
- ``insert_app()`` – the minimal one-row INSERT endpoint, the yardstick of the POSTs;
- ``ten_statements_app()`` – the same endpoint making as many statements as placing
  an order does (3 reads, 5 INSERTs, 2 UPDATEs) in one transaction: the floor under a
  POST that keeps the platform's records, whatever its code.

    gunicorn 'bench.ceilings:hello_app()'
    DATABASE_URL=... gunicorn 'bench.ceilings:minimal_app()'
"""

from __future__ import annotations

import os

from flask import Flask, render_template_string, request

TEMPLATE = """<!doctype html><html lang="fi"><head><title>Items</title></head><body><main><h1>Items</h1><ul>
{% for row in rows %}<li><a href="{{ url_for('item', item_id=row.id) }}">{{ row.name }}</a></li>{% endfor %}
</ul></main></body></html>"""


def hello_app() -> Flask:
    app = Flask("hello")

    @app.get("/")
    def hello():
        return "Hello, World!"

    return app


def _database_app(name: str):
    """A bare Flask app with Flask-SQLAlchemy on DATABASE_URL (psycopg 3 for PostgreSQL)."""
    from flask_sqlalchemy import SQLAlchemy

    app = Flask(name)
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    return app, SQLAlchemy(app)


def minimal_app() -> Flask:
    import sqlalchemy as sa

    app, db = _database_app("minimal")
    items = sa.Table("bench_items", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("name", sa.String), sa.Column("category", sa.Integer))

    @app.get("/")
    def listing():
        category = request.args.get("category", 7, type=int)
        rows = db.session.execute(sa.select(items.c.id, items.c.name).where(items.c.category == category)
                                  .order_by(items.c.id).limit(50)).all()
        return render_template_string(TEMPLATE, rows=rows)

    @app.get("/items/<int:item_id>")
    def item(item_id: int):
        return str(item_id)

    return app


def _inserts_table():
    import sqlalchemy as sa

    return sa.Table("bench_inserts", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(100), nullable=False))


INSERTS = _inserts_table()


def create_inserts_table(engine) -> None:
    """Made by bench/run.py before the workers start (four workers creating it at
    once would race)."""
    INSERTS.create(engine, checkfirst=True)


def insert_app() -> Flask:
    """The yardstick of the POSTs: one JSON body in, one row INSERTed through
    SQLAlchemy and committed, 201 out (no login, no CSRF, no validation)."""
    import sqlalchemy as sa

    app, db = _database_app("insert")
    rows = INSERTS


    @app.post("/")
    def insert():
        body = request.get_json(silent=True) or {}
        new_id = db.session.execute(sa.insert(rows).values(name=str(body.get("name", ""))[:100])
                                    .returning(rows.c.id)).scalar_one()
        db.session.commit()
        return {"id": new_id}, 201

    return app


def ten_statements_app() -> Flask:
    """The POSTs' floor: the INSERT endpoint's request making the statements that
    placing an order makes (``bench/profile_post.py --sql place``: 3 SELECTs, 5
    INSERTs, 2 UPDATEs) through SQLAlchemy Core in one transaction, with no Python
    work besides. Its ratio to ``insert_app`` says how far a POST with those records
    can go on this machine, however lean its code."""
    import itertools

    import sqlalchemy as sa

    app, db = _database_app("ten")
    rows = INSERTS
    items = sa.Table("bench_items", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("name", sa.String), sa.Column("category", sa.Integer))
    counter = itertools.count(os.getpid() * 7919)

    @app.post("/")
    def ten():
        body = request.get_json(silent=True) or {}
        name = str(body.get("name", ""))[:100]
        n = next(counter)
        for k in range(3):
            db.session.execute(sa.select(items.c.id, items.c.name).where(items.c.id == (n * 3 + k) % 100000 + 1)).first()
        ids = [db.session.execute(sa.insert(rows).values(name=name).returning(rows.c.id)).scalar_one()
               for _ in range(5)]
        for new_id in ids[:2]:
            db.session.execute(sa.update(rows).where(rows.c.id == new_id).values(name=name + "."))
        db.session.commit()
        return {"id": ids[0]}, 201

    return app
