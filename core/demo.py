"""Demo data placeholder (filled in below)."""


def load_demo() -> dict:
    return {}
