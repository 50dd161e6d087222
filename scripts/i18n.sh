#!/usr/bin/env bash
# Translation workflow (Flask-Babel / pybabel). See docs/translations.md.
#
#   scripts/i18n.sh            extract + update + compile (the usual run)
#   scripts/i18n.sh extract    source code and templates -> translations/messages.pot
#   scripts/i18n.sh update     messages.pot -> fi, sv, en messages.po (init when missing)
#   scripts/i18n.sh compile    messages.po -> messages.mo (built on install and test, not committed)
#   scripts/i18n.sh check      fails if fi or sv has an untranslated or fuzzy entry,
#                              a string from the code is missing, a %(name)s
#                              placeholder or plural form differs, or a .mo file does not carry
#                              the same messages as its .po
#
# Several commands may be given in order, e.g. "scripts/i18n.sh update compile".
# PYBABEL (default .venv/bin/pybabel) and PYTHON (default: the python beside
# PYBABEL, else python3; it needs the babel package) can be overridden.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ "$PYBABEL" == */* && -x "$(dirname "$PYBABEL")/python" ]]; then
        PYTHON="$(dirname "$PYBABEL")/python"
    else
        PYTHON=python3
    fi
fi

DIR=translations
POT="$DIR/messages.pot"
LOCALES=(fi sv en)     # every catalogue we ship
REQUIRED=(fi sv)       # must be fully translated; en may fall back to the English msgids

# Keywords on top of pybabel's defaults (_, gettext, ngettext, pgettext, ...).
KEYWORDS=(-k _l -k lazy_gettext -k ngettext:1,2 -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 -k plural_text:1,2)

extract_to() {
    local version
    version="$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n 1)"
    "$PYBABEL" -q extract -F babel.cfg -o "$1" --sort-by-file \
        --add-comments=TRANSLATORS: --project=Kotiapu --version="${version:-0}" --copyright-holder=Kotiapu \
        "${KEYWORDS[@]}" .
}

cmd_extract() {
    mkdir -p "$DIR"
    local tmp
    tmp="$(mktemp)"
    extract_to "$tmp"
    # Keep the old file when only the creation date would change, so that a run
    # with no new strings leaves the .pot, .po and .mo files untouched.
    if [[ -f "$POT" ]] && diff -q <(grep -v '^"POT-Creation-Date:' "$POT") \
                                    <(grep -v '^"POT-Creation-Date:' "$tmp") >/dev/null; then
        rm -f "$tmp"
        echo "extract: $POT unchanged"
    else
        mv "$tmp" "$POT"
        chmod 644 "$POT"
        echo "extract: wrote $POT ($(grep -c '^msgid ' "$POT") entries incl. header)"
    fi
}

cmd_update() {
    [[ -f "$POT" ]] || cmd_extract
    local lang po
    for lang in "${LOCALES[@]}"; do
        po="$DIR/$lang/LC_MESSAGES/messages.po"
        if [[ -f "$po" ]]; then
            # No fuzzy matching: a changed English text becomes a new, empty entry
            # (the old one stays below as an obsolete "#~" entry to copy from)
            # instead of silently getting a near-miss translation.
            "$PYBABEL" update -i "$POT" -d "$DIR" -l "$lang" --no-fuzzy-matching
        else
            "$PYBABEL" init -i "$POT" -d "$DIR" -l "$lang"
            # pybabel marks a new catalogue's header fuzzy, and compile then skips
            # the whole catalogue. The generated header is fine: unmark it.
            "$PYTHON" - "$po" "$lang" <<'PY'
import sys
from babel.messages.pofile import read_po, write_po
path, lang = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    catalog = read_po(f, locale=lang)
catalog.fuzzy = False
with open(path, "wb") as f:
    write_po(f, catalog, sort_by_file=True)
PY
        fi
    done
}

cmd_compile() {
    "$PYBABEL" compile -d "$DIR" --statistics
}

cmd_check() {
    local tmp status=0
    tmp="$(mktemp)"
    extract_to "$tmp"
    "$PYTHON" - "$DIR" "$tmp" "${REQUIRED[*]}" "${LOCALES[*]}" <<'PY' || status=$?
import io
import os
import sys

from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

directory, fresh_pot, required, shipped = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
problems = 0


def messages(compiled):
    """What a compiled catalogue answers: each message (context, id and plural
    forms) with its translation; the header (the generator's name and version) is left out."""
    found = {}
    for m in compiled:
        if m.id:
            ids = tuple(m.id) if isinstance(m.id, (list, tuple)) else (m.id,)
            strings = tuple(m.string) if isinstance(m.string, (list, tuple)) else (m.string,)
            found[(m.context, ids)] = strings
    return found


def report(path, lineno, text, msgid):
    global problems
    problems += 1
    shown = msgid[0] if isinstance(msgid, (list, tuple)) else msgid
    print(f"{path}:{lineno}: {text}: {shown!r}")


with open(fresh_pot, "rb") as f:
    source = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in read_po(f) if m.id}

for lang in shipped:
    po = os.path.join(directory, lang, "LC_MESSAGES", "messages.po")
    mo = po[:-3] + ".mo"
    if not os.path.exists(po):
        print(f"{po}: missing (run scripts/i18n.sh update)")
        problems += 1
        continue
    with open(po, "rb") as f:
        catalog = read_po(f, locale=lang)

    if lang in required:
        if catalog.fuzzy:
            print(f"{po}: the header is marked fuzzy (remove '#, fuzzy' above the first msgid)")
            problems += 1
        have = set()
        for m in catalog:
            if not m.id:
                continue
            have.add((m.id if isinstance(m.id, str) else m.id[0], m.context))
            strings = m.string if isinstance(m.string, (list, tuple)) else [m.string]
            if m.fuzzy:
                report(po, m.lineno, "fuzzy", m.id)
            elif not all(strings):
                report(po, m.lineno, "untranslated", m.id)
        for msgid, _ctx in sorted(source - have, key=str):
            print(f"{po}: not in the catalogue yet (run scripts/i18n.sh): {msgid!r}")
            problems += 1

    # Placeholders (%(name)s) and plural forms must match the English source.
    for m, errors in catalog.check():
        for error in errors:
            report(po, m.lineno, f"error: {error}", m.id)

    # The compiled catalogue must carry exactly the .po's translations. Compare the
    # messages, never the bytes: the generator writes its own version into the header.
    if not catalog.fuzzy:
        if not os.path.exists(mo):
            print(f"{mo}: missing (run scripts/i18n.sh compile)")
            problems += 1
        else:
            expected = io.BytesIO()
            write_mo(expected, catalog, use_fuzzy=False)
            expected.seek(0)
            with open(mo, "rb") as f:
                compiled = read_mo(f)
            if messages(compiled) != messages(read_mo(expected)):
                print(f"{mo}: its messages differ from {po} (run scripts/i18n.sh compile)")
                problems += 1

if problems:
    print(f"check: {problems} problem(s)")
    sys.exit(1)
print(f"check: ok ({', '.join(required)} fully translated; {', '.join(shipped)} compiled and current)")
PY
    rm -f "$tmp"
    return "$status"
}

if [[ $# -eq 0 ]]; then
    set -- extract update compile
fi
for cmd in "$@"; do
    case "$cmd" in
        extract|update|compile|check) "cmd_$cmd" ;;
        *) echo "usage: $0 [extract|update|compile|check]..." >&2; exit 2 ;;
    esac
done
