"""Tables on narrow screens: the labels that let a data table's rows stack as cards."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_TR = re.compile(r"(<tr\b.*?</tr>)", re.S | re.I)
_CELL = re.compile(r"<(td|th)\b([^>]*)>", re.I)


def header_label(header) -> str:
    """A data table header's label: the header itself, or the first of a (label,
    class) pair."""
    return str(header) if isinstance(header, str) or hasattr(header, "__html__") else str(header[0])


def stack_labels(html, headers) -> Markup:
    """Give every cell of rendered table rows a ``data-label`` naming its column, so a
    table of class ``stack`` can show its rows as stacked cards on a narrow screen and
    each value still says what it is (``core/_ui.html`` data_table(stack=True)). Cells
    that already have a label, or span columns, keep theirs."""
    labels = [header_label(h) for h in headers]

    def row(match):
        index = 0

        def cell(m):
            nonlocal index
            attrs = m.group(2)
            label = labels[index] if index < len(labels) else ""
            index += 1
            if "data-label" in attrs or "colspan" in attrs or not label:
                return m.group(0)
            return f'<{m.group(1)}{attrs} data-label="{escape(label)}">'

        return _CELL.sub(cell, match.group(1))

    # ``html`` is the table body the template engine rendered (already escaped); only
    # attributes with escaped labels are added to it.
    return Markup(_TR.sub(row, str(html)))  # nosec B704
