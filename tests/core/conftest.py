"""The hall engine's tests (hallq.core through HallService, no transport). They use the
shared fixtures of tests/conftest.py (hall, any_hall, clock, boss, ...); their helpers
(person, variant, local, EXAMPLE, MONDAY_10AM) are in support/halls.py."""
