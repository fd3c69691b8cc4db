"""restful's API on its own listener, on a real cluster: every URL x method restful had, HTTP Basic keys (made with
the release's commands, and restful's own keys in the config-key store imported unchanged), 401 with a Basic
challenge, bad input 4xx, writes tracked as requests of the module to completion.

Failed keys are throttled per client address: the tests that fail on purpose connect from 127.0.0.x addresses of
their own."""
import base64
import json
import os
import ssl
import subprocess
import tempfile
import time
import uuid

import pytest

from tests.support.http_client import HttpClient
from tests.support.cluster import wait_for

HEADERS = {'Content-Type': 'application/json'}
REQUEST_FIELDS = {'id', 'running', 'finished', 'waiting', 'failed', 'is_waiting', 'is_finished', 'has_failed',
                  'state'}


def basic(name, key):
    return {'Authorization': 'Basic ' + base64.b64encode(f'{name}:{key}'.encode()).decode(), **HEADERS}


@pytest.fixture(scope='module')
def base(cluster):
    url = f'https://127.0.0.1:{cluster.state.get("restful_port") or cluster.api_port + 30}'  # (dev-cluster's)

    def answers():
        try:
            return HttpClient(url, timeout=5).get('/').status_code == 200
        except OSError:
            return False
    wait_for(answers, 90, "restful's listener")
    return url


@pytest.fixture(scope='module')
def key_commands(cluster):
    """Pacific ships the restful module (its own `ceph restful ...`); Tentacle has none: ours are restful's."""
    if cluster.release == 'tentacle':
        return ('restful', 'create-key'), ('restful', 'delete-key')
    return ('calamari-api', 'restful-key-create'), ('calamari-api', 'restful-key-delete')


@pytest.fixture(scope='module')
def admin_key(cluster, key_commands):
    name = f'admin-{uuid.uuid4().hex[:6]}'
    key = cluster.ceph(*key_commands[0], name).stdout.strip()
    yield name, key
    cluster.ceph(*key_commands[1], name, check=False)


@pytest.fixture
def api(base, admin_key):
    """A client of restful's API with the admin key."""
    client = HttpClient(base)
    headers = basic(*admin_key)

    def call(method, url, body=None):
        return client.request(method, url, body, headers=headers)
    return call


def test_root_and_doc_need_no_key(base):
    client = HttpClient(base)
    root = client.get('/').json()
    assert root['api_version'] == 1 and 'create-key' in root['auth']
    doc = client.get('/doc').json()
    for path in ('/config/osd', '/osd/<arg>/command', '/pool/<arg>', '/request', '/request/<arg>', '/server/<arg>'):
        assert path in doc
    assert set(doc['/pool/<arg>']) == {'GET', 'PATCH', 'DELETE'}


def test_no_or_wrong_key_is_401_with_basic_challenge(base, admin_key):
    client = HttpClient(base, source_address='127.0.0.71')
    for headers in ({}, basic(admin_key[0], 'wrong'), basic('nobody', admin_key[1])):
        r = client.get('/osd', headers=headers)
        assert r.status_code == 401, r.content
        assert r.headers['WWW-Authenticate'].startswith('Basic')
        assert r.json()['message'].startswith('auth: ')


def test_failures_throttled_but_right_key_still_works(base, admin_key):
    client = HttpClient(base, source_address='127.0.0.72')
    statuses = [client.get('/osd', headers=basic(admin_key[0], 'wrong')).status_code for _ in range(55)]
    assert statuses[0] == 401 and statuses[-1] == 429
    assert client.get('/osd', headers=basic(*admin_key)).status_code == 200


def test_post_request_wait_one_command_and_batch(api, cluster):
    r = api('POST', '/request?wait=1', {'prefix': 'status', 'format': 'json'})
    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == REQUEST_FIELDS and body['state'] == 'success' and body['is_finished']
    status = json.loads(body['finished'][0]['outb'])
    assert status['fsid'] == cluster.fsid
    batch = api('POST', '/request?wait=1', [[{'prefix': 'osd dump', 'format': 'json'},
                                             {'prefix': 'df', 'format': 'json'}],
                                            [{'prefix': 'osd pool ls', 'format': 'json'}]]).json()
    assert batch['state'] == 'success'
    assert [f['command'] for f in batch['finished']] == ['osd dump format=json', 'df format=json',
                                                         'osd pool ls format=json']
    assert json.loads(batch['finished'][0]['outb'])['fsid'] == cluster.fsid
    assert api('GET', f'/request/{body["id"]}').json()['id'] == body['id']
    assert body['id'] in [x['id'] for x in api('GET', '/request').json()]
    failed = api('POST', '/request?wait=1', {'prefix': 'osd pool get', 'pool': 'no-such-pool',
                                             'var': 'size'}).json()
    assert failed['state'] == 'failed' and failed['has_failed'] and failed['failed'][0]['outs']


def test_request_without_wait_and_deletes(api):
    r = api('POST', '/request', {'prefix': 'health', 'format': 'json'}).json()
    done = wait_for(lambda: api('GET', f'/request/{r["id"]}').json()['is_finished'], 60, 'the request')
    assert done
    assert api('DELETE', f'/request/{r["id"]}').json()['id'] == r['id']
    assert api('GET', f'/request/{r["id"]}').status_code == 404
    cleaned = api('DELETE', '/request').json()
    assert set(cleaned) == {'cleaned', 'remaining'}
    assert api('GET', '/request').json() == [] or cleaned['remaining'] > 0


def test_reads(api, cluster):
    assert api('GET', '/config/cluster').json()['fsid'] == cluster.fsid
    assert api('GET', '/config/cluster/fsid').json() == cluster.fsid
    assert 'sortbitwise' in api('GET', '/config/osd').json()
    rules = api('GET', '/crush/rule').json()
    assert rules[0]['rule_name'] == 'replicated_rule' and rules[0]['osd_count'] == len(cluster.osd_ids())
    mons = api('GET', '/mon').json()
    assert mons[0]['in_quorum'] and mons[0]['leader']
    assert api('GET', f'/mon/{mons[0]["name"]}').json()['name'] == mons[0]['name']
    osds = api('GET', '/osd').json()
    assert sorted(o['osd'] for o in osds) == sorted(cluster.osd_ids())
    osd = api('GET', f'/osd/{osds[0]["osd"]}').json()
    assert osd['valid_commands'] == ['scrub', 'deep-scrub', 'repair'] and osd['server']
    assert api('GET', f'/osd/{osd["osd"]}/command').json() == ['scrub', 'deep-scrub', 'repair']
    pools = api('GET', '/pool').json()
    assert pools and 'pgp_num' in pools[0]
    assert api('GET', f'/pool/{pools[0]["pool"]}').json()['pool_name'] == pools[0]['pool_name']
    assert pools[0]['pool'] in api('GET', f'/osd?pool={pools[0]["pool"]}').json()[0]['pools']
    perf = api('GET', '/perf?daemon=osd').json()
    assert perf and all(name.startswith('osd') for name in perf)
    servers = api('GET', '/server').json()
    assert servers and api('GET', f'/server/{servers[0]["hostname"]}').json()['hostname'] == servers[0]['hostname']


def test_writes_tracked_to_completion(api, cluster):
    osd_id = cluster.osd_ids()[0]
    r = api('PATCH', '/config/osd?wait=1', {'noout': True})
    assert r.status_code == 200 and r.json()['state'] == 'success', r.content
    assert 'noout' in api('GET', '/config/osd').json()
    assert api('PATCH', '/config/osd?wait=1', {'noout': False}).json()['state'] == 'success'
    assert 'noout' not in api('GET', '/config/osd').json()
    assert api('PATCH', f'/osd/{osd_id}?wait=1', {'in': True, 'reweight': 1.0}).json()['state'] == 'success'
    assert api('POST', f'/osd/{osd_id}/command?wait=1', {'command': 'scrub'}).json()['state'] == 'success'
    name = f'restful-{uuid.uuid4().hex[:6]}'
    created = api('POST', '/pool?wait=1', {'name': name, 'pg_num': 8, 'size': 2}).json()
    assert created['state'] == 'success', created
    pool = next(p for p in api('GET', '/pool').json() if p['pool_name'] == name)
    assert pool['size'] == 2
    assert api('PATCH', f'/pool/{pool["pool"]}?wait=1', {'size': 3}).json()['state'] == 'success'
    assert api('GET', f'/pool/{pool["pool"]}').json()['size'] == 3
    deleted = api('DELETE', f'/pool/{pool["pool"]}?wait=1').json()
    assert deleted['state'] == 'success', deleted
    assert api('GET', f'/pool/{pool["pool"]}').status_code == 404
    # each write was a request of the module (Calamari's request list), reads were not
    headlines = [q['headline'] for q in cluster.client().get('/api/v2/request?page_size=200').json()['results']]
    assert 'restful: osd set key=noout' in headlines
    assert f'restful: osd pool delete pool={name} pool2={name} yes_i_really_really_mean_it=True' in headlines
    assert not [h for h in headlines if h.startswith('restful: status')]


@pytest.mark.parametrize('method,url,body,status', [
    ('POST', '/request', [{'prefix': 'status'}], 400),
    ('POST', '/request', {'format': 'json'}, 400),
    ('POST', '/pool', {'pg_num': 8}, 400),
    ('POST', '/pool', {'name': 'x', 'pg_num': 8, 'colour': 'red'}, 400),
    ('PATCH', '/pool/99999', {'size': 2}, 404),
    ('DELETE', '/pool/99999', None, 404),
    ('PATCH', '/osd/0', {'up': True}, 400),
    ('PATCH', '/osd/99999', {'in': True}, 404),
    ('POST', '/osd/0/command', {'command': 'destroy'}, 400),
    ('GET', '/osd/99999', None, 404),
    ('GET', '/osd/99999/command', None, 404),
    ('GET', '/mon/no-such-mon', None, 404),
    ('GET', '/request/no-such-request', None, 404),
    ('DELETE', '/request/no-such-request', None, 404),
    ('GET', '/perf?daemon=(', None, 400),
    ('GET', '/request?page=x', None, 400),
    ('PUT', '/osd', None, 405),
    ('GET', '/no/such/url', None, 404),
])
def test_bad_input_is_4xx(api, method, url, body, status):
    r = api(method, url, body)
    assert r.status_code == status, (r.status_code, r.content)
    assert r.json()['message']


def test_malformed_json_is_400(base, admin_key):
    r = HttpClient(base).request('POST', '/request', raw=b'{"prefix": ', headers=basic(*admin_key))
    assert r.status_code == 400 and 'malformed JSON' in r.json()['message']


def test_key_left_by_restful_works_unchanged(base, cluster):
    """A key as restful made it (a UUID in clear at mgr/restful/keys/<name>): on Pacific made by the restful module
    itself when it is there, else written as restful wrote it."""
    name = f'legacy-{uuid.uuid4().hex[:6]}'
    key = str(uuid.uuid4())
    cluster.ceph('config-key', 'set', f'mgr/restful/keys/{name}', key)
    client = HttpClient(base)
    # an unknown name imports restful's keys again at most every 5 seconds
    wait_for(lambda: client.get('/pool', headers=basic(name, key)).status_code == 200, 30, 'the imported key')
    listed = json.loads(cluster.ceph('calamari-api', 'restful-key-list').stdout)
    assert listed[name]['imported'] is True and key not in json.dumps(listed)
    cluster.ceph('calamari-api', 'restful-key-delete', name)
    assert cluster.ceph('config-key', 'exists', f'mgr/restful/keys/{name}', check=False).returncode != 0
    time.sleep(5.5)
    assert client.get('/pool', headers=basic(name, key)).status_code == 401


def test_key_made_by_the_restful_module(base, cluster):
    """Pacific: a key `ceph restful create-key` of the restful module itself made works here unchanged."""
    if cluster.release == 'tentacle':
        pytest.skip('Tentacle has no restful module (test_key_left_by_restful_works_unchanged writes one as it did)')
    if 'restful' not in cluster.ceph_json('mgr', 'module', 'ls').get('enabled_modules', []):
        pytest.skip('the restful module is not enabled on this cluster')
    name = f'made-by-restful-{uuid.uuid4().hex[:6]}'
    key = cluster.ceph('restful', 'create-key', name).stdout.strip()
    try:
        client = HttpClient(base)
        wait_for(lambda: client.get('/osd', headers=basic(name, key)).status_code == 200, 30, "restful's key")
    finally:
        cluster.ceph('calamari-api', 'restful-key-delete', name, check=False)
    assert cluster.ceph('config-key', 'exists', f'mgr/restful/keys/{name}', check=False).returncode != 0


def test_readonly_key(base, cluster):
    name = f'ro-{uuid.uuid4().hex[:6]}'
    key = cluster.ceph('calamari-api', 'restful-key-create', name, '--role', 'readonly').stdout.strip()
    try:
        client = HttpClient(base)
        assert client.post('/request?wait=1', {'prefix': 'status'}, headers=basic(name, key)).status_code == 200
        r = client.post('/request?wait=1', {'prefix': 'osd set', 'key': 'noout'}, headers=basic(name, key))
        assert r.status_code == 403
        assert client.patch('/config/osd', {'noout': True}, headers=basic(name, key)).status_code == 403
    finally:
        cluster.ceph('calamari-api', 'restful-key-delete', name)


def served_certificate(base):
    host, port = base.split('//')[1].split(':')
    return ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate((host, int(port))))


def test_restful_certificate_on_request(base, cluster, admin_key):
    """restful_use_restful_cert: the certificate restful left (mgr/restful/<mgr id>/crt|key) is served."""
    mgr_id = cluster.ceph_json('mgr', 'dump')['active_name']
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = os.path.join(tmp, 'crt'), os.path.join(tmp, 'key')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj',
                        '/O=IT/CN=ceph-restful', '-keyout', key, '-out', cert], check=True, capture_output=True)
        with open(cert) as f:
            pem = f.read()
        for name, path in (('crt', cert), ('key', key)):
            with open(path) as f:
                cluster.ceph('config-key', 'set', f'mgr/restful/{mgr_id}/{name}', '-i', '-', input_text=f.read())
    wanted = ssl.PEM_cert_to_DER_cert(pem)

    def serving(expected: bool):
        try:
            return (served_certificate(base) == wanted) is expected
        except OSError:
            return False
    try:
        cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/restful_use_restful_cert', 'true')
        wait_for(lambda: serving(True), 60, "restful's certificate served")
        assert HttpClient(base).get('/osd', headers=basic(*admin_key)).status_code == 200
    finally:
        cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/restful_use_restful_cert', 'false')
        for name in ('crt', 'key'):
            cluster.ceph('config-key', 'rm', f'mgr/restful/{mgr_id}/{name}', check=False)
    wait_for(lambda: serving(False), 60, "the module's certificate served again")


def test_keys_never_logged(cluster, admin_key):
    for _name, lines in cluster.logs('mgr.'):
        assert not [line for line in lines if admin_key[1] in line]


def test_not_in_the_openapi_document(cluster):
    paths = cluster.client(login=False).get('/api/v2/openapi.json').json()['paths']
    assert not [p for p in paths if p.startswith('/request') or p == '/doc']


def test_request_obeys_the_command_policy_and_is_audited(api, cluster, admin_key, wait):
    """`POST /request` for a command that reveals a secret (`auth get client.admin`) is a 403 in restful's shape,
    unless allow_secret_commands is on; the write's audit line names the key, never the key's secret."""
    command = {'prefix': 'auth get', 'entity': 'client.admin', 'format': 'json'}
    r = api('POST', '/request?wait=1', command)
    assert r.status_code == 403 and 'allow_secret_commands' in r.json()['message']

    def refused_line():
        log = cluster.ceph('log', 'last', '200', 'info', 'audit').stdout.split('\n')
        return [entry for entry in log if f'who=restful:{admin_key[0]} ' in entry and 'auth get' in entry]
    wait(refused_line, 30, 'the audit line')       # (the key's other writes, by other tests, have lines of their own)
    line = refused_line()[-1]
    assert 'op="POST /request"' in line and 'result=403' in line and admin_key[1] not in line
    cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/allow_secret_commands', 'true')
    try:
        wait(lambda: api('POST', '/request?wait=1', command).status_code == 200, 30, 'the option')
        finished = api('POST', '/request?wait=1', command).json()['finished']
        assert 'client.admin' in finished[0]['outb']
    finally:
        cluster.ceph('config', 'rm', 'mgr', 'mgr/calamari_api/allow_secret_commands')
