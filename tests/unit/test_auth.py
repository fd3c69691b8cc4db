"""Authentication: login/logout cookies, CSRF, roles, throttling, session expiry and persistence."""
import logging

import pytest

from calamari_api.auth.sessions import Auth, same_origin
from calamari_api.auth.throttle import Throttle
from calamari_api.auth.users import check_password, email_errors, hash_password, username_errors
from calamari_api.web.app import CalamariApp
from tests.support.wsgi_client import WsgiClient

LOGIN = '/api/v2/auth/login/'
LOGOUT = '/api/v2/auth/logout'
CSRF_BAD = {'detail': 'CSRF Failed: CSRF token missing or incorrect.'}
ANON = {'detail': 'Authentication credentials were not provided.'}
DENIED = {'detail': 'You do not have permission to perform this action.'}


@pytest.fixture
def web(auth, services):
    return CalamariApp(services).wsgi


def set_cookie(response, name):
    """The raw Set-Cookie line for ``name`` (lower-cased), or None."""
    for line in response.headers.get('Set-Cookie', []):
        if line.startswith(name + '='):
            return line.lower()
    return None


def logged_in(web, username='alice', password='alice-pw', **kw):
    client = WsgiClient(web, **kw)
    assert client.login(username, password).status_code == 200
    return client


# -- pure helpers -------------------------------------------------------------------------------

def test_password_hashes():
    encoded = hash_password('s3cret')
    assert encoded.startswith('scrypt$') and 's3cret' not in encoded
    assert check_password('s3cret', encoded)
    assert not check_password('s3cret!', encoded)
    assert hash_password('s3cret') != encoded                    # salted
    assert not check_password('x', 'garbage') and not check_password('x', '')


def test_username_and_email_rules():
    assert username_errors('ok.user@x+y-z_1') == []
    assert username_errors('') == ['This field is required.']
    assert username_errors(None) == ['This field is required.']
    assert username_errors('a' * 31) == ['Ensure this value has at most 30 characters (it has 31).']
    assert username_errors('bad name')[0].startswith('Enter a valid username.')
    assert username_errors('ünïcode')[0].startswith('Enter a valid username.')
    assert email_errors('') == [] and email_errors('a@b.c') == []
    assert email_errors('nope') == ['Enter a valid email address.']


def test_same_origin():
    assert same_origin('https://h:8002/x/y', 'https://h:8002/')
    assert same_origin('https://h:8002', 'https://h:8002/')
    assert not same_origin('https://h:8002.evil.com/', 'https://h:8002/')
    assert not same_origin('http://h:8002/', 'https://h:8002/')
    assert not same_origin('https://h:8003/', 'https://h:8002/')
    assert not same_origin('garbage', 'https://h:8002/')


# -- login / logout -----------------------------------------------------------------------------

def test_get_login_sets_the_cookies(web):
    client = WsgiClient(web)
    response = client.get(LOGIN)
    assert response.status_code == 200 and response.json() == {}
    xsrf, session = set_cookie(response, 'XSRF-TOKEN'), set_cookie(response, 'calamari_sessionid')
    assert xsrf and 'httponly' not in xsrf and 'path=/' in xsrf
    assert session and 'httponly' in session
    assert 'secure' not in xsrf and 'secure' not in session           # plain HTTP
    assert 'no-cache' in response.headers['Cache-Control']
    again = client.get(LOGIN)                                          # stable until login
    assert again.cookies['XSRF-TOKEN'] == response.cookies['XSRF-TOKEN']


def test_post_login_rotates_session_and_token(web, auth):
    client = WsgiClient(web)
    client.get(LOGIN)
    before = dict(client.cookies)
    response = client.post(LOGIN, {'username': 'alice', 'password': 'alice-pw', 'next': '/dashboard/'})
    assert response.status_code == 200 and response.json() == {}
    assert set_cookie(response, 'XSRF-TOKEN') and set_cookie(response, 'calamari_sessionid')
    assert response.cookies['calamari_sessionid'] != before['calamari_sessionid']
    assert response.cookies['XSRF-TOKEN'] != before['XSRF-TOKEN']
    assert client.get('/api/v2/user/me').json()['username'] == 'alice'


@pytest.mark.parametrize('body, errors', [
    ({}, {'username': 'This field is required', 'password': 'This field is required'}),
    ({'username': 'alice'}, {'password': 'This field is required'}),
    ({'password': 'x'}, {'username': 'This field is required'}),
    ({'username': '', 'password': ''}, {'username': 'This field is required', 'password': 'This field is required'}),
    ({'username': 5, 'password': ['x']}, {'username': 'This field is required',
                                          'password': 'This field is required'}),
])
def test_login_missing_fields(web, body, errors):
    response = WsgiClient(web).post(LOGIN, body)
    assert response.status_code == 400 and response.json() == errors


def test_login_bad_body(web):
    response = WsgiClient(web).post(LOGIN, raw=b'{not json', headers={'Content-Type': 'application/json'})
    assert response.status_code == 400 and 'detail' in response.json()
    assert WsgiClient(web).post(LOGIN, [1, 2]).status_code == 400


@pytest.mark.parametrize('username, password', [('alice', 'wrong'), ('nobody', 'alice-pw')])
def test_login_bad_credentials(web, username, password):
    response = WsgiClient(web).post(LOGIN, {'username': username, 'password': password})
    assert response.status_code == 401
    assert response.json() == {'message': 'User authentication failed'}
    assert 'calamari_sessionid' not in response.cookies


def test_anonymous_login_post_needs_no_csrf(web):
    client = WsgiClient(web)
    response = client.post(LOGIN, {'username': 'alice', 'password': 'alice-pw'}, csrf=False)
    assert response.status_code == 200
    assert client.get('/api/v2/cluster').status_code == 200


def test_login_post_while_logged_in_needs_csrf(web):
    client = logged_in(web)
    response = client.post(LOGIN, {'username': 'alice', 'password': 'alice-pw'}, csrf=False)
    assert response.status_code == 403 and response.json() == CSRF_BAD
    assert client.post(LOGIN, {'username': 'alice', 'password': 'alice-pw'}).status_code == 200


@pytest.mark.parametrize('version, suffix', [('v2', '/'), ('v2', ''), ('v1', '/'), ('v1', '')])
def test_v1_and_trailing_slashes(web, version, suffix):
    client = WsgiClient(web)
    assert client.get(f'/api/{version}/auth/login{suffix}').status_code == 200
    response = client.post(f'/api/{version}/auth/login{suffix}', {'username': 'alice', 'password': 'alice-pw'})
    assert response.status_code == 200
    assert client.get('/api/v2/cluster').status_code == 200
    response = client.get(f'/api/{version}/auth/logout{suffix}')
    assert response.status_code == 200 and response.json() == {'message': 'Logged out'}
    assert client.get('/api/v2/cluster').status_code == 403


def test_logout_kills_the_session_server_side(web, module):
    client = logged_in(web)
    session_id = client.cookies['calamari_sessionid']
    assert any(k.startswith('session/') for k in module.store)
    response = client.post(LOGOUT)
    assert response.status_code == 200 and response.json() == {'message': 'Logged out'}
    cleared = set_cookie(response, 'calamari_sessionid')
    assert cleared and 'max-age=0' in cleared
    assert not any(k.startswith('session/') for k in module.store)
    replay = WsgiClient(web)
    replay.cookies = {'calamari_sessionid': session_id}
    response = replay.get('/api/v2/cluster')
    assert response.status_code == 403 and response.json() == ANON


def test_logout_post_while_logged_in_needs_csrf(web):
    client = logged_in(web)
    response = client.post(LOGOUT, csrf=False)
    assert response.status_code == 403 and response.json() == CSRF_BAD
    assert client.get('/api/v2/cluster').status_code == 200
    assert WsgiClient(web).post(LOGOUT, csrf=False).json() == {'message': 'Logged out'}   # anonymous: fine


def test_session_id_is_not_stored_in_clear(web, module):
    client = logged_in(web)
    session_id = client.cookies['calamari_sessionid']
    assert not any(session_id in k or session_id in v for k, v in module.store.items())


def test_forged_and_garbage_session_cookies(web):
    client = WsgiClient(web)
    client.cookies = {'calamari_sessionid': 'forged-session-id-000000000000', 'XSRF-TOKEN': 'x' * 32}
    for method in ('GET', 'POST', 'PATCH', 'DELETE'):
        response = client.request(method, '/api/v2/user/me', body={})
        assert response.status_code == 403 and response.json() == ANON
    client.cookies = {'calamari_sessionid': '"\\x00;;'}
    assert client.get('/api/v2/cluster').json() == ANON
    response = client.get(LOGIN)                                       # never echoed back
    assert response.status_code == 200 and '\\x00' not in response.cookies.get('calamari_sessionid', '')


# -- CSRF ---------------------------------------------------------------------------------------

def test_csrf_header_spellings(web):
    client = logged_in(web)
    token = client.cookies['XSRF-TOKEN']
    body = {'email': 'a@example.com'}
    assert client.patch('/api/v2/user/me', body, csrf=False, headers={'X-XSRF-TOKEN': token}).status_code == 200
    assert client.patch('/api/v2/user/me', body, csrf=False, headers={'X-CSRFToken': token}).status_code == 200
    for headers in ({}, {'X-XSRF-TOKEN': 'wrong'}, {'X-CSRFToken': token[:-1]}):
        response = client.patch('/api/v2/user/me', body, csrf=False, headers=headers)
        assert response.status_code == 403 and response.json() == CSRF_BAD


def test_csrf_cookie_missing(web):
    client = logged_in(web)
    token = client.cookies.pop('XSRF-TOKEN')
    response = client.patch('/api/v2/user/me', {}, csrf=False, headers={'X-XSRF-TOKEN': token})
    assert response.status_code == 403 and response.json() == {'detail': 'CSRF Failed: CSRF cookie not set.'}


def test_csrf_token_is_bound_to_the_session(web):
    """A cookie/header pair chosen by an attacker (cookie injection) does not pass."""
    client = logged_in(web)
    client.cookies['XSRF-TOKEN'] = 'attacker-chosen-token-0000'
    response = client.patch('/api/v2/user/me', {})
    assert response.status_code == 403 and response.json() == CSRF_BAD


def test_https_referer_check_and_secure_cookies(web):
    client = WsgiClient(web, scheme='https')
    response = client.get(LOGIN)
    assert 'secure' in set_cookie(response, 'XSRF-TOKEN') and 'secure' in set_cookie(response, 'calamari_sessionid')
    response = client.post(LOGIN, {'username': 'alice', 'password': 'alice-pw'})   # anonymous: no checks
    assert response.status_code == 200
    assert 'secure' in set_cookie(response, 'calamari_sessionid')
    response = client.patch('/api/v2/user/me', {})
    assert response.json() == {'detail': 'CSRF Failed: Referer checking failed - no Referer.'}
    response = client.patch('/api/v2/user/me', {}, headers={'Referer': 'https://evil.example/'})
    assert response.status_code == 403
    assert response.json() == {'detail': 'CSRF Failed: Referer checking failed - https://evil.example/ does not '
                                         'match https://localhost:8002/.'}
    response = client.patch('/api/v2/user/me', {}, headers={'Referer': 'https://localhost:8002/manage/'})
    assert response.status_code == 200


# -- roles and Allow ----------------------------------------------------------------------------

def test_readonly_role(web, auth, fsid):
    auth.create_user('reader', 'reader-pw', role='readonly')
    client = logged_in(web, 'reader', 'reader-pw')
    for url in ('/api/v2/cluster', '/api/v2/user', f'/api/v2/cluster/{fsid}'):
        response = client.get(url)
        assert response.status_code == 200 and response.headers['Allow'] == 'GET, HEAD, OPTIONS'
        head = client.request('HEAD', url)
        assert head.status_code == 200 and head.content == b''
    for method, url in (('POST', '/api/v2/user'), ('PATCH', '/api/v2/user/me'), ('DELETE', f'/api/v2/cluster/{fsid}'),
                        ('POST', '/api/v2/cluster')):
        response = client.request(method, url, body={})
        assert response.status_code == 403 and response.json() == DENIED
        assert response.headers['Allow'] == 'GET, HEAD, OPTIONS'


def test_allow_for_writers(web):
    client = logged_in(web)
    assert client.get('/api/v2/user').headers['Allow'] == 'GET, POST, HEAD, OPTIONS'
    assert client.get('/api/v2/user/me').headers['Allow'] == 'GET, PUT, PATCH, DELETE, HEAD, OPTIONS'


def test_user_without_role(web, auth):
    auth.create_user('nobody', 'nobody-pw', role='none')
    client = logged_in(web, 'nobody', 'nobody-pw')
    for url in ('/api/v2/cluster', '/api/v2/user/me', '/api/v2/'):
        response = client.get(url)
        assert response.status_code == 403 and response.json() == DENIED
    assert client.get('/api/v2/info').status_code == 200
    assert client.get(LOGOUT).status_code == 200


def test_role_change_applies_at_once(web, auth):
    client = logged_in(web)
    assert client.patch('/api/v2/user/me', {}).status_code == 200
    auth.update_user(auth.user_by_name('alice').id, role='readonly')
    assert client.patch('/api/v2/user/me', {}).status_code == 403
    assert client.get('/api/v2/user/me').status_code == 200


# -- throttling ---------------------------------------------------------------------------------

def test_throttle_window(clock):
    throttle = Throttle(clock, window=300, user_limit=3, addr_limit=5)
    keys = ('user:a', 'addr:1.2.3.4')
    for _ in range(3):
        assert throttle.wait(keys) == 0
        throttle.failed(keys)
        clock.advance(10)
    assert throttle.wait(keys) == pytest.approx(270)                # the first failure leaves at t=300
    clock.advance(269)
    assert throttle.wait(keys) > 0
    clock.advance(1)
    assert throttle.wait(keys) == 0
    throttle.succeeded('user:a')
    assert throttle.wait(('user:a',)) == 0


def test_throttle_by_address_across_usernames(clock):
    throttle = Throttle(clock, user_limit=3, addr_limit=5)
    for i in range(5):
        throttle.failed((f'user:u{i}', 'addr:9.9.9.9'))
    assert throttle.wait(('user:fresh', 'addr:9.9.9.9')) > 0
    assert throttle.wait(('user:fresh', 'addr:1.1.1.1')) == 0


def test_throttle_memory_is_bounded(clock):
    throttle = Throttle(clock, window=10, max_keys=100)
    for i in range(100):
        throttle.failed((f'user:u{i}',))
    clock.advance(11)
    throttle.failed(('user:late',))
    assert len(throttle) == 1


def test_login_throttling(web, clock, caplog):
    caplog.set_level(logging.INFO)
    client = WsgiClient(web)
    for _ in range(5):
        assert client.post(LOGIN, {'username': 'alice', 'password': 'guess-123'}).status_code == 401
    response = client.post(LOGIN, {'username': 'alice', 'password': 'alice-pw'})
    assert response.status_code == 429
    assert 0 < int(response.headers['Retry-After']) <= 300
    assert response.json() == {'detail': f'Request was throttled. Expected available in '
                                         f'{response.headers["Retry-After"]} seconds.'}
    clock.advance(301)
    assert client.post(LOGIN, {'username': 'alice', 'password': 'alice-pw'}).status_code == 200
    messages = [r.getMessage() for r in caplog.records]
    assert sum('failed login for \'alice\'' in m for m in messages) == 5
    assert any('login refused for \'alice\'' in m for m in messages)


def test_nothing_secret_is_logged(web, auth, caplog):
    caplog.set_level(logging.DEBUG)
    client = WsgiClient(web)
    client.post(LOGIN, {'username': 'alice', 'password': 'wrong-password-xyz'})
    client = logged_in(web)
    client.put('/api/v2/user/me', {'username': 'alice', 'password': 'new-password-xyz'})
    client.post(LOGOUT)
    secrets = ['wrong-password-xyz', 'alice-pw', 'new-password-xyz']
    client = logged_in(web, 'alice', 'new-password-xyz')
    secrets += [client.cookies['calamari_sessionid'], client.cookies['XSRF-TOKEN']]
    text = '\n'.join(r.getMessage() for r in caplog.records)
    assert 'logged in' in text
    for secret in secrets:
        assert secret not in text


# -- sessions: expiry, cleanup, persistence -----------------------------------------------------

def test_session_expiry(web, module, clock):
    module.options['session_expire'] = 100
    client = logged_in(web)
    assert 'max-age=100' in set_cookie(client.get(LOGIN), 'XSRF-TOKEN')
    clock.advance(99)
    assert client.get('/api/v2/cluster').status_code == 200
    clock.advance(2)
    response = client.get('/api/v2/cluster')
    assert response.status_code == 403 and response.json() == ANON
    assert not any(k.startswith('session/') for k in module.store)


def test_expired_sessions_are_cleaned_up(web, module, clock, auth):
    module.options['session_expire'] = 100
    logged_in(web)
    logged_in(web)
    assert sum(k.startswith('session/') for k in module.store) == 2
    clock.advance(150)
    logged_in(web)                                  # a login sweeps the expired ones
    assert sum(k.startswith('session/') for k in module.store) == 1
    clock.advance(150)
    reloaded = Auth(module.services.store, module.services.option, clock=clock)
    assert reloaded.sessions_of(auth.user_by_name('alice').id) == 0
    assert not any(k.startswith('session/') for k in module.store)


def test_sessions_per_user_are_capped(web, auth, monkeypatch, clock):
    monkeypatch.setattr('calamari_api.auth.sessions.MAX_SESSIONS_PER_USER', 3)
    clients = []
    for _ in range(4):
        clients.append(logged_in(web))
        clock.advance(1)
    assert auth.sessions_of(auth.user_by_name('alice').id) == 3
    assert clients[0].get('/api/v2/cluster').status_code == 403
    assert all(c.get('/api/v2/cluster').status_code == 200 for c in clients[1:])


def test_sessions_and_users_survive_a_restart(web, services, module, clock):
    """A new Auth over the same KV store (what a mgr failover does) knows the users and the sessions."""
    client = logged_in(web)
    services.auth = Auth(services.store, services.option, clock=clock)
    fresh_app = CalamariApp(services).wsgi
    client.app = fresh_app
    assert client.get('/api/v2/user/me').json()['username'] == 'alice'
    assert client.patch('/api/v2/user/me', {'email': 'new@example.com'}).status_code == 200
    assert services.auth.user_by_name('alice').email == 'new@example.com'
    services.auth.create_user('bob', 'bob-password')
    assert services.auth.user_by_name('bob').id == 2


def test_user_ids_are_not_reused(auth):
    bob = auth.create_user('bob', 'password')
    auth.delete_user(bob.id)
    assert auth.create_user('carol', 'password').id == bob.id + 1


def test_login_with_a_form_body(web):
    """DRF parsed form bodies too: `curl -d username=..&password=..` logs in."""
    client = WsgiClient(web)
    response = client.post(LOGIN, raw=b'username=alice&password=alice-pw',
                           headers={'Content-Type': 'application/x-www-form-urlencoded'})
    assert response.status_code == 200 and response.json() == {}
    response = WsgiClient(web).post(LOGIN, raw=b'username=alice',
                                    headers={'Content-Type': 'application/x-www-form-urlencoded'})
    assert response.status_code == 400 and response.json() == {'password': 'This field is required'}
