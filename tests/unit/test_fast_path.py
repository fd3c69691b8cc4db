"""The fast path for cached GETs (fast_path.py): it answers exactly what the full (CherryPy) path answers, only for
cache hits, and every authentication and role rule holds on it."""
import pytest

from calamari_api.web import routes
from tests.support.wsgi_client import WsgiClient

IGNORED_HEADERS = {'date'}


def cached_get_urls(app, fsid):
    """A URL for every cached GET route of the table (ids the fixture has)."""
    values = {'fsid': fsid, 'osd_id': '0', 'pool_id': '1', 'rule_id': '0', 'node_id': '-1', 'type_id': '1',
              'mon_id': 'a', 'key': 'cluster', 'fqdn': 'vm', 'request_id': 'x', 'minion_id': 'vm', 'user_id': '1',
              'any_fsid': fsid}
    urls = []
    for route in routes.ROUTES:
        if route.method != 'GET' or not route.cache:
            continue
        path = route.pattern.rstrip('*')
        for name in route.param_names:
            path = path.replace('{%s}' % name, values[name])
        urls += [f'/api/{version}/{path}' for version in route.versions]
    return urls


def same_answer(full, fast, url, **kw):
    """The fast path's answer equals the full path's for the same request and cache state."""
    a, b = full.get(url, **kw), fast.get(url, **kw)
    assert (a.status_code, a.content) == (b.status_code, b.content), url
    headers = {k: v for k, v in a.headers.items() if k not in IGNORED_HEADERS}
    assert headers == {k: v for k, v in b.headers.items() if k not in IGNORED_HEADERS}, url
    return b


@pytest.fixture
def pair(app, make_client):
    """(full path client, fast path client) sharing one logged-in superuser session."""
    fast = make_client('superuser', 'pair-admin')
    full = WsgiClient(app.full_path)
    full.cookies = fast.cookies
    return full, fast


def test_every_cached_get_answers_the_same_on_both_paths(app, fsid, pair):
    full, fast = pair
    urls = cached_get_urls(app, fsid)
    assert len(urls) > 20
    for url in urls:
        full.get(url)                       # learned and cached by the full path
        hits = app.fast_path.hits
        response = same_answer(full, fast, url)
        if response.status_code == 200:
            assert app.fast_path.hits == hits + 1, f'{url} was not served by the fast path'
        etag = response.headers.get('ETag')
        if etag:
            assert same_answer(full, fast, url, headers={'If-None-Match': etag}).status_code == 304
        same_answer(full, fast, url, headers={'Accept-Encoding': 'gzip, deflate'})


def test_roles_and_sessions_hold_on_the_fast_path(app, fsid, make_client, services):
    """Refusals on a learned, cached path are the full path's, byte for byte (status, body, headers)."""
    url = f'/api/v2/cluster/{fsid}/osd'
    admin = make_client('superuser', 'fp-admin')
    assert admin.get(url).status_code == 200            # learned and cached

    def both(cookies=None, bearer=None, remote_addr='127.0.0.1'):
        fast, full = (WsgiClient(wsgi, bearer=bearer, remote_addr=remote_addr) for wsgi in (app.wsgi, app.full_path))
        fast.cookies = full.cookies = dict(cookies or {})
        hits = app.fast_path.hits
        response = same_answer(full, fast, url)
        assert app.fast_path.hits == hits + 1, 'not answered by the fast path'
        return response

    assert both().status_code == 403                                              # anonymous
    assert both({'calamari_sessionid': 'forged', 'XSRF-TOKEN': 'x'}).status_code == 403
    nobody = make_client('none', 'fp-none')
    refused = both(nobody.cookies)                                                # a user in no group
    assert refused.status_code == 403 and refused.headers['Allow'] == 'GET, HEAD, OPTIONS'
    reader = both(make_client('readonly', 'fp-reader').cookies)
    assert reader.status_code == 200 and reader.headers['Allow'] == 'GET, HEAD, OPTIONS'
    token, _ = services.tokens.create('fp-monitor', 'readonly')
    assert both(bearer=token).status_code == 200
    bad = both(bearer='calapi_guess', remote_addr='10.9.9.9')
    assert bad.status_code == 401 and bad.headers['WWW-Authenticate'].startswith('Bearer')
    assert admin.get(f'/api/v2/cluster/{fsid}x/osd').status_code == 404
    admin.get('/api/v2/auth/logout')
    assert both(admin.cookies).status_code == 403                                 # the session is over


def test_a_failed_token_counts_once(app, fsid, client):
    """The fast path answers a refusal itself: the checks (and the throttle's count) run once per request."""
    url = f'/api/v2/cluster/{fsid}/osd'
    client.get(url)
    attacker = WsgiClient(app.wsgi, bearer='calapi_guess', remote_addr='10.0.0.7')
    throttle = app.services.auth.throttle
    assert [attacker.get(url).status_code for _ in range(49)] == [401] * 49
    assert throttle.wait(('bearer:10.0.0.7',)) == 0                  # 49 counted, not 98
    assert attacker.get(url).status_code == 401
    assert throttle.wait(('bearer:10.0.0.7',)) > 0


def test_a_map_change_is_never_served_stale(app, fsid, module, client):
    url = f'/api/v2/cluster/{fsid}/osd_config'
    assert client.get(url).json()['noout'] is False
    assert client.get(url).json()['noout'] is False                 # a fast-path hit
    module.maps['osd_map']['flags'] += ',noout'
    module.maps['osd_map']['flags_set'] = module.maps['osd_map'].get('flags_set', []) + ['noout']
    module.notify('osd_map', None)
    hits = app.fast_path.hits
    assert client.get(url).json()['noout'] is True                  # stale entry: the full path rebuilt it
    assert app.fast_path.hits == hits


def test_head_and_unknown_paths_go_the_full_way(app, fsid, client):
    url = f'/api/v2/cluster/{fsid}/pool'
    client.get(url)
    hits = app.fast_path.hits
    head = client.request('HEAD', url)
    assert head.status_code == 200 and head.content == b''
    assert client.get('/api/v2/no/such/url').status_code == 404
    assert app.fast_path.hits == hits


def test_a_new_event_is_never_served_stale(app, services, client):
    count = client.get('/api/v2/event').json()['count']
    assert client.get('/api/v2/event').json()['count'] == count         # a fast-path hit
    services.events.emit('WARNING', 'something happened')
    page = client.get('/api/v2/event').json()
    assert page['count'] == count + 1 and page['results'][0]['message'] == 'something happened'


def test_a_stale_entry_runs_the_checks_once(app, fsid, module, services, monkeypatch):
    """A learned path whose cached response is stale goes to the full path without being checked here first."""
    url = f'/api/v2/cluster/{fsid}/osd'
    token, _ = services.tokens.create('fp-once', 'readonly')
    reader = WsgiClient(app.wsgi, bearer=token)
    assert reader.get(url).status_code == 200                  # learned and cached
    calls = []
    real = services.tokens.authenticate
    monkeypatch.setattr(services.tokens, 'authenticate', lambda request: calls.append(1) or real(request))
    module.notify('osd_map', None)                              # the entry is stale now
    assert reader.get(url).status_code == 200 and len(calls) == 1
    assert reader.get(url).status_code == 200 and len(calls) == 2       # a hit: checked once, here
