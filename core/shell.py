"""The page shell (header, menu, footer, assets) rendered once and kept.

Every page extends ``templates/core/base.html``. Its header (language links, the
user box, the role's menu, the demo banner) and footer are the same for everyone who
shares a language, a role, a page and a menu; only the user's name and the CSRF
token differ. Rendering them through Jinja on every request cost about 1 ms of the
2–3 ms that a logged-in page's shell takes (a dozen translations, a dozen
``url_for`` calls, the menu built afresh), more than the whole minimal list page
that issue 19 measures the pages against.

So ``shell_header()`` renders ``core/_shell_header.html`` once per *key* with two
markers in place of the name and the token, splits the result at the markers and
keeps the pieces on the application (``app.extensions``, so every app of a test run
has its own); a request then only works out its key and joins the pieces with its
own escaped name and token. The key holds everything the header's output depends
on: language and its catalogue (a test may install another), script root (URLs), whether logged in, role, whether a client user is
a relative, the endpoint (the menu's current item), the menu's labels as worked out
for this user (a label may depend on the user, core.registry) and the demo flag.
The footer and the asset links are kept the same way. The caches are bounded
(a key is per endpoint, not per user or per URL) and hold no personal data.
"""

from __future__ import annotations

from types import FunctionType

from flask import current_app, render_template, request, url_for
from markupsafe import Markup, escape

from core.current import request_user
from core.i18n import current_language, current_translations, text_of
from core.registry import NAVIGATION

# A NUL never reaches a page (core.inputs refuses it in requests; no template writes
# one), so these cannot occur in a rendered header by accident.
_NAME, _TOKEN = "\x00kotiapu-shell-name\x00", "\x00kotiapu-shell-token\x00"
_MAX_KEYS = 4096  # far above languages × roles × endpoints; a guard, not a working limit


def _cache(name: str) -> dict:
    store = current_app.extensions.setdefault("kotiapu_shell", {})
    cache = store.get(name)
    if cache is None or len(cache) > _MAX_KEYS:
        cache = store[name] = {}
    return cache


_DEPENDS_ON_USER = object()  # a role's menu with a label worked out per user: not kept


def _menu(user, endpoint: str | None) -> tuple:
    """The role's menu as (endpoint, label text, current) for this user; the URLs are
    worked out only when the header is rendered for a new key. A menu whose labels
    are all plain texts is the same for every user of the role, page and catalogue,
    and is kept (translating its labels took some fifty calls of every page)."""
    if not user.is_authenticated:
        return ()
    role = user.role
    entries = NAVIGATION.get(role, [])
    cache = _cache("menu")
    key = (role, endpoint, current_translations(), len(entries))
    menu = cache.get(key)
    if menu is not None and menu is not _DEPENDS_ON_USER:
        return menu
    views = current_app.view_functions
    items = []
    depends_on_user = False
    for _position, item_endpoint, label in entries:
        if item_endpoint not in views:
            continue
        if isinstance(label, FunctionType):  # a label that depends on the user (see core.registry)
            label = label(user)
            depends_on_user = True
        items.append((item_endpoint, text_of(label), endpoint == item_endpoint))
    menu = tuple(items)
    cache[key] = _DEPENDS_ON_USER if depends_on_user else menu
    return menu


def navigation_items(menu: tuple) -> list[dict]:
    return [{"url": url_for(endpoint), "label": label, "current": current} for endpoint, label, current in menu]


def shell_header() -> Markup:
    """``<body>`` to the demo banner, for this request's user, page and language."""
    from core.security import csrf_token

    user = request_user()
    endpoint = request.endpoint
    menu = _menu(user, endpoint)
    authenticated = user.is_authenticated
    key = (current_language(), current_translations(), request.script_root, authenticated,
           user.role if authenticated else None,
           authenticated and user.role == "client" and user.client_id is None,
           endpoint, menu, _demo())
    cache = _cache("header")
    pieces = cache.get(key)
    if pieces is None:
        html = render_template("core/_shell_header.html", shell_user_name=Markup(_NAME),  # nosec B704
                               shell_csrf_token=Markup(_TOKEN),  # nosec B704
                               shell_navigation=navigation_items(menu), shell_demo=key[-1])
        pieces = cache[key] = _split(html)
    # The pieces were rendered by Jinja with autoescape; the name is escaped here.
    if len(pieces) == 1:
        return Markup(pieces[0])  # nosec B704
    name = escape(user.name or user.email) if authenticated else ""
    token = csrf_token() if _TOKEN in pieces else ""
    return Markup("".join(name if p is _NAME else token if p is _TOKEN else p for p in pieces))  # nosec B704


def _demo() -> bool:
    """The demo banner's flag: the ``is_demo`` template global that accounts
    registers (core does not import accounts)."""
    is_demo = current_app.jinja_env.globals.get("is_demo")
    return bool(is_demo()) if is_demo is not None else False


def _split(html: str) -> tuple:
    """The rendered header cut at the markers: its pieces, each marker kept as the
    very marker object (so the join tells them from the text by identity)."""
    pieces: list[str] = []
    for i, part in enumerate(html.split(_NAME)):
        if i:
            pieces.append(_NAME)
        for j, bit in enumerate(part.split(_TOKEN)):
            if j:
                pieces.append(_TOKEN)
            pieces.append(bit)
    return tuple(pieces)


def shell_footer() -> Markup:
    from core.views import dev_mail_allowed

    key = (current_language(), current_translations(), request.script_root, dev_mail_allowed())
    cache = _cache("footer")
    html = cache.get(key)
    if html is None:
        html = cache[key] = Markup(render_template("core/_shell_footer.html", shell_dev_mail=key[-1]))  # nosec B704
    return html


def shell_assets() -> Markup:
    """The style sheet and script links (the same on every page)."""
    key = request.script_root
    cache = _cache("assets")
    html = cache.get(key)
    if html is None:
        # URLs of the app's own static files.
        html = cache[key] = Markup(  # nosec B704
            f'<link rel="stylesheet" href="{escape(url_for("static", filename="css/app.css"))}">\n'
            f'  <script src="{escape(url_for("static", filename="js/app.js"))}" defer></script>')
    return html


def init_shell(app) -> None:
    app.jinja_env.globals.update(shell_header=shell_header, shell_footer=shell_footer, shell_assets=shell_assets)
