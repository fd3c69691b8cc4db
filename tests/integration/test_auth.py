"""Authentication on a real cluster: Calamari's client sequence, the auth sweep over the whole route
table, roles, throttling, and sessions/users surviving a mgr failover."""
import uuid

import pytest

from calamari_api.web import routes
from tests.support.http_client import HttpClient
from tests.support.access_checks import (ANON, DENIED, PUBLIC, UNSAFE, check_readonly_everywhere, mgr_log,
                                         route_urls, sample_values)

CSRF_BAD = {'detail': 'CSRF Failed: CSRF token missing or incorrect.'}


def test_route_sample_covers_every_placeholder(fsid):
    assert set(routes.PARAMS) <= set(sample_values(fsid))


def test_every_route_refuses_anonymous(anon, fsid):
    checked = 0
    for method, url, route in route_urls(fsid):
        response = anon.request(method, url, body={} if method in UNSAFE else None, csrf=False)
        if route.action in PUBLIC:
            assert response.status_code != 403, (method, url)
            continue
        assert (response.status_code, response.json()) == (403, ANON), (method, url)
        assert 'calamari_sessionid' not in response.cookies
        checked += 1
    assert checked > 60


def test_forged_and_logged_out_sessions_are_anonymous(cluster, fsid):
    forged = HttpClient(cluster.url)
    forged.cookies = {'calamari_sessionid': uuid.uuid4().hex + uuid.uuid4().hex, 'XSRF-TOKEN': uuid.uuid4().hex}
    by_get, by_post = cluster.client(), cluster.client()
    saved = [dict(by_get.cookies), dict(by_post.cookies)]
    assert by_get.get('/api/v2/auth/logout').status_code == 200
    assert by_post.post('/api/v1/auth/logout').status_code == 200
    for client in (by_get, by_post):
        client.cookies = saved.pop(0)                   # replay the cookies of the ended sessions
    for client in (forged, by_get, by_post):
        for method, url, route in route_urls(fsid):
            if route.action in PUBLIC:
                continue
            response = client.request(method, url, body={} if method in UNSAFE else None)
            assert (response.status_code, response.json()) == (403, ANON), (method, url)


@pytest.fixture(scope='module')
def sweeper(cluster):
    """A throw-away superuser, so a CSRF hole could only hurt an account made for this test."""
    name = 'sweep-' + uuid.uuid4().hex[:8]
    cluster.create_user(name, 'sweep-pw', 'superuser')
    yield name
    cluster.ceph('calamari-api', 'user-delete', name, check=False)


def test_every_unsafe_route_needs_the_csrf_token(cluster, fsid, sweeper):
    client = cluster.client(username=sweeper, password='sweep-pw')
    checked = 0
    for method, url, route in route_urls(fsid):
        if method not in UNSAFE:
            continue
        for headers in ({}, {'X-XSRF-TOKEN': 'not-the-token'}, {'X-CSRFToken': 'not-the-token'}):
            response = client.request(method, url, body={}, csrf=False, headers=headers)
            assert (response.status_code, response.json()) == (403, CSRF_BAD), (method, url, headers)
        checked += 1
    assert checked >= 20
    assert client.get('/api/v2/user/me').json()['username'] == sweeper      # nothing happened to the session


def test_readonly_user_everywhere(cluster, fsid):
    name = 'ro-' + uuid.uuid4().hex[:8]
    cluster.create_user(name, 'ro-password', 'readonly')
    try:
        assert check_readonly_everywhere(cluster.client(username=name, password='ro-password'), fsid) >= 30
    finally:
        cluster.ceph('calamari-api', 'user-delete', name)


def expected_allow(route, url):
    version = url.split('/')[2] if url.startswith('/api/') else ''
    methods = {r.method for r in routes.ROUTES if r.pattern == route.pattern and version in r.versions} | {'OPTIONS'}
    if 'GET' in methods:
        methods.add('HEAD')
    return ', '.join(m for m in ('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') if m in methods)


def test_head_answers_like_get_and_allow_lists_the_bound_methods(cluster, fsid, sweeper):
    client = cluster.client(username=sweeper, password='sweep-pw')
    for method, url, route in route_urls(fsid):
        if method != 'GET' or route.action in PUBLIC:
            continue
        get, head = client.get(url), client.request('HEAD', url)
        assert head.status_code == get.status_code and head.content == b'', url
        assert get.headers['Allow'] == head.headers['Allow'] == expected_allow(route, url), url


def test_allow_header_for_a_superuser(client, fsid):
    assert client.get(f'/api/v2/cluster/{fsid}/osd/0').headers['Allow'] == 'GET, PATCH, HEAD, OPTIONS'
    assert client.get('/api/v2/user').headers['Allow'] == 'GET, POST, HEAD, OPTIONS'


def test_user_without_role(cluster):
    name = 'norole-' + uuid.uuid4().hex[:8]
    cluster.create_user(name, 'nr-password', 'none')
    try:
        client = cluster.client(username=name, password='nr-password')
        for url in ('/api/v2/cluster', '/api/v2/user/me', '/api/v1/user/me', '/api/v2/'):
            assert (client.get(url).status_code, client.get(url).json()) == (403, DENIED), url
        assert client.get('/api/v2/info').status_code == 200
        assert client.get('/api/v1/auth/logout').json() == {'message': 'Logged out'}
    finally:
        cluster.ceph('calamari-api', 'user-delete', name)


# -- Calamari's own client sequence -------------------------------------------------------------

@pytest.mark.parametrize('header', ['X-XSRF-TOKEN', 'X-CSRFToken'])
@pytest.mark.parametrize('version', ['v2', 'v1'])
def test_calamari_client_sequence(cluster, header, version):
    name = 'seq-' + uuid.uuid4().hex[:8]
    cluster.create_user(name, 'seq-password', 'read/write')
    try:
        client = HttpClient(cluster.url)
        response = client.get(f'/api/{version}/auth/login/')                       # 1. GET, read the cookie
        assert response.status_code == 200 and response.json() == {}
        token = response.cookies['XSRF-TOKEN']
        first_session = response.cookies['calamari_sessionid']
        assert 'httponly' in cookie_line(response, 'calamari_sessionid')
        assert 'httponly' not in cookie_line(response, 'XSRF-TOKEN')
        assert 'secure' not in cookie_line(response, 'calamari_sessionid')        # plain HTTP dev cluster
        response = client.post(f'/api/{version}/auth/login/',                      # 2. POST with the header
                               {'username': name, 'password': 'seq-password', 'next': '/dashboard/'},
                               csrf=False, headers={header: token, 'Content-Type': 'application/json'})
        assert response.status_code == 200 and response.json() == {}
        assert response.cookies['calamari_sessionid'] != first_session
        token = response.cookies['XSRF-TOKEN']                                     # 3. re-read the token
        me = client.get(f'/api/{version}/user/me')                                 # 4. protected GET
        assert me.status_code == 200 and me.json()['username'] == name
        response = client.patch(f'/api/{version}/user/me', {'email': f'{name}@example.com'},
                                csrf=False, headers={header: token})               # unsafe, with the header
        assert response.status_code == 200 and response.json()['email'] == f'{name}@example.com'
        response = client.patch(f'/api/{version}/user/me', {'email': 'x@example.com'}, csrf=False)
        assert (response.status_code, response.json()) == (403, CSRF_BAD)
        response = client.post(f'/api/{version}/auth/logout', csrf=False, headers={header: token})
        assert response.status_code == 200 and response.json() == {'message': 'Logged out'}
        response = client.get(f'/api/{version}/user/me')                           # 5. logged out: 403
        assert (response.status_code, response.json()) == (403, ANON)
    finally:
        cluster.ceph('calamari-api', 'user-delete', name)


def cookie_line(response, name):
    return next(line.lower() for line in response.headers['Set-Cookie'] if line.startswith(name + '='))


def test_login_errors(anon):
    response = anon.post('/api/v2/auth/login', {}, csrf=False)
    assert response.status_code == 400
    assert response.json() == {'username': 'This field is required', 'password': 'This field is required'}
    response = anon.post('/api/v1/auth/login/', {'username': 'admin', 'password': 'definitely-wrong'}, csrf=False)
    assert response.status_code == 401 and response.json() == {'message': 'User authentication failed'}


def test_user_resource(client, cluster):
    name = 'made-' + uuid.uuid4().hex[:8]
    response = client.post('/api/v2/user', {'username': name, 'password': 'made-password', 'email': 'm@example.com'})
    assert response.status_code == 201
    created = response.json()
    assert created == {'id': created['id'], 'username': name, 'email': 'm@example.com'}
    assert {'username': name, 'email': 'm@example.com', 'role': 'read/write', 'id': created['id']} in \
        cluster.ceph_json('calamari-api', 'user-list')
    again = client.post('/api/v2/user', {'username': name, 'password': 'x-password'})
    assert again.status_code == 400 and again.json() == {'username': ['User with this Username already exists.']}
    made = cluster.client(username=name, password='made-password')
    response = made.patch(f'/api/v2/user/{created["id"]}', {'email': 'other@example.com'})
    assert response.status_code == 200 and response.json()['email'] == 'other@example.com'
    response = client.patch(f'/api/v2/user/{created["id"]}', {'password': 'hijack'})
    assert (response.status_code, response.json()) == (403, {'detail': 'Permission denied'})
    for method in ('PUT', 'PATCH'):            # a user that does not exist: 404 (Calamari looked it up first)
        response = made.request(method, '/api/v2/user/999999', {'username': 'x', 'password': 'hijack'})
        assert (response.status_code, response.json()) == (404, {'detail': 'Not found'})
    response = made.post('/api/v2/user', {'username': name + 'x', 'password': 'x'})
    assert (response.status_code, response.json()) == (403, DENIED)
    assert client.delete(f'/api/v2/user/{created["id"]}').status_code == 204
    assert made.get('/api/v2/user/me').status_code == 403
    assert client.get(f'/api/v2/user/{created["id"]}').json() == {'detail': 'Not found'}


def test_password_change_keeps_only_the_current_session(cluster):
    name = 'pw-' + uuid.uuid4().hex[:8]
    cluster.create_user(name, 'old-password', 'read/write')
    try:
        current, other = (cluster.client(username=name, password='old-password') for _ in range(2))
        me = current.get('/api/v1/user/me').json()
        assert current.put('/api/v1/user/me', dict(me, password='new-password')).status_code == 200
        assert current.get('/api/v2/user/me').status_code == 200
        assert other.get('/api/v2/user/me').status_code == 403
        assert HttpClient(cluster.url).login(name, 'old-password').status_code == 401
        assert HttpClient(cluster.url).login(name, 'new-password').status_code == 200
    finally:
        cluster.ceph('calamari-api', 'user-delete', name)


def test_brute_force_is_throttled_and_logged(cluster):
    name = 'bf-' + uuid.uuid4().hex[:8]
    cluster.create_user(name, 'right-pw', 'read/write')
    try:
        client = HttpClient(cluster.url)
        for i in range(5):
            assert client.login(name, f'guess-{i}-secret').status_code == 401
        response = client.login(name, 'right-pw')
        assert response.status_code == 429 and int(response.headers['Retry-After']) > 0
        assert 'calamari_sessionid' not in response.cookies or response.cookies['calamari_sessionid'] == \
            client.cookies.get('calamari_sessionid')
        log_text = mgr_log(cluster)
        assert f"failed login for '{name}'" in log_text
        assert f"login refused for '{name}'" in log_text
        assert 'guess-0-secret' not in log_text and 'right-pw' not in log_text
    finally:
        cluster.ceph('calamari-api', 'user-delete', name)


def test_no_session_id_in_the_mgr_log(cluster):
    client = cluster.client()
    session_id, token = client.cookies['calamari_sessionid'], client.cookies['XSRF-TOKEN']
    client.get('/api/v2/auth/logout')
    log_text = mgr_log(cluster)
    assert session_id not in log_text and token not in log_text
    assert cluster.admin['password'] not in log_text


# -- failover -----------------------------------------------------------------------------------

def test_sessions_and_users_survive_mgr_failover(cluster):
    name = 'fo-' + uuid.uuid4().hex[:8]
    cluster.create_user(name, 'fo-password', 'read/write')
    try:
        client = cluster.client(username=name, password='fo-password')
        admin = cluster.client()
        made = admin.post('/api/v2/user', {'username': name + 'b', 'password': 'password2'}).json()
        users_before = admin.get('/api/v2/user').json()
        cluster.restart_active_mgr()
        me = client.get('/api/v2/user/me')
        assert me.status_code == 200 and me.json()['username'] == name
        assert client.patch('/api/v2/user/me', {'email': 'after@example.com'}).status_code == 200
        assert admin.get('/api/v2/user').json() == [dict(u, email='after@example.com') if u['username'] == name
                                                    else u for u in users_before]
        assert HttpClient(cluster.url).login(name + 'b', 'password2').status_code == 200
        assert admin.delete(f'/api/v2/user/{made["id"]}').status_code == 204
    finally:
        cluster.ceph('calamari-api', 'user-delete', name)
