"""Tools of the untranslated-string check (docs/translations.md, "The
untranslated-string check").

Two ways a Finnish or Swedish page can show English:

1. A text goes through gettext but has no translation (a new string nobody ran
   ``scripts/i18n.sh`` for, an empty or fuzzy ``msgstr``, a message id built at run
   time). :class:`MarkingDomain` answers such a lookup with the English text between
   ``⦃`` and ``⦄``, so the mark shows up in whatever the text ends in (a page, an
   attribute, a flash message, an e-mail) and :func:`marks` finds it.
2. A text never goes through gettext at all. :class:`RawEnglish` knows every message
   id of two words or more from the catalogues and finds them verbatim in the text of
   a Finnish or Swedish page (unless the translation is the same text).

The marking catalogues are built from the ``.po`` files at test time (only entries
that are translated and not fuzzy count), so the check never depends on a stale
``.mo``. They are installed into the app as a Flask-Babel ``Domain`` (its public
``as_default()``) each time an application context is pushed; nothing in the app
is replaced.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
CHECKED = ("fi", "sv")
OPEN, CLOSE = "\u2983", "\u2984"  # ⦃ ⦄: never used in a text of ours
MARK = re.compile(f"{OPEN}(.*?){CLOSE}", re.S)


class _Marker(NullTranslations):
    """The fallback of a marking catalogue: every lookup that reaches it missed."""

    def gettext(self, message):
        return f"{OPEN}{message}{CLOSE}"

    def ngettext(self, singular, plural, n):
        return f"{OPEN}{singular if n == 1 else plural}{CLOSE}"

    def upgettext(self, context, message):
        return f"{OPEN}{message}{CLOSE}"

    def unpgettext(self, context, singular, plural, n):
        return f"{OPEN}{singular if n == 1 else plural}{CLOSE}"

    ugettext = gettext
    ungettext = ngettext
    pgettext = upgettext
    npgettext = unpgettext


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def read_catalogue(lang: str):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def marking_translations(lang: str, drop: tuple[str, ...] = ()) -> Translations:
    """The language's translations from its .po file, leaving out every empty or
    fuzzy entry (and the message ids in ``drop``, for the check's own test), with a
    fallback that marks whatever is not found."""
    import io

    from babel.messages.mofile import write_mo

    catalogue = read_catalogue(lang)
    for message in list(catalogue):
        if message.id and (message.fuzzy or not all(_strings(message)) or message.id in drop):
            catalogue.delete(message.id, context=message.context)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    translations = Translations(fp=buffer)
    translations.add_fallback(_Marker())
    return translations


def marking_domain(drop: tuple[str, ...] = ()):
    """A Flask-Babel domain whose Finnish and Swedish catalogues mark every miss."""
    from flask_babel import Domain, get_locale

    catalogues = {lang: marking_translations(lang, drop) for lang in CHECKED}

    class MarkingDomain(Domain):
        def get_translations(self):
            return catalogues.get(str(get_locale()), NullTranslations())

    return MarkingDomain()


def install(app, domain):
    """Make ``domain`` the translation domain of every application context of
    ``app`` (requests, jobs and commands) until the returned function is called."""
    from flask import appcontext_pushed

    def use_domain(sender, **_):
        domain.as_default()

    appcontext_pushed.connect(use_domain, app)
    domain.as_default()  # the context the caller is in
    return lambda: appcontext_pushed.disconnect(use_domain, app)


def marks(text: str) -> list[str]:
    return sorted({m.group(1).strip()[:120] for m in MARK.finditer(html.unescape(text))})


# --------------------------------------------------------------------------- visible text


class _Text(HTMLParser):
    """The text a person sees or hears in the page's language: text outside
    <script>/<style> and code (<code>, <pre>, <kbd>, <samp>: paths, field names),
    plus the attributes read out or shown (title, alt, aria-label, placeholder,
    button values). A part marked with another ``lang`` (the English API
    reference, a language's own name in the switcher) is left out: it is meant to be
    in that language."""

    SKIP = {"script", "style", "template", "code", "pre", "kbd", "samp"}  # not prose: code and literals
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    ATTRS = ("title", "alt", "aria-label", "placeholder", "aria-description")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self.page_lang = ""
        self._other: list[list] = []  # [tag, depth] of an open element in another language

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        lang = (values.get("lang") or "").split("-")[0].lower()
        if tag == "html":
            self.page_lang = lang
        if self._other and tag == self._other[-1][0] and tag not in self.VOID:
            self._other[-1][1] += 1
        elif lang and self.page_lang and lang != self.page_lang and tag not in self.VOID:
            self._other.append([tag, 1])
        if tag in self.SKIP:
            self._skip += 1
        if self._other or (lang and self.page_lang and lang != self.page_lang):
            return
        for name in self.ATTRS:
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button", "reset") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        if self._other and tag == self._other[-1][0]:
            self._other[-1][1] -= 1
            if not self._other[-1][1]:
                self._other.pop()

    def handle_data(self, data):
        if not self._skip and not self._other:
            self.parts.append(data)


def text_parts(page: str) -> list[str]:
    """Each text node and read-out attribute of the page in its own language."""
    parser = _Text()
    parser.feed(page)
    parser.close()
    return [" ".join(p.split()) for p in parser.parts if p.strip()]


def visible_text(page: str) -> str:
    return " ".join(text_parts(page))


# Words that are English and neither Finnish nor Swedish (so not "on", "in", "by", "be",
# "is", "for"), and the system's own English nouns and verbs. Two of them within five
# words of one text is English that no catalogue knows: a sentence or code the system
# stored, or a text a template never passed to gettext.
ENGLISH_WORDS = frozenset("""
the and with of to from your you this that has have been was were will not a an or at it
its which who what when their there into please our my offered reported provider providers
client clients order orders visit visits report company ngo hour idle web list name concern
declined answer next ranked first details record network messages guidance dashboard
""".split())
# Stored codes that are English words and were shown as they are ("(company)",
# "€ / hour", the jobs page's "idle"). A text made of nothing but these (and the words
# above) is a code that no label turned into a sentence.
CODE_WORDS = frozenset("""
company ngo agency hour item idle busy web api system queued started finished failed deferred
scheduled pending approved rejected suspended active open closed draft paid refunded cancelled
""".split())
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)


def english_runs(parts: list[str]) -> list[str]:
    """The texts among ``parts`` that hold two of ENGLISH_WORDS within five words, or
    are made of nothing but those words and CODE_WORDS (letters of two or more)."""
    found = []
    for part in parts:
        words = [w.lower() for w in _TOKEN.findall(part)]
        long_words = [w for w in words if len(w) > 1]
        if long_words and all(w in ENGLISH_WORDS or w in CODE_WORDS for w in long_words):
            found.append(part[:160])
            continue
        for i, word in enumerate(words):
            if word in ENGLISH_WORDS and len({w for w in words[i:i + 5] if w in ENGLISH_WORDS}) >= 2:
                found.append(part[:160])
                break
    return sorted(set(found))


def links(page: str) -> list[str]:
    """The targets of the page's links, and of its GET forms (filters, searches) sent
    with the values they show: a selected or first option, a checked box, a field's value."""

    class _Links(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.found: list[str] = []
            self.form: dict | None = None
            self.select: str | None = None

        def handle_starttag(self, tag, attrs):
            values = dict(attrs)
            if tag == "a" and values.get("href"):
                self.found.append(values["href"])
            elif tag == "form":
                method = (values.get("method") or "get").lower()
                self.form = None if method != "get" else {
                    "action": values.get("action") or "", "fields": [], "selects": {}}
            elif tag == "option" and self.form is not None and self.select:
                value = values.get("value", "")
                chosen = self.form["selects"]
                if self.select not in chosen or "selected" in values:
                    chosen[self.select] = value
            elif self.form is None or not values.get("name"):
                return
            elif tag == "input":
                kind = (values.get("type") or "text").lower()
                if kind in ("submit", "button", "reset", "image", "file"):
                    return
                if kind in ("checkbox", "radio") and "checked" not in values:
                    return
                self.form["fields"].append((values["name"], values.get("value") or ""))
            elif tag == "select":
                self.select = values["name"]

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None
            elif tag == "form" and self.form is not None:
                from urllib.parse import urlencode

                fields = self.form["fields"] + list(self.form["selects"].items())
                self.found.append(self.form["action"].split("?")[0] + "?" + urlencode(fields))
                self.form = None

    parser = _Links()
    parser.feed(page)
    parser.close()
    return parser.found


# --------------------------------------------------------------------------- raw English

_PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")
_WORD = re.compile(r"\w+")


class RawEnglish:
    """Finds English source texts (message ids of two words or more) verbatim in the
    text of a page in ``lang``: a text that was never passed through gettext."""

    def __init__(self, lang: str):
        catalogue = read_catalogue(lang)
        translated = [s for m in catalogue if m.id for s in _strings(m) if s]
        corpus = "\n".join(" ".join(s.split()) for s in translated)
        self.patterns: list[tuple[str, set[str], re.Pattern | None, str]] = []
        for message in catalogue:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
            strings = _strings(message)
            for source in ids:
                source = " ".join(source.split())
                if "<" in source or source in strings:
                    continue  # markup, or a translation that is the English text itself
                literal = _PLACEHOLDER.sub("\0", source).replace("%%", "%")
                pieces = [p.strip() for p in literal.split("\0") if p.strip()]
                counts = [len(_WORD.findall(p)) for p in pieces]
                if sum(counts) < 2 or max(counts, default=0) < 2:
                    continue
                if any(p in corpus for p in pieces if len(_WORD.findall(p)) >= 2):
                    continue  # the English words are part of some translation (a name, a term)
                longest = max(pieces, key=len)
                tokens = set(_WORD.findall(longest)[1:-1])
                regex = None
                if "\0" in literal:
                    parts = [" ".join(p.split()) for p in literal.split("\0")]
                    while parts and not parts[0]:
                        parts.pop(0)
                    while parts and not parts[-1]:
                        parts.pop()
                    regex = re.compile(r"[^<>]{1,80}?".join(re.escape(p) for p in parts))
                self.patterns.append((longest, tokens, regex, source))

    def find(self, text: str) -> list[str]:
        words = set(_WORD.findall(text))
        found = []
        for longest, tokens, regex, source in self.patterns:
            if not tokens <= words or longest not in text:
                continue
            if regex is None or regex.search(text):
                found.append(source)
        # A longer finding explains the shorter ones inside it.
        return sorted(s for s in found if not any(s != o and s in o for o in found))
