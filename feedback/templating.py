"""Template helpers for showing ratings anywhere (catalogue, order forms, feedback
pages): stars as decoration, the average as a localised number, rating words."""

from __future__ import annotations

from flask_babel import format_decimal

from feedback.forms import rating_word


def stars(average: float | None) -> str:
    """Five stars, the average rounded to whole stars: ``★★★★☆``. Decorative: put
    it in an ``aria-hidden`` element next to the number."""
    if not average:
        return "☆☆☆☆☆"
    full = max(0, min(5, int(average + 0.5)))
    return "★" * full + "☆" * (5 - full)


def average_text(average: float | None) -> str:
    """``4,3`` (fi/sv) or ``4.3`` (en)."""
    return "–" if average is None else format_decimal(round(average, 1), format="0.0")


def template_globals() -> dict:
    return {"feedback_stars": stars, "feedback_average": average_text, "feedback_rating_word": rating_word}
