"""The fast path for cached GETs (fast_path.py): it answers exactly what the full (CherryPy) path answers, only for
cache hits, and every authentication and role rule holds on it."""
import pytest

from calamari_api import routes
from tests.wsgi_client import WsgiClient

IGNORED_HEADERS = {'date'}


def cached_get_urls(app, fsid):
    """A URL for every cached GET route of the table (ids the fixture has)."""
    values = {'fsid': fsid, 'osd_id': '0', 'pool_id': '1', 'rule_id': '0', 'node_id': '-1', 'type_id': '1',
              'mon_id': 'a', 'key': 'cluster', 'fqdn': 'vm', 'request_id': 'x', 'minion_id': 'vm', 'user_id': '1',
              'any_fsid': fsid}
    urls = []
    for route in routes.ROUTES:
        handler = getattr(app.controllers[route.controller], route.method_name)
        if route.method != 'GET' or not getattr(handler, 'cache_deps', None):
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


def test_roles_and_sessions_hold_on_the_fast_path(app, fsid, make_client):
    url = f'/api/v2/cluster/{fsid}/osd'
    admin = make_client('superuser', 'fp-admin')
    assert admin.get(url).status_code == 200            # learned and cached
    hits = app.fast_path.hits
    assert WsgiClient(app.wsgi).get(url).status_code == 403                          # anonymous
    forged = WsgiClient(app.wsgi)
    forged.cookies = {'calamari_sessionid': 'forged', 'XSRF-TOKEN': 'x'}
    assert forged.get(url).status_code == 403
    assert make_client('none', 'fp-none').get(url).status_code == 403               # a user in no group
    reader = make_client('readonly', 'fp-reader').get(url)
    assert reader.status_code == 200 and reader.headers['Allow'] == 'GET, HEAD, OPTIONS'
    assert admin.get(url).headers['Allow'] == 'GET, HEAD, OPTIONS'                 # the OSD list has GET only
    admin.get('/api/v2/auth/logout')
    assert admin.get(url).status_code == 403                                         # the session is over
    assert app.fast_path.hits == hits + 2                # the read-only user's GET and the admin's before logout
    assert make_client('superuser', 'fp-admin2').get('/api/v2/cluster/unknown-fsid/osd').status_code == 404


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
