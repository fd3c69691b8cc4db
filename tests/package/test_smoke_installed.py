"""The integration smoke set on the installed, upgraded package (the session's cluster, see conftest.py): the
module loads, publishes its URL, serves, answers errors, is disabled and enabled again."""
from tests.integration.test_foundation import *  # noqa: F401,F403
