"""The application factory: ``flask --app app ...`` and ``gunicorn 'app:create_app()'``."""

from __future__ import annotations

import importlib
import logging
import os

from flask import Flask

from core.config import SETTINGS, load_config


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or None,
                instance_relative_config=True)
    from core.i18n import TemplateEnvironment

    # Before anything makes ``app.jinja_env``: templates' constant texts translated
    # when compiled, once per language (core.i18n.TemplateEnvironment).
    app.jinja_environment = TemplateEnvironment
    # Overrides of environment settings go through the same parsing as the
    # environment (derived values such as engine options follow them); the rest are
    # plain Flask config.
    overrides = dict(overrides or {})
    environ = dict(os.environ)
    for s in SETTINGS:
        if s.name in overrides:
            environ[s.name] = str(overrides.pop(s.name))
    app.config.update(load_config(app.instance_path, environ))
    app.config.update(overrides)
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from core.logs import install_redaction

    install_redaction()  # no tokens, e-mail addresses or identity codes in any log record

    from core.extensions import babel, csrf, db, login_manager, migrate
    from core.inputs import init_inputs

    init_inputs(app)  # the bounded <int:> converter before any route; the NUL guard first

    db.init_app(app)
    from core.db import install_idle_ping, install_plan_cache_mode

    with app.app_context():
        install_idle_ping(db.engine)
        install_plan_cache_mode(db.engine, app.config["DATABASE_PLAN_CACHE_MODE"])
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)

    from core.i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)

    _import_models()
    from core.jobs import install_outbox_hooks

    with app.app_context():
        install_outbox_hooks()

    from core.security import init_security
    from core.errors import register_error_handlers
    from core.uow import init_unit_of_work
    from accounts.login import init_login

    init_unit_of_work(app)
    init_security(app)
    register_error_handlers(app)
    init_login(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_template_helpers(app)
    return app


# Each domain package may define ``init_app(app)`` in its ``__init__.py`` to register
# its blueprints, API routes (on ``core.api.api_bp``), CLI commands and periodic jobs.
DOMAINS = ("accounts", "catalogue", "clients", "providers", "marketplace", "orders", "feedback", "staffing", "reports",
           "interop", "vouchers", "frontdoor", "identity")


def _import_models() -> None:
    # Every table must be known to the metadata before migrations or queries run.
    import core.models  # noqa: F401

    for name in DOMAINS:
        importlib.import_module(f"{name}.models")


def _register_blueprints(app: Flask) -> None:
    from core.api import api_bp
    from core.extensions import csrf
    from core.views import bp as core_bp

    from core.api_routes import docs_bp  # also the routes on api_bp

    from core.ratelimit import init_ratelimit

    init_ratelimit(app, api_bp)
    app.register_blueprint(core_bp)
    app.register_blueprint(docs_bp)
    for name in DOMAINS:
        init = getattr(importlib.import_module(name), "init_app", None)
        if init is not None:
            init(app)
    csrf.exempt(api_bp)  # bearer tokens, no cookies: CSRF does not apply
    if "api" not in app.blueprints:
        app.register_blueprint(api_bp)


def _register_cli(app: Flask) -> None:
    from accounts.cli import users_cli
    from core.cli import jobs_cli
    from core.worker import worker_command
    from demo.cli import demo_command, serve_command

    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(serve_command)


def _register_template_helpers(app: Flask) -> None:
    from core.templating import init_templating

    init_templating(app)
