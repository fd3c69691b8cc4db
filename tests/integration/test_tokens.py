"""API tokens on a real cluster: the CLI (shown once, only a hash stored, never listed), Bearer requests with the
token's role on every route (a read-only token refused every write), no CSRF, 401 + WWW-Authenticate for missing,
malformed, unknown, revoked and expired tokens, throttling, batched "last use", logging, and a mgr failover.

Failed token attempts are counted per client address (past a limit they are no longer logged, and stay 401s); the
tests that fail on purpose connect from their own 127.0.0.x address."""
import datetime
import hashlib
import json
import re
import time
import uuid

import pytest

from tests.support.http_client import HttpClient
from tests.support.access_checks import (ANON, DENIED, PUBLIC, UNSAFE, check_readonly_everywhere, mgr_log,
                                         route_urls)
from tests.support.request_polling import finished

TOKEN_RE = re.compile(r'^calapi_[A-Za-z0-9_-]{43}$')
CHALLENGE = 'Bearer realm="calamari_api", error="invalid_token"'
INVALID = {'detail': 'Invalid token.'}
EXPIRED = {'detail': 'Token has expired.'}
PER_ADDRESS = 40            # failures sent from one source address (the throttle's limit is 50)


@pytest.fixture
def make_token(cluster):
    """make_token(role, expires) -> (name, token), made with the CLI; revoked after the test."""
    made = []

    def make(role='readonly', expires=None):
        name = f'{role.replace("/", "-")}-{uuid.uuid4().hex[:8]}'
        args = ['--role', role] + (['--expires', str(expires)] if expires else [])
        proc = cluster.ceph('calamari-api', 'token-create', name, *args)
        made.append(name)
        return name, proc.stdout.strip()
    yield make
    for name in made:
        cluster.ceph('calamari-api', 'token-revoke', name, check=False)


def bearer(cluster, token, source=None):
    return HttpClient(cluster.url, bearer=token, source_address=source)


def listed(cluster):
    """token-list, as text and as {name: entry}."""
    text = cluster.ceph('calamari-api', 'token-list').stdout
    return text, {entry['name']: entry for entry in json.loads(text)}


def parse_time(value):
    return datetime.datetime.fromisoformat(value).timestamp()


# -- the CLI -----------------------------------------------------------------------------------

def test_token_create_list_revoke(cluster, make_token):
    name = 'cli-' + uuid.uuid4().hex[:8]
    proc = cluster.ceph('calamari-api', 'token-create', name, '--role', 'read/write', '--expires', '3600')
    token = proc.stdout.strip()
    try:
        assert TOKEN_RE.match(token), proc.stdout
        assert f"Token '{name}' created (role read/write, expires " in proc.stderr
        assert 'shown only this once' in proc.stderr and token not in proc.stderr
        again = cluster.ceph('calamari-api', 'token-create', name, check=False)
        assert again.returncode != 0 and 'already exists' in again.stderr and token not in again.stdout
        for args in (['--role', 'none'], ['--role', 'king'], ['--expires', '-1']):
            bad = cluster.ceph('calamari-api', 'token-create', 'bad-' + name, *args, check=False)
            assert bad.returncode != 0, args
        text, tokens = listed(cluster)
        assert token not in text and 'hash' not in text and 'bad-' + name not in tokens
        entry = tokens[name]
        assert set(entry) == {'name', 'role', 'created', 'expires', 'last_used'}
        assert entry['role'] == 'read/write' and entry['last_used'] is None
        assert 3599 <= parse_time(entry['expires']) - parse_time(entry['created']) <= 3601
        stored = json.loads(cluster.ceph('config-key', 'get', f'mgr/calamari_api/token/{name}').stdout)
        assert stored['hash'] == hashlib.sha256(token.encode()).hexdigest()
        assert token not in cluster.ceph('config-key', 'dump').stdout
        assert bearer(cluster, token).get('/api/v2/cluster').status_code == 200
        assert listed(cluster)[1][name]['last_used'] is not None
    finally:
        assert cluster.ceph('calamari-api', 'token-revoke', name).stderr.strip() == f"Token '{name}' revoked"
    gone = cluster.ceph('calamari-api', 'token-revoke', name, check=False)
    assert gone.returncode != 0 and 'does not exist' in gone.stderr
    assert name not in listed(cluster)[1]
    assert cluster.ceph('config-key', 'get', f'mgr/calamari_api/token/{name}', check=False).returncode != 0


def test_default_role_is_readonly_and_no_expiry(cluster):
    name = 'default-' + uuid.uuid4().hex[:8]
    cluster.ceph('calamari-api', 'token-create', name)
    try:
        entry = listed(cluster)[1][name]
        assert (entry['role'], entry['expires']) == ('readonly', None)
    finally:
        cluster.ceph('calamari-api', 'token-revoke', name)


# -- roles: exactly a session's ----------------------------------------------------------------

def test_readonly_token_everywhere(cluster, fsid, make_token):
    """Every route of the table: reads answer, every write is refused with the role's 403, no CSRF involved."""
    assert check_readonly_everywhere(bearer(cluster, make_token('readonly')[1]), fsid) >= 30


def test_writer_token_writes_without_csrf(cluster, fsid, make_token):
    client = bearer(cluster, make_token('read/write')[1])
    url = f'/api/v2/cluster/{fsid}/osd_config'
    request = finished(client, client.patch(url, {'noscrub': True}))
    assert request['headline'] == 'Modifying OSD config ceph (noscrub=True)'
    assert 'noscrub' in cluster.ceph_json('osd', 'dump')['flags'].split(',')
    finished(client, client.patch(url, {'noscrub': False}))
    assert 'noscrub' not in cluster.ceph_json('osd', 'dump')['flags'].split(',')
    assert client.post(f'/api/v2/cluster/{fsid}/cli', {'command': 'osd pool ls'}).json() == DENIED
    assert client.post('/api/v2/user', {'username': 'nope', 'password': 'x'}).json() == DENIED
    assert client.get('/api/v2/user/me').status_code == 404          # a token is not an account
    assert client.patch('/api/v2/user/me', {'email': 'a@b.cd'}).status_code == 404


def test_superuser_token(cluster, fsid, make_token):
    client = bearer(cluster, make_token('superuser')[1])
    response = client.post(f'/api/v2/cluster/{fsid}/cli', {'command': 'osd pool ls'})
    assert response.status_code == 200 and response.json()['status'] == 0
    name = 'bytoken-' + uuid.uuid4().hex[:8]
    response = client.post('/api/v2/user', {'username': name, 'password': 'made-password'})
    assert response.status_code == 201
    assert HttpClient(cluster.url).login(name, 'made-password').status_code == 200
    assert client.delete(f"/api/v2/user/{response.json()['id']}").status_code == 204
    assert client.get('/api/v2/user').headers['Allow'] == 'GET, POST, HEAD, OPTIONS'


def test_the_token_wins_over_a_session_cookie(cluster, fsid, make_token):
    client = cluster.client()                                        # the admin's superuser session ...
    client.bearer = make_token('readonly')[1]                        # ... and a read-only token
    response = client.patch(f'/api/v2/cluster/{fsid}/osd_config', {'noscrub': True})
    assert (response.status_code, response.json()) == (403, DENIED)
    client.bearer = None
    assert client.get('/api/v2/cluster').status_code == 200


# -- refusals ----------------------------------------------------------------------------------

def test_every_route_answers_401_to_an_unknown_token(cluster, fsid):
    """Unknown tokens on every authenticated route (40 per source address, under the throttle's limit)."""
    checked = 0
    for method, url, route in route_urls(fsid):
        client = bearer(cluster, 'calapi_' + uuid.uuid4().hex, source=f'127.0.1.{10 + checked // PER_ADDRESS}')
        response = client.request(method, url, body={} if method in UNSAFE else None)
        if route.action in PUBLIC:
            assert response.status_code not in (401, 403), (method, url)    # public: no token is checked
            continue
        assert (response.status_code, response.json()) == (401, INVALID), (method, url)
        assert response.headers['WWW-Authenticate'].startswith(CHALLENGE), (method, url)
        checked += 1
    assert checked > 60


def test_missing_malformed_revoked_and_expired_tokens(cluster, make_token, wait):
    source = '127.0.2.10'
    name, revoked = make_token('readonly')
    cluster.ceph('calamari-api', 'token-revoke', name)
    cases = [('Bearer', 'Invalid token header. No credentials provided.', 'Bearer realm="calamari_api"'),
             ('Bearer a b', 'Invalid token header. Token string should not contain spaces.', CHALLENGE),
             ('Bearer not$base64', 'Invalid token.', CHALLENGE),
             ('Bearer ' + 'a' * 300, 'Invalid token.', CHALLENGE),
             (f'Bearer {revoked}', 'Invalid token.', CHALLENGE)]
    for header, detail, challenge in cases:
        for method in ('GET', 'PATCH'):
            response = HttpClient(cluster.url, source_address=source).request(
                method, '/api/v2/cluster' if method == 'GET' else '/api/v2/user/me', body={} if method == 'PATCH'
                else None, headers={'Authorization': header})
            assert (response.status_code, response.json()) == (401, {'detail': detail}), (header, method)
            assert response.headers['WWW-Authenticate'].startswith(challenge), header
    _, expiring = make_token('readonly', expires=4)
    client = bearer(cluster, expiring, source=source)
    assert client.get('/api/v2/cluster').status_code == 200
    response = wait(lambda: (lambda r: r if r.status_code != 200 else None)(client.get('/api/v2/cluster')), 15,
                    'the token to expire')
    assert (response.status_code, response.json()) == (401, EXPIRED)
    assert 'error_description="Token has expired."' in response.headers['WWW-Authenticate']


def test_no_credentials_or_another_scheme_keep_calamaris_403(cluster, make_token):
    token = make_token('readonly')[1]
    for headers in ({}, {'Authorization': 'Basic ' + 'bmFtZTpwdw=='}, {'Authorization': token}):
        response = HttpClient(cluster.url).get('/api/v2/cluster', headers=headers)
        assert (response.status_code, response.json()) == (403, ANON), headers
        assert 'WWW-Authenticate' not in response.headers


def test_revocation_takes_effect_at_once(cluster, make_token):
    name, token = make_token('read/write')
    client = bearer(cluster, token, source='127.0.3.10')
    assert client.get('/api/v2/cluster').status_code == 200
    cluster.ceph('calamari-api', 'token-revoke', name)
    response = client.get('/api/v2/cluster')                          # the very next request
    assert (response.status_code, response.json()) == (401, INVALID)


def test_failed_tokens_are_401_and_never_lock_out_a_valid_one(cluster, make_token):
    """Issue 23: a bad token is a 401 however often its address failed (past 50 in five minutes only its log line
    stops); a valid token from that address still works."""
    name, token = make_token('readonly')
    source = '127.0.4.10'
    guesser = bearer(cluster, 'calapi_guess', source=source)
    for i in range(55):
        response = guesser.get('/api/v2/cluster')
        assert (response.status_code, response.json()) == (401, INVALID), i
    assert bearer(cluster, token, source=source).get('/api/v2/cluster').status_code == 200
    assert HttpClient(cluster.url, source_address=source).login(            # logins are throttled apart
        cluster.admin['username'], cluster.admin['password']).status_code == 200
    log_text = mgr_log(cluster)
    assert f'API token refused from {source} (unknown)' in log_text
    assert f'API token failures from {source}: 50 in 300s' in log_text


# -- last use, logging, failover ---------------------------------------------------------------

def test_last_use_is_not_a_store_write_per_request(cluster, make_token):
    name, token = make_token('readonly')
    client = bearer(cluster, token)
    started = time.time()
    for _ in range(20):
        assert client.get('/api/v2/cluster').status_code == 200
    time.sleep(1.1)
    assert client.get('/api/v2/cluster').status_code == 200
    stored = json.loads(cluster.ceph('config-key', 'get', f'mgr/calamari_api/token/{name}').stdout)
    in_memory = parse_time(listed(cluster)[1][name]['last_used'])
    assert started - 1 <= stored['last_used'] < started + 1                # the first use, written once
    assert in_memory >= stored['last_used'] + 1                            # every use, in memory


def test_use_is_logged_and_the_token_never_is(cluster, fsid, make_token):
    reader_name, reader = make_token('readonly')
    writer_name, writer = make_token('read/write')
    bearer(cluster, reader).get('/api/v2/cluster')
    bearer(cluster, writer).patch(f'/api/v2/cluster/{fsid}/osd_config', {})
    bearer(cluster, reader + 'x', source='127.0.5.10').get('/api/v2/cluster')
    log_text = mgr_log(cluster)
    assert f"API token '{reader_name}' (readonly) used from 127.0.0.1: GET /api/v2/cluster" in log_text
    assert f"API token '{writer_name}' (read/write) used from 127.0.0.1: PATCH " \
           f"/api/v2/cluster/{fsid}/osd_config" in log_text
    assert "API token refused from 127.0.5.10 (unknown): GET /api/v2/cluster" in log_text
    assert f"API token '{reader_name}' created (role readonly, no expiry)" in log_text
    text, _ = listed(cluster)
    for token in (reader, writer):
        assert token not in log_text and token not in text
        assert hashlib.sha256(token.encode()).hexdigest() not in log_text


def test_tokens_survive_a_mgr_failover(cluster, fsid, make_token):
    kept_name, kept = make_token('read/write')
    reader_name, reader = make_token('readonly', expires=3600)
    revoked_name, revoked = make_token('superuser')
    assert bearer(cluster, kept).get('/api/v2/cluster').status_code == 200
    cluster.ceph('calamari-api', 'token-revoke', revoked_name)
    before = listed(cluster)[1]
    cluster.restart_active_mgr()
    after = listed(cluster)[1]
    assert after[kept_name] == before[kept_name] and after[reader_name] == before[reader_name]
    assert revoked_name not in after
    client = bearer(cluster, kept)
    finished(client, client.patch(f'/api/v2/cluster/{fsid}/osd_config', {'noscrub': True}))
    finished(client, client.patch(f'/api/v2/cluster/{fsid}/osd_config', {'noscrub': False}))
    assert bearer(cluster, reader).get('/api/v2/cluster').status_code == 200
    assert bearer(cluster, reader).patch(f'/api/v2/cluster/{fsid}/osd_config', {}).status_code == 403
    response = bearer(cluster, revoked, source='127.0.6.10').get('/api/v2/cluster')
    assert (response.status_code, response.json()) == (401, INVALID)


def test_openapi_declares_the_bearer_scheme(anon):
    document = anon.get('/api/v2/openapi.json').json()
    assert document['components']['securitySchemes']['bearerAuth']['scheme'] == 'bearer'
    assert {'bearerAuth': []} in document['security']
