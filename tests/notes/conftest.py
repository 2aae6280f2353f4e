"""Notes tests share the records fixtures, and the browser fixtures for the Chromium journeys."""

from tests.browser.conftest import browser, new_page  # noqa: F401
from tests.records.conftest import World, api, english, make_round, world  # noqa: F401
