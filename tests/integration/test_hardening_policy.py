"""Issue 23 on a real cluster: the command policy (every row of the table refused by default through ``cli`` and
allowed with ``allow_secret_commands``; the allowed writes make and remove a throwaway entity, key and token), the
audit lines of a pool create, a user change and a cli command in ``ceph log last ... audit``, a valid token after
60 bad ones from its address, and a login lockout from one address that leaves another address working."""
import uuid

import pytest

from calamari_api.command_policy import OPTION, POLICY
from tests.support.http_client import HttpClient
from tests.support.cluster import wait_for
from tests.support.request_polling import finished

RUN = uuid.uuid4().hex[:8]
ENTITY, ENTITY2 = f'client.calamari-it-{RUN}', f'client.calamari-it2-{RUN}'
KEY = f'calamari-it/{RUN}'
TOKEN = f'calamari-it-{RUN}'
# Each row of the table with CLI commands that hit it, in an order whose allowed run is harmless: what is made is
# removed again.  NEWER: commands Pacific does not have.  MODULE: commands of mgr modules the test cluster may not
# load (their rows are also proven command by command in tests/unit/test_hardening_policy.py).
SAMPLES = [
    (('family', 'auth'), [
        f'auth get-or-create {ENTITY} mon "allow r"', f'auth get {ENTITY}', f'auth export {ENTITY}', 'auth ls',
        'auth list', f'auth print-key {ENTITY}', f'auth print_key {ENTITY}', f'auth get-key {ENTITY}',
        f'auth get-or-create-key {ENTITY}', f'auth caps {ENTITY} mon "allow r"', f'auth add {ENTITY2}',
        'auth import', f'auth rotate {ENTITY2}', f'auth rm {ENTITY}', f'auth del {ENTITY2}']),
    (('exact', 'fs authorize'), [f'fs authorize no-such-fs {ENTITY} / r']),
    (('exact', 'fs subvolume authorize'), [f'fs subvolume authorize no-such-fs sub {RUN}']),
    (('exact', 'fs subvolume deauthorize'), [f'fs subvolume deauthorize no-such-fs sub {RUN}']),
    (('family', 'config-key'), [f'config-key set {KEY} v1', f'config-key put {KEY} v2', f'config-key get {KEY}',
                                'config-key dump calamari-it/', f'config-key rm {KEY}', f'config-key set {KEY} v3',
                                f'config-key del {KEY}']),
    (('secret-option', 'config set'), ['config set client rgw_keystone_admin_password calamari-it-secret']),
    (('secret-option', 'config get'), ['config get client rgw_keystone_admin_password', 'config get client']),
    (('secret-option', 'config show'), ['config show osd.0', 'config show osd.0 key']),
    (('secret-option', 'config rm'), ['config rm client rgw_keystone_admin_password']),
    (('exact', 'config dump'), ['config dump']),
    (('exact', 'config show-with-defaults'), ['config show-with-defaults osd.0']),
    (('exact', 'config log'), ['config log 1']),
    (('exact', 'config reset'), ['config reset 999999999']),      # a version in the future: refused by the mon
    (('exact', 'influx config-show'), ['influx config-show']),
    (('exact', 'influx config-set'), ['influx config-set interval 30']),
    (('exact', 'calamari-api user-create'), [f'calamari-api user-create calamari-it-{RUN}']),   # no -i: fails
    (('word', 'key'), ['calamari-api set-ssl-certificate-key']),                              # no -i: fails
    (('word', 'certificate'), ['calamari-api set-ssl-certificate']),                          # no -i: fails
    (('word', 'password'), [f'calamari-api user-set-password nobody-{RUN}']),                 # no -i: fails
    (('word', 'token'), [f'calamari-api token-create {TOKEN}', f'calamari-api token-revoke {TOKEN}']),
    (('word', 'keys'), ['restful list-keys']),
    (('word', 'cert'), ['restful create-self-signed-cert']),
    (('family', 'orch certmgr'), ['orch certmgr cert ls']),
    (('word', 'tokens'), ['rgw realm tokens']),
]
NEWER = {f'auth rotate {ENTITY2}'}
MODULE = {'influx config-show', 'influx config-set interval 30', 'restful list-keys',
          'restful create-self-signed-cert', 'orch certmgr cert ls', 'rgw realm tokens',
          f'fs subvolume authorize no-such-fs sub {RUN}', f'fs subvolume deauthorize no-such-fs sub {RUN}'}
# rows with no command on a test cluster (dashboard, cephadm, ...: modules it does not load): unit-tested only
UNIT_ONLY = {('exact', 'dashboard ac-user-show'), ('exact', 'dashboard ac-user-create'),
             ('exact', 'dashboard iscsi-gateway-list'), ('exact', 'dashboard iscsi-gateway-add'),
             ('word', 'secret'), ('word', 'passwd'), ('word', 'credentials'), ('word', 'login')}
ALLOWED = [f'config-key exists {KEY}', 'config-key ls', 'osd pool ls', 'config get osd.0 osd_max_backfills']
UNKNOWN = ('no valid command found', 'invalid command', 'unknown command')


def set_option(cluster, value):
    cluster.ceph('config', 'set', 'mgr', f'mgr/calamari_api/{OPTION}', 'true' if value else 'false')


def cli(client, fsid, command):
    return client.post(f'/api/v2/cluster/{fsid}/cli', {'command': command})


def known(response):
    body = response.json()
    return not (response.status_code == 200 and body['status'] == -22 and any(u in body['err'] for u in UNKNOWN))


@pytest.fixture
def allow_secrets(cluster, client, fsid):
    """Turns the option on for the test (waits until the module sees it) and off again after it."""
    def turn(value):
        set_option(cluster, value)
        wait_for(lambda: (cli(client, fsid, 'config-key get calamari-it/none').status_code != 403) is value, 30,
                 f'{OPTION} = {value} to reach the module')
    yield turn
    turn(False)
    cluster.ceph('auth', 'rm', ENTITY, check=False)
    cluster.ceph('auth', 'rm', ENTITY2, check=False)
    cluster.ceph('config-key', 'rm', KEY, check=False)
    cluster.ceph('config', 'rm', 'client', 'rgw_keystone_admin_password', check=False)
    cluster.ceph('calamari-api', 'token-revoke', TOKEN, check=False)


def test_the_table_covers_every_row():
    rows = {(rule.kind, rule.pattern) for rule in POLICY if rule.kind != 'allow'}
    assert rows == {row for row, _ in SAMPLES} | UNIT_ONLY


def test_policy_on_the_cli_route(cluster, client, fsid, allow_secrets):
    absent, refused = [], []
    for row, commands in SAMPLES:
        for command in commands:
            response = cli(client, fsid, command)
            if not known(response):
                absent.append(command)
                continue
            assert response.status_code == 403, (command, response.content)
            assert set(response.json()) == {'detail'} and OPTION in response.json()['detail'], command
            refused.append(command)
    for command in ALLOWED:
        response = cli(client, fsid, command)
        assert response.status_code == 200 and known(response), (command, response.content)
    pacific = cluster.ceph_version < (17,)
    assert set(absent) <= (NEWER if pacific else set()) | MODULE, absent

    allow_secrets(True)
    answers = {}
    for command in refused:
        response = cli(client, fsid, command)
        assert response.status_code == 200, (command, response.content)
        answers[command] = response.json()
    assert answers[f'auth get {ENTITY}']['status'] == 0 and ENTITY in answers[f'auth get {ENTITY}']['out']
    assert answers[f'auth print-key {ENTITY}']['status'] == 0
    assert answers[f'config-key get {KEY}'] == {'out': 'v2', 'err': '', 'status': 0} or \
        answers[f'config-key get {KEY}']['out'].strip() == 'v2'
    assert answers[f'calamari-api token-create {TOKEN}']['status'] == 0
    assert answers[f'calamari-api token-revoke {TOKEN}']['status'] == 0
    entities = [e['entity'] for e in cluster.ceph_json('auth', 'ls')['auth_dump']]
    assert ENTITY not in entities and ENTITY2 not in entities            # made and removed again
    assert cluster.ceph('config-key', 'exists', KEY, check=False).returncode != 0
    assert TOKEN not in cluster.ceph('calamari-api', 'token-list').stdout


def audit_lines(cluster, *needles):
    """The lines of ``ceph log last ... audit`` (INF and above: the mon's DBG lines would push ours out of its
    short tail) that hold every needle; polled until there is one (each is checked soon after its write)."""
    seen = {}

    def found():
        seen['text'] = cluster.ceph('log', 'last', '100', 'info', 'audit').stdout
        return [line for line in seen['text'].splitlines() if all(n in line for n in needles)]
    return wait_for(found, 30, f'an audit line with {needles}', detail=lambda: seen.get('text', ''))


def test_audit_lines(cluster, client, fsid):
    name = f'calamari-it-audit-{RUN}'
    admin = cluster.admin['username']
    request = finished(client, client.post(f'/api/v2/cluster/{fsid}/pool', {'name': name, 'pg_num': 8}))
    rid = request['id']
    assert audit_lines(cluster, f'calamari_api: who={admin} from=127.0.0.1 op="POST /api/v2/cluster/{fsid}/pool" '
                                f'result=202 request={rid}')
    assert audit_lines(cluster, f'calamari_api: who={admin} from=127.0.0.1 request={rid} result=complete '
                                f'headline="Creating pool \'{name}\'"')
    user = f'audit-{RUN}'
    cluster.create_user(user, 'first-pw-' + RUN, 'read/write')
    try:
        owner = cluster.client(username=user, password='first-pw-' + RUN)
        assert owner.patch('/api/v2/user/me', {'password': 'second-pw-' + RUN}).status_code == 200
        assert audit_lines(cluster, f'calamari_api: who={user} from=127.0.0.1 op="PATCH /api/v2/user/me" result=200')
        assert cli(client, fsid, 'osd pool ls').json()['status'] == 0
        assert audit_lines(cluster, f'calamari_api: who={admin} from=127.0.0.1 op="POST /api/v2/cluster/{fsid}/cli" '
                                    'cmd="osd pool ls" result=200 rc=0')
        assert cli(client, fsid, 'auth get client.admin').status_code == 403
        assert audit_lines(cluster, 'cmd="auth get entity=client.admin" result=403')
        text = cluster.ceph('log', 'last', '100', 'debug', 'audit').stdout
        for secret in ('first-pw-' + RUN, 'second-pw-' + RUN, cluster.admin['password']):
            assert secret not in text
    finally:
        cluster.ceph('calamari-api', 'user-delete', user, check=False)
        pool = next((p for p in client.get(f'/api/v2/cluster/{fsid}/pool').json() if p['name'] == name), None)
        if pool:
            finished(client, client.delete(f'/api/v2/cluster/{fsid}/pool/{pool["id"]}'))


def test_a_valid_token_works_after_60_bad_ones_from_its_address(cluster):
    source = '127.0.23.1'
    name = f'calamari-it-tok-{RUN}'
    token = cluster.ceph('calamari-api', 'token-create', name, '--role', 'readonly').stdout.strip()
    try:
        guesser = HttpClient(cluster.url, bearer='calapi_guess', source_address=source)
        for i in range(60):
            response = guesser.get('/api/v2/cluster')
            assert (response.status_code, response.json()) == (401, {'detail': 'Invalid token.'}), i
        good = HttpClient(cluster.url, bearer=token, source_address=source)
        assert good.get('/api/v2/cluster').status_code == 200
    finally:
        cluster.ceph('calamari-api', 'token-revoke', name, check=False)


def test_a_lockout_from_one_address_leaves_another_working(cluster):
    user, password = f'lock-{RUN}', 'right-pw-' + RUN
    cluster.create_user(user, password, 'readonly')
    try:
        attacker = HttpClient(cluster.url, source_address='127.0.23.2')
        for i in range(5):
            assert attacker.login(user, f'guess-{i}').status_code == 401
        assert attacker.login(user, password).status_code == 429               # locked here ...
        elsewhere = HttpClient(cluster.url, source_address='127.0.23.3')
        assert elsewhere.login(user, password).status_code == 200              # ... not from another address
        assert elsewhere.get('/api/v2/user/me').json()['username'] == user
    finally:
        cluster.ceph('calamari-api', 'user-delete', user, check=False)


def test_in_flight_cap_and_debug_job_role(cluster, client):
    user = f'rw-{RUN}'
    cluster.create_user(user, 'pw-' + RUN, 'read/write')
    try:
        writer = cluster.client(username=user, password='pw-' + RUN)
        block = {'cmd': 'ceph.selftest_block', 'args': []}
        assert writer.post('/api/v2/server/x/debug_job', block).status_code == 403
    finally:
        cluster.ceph('calamari-api', 'user-delete', user, check=False)
    cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/max_requests_in_flight', '2')
    started = []
    try:
        def capped():
            response = client.post('/api/v2/server/x/debug_job', block)
            if response.status_code == 202:
                started.append(response.json()['request_id'])
            return response if response.status_code == 429 else None
        response = wait_for(capped, 30, 'the cap to apply')
        assert 'max_requests_in_flight' in response.json()['detail'] and int(response.headers['Retry-After']) > 0
    finally:
        for rid in started:
            client.post(f'/api/v2/request/{rid}/cancel')
        cluster.ceph('config', 'rm', 'mgr', 'mgr/calamari_api/max_requests_in_flight')
    assert len(started) >= 2
