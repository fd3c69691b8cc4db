"""API tokens: creation and storage, Bearer authentication with the token's role, the 401s, throttling, expiry,
revocation, batched "last use", persistence across a restart, logging, the CLI and the OpenAPI scheme."""
import errno
import hashlib
import json
import logging

import pytest

from calamari_api.auth import tokens as tokens_module
from calamari_api.auth.throttle import Throttle
from calamari_api.auth.tokens import Tokens
from calamari_api.openapi import build_document
from calamari_api.web.app import CalamariApp
from tests.unit.test_auth import ANON, DENIED
from tests.support.wsgi_client import WsgiClient

INVALID = {'detail': 'Invalid token.'}
CHALLENGE = 'Bearer realm="calamari_api", error="invalid_token"'


@pytest.fixture
def tokens(auth, services, clock):
    """The services' Tokens replaced by one on the same store, with test_auth's clock and throttle."""
    services.tokens = Tokens(services.store, auth.throttle, clock=clock)
    return services.tokens


@pytest.fixture
def web(tokens, services):
    return CalamariApp(services).wsgi


def new_token(tokens, name='monitor', role='readonly', expires=None):
    return tokens.create(name, role, expires=expires)[0]


def stored(module, name):
    raw = module.store.get(f'token/{name}')
    return json.loads(raw) if raw is not None else None


# -- creation, storage, listing ----------------------------------------------------------------

def test_only_a_hash_is_stored(tokens, module, clock):
    token, record = tokens.create('monitor', 'readonly', expires=3600)
    assert token.startswith('calapi_') and len(token) > 40
    assert stored(module, 'monitor') == {'role': 'readonly', 'hash': hashlib.sha256(token.encode()).hexdigest(),
                                         'created': clock.now, 'expires': clock.now + 3600, 'last_used': None}
    assert not any(token in value for value in module.store.values())
    assert record == {'name': 'monitor', 'role': 'readonly', 'created': clock.now, 'expires': clock.now + 3600,
                      'last_used': None}
    assert new_token(tokens, 'other') != token


@pytest.mark.parametrize('name, role, expires', [
    ('', 'readonly', None), ('has space', 'readonly', None), ('x' * 65, 'readonly', None), ('ünï', 'readonly', None),
    ('a/b', 'readonly', None), ('ok', 'none', None), ('ok', 'king', None), ('ok', 'readonly', 0),
    ('ok', 'readonly', -5)])
def test_bad_arguments(tokens, name, role, expires):
    with pytest.raises(ValueError):
        tokens.create(name, role, expires=expires)
    assert tokens.list() == []


def test_names_are_unique_and_the_count_bounded(tokens, monkeypatch):
    new_token(tokens, 'a')
    with pytest.raises(KeyError):
        new_token(tokens, 'a')
    monkeypatch.setattr(tokens_module, 'MAX_TOKENS', 2)
    new_token(tokens, 'b')
    with pytest.raises(ValueError, match='revoke some first'):
        new_token(tokens, 'c')


def test_list_never_shows_the_token(tokens):
    token = new_token(tokens, 'monitor', 'read/write')
    listed = tokens.list()
    assert [set(t) for t in listed] == [{'name', 'role', 'created', 'expires', 'last_used'}]
    assert token not in json.dumps(listed) and hashlib.sha256(token.encode()).hexdigest() not in json.dumps(listed)


# -- authentication with the token's role ------------------------------------------------------

def test_readonly_token_reads_and_is_refused_writes(web, tokens, fsid):
    client = WsgiClient(web, bearer=new_token(tokens))
    response = client.get('/api/v2/cluster')
    assert response.status_code == 200 and response.json()[0]['id'] == fsid
    assert response.headers['Allow'] == 'GET, HEAD, OPTIONS'
    assert 'Set-Cookie' not in response.headers
    for method, url, body in (('PATCH', f'/api/v2/cluster/{fsid}/osd_config', {'noout': True}),
                              ('POST', f'/api/v2/cluster/{fsid}/pool', {'name': 'p', 'pg_num': 8}),
                              ('DELETE', '/api/v2/user/1', None)):
        response = client.request(method, url, body)
        assert (response.status_code, response.json()) == (403, DENIED), (method, url)


def test_writes_need_no_csrf_token(web, tokens, fsid):
    client = WsgiClient(web, bearer=new_token(tokens, role='read/write'))
    response = client.patch(f'/api/v2/cluster/{fsid}/osd_config', {'noout': True})
    assert response.status_code == 202 and 'request_id' in response.json()
    assert client.get(f"/api/v2/request/{response.json()['request_id']}").status_code == 200


def test_role_checks_are_those_of_a_session(web, tokens, fsid):
    writer = WsgiClient(web, bearer=new_token(tokens, 'writer', 'read/write'))
    admin = WsgiClient(web, bearer=new_token(tokens, 'admin', 'superuser'))
    assert (writer.post('/api/v2/user', {'username': 'x', 'password': 'y'}).json()) == DENIED
    assert writer.post(f'/api/v2/cluster/{fsid}/cli', {'command': 'osd tree'}).json() == DENIED
    response = admin.post('/api/v2/user', {'username': 'made', 'password': 'made-password'})
    assert response.status_code == 201
    assert admin.delete(f"/api/v2/user/{response.json()['id']}").status_code == 204
    assert admin.get('/api/v2/user').headers['Allow'] == 'GET, POST, HEAD, OPTIONS'


def test_a_token_has_no_account(web, tokens):
    for role in ('readonly', 'read/write', 'superuser'):
        client = WsgiClient(web, bearer=new_token(tokens, role.replace('/', '-'), role))
        assert (client.get('/api/v2/user/me').status_code, client.get('/api/v1/user/me').status_code) == (404, 404)
        if role != 'readonly':
            assert client.patch('/api/v2/user/me', {'email': 'a@b.cd'}).status_code == 404
            assert client.patch('/api/v2/user/1', {'email': 'a@b.cd'}).json() == {'detail': 'Permission denied'}
        assert client.get('/api/v2/user').status_code == 200


@pytest.mark.parametrize('header, detail, challenge', [
    ('Bearer', 'Invalid token header. No credentials provided.', 'Bearer realm="calamari_api"'),
    ('Bearer    ', 'Invalid token header. No credentials provided.', 'Bearer realm="calamari_api"'),
    ('Bearer two words', 'Invalid token header. Token string should not contain spaces.', CHALLENGE),
    ('Bearer abc$def', 'Invalid token.', CHALLENGE),
    ('Bearer ' + 'a' * 300, 'Invalid token.', CHALLENGE),
    ('Bearer calapi_NeverMadeNeverMadeNeverMadeNeverMadeNeverMad', 'Invalid token.', CHALLENGE),
])
def test_bad_tokens_are_401(web, tokens, header, detail, challenge):
    response = WsgiClient(web).get('/api/v2/cluster', headers={'Authorization': header})
    assert (response.status_code, response.json()) == (401, {'detail': detail})
    assert response.headers['WWW-Authenticate'].startswith(challenge)


def test_scheme_is_case_insensitive_and_other_schemes_are_no_credentials(web, tokens):
    token = new_token(tokens)
    assert WsgiClient(web).get('/api/v2/cluster', headers={'Authorization': f'bearer {token}'}).status_code == 200
    for headers in ({}, {'Authorization': 'Basic bW9uaXRvcjpwdw=='}, {'Authorization': token}):
        response = WsgiClient(web).get('/api/v2/cluster', headers=headers)
        assert (response.status_code, response.json()) == (403, ANON), headers
        assert 'WWW-Authenticate' not in response.headers


def test_public_routes_ignore_tokens(web, tokens):
    bad = WsgiClient(web, bearer='calapi_unknown')
    assert bad.get('/api/v2/info').status_code == 200
    assert bad.get('/api/v2/openapi.json').status_code == 200


def test_the_token_wins_over_a_session_cookie(web, tokens, fsid):
    client = WsgiClient(web)
    assert client.login('alice', 'alice-pw').status_code == 200              # a read/write session
    client.bearer = new_token(tokens)                                        # ... and a readonly token
    response = client.patch(f'/api/v2/cluster/{fsid}/osd_config', {'noout': True})
    assert (response.status_code, response.json()) == (403, DENIED)
    client.bearer = 'calapi_unknown'                                         # a bad token: no fallback
    assert client.get('/api/v2/cluster').status_code == 401
    client.bearer = None
    assert client.get('/api/v2/cluster').status_code == 200


def test_revocation_is_immediate(web, tokens, module):
    client = WsgiClient(web, bearer=new_token(tokens))
    assert client.get('/api/v2/cluster').status_code == 200
    assert tokens.revoke('monitor') and not tokens.revoke('monitor')
    assert (client.get('/api/v2/cluster').status_code, client.get('/api/v2/cluster').json()) == (401, INVALID)
    assert stored(module, 'monitor') is None


def test_expiry(web, tokens, clock):
    client = WsgiClient(web, bearer=new_token(tokens, expires=100))
    clock.advance(99)
    assert client.get('/api/v2/cluster').status_code == 200
    clock.advance(1)
    response = client.get('/api/v2/cluster')
    assert (response.status_code, response.json()) == (401, {'detail': 'Token has expired.'})
    assert 'error_description="Token has expired."' in response.headers['WWW-Authenticate']
    assert [t['name'] for t in tokens.list()] == ['monitor']                  # listed until revoked


# -- throttling --------------------------------------------------------------------------------

def test_failed_tokens_are_401_and_never_lock_out_a_valid_token(web, tokens, clock, caplog):
    """Issue 23: past the per-address limit a bad token is still a 401 (never a 429), only its log line stops;
    a valid token from the same address always works."""
    caplog.set_level(logging.INFO)
    token = new_token(tokens)
    attacker = WsgiClient(web, bearer='calapi_guess', remote_addr='10.0.0.9')
    for _ in range(5):
        assert WsgiClient(web, bearer='', remote_addr='10.0.0.9').get('/api/v2/cluster').status_code == 401
    for i in range(60):
        response = attacker.get('/api/v2/cluster')
        assert (response.status_code, response.json()) == (401, INVALID), i
        assert response.headers['WWW-Authenticate'].startswith(CHALLENGE)
        clock.advance(1)
    assert WsgiClient(web, bearer=token, remote_addr='10.0.0.9').get('/api/v2/cluster').status_code == 200
    assert WsgiClient(web, remote_addr='10.0.0.9').login('alice', 'alice-pw').status_code == 200
    messages = [r.getMessage() for r in caplog.records]
    assert sum('API token refused from 10.0.0.9 (unknown)' in m for m in messages) == 50     # then quiet
    assert sum('API token failures from 10.0.0.9: 50 in 300s' in m for m in messages) == 1
    clock.advance(300)                                   # the window passed: logged again
    attacker.get('/api/v2/cluster')
    messages = [r.getMessage() for r in caplog.records]
    assert sum('API token refused from 10.0.0.9 (unknown)' in m for m in messages) == 51


def test_failed_logins_do_not_throttle_tokens(web, tokens):
    token = new_token(tokens)
    for i in range(50):
        WsgiClient(web).post('/api/v2/auth/login', {'username': f'u{i}', 'password': 'guess'})
    assert WsgiClient(web).login('alice', 'alice-pw').status_code == 429
    assert WsgiClient(web, bearer=token).get('/api/v2/cluster').status_code == 200


# -- last use ----------------------------------------------------------------------------------

def test_last_use_is_written_at_most_once_a_minute(web, tokens, module, clock, monkeypatch):
    token = new_token(tokens)
    writes = []
    real = module.set_store

    def counted(key, val):
        if key.startswith('token/'):
            writes.append(key)
        real(key, val)
    monkeypatch.setattr(module, 'set_store', counted)
    client = WsgiClient(web, bearer=token)
    first = clock.now
    for _ in range(100):
        assert client.get('/api/v2/cluster').status_code == 200
        clock.advance(0.5)
    assert writes == ['token/monitor']                                # the first use only
    assert stored(module, 'monitor')['last_used'] == first
    assert tokens.list()[0]['last_used'] == clock.now - 0.5           # memory has every use
    clock.advance(10)
    client.get('/api/v2/cluster')                                    # 60 s after the stored use
    assert writes == ['token/monitor'] * 2 and stored(module, 'monitor')['last_used'] == clock.now
    clock.advance(1)
    client.get('/api/v2/cluster')
    tokens.flush()                                                   # at stop: what was not stored yet
    assert len(writes) == 3 and stored(module, 'monitor')['last_used'] == clock.now
    tokens.flush()
    assert len(writes) == 3


def test_a_late_last_use_write_never_brings_a_revoked_token_back(tokens, module):
    token = new_token(tokens)
    record = tokens._by_name['monitor']
    assert tokens._used('monitor', record)               # a request decided to store its use ...
    tokens.revoke('monitor')                             # ... the token is revoked before it does ...
    tokens._save_use('monitor', record['hash'])          # ... and the write is skipped
    assert stored(module, 'monitor') is None
    new_token(tokens)                                    # same name, another token: the old write must not land
    tokens._save_use('monitor', hashlib.sha256(token.encode()).hexdigest())
    assert stored(module, 'monitor')['hash'] != hashlib.sha256(token.encode()).hexdigest()


def test_a_failed_last_use_write_does_not_fail_the_request(web, tokens, module, monkeypatch, caplog):
    token = new_token(tokens)

    def broken(key, val):
        raise RuntimeError('mon unreachable')
    monkeypatch.setattr(module, 'set_store', broken)
    assert WsgiClient(web, bearer=token).get('/api/v2/cluster').status_code == 200
    assert any('could not store the last use' in r.getMessage() for r in caplog.records)


def test_tokens_survive_a_restart(web, tokens, services, clock):
    """A new Tokens over the same KV store (what a mgr failover does) knows the tokens and their last use."""
    kept, revoked = new_token(tokens, 'kept', 'read/write'), new_token(tokens, 'revoked')
    WsgiClient(web, bearer=kept).get('/api/v2/cluster')
    used = clock.now
    tokens.revoke('revoked')
    services.tokens = Tokens(services.store, services.auth.throttle, clock=clock)
    fresh = CalamariApp(services).wsgi
    assert WsgiClient(fresh, bearer=kept).get('/api/v2/cluster').status_code == 200
    assert WsgiClient(fresh, bearer=revoked).get('/api/v2/cluster').status_code == 401
    assert [(t['name'], t['role'], t['last_used']) for t in services.tokens.list()] == [('kept', 'read/write', used)]


def test_unreadable_records_are_ignored(module, services, clock):
    module.store['token/bad'] = json.dumps({'role': 'king', 'hash': 'x'})
    module.store['token/worse'] = '{not json'
    assert Tokens(services.store, Throttle(clock), clock=clock).list() == []


# -- logging -----------------------------------------------------------------------------------

def test_use_is_logged_without_the_token(web, tokens, fsid, clock, caplog):
    caplog.set_level(logging.DEBUG)
    reader, writer = new_token(tokens, 'reader'), new_token(tokens, 'writer', 'read/write', expires=50)
    for _ in range(3):
        WsgiClient(web, bearer=reader).get('/api/v2/cluster')
    WsgiClient(web, bearer=writer).patch(f'/api/v2/cluster/{fsid}/osd_config', {'noout': True})
    clock.advance(60)
    WsgiClient(web, bearer=writer).get('/api/v2/cluster')
    records = [(r.levelno, r.getMessage()) for r in caplog.records]
    uses = [(level, m) for level, m in records if ' used from ' in m or ' refused ' in m]
    assert uses == [
        (logging.INFO, "API token 'reader' (readonly) used from 127.0.0.1: GET /api/v2/cluster"),
        (logging.DEBUG, "API token 'reader' (readonly) used from 127.0.0.1: GET /api/v2/cluster"),
        (logging.DEBUG, "API token 'reader' (readonly) used from 127.0.0.1: GET /api/v2/cluster"),
        (logging.INFO, f"API token 'writer' (read/write) used from 127.0.0.1: PATCH /api/v2/cluster/{fsid}/osd_config"),
        (logging.WARNING, "API token 'writer' refused from 127.0.0.1 (expired): GET /api/v2/cluster")]
    text = '\n'.join(m for _, m in records)
    for token in (reader, writer):
        assert token not in text and hashlib.sha256(token.encode()).hexdigest() not in text


# -- CLI and OpenAPI ---------------------------------------------------------------------------

def cli(module, prefix, **args):
    result = module._handle_command(None, dict(args, prefix=f'calamari-api {prefix}'))
    return result.retval, result.stdout, result.stderr


def test_cli(module, services, app):
    rc, out, err = cli(module, 'token-create', name='nagios')
    token = out.strip()
    assert rc == 0 and out == token + '\n' and token.startswith('calapi_')
    assert err == "Token 'nagios' created (role readonly, never expires); it is shown only this once"
    rc, out, err = cli(module, 'token-create', name='ci', role='read/write', expires=3600)
    assert rc == 0 and 'role read/write, expires 20' in err
    assert cli(module, 'token-create', name='ci')[0] == -errno.EEXIST
    assert cli(module, 'token-create', name='x', role='none')[0] == -errno.EINVAL
    assert cli(module, 'token-create', name='x', expires=-1)[0] == -errno.EINVAL
    assert WsgiClient(app.wsgi, bearer=token).get('/api/v2/cluster').status_code == 200
    rc, out, _ = cli(module, 'token-list')
    listed = json.loads(out)
    assert rc == 0 and token not in out and [t['name'] for t in listed] == ['ci', 'nagios']
    assert listed[1]['role'] == 'readonly' and listed[1]['expires'] is None
    assert listed[1]['created'].endswith('+00:00') and listed[1]['last_used'].endswith('+00:00')
    assert listed[0]['last_used'] is None and listed[0]['expires'] > listed[0]['created']
    assert cli(module, 'token-revoke', name='nagios') == (0, '', "Token 'nagios' revoked")
    assert cli(module, 'token-revoke', name='nagios')[0] == -errno.ENOENT
    assert WsgiClient(app.wsgi, bearer=token).get('/api/v2/cluster').status_code == 401


def test_openapi_declares_the_bearer_scheme():
    document = build_document()
    scheme = document['components']['securitySchemes']['bearerAuth']
    assert (scheme['type'], scheme['scheme']) == ('http', 'bearer')
    assert document['security'] == [{'session': []}, {'bearerAuth': []}]
    pool_create = document['paths']['/api/v2/cluster/{fsid}/pool']['post']
    assert pool_create['security'] == [{'session': [], 'csrfCookie': [], 'xsrf': []}, {'bearerAuth': []}]
    assert '401' in document['paths']['/api/v2/cluster']['get']['responses']
    info = document['paths']['/api/v2/info']['get']
    assert info['security'] == [] and '401' not in info['responses']
