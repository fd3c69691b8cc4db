"""Malformed requests (tests/support/malformed.py) against the real module with its own limits (10 s per read,
30 s to send a request, 64 KiB of headers): a 4xx in Calamari's JSON error shape for each, never a 5xx, a hang or
a stuck worker, and the module serves on."""
import pytest

from tests.support.malformed import CASES, Target, check


@pytest.fixture(scope='module')
def target(cluster):
    client = cluster.client()
    cookies = '; '.join(f'{k}={v}' for k, v in client.cookies.items())
    auth = f'Cookie: {cookies}\r\nX-XSRF-TOKEN: {client.cookies["XSRF-TOKEN"]}\r\n'
    return Target(cluster.api_port, cluster.fsid, auth, 10.0)


@pytest.mark.parametrize('case', sorted(CASES))
def test_malformed_request_gets_a_4xx_in_calamari_shape(target, case):
    assert check(case, target)          # its answers, each checked there (a 4xx in Calamari's JSON shape)


def test_no_traceback_from_malformed_requests(cluster):
    assert not cluster.module_tracebacks()
