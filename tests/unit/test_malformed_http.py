"""Malformed requests (tests/support/malformed.py) against the module's real HTTP server in-process, over the fake mgr:
a 4xx in Calamari's JSON error shape for each, never a 5xx, a hang or a stuck worker.  Short timeouts here (1 s per
read, 3 s per request); the integration tier runs the same cases with the module's own."""
import pytest

from calamari_api.web.server import HttpServer
from tests.support.malformed import CASES, Target, check


@pytest.fixture
def target(app, make_client, fsid):
    client = make_client('superuser')
    server = HttpServer(app.wsgi, '127.0.0.1', 0, threads=4, socket_timeout=1.0, read_deadline=3.0)
    server.start()
    try:
        cookies = '; '.join(f'{k}={v}' for k, v in client.cookies.items())
        auth = f'Cookie: {cookies}\r\nX-XSRF-TOKEN: {client.cookies["XSRF-TOKEN"]}\r\n'
        yield Target(server.server.bind_addr[1], fsid, auth, 1.0)
    finally:
        server.stop()


@pytest.mark.parametrize('case', sorted(CASES))
def test_malformed_request_gets_a_4xx_in_calamari_shape(target, case):
    assert check(case, target)          # its answers, each checked there (a 4xx in Calamari's JSON shape)
