"""Stacked table rows: every cell is labelled with its column for narrow screens."""

from markupsafe import Markup

from core.tables import stack_labels


def test_cells_get_their_column_label_in_order():
    rows = Markup('<tr><td><a href="/o/1">SO-1</a></td><td class="num">12,00 €</td></tr>\n'
                  "<tr><td>SO-2</td><td>3 €</td></tr>")
    html = stack_labels(rows, ["Order", ("Total", "num")])
    assert html.count('data-label="Order"') == 2 and html.count('data-label="Total"') == 2
    assert '<td class="num" data-label="Total">12,00 €</td>' in html


def test_labels_are_escaped_and_existing_labels_and_spanning_cells_are_kept():
    html = stack_labels(Markup('<tr><td data-label="Own">a</td><td colspan="2">b</td><td>c</td></tr>'),
                        ["A", "B", 'Say "hi" <now>'])
    assert 'data-label="Own"' in html and 'data-label="A"' not in html
    assert '<td colspan="2">' in html
    assert 'data-label="Say &#34;hi&#34; &lt;now&gt;"' in html
