"""Browser tests: the headless Chromium, page and sign-in fixtures live in tests/conftest.py (the end-to-end tests use
them too); PASSWORD stays importable from here."""

from tests.conftest import PASSWORD

__all__ = ["PASSWORD"]
