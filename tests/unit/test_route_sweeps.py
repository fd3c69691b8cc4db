"""What schemathesis (tests/integration/test_zz_schemathesis.py) does not do: every route of the table as an anonymous
client and as a read-only user, in-process (the integration tier does the same on a real cluster)."""
from tests.support.access_checks import ANON, PUBLIC, UNSAFE, check_readonly_everywhere, route_urls


def test_every_route_refuses_anonymous(anon, fsid):
    checked = 0
    for method, url, route in route_urls(fsid):
        response = anon.request(method, url, body={} if method in UNSAFE else None, csrf=False)
        assert response.status_code < 500, (method, url)
        if route.action not in PUBLIC:
            assert (response.status_code, response.json()) == (403, ANON), (method, url)
            checked += 1
    assert checked > 60


def test_every_route_as_a_readonly_user(make_client, fsid):
    assert check_readonly_everywhere(make_client('readonly'), fsid) > 20
