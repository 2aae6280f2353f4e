"""Scheduling tests use the program fixtures of tests/conftest.py."""

from tests.conftest import TOKYO, Program, session_count, tokyo  # noqa: F401
