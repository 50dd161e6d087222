"""The request's user, looked up once.

``flask_login.current_user`` is a proxy: every attribute read on it goes through
werkzeug's ``LocalProxy`` and ``flask_login.utils._get_user`` again (a context-local
lookup, two more through ``g``), some ten function calls each time. A logged-in page
read it about fifty times, and the proxy handed down to the services and queries
paid that on every ``user.id`` they read.

``request_user()`` returns the object behind the proxy: the user Flask-Login loaded
for this request (``AnonymousUserMixin`` when nobody is logged in), read from where
Flask-Login keeps it, ``g._login_user``. ``g`` belongs to the application context
that the request pushed, so the object is the same one ``current_user`` gives in
this request and never another request's. When Flask-Login has not loaded the user
yet this request, the proxy loads it (the session checks of
``accounts.login.load_user`` run exactly as before). Outside a request: None, as
Flask-Login's own lookup gives.
"""

from __future__ import annotations

from flask.globals import _cv_app, _cv_request
from flask_login import current_user


def request_user():
    """The logged-in user of this request (Flask-Login's ``current_user`` itself,
    not the proxy); an anonymous user when nobody is logged in, None outside a
    request."""
    if _cv_request.get(None) is None:
        return None
    user = _cv_app.get().g.__dict__.get("_login_user")
    if user is None:
        return current_user._get_current_object()  # not loaded yet this request: Flask-Login loads it
    return user


def unproxied(user):
    """``user`` itself when it is the ``current_user`` proxy's target, else as given
    (a service may be handed either)."""
    if user is current_user:
        return request_user()
    return user
