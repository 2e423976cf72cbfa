"""Browser fixtures live in tests/conftest.py so that every app's browser tests share one browser."""
