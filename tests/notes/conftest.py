"""Notes tests share the records fixtures."""

from tests.records.conftest import World, api, english, make_round, world  # noqa: F401
