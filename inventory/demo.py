"""Demo data (filled in by the foundation work): see `manage.py load_demo`."""


def load_demo(*, stdout=None, once=False) -> str:
    return "nothing to load yet"
