"""Issue 23 (first half): the command policy table, the audit trail, the token throttle that never refuses a
valid token, the login lockout keyed on user and address, debug_job for superusers, capped headlines and the
per-principal cap on requests in flight."""
import json

import pytest

from calamari_api import audit
from calamari_api.auth.throttle import Throttle, client_key, login_keys
from calamari_api.command_policy import OPTION, POLICY, matching_rule, normalise, refusal, secret_option
from calamari_api.requests.engine import MAX_HEADLINE
from calamari_api.web.app import CalamariApp
from tests.unit.test_auth import LOGIN
from tests.support.wsgi_client import WsgiClient

# One command per row of the table (a row's family/word: a member of it); the allow rows are allowed.
ROW_SAMPLES = {
    ('family', 'auth'): [{'prefix': p, 'entity': 'client.admin'} for p in (
        'auth get', 'auth export', 'auth ls', 'auth list', 'auth print-key', 'auth print_key', 'auth get-key',
        'auth get-or-create', 'auth get-or-create-key', 'auth caps', 'auth add', 'auth import', 'auth rm',
        'auth del', 'auth rotate', 'auth get-or-create-pending', 'auth commit-pending', 'auth clear-pending')],
    ('exact', 'fs authorize'): [{'prefix': 'fs authorize', 'filesystem': 'a', 'entity': 'client.x'}],
    ('exact', 'fs subvolume authorize'): [{'prefix': 'fs subvolume authorize', 'vol_name': 'a'}],
    ('exact', 'fs subvolume deauthorize'): [{'prefix': 'fs subvolume deauthorize', 'vol_name': 'a'}],
    ('family', 'config-key'): [{'prefix': f'config-key {v}', 'key': 'mgr/dashboard/key'}
                               for v in ('get', 'dump', 'set', 'put', 'rm', 'del')],
    ('secret-option', 'config get'): [{'prefix': 'config get', 'who': 'client', 'key': 'rgw_keystone_admin_password'},
                                      {'prefix': 'config get', 'who': 'osd'}],
    ('secret-option', 'config show'): [{'prefix': 'config show', 'who': 'osd.0'},
                                       {'prefix': 'config show', 'who': 'mgr.x', 'key': 'key'}],
    ('secret-option', 'config set'): [{'prefix': 'config set', 'who': 'mgr',
                                       'name': 'mgr/dashboard/RGW_API_SECRET_KEY', 'value': 'x'}],
    ('secret-option', 'config rm'): [{'prefix': 'config rm', 'who': 'client', 'name': 'rgw_crypt_s3_kms_secret'}],
    ('exact', 'config dump'): [{'prefix': 'config dump'}],
    ('exact', 'config show-with-defaults'): [{'prefix': 'config show-with-defaults', 'who': 'osd.0'}],
    ('exact', 'config log'): [{'prefix': 'config log', 'num': 10}],
    ('exact', 'config reset'): [{'prefix': 'config reset', 'num': 1}],
    ('family', 'orch certmgr'): [{'prefix': 'orch certmgr key get'}, {'prefix': 'orch certmgr cert ls'}],
    ('exact', 'dashboard ac-user-show'): [{'prefix': 'dashboard ac-user-show', 'username': 'admin'}],
    ('exact', 'dashboard ac-user-create'): [{'prefix': 'dashboard ac-user-create', 'username': 'a'}],
    ('exact', 'dashboard iscsi-gateway-list'): [{'prefix': 'dashboard iscsi-gateway-list'}],
    ('exact', 'dashboard iscsi-gateway-add'): [{'prefix': 'dashboard iscsi-gateway-add'}],
    ('exact', 'influx config-show'): [{'prefix': 'influx config-show'}],
    ('exact', 'influx config-set'): [{'prefix': 'influx config-set', 'key': 'password', 'value': 'x'}],
    ('exact', 'calamari-api user-create'): [{'prefix': 'calamari-api user-create', 'username': 'x'}],
    ('word', 'key'): [{'prefix': 'restful create-key', 'key_name': 'x'}, {'prefix': 'cephadm generate-key'},
                      {'prefix': 'dashboard set-rgw-api-secret-key'}],
    ('word', 'keys'): [{'prefix': 'restful list-keys'}],
    ('word', 'secret'): [{'prefix': 'dashboard get-rgw-api-secret'}],
    ('word', 'password'): [{'prefix': 'dashboard get-grafana-api-password'},
                           {'prefix': 'calamari-api user-set-password', 'username': 'admin'}],
    ('word', 'passwd'): [{'prefix': 'something passwd'}],
    ('word', 'token'): [{'prefix': 'calamari-api token-create', 'name': 'x'}],
    ('word', 'tokens'): [{'prefix': 'rgw realm tokens'}],
    ('word', 'credentials'): [{'prefix': 'dashboard set-login-credentials'}],
    ('word', 'cert'): [{'prefix': 'restful create-self-signed-cert'},
                       {'prefix': 'calamari-api create-self-signed-cert'}],
    ('word', 'certificate'): [{'prefix': 'dashboard set-ssl-certificate'}],
    ('word', 'login'): [{'prefix': 'cephadm registry-login'}],
}
ALLOWED = [{'prefix': 'status'}, {'prefix': 'osd pool ls'}, {'prefix': 'osd pool create', 'pool': 'p'},
           {'prefix': 'config-key exists', 'key': 'k'}, {'prefix': 'config-key ls'}, {'prefix': 'config-key list'},
           {'prefix': 'config get', 'who': 'osd.0', 'key': 'osd_max_backfills'},
           {'prefix': 'config set', 'who': 'osd', 'name': 'osd_max_backfills', 'value': '2'},
           {'prefix': 'config get', 'who': 'client', 'key': 'keyring'},     # a path, not a key
           {'prefix': 'config generate-minimal-conf'}, {'prefix': 'osd new', 'uuid': 'u'},
           {'prefix': 'fs subvolume authorized_list', 'vol_name': 'a'}, {'prefix': 'osd destroy', 'id': 1},
           {'prefix': 'mon dump'}, {'prefix': 'osd pool application set', 'key': 'k', 'value': 'v'}]


def test_every_row_has_samples_and_every_sample_hits_its_row():
    rows = {(rule.kind, rule.pattern) for rule in POLICY if rule.kind != 'allow'}
    assert rows == set(ROW_SAMPLES)
    for (kind, pattern), samples in ROW_SAMPLES.items():
        for command in samples:
            rule = matching_rule(command)
            assert rule is not None and (rule.kind, rule.pattern) == (kind, pattern), command


@pytest.mark.parametrize('command', [c for samples in ROW_SAMPLES.values() for c in samples],
                         ids=lambda c: c['prefix'])
def test_refused_by_default_allowed_with_the_option(command):
    message = refusal(command, allow_secrets=False)
    assert message and f"Command '{normalise(command['prefix'])}' is refused" in message
    assert f'mgr/calamari_api/{OPTION} to true' in message
    assert refusal(command, allow_secrets=True) is None


@pytest.mark.parametrize('command', ALLOWED, ids=lambda c: c['prefix'])
def test_ordinary_commands_are_allowed(command):
    assert refusal(command, allow_secrets=False) is None


@pytest.mark.parametrize('prefix', ['AUTH GET', '  auth   get ', 'auth\tget', 'Auth Print_Key', 'auth print_key',
                                    'CONFIG-KEY  Get', 'config_key get', 'Config   Dump', 'restful  LIST_KEYS'])
def test_prefix_variants(prefix):
    assert refusal({'prefix': prefix}, False) is not None


@pytest.mark.parametrize('command', [{}, {'prefix': None}, {'prefix': ['auth', 'get']}, {'prefix': 5}])
def test_a_command_without_a_prefix_is_refused(command):
    assert 'has no command prefix' in refusal(command, False)
    assert refusal(command, True) is None


def test_secret_option_names():
    for name in ('rgw_keystone_admin_password', 'key', 'mgr/dashboard/RGW_API_SECRET_KEY', 'rgw_crypt_s3_kms_secret',
                 'mgr/influx/password', 'rgw.swift.auth.token'):
        assert secret_option(name), name
    for name in ('keyring', 'osd_max_backfills', 'mon_host', 'rgw_keystone_url', 'keyfile', 'ms_client_mode'):
        assert not secret_option(name), name


# -- the cli route ---------------------------------------------------------------------------------

DESCRIPTIONS = {
    'cmd000': {'sig': ['auth', 'get', {'name': 'entity', 'type': 'CephString'}], 'help': '', 'module': 'auth',
               'perm': 'rx', 'flags': 0},
    'cmd001': {'sig': ['osd', 'pool', 'ls'], 'help': '', 'module': 'osd', 'perm': 'r', 'flags': 0},
    'cmd002': {'sig': ['config-key', 'set', {'name': 'key', 'type': 'CephString'},
                       {'name': 'val', 'type': 'CephString', 'req': 'false'}],
               'help': '', 'module': 'config-key', 'perm': 'rw', 'flags': 0},
}


@pytest.fixture
def mon(module):
    calls = []

    def handler(cmd):
        calls.append(cmd)
        if cmd['prefix'] == 'get_command_descriptions':
            return 0, json.dumps(DESCRIPTIONS), ''
        return 0, 'done', ''
    module.command_handler = handler
    return calls


def audit_lines(module):
    return [m for channel, _, m in module.cluster_logs if channel == 'audit']


def test_cli_refuses_with_403_and_sends_nothing(client, fsid, mon, module):
    url = f'/api/v2/cluster/{fsid}/cli'
    response = client.post(url, {'command': 'auth get client.admin'})
    assert response.status_code == 403
    assert set(response.json()) == {'detail'} and "Command 'auth get' is refused" in response.json()['detail']
    assert [c['prefix'] for c in mon] == ['get_command_descriptions']
    module.options[OPTION] = True
    response = client.post(url, {'command': 'auth get client.admin'})
    assert response.json() == {'out': 'done', 'err': '', 'status': 0}
    assert mon[-1] == {'prefix': 'auth get', 'entity': 'client.admin'}


def test_cli_audit_lines_hold_no_secret(client, fsid, mon, module):
    url = f'/api/v2/cluster/{fsid}/cli'
    client.post(url, {'command': 'config-key set mgr/x/password hunter2-secret'})
    client.post(url, {'command': 'osd pool ls'})
    client.post(url, {'command': 'osd frobnicate hunter2-secret'})
    lines = audit_lines(module)
    path = f'/api/v2/cluster/{fsid}/cli'
    assert lines == [
        f'calamari_api: who=admin from=127.0.0.1 op="POST {path}" cmd="config-key set key=mgr/x/password val=?" '
        f'result=403',
        f'calamari_api: who=admin from=127.0.0.1 op="POST {path}" cmd="osd pool ls" result=200 rc=0',
        f'calamari_api: who=admin from=127.0.0.1 op="POST {path}" cmd="?" result=200 rc=-22']
    assert not any('hunter2' in line for line in lines)
    assert [p for c, p, _ in module.cluster_logs if c == 'audit'] == [audit.SEC, audit.INFO, audit.INFO]


# -- audit of writes -------------------------------------------------------------------------------

def test_pool_create_and_user_change_are_audited(client, fsid, module, services):
    module.command_handler = lambda cmd: (0, '', '')
    response = client.post(f'/api/v2/cluster/{fsid}/pool', {'name': 'audited', 'pg_num': 8})
    assert response.status_code == 202
    rid = response.json()['request_id']
    services.requests.tick()
    client.patch('/api/v2/user/me', {'password': 'new-secret-pw', 'email': 'a@example.com'})
    lines = audit_lines(module)
    assert (f'calamari_api: who=admin from=127.0.0.1 op="POST /api/v2/cluster/{fsid}/pool" result=202 '
            f'request={rid}') in lines
    finished = [line for line in lines if f'request={rid} result=' in line]     # (the fake finds no pool: failed)
    assert finished == [f'calamari_api: who=admin from=127.0.0.1 request={rid} result=failed '
                        f'headline="Creating pool \'audited\'" error="Expected pool \'audited\' not found"']
    assert lines[-1] == 'calamari_api: who=admin from=127.0.0.1 op="PATCH /api/v2/user/me" result=200'
    assert not any('new-secret-pw' in line for line in lines)


def test_reads_logins_and_anonymous_writes_are_not_audited(anon, client, fsid, module):
    client.get(f'/api/v2/cluster/{fsid}/pool')
    anon.post(f'/api/v2/cluster/{fsid}/pool', {'name': 'x'})
    WsgiClient(client.app).post(LOGIN, {'username': 'admin', 'password': 'wrong'})
    assert audit_lines(module) == []


def test_a_token_write_names_the_token(services, app, module):
    token, _ = services.tokens.create('backup', 'superuser')
    WsgiClient(app.wsgi, bearer=token, remote_addr='10.1.2.3').post(
        '/api/v2/server/node1/debug_job', {'cmd': 'ceph.selftest_wait', 'args': [0]})
    assert audit_lines(module)[0].startswith('calamari_api: who=token:backup from=10.1.2.3 op="POST '
                                             '/api/v2/server/node1/debug_job" result=202 request=')
    assert token not in ' '.join(audit_lines(module))


def test_audit_values_are_quoted_and_capped():
    assert audit.quoted('a"b\\c\nd') == '"a\\"b\\\\c?d"'
    assert audit.quoted('x' * 500) == '"' + 'x' * audit.MAX_VALUE + '..."'
    assert audit.bare('::1') == '::1' and audit.bare('a b') == '"a b"'
    assert audit.cli_summary({'prefix': 'osd pool create', 'pool': 'p', 'pg_num': 8, 'rule': 'r',
                              'erasure_code_profile': 'secret?'}) == \
        'osd pool create pool=p pg_num=8 rule=r erasure_code_profile=?'


def test_a_failing_cluster_log_never_fails_the_write():
    def broken(*_):
        raise RuntimeError('no mon')
    audit.Audit(broken).write('x')          # logged to the mgr log instead, no exception


# -- debug_job, headlines, requests in flight ------------------------------------------------------

DEBUG = '/api/v2/server/node1/debug_job'


def test_debug_job_is_for_superusers(make_client):
    assert make_client('read/write').post(DEBUG, {'cmd': 'ceph.selftest_block', 'args': []}).status_code == 403
    assert make_client('superuser').post(DEBUG, {'cmd': 'ceph.selftest_wait', 'args': [0]}).status_code == 202


def test_headlines_are_capped(client):
    response = client.post(DEBUG, {'cmd': 'ceph.selftest_wait', 'args': [0] + ['x' * 1000] * 500})
    headline = client.get(f"/api/v2/request/{response.json()['request_id']}").json()['headline']
    assert headline.startswith("salt: ceph.selftest_wait: [0, 'xxx") and headline.endswith('...')
    assert len(headline) < 260
    assert client.post(DEBUG, {'cmd': 'ceph.selftest' + 'x' * 100, 'args': []}).status_code == 400


def test_engine_caps_any_headline(services):
    from calamari_api.requests.steps import Delay, Operation
    rid = services.requests.submit(Operation('h' * 5000, [Delay(0)]))
    assert len(services.requests.get(rid)['headline']) == MAX_HEADLINE


def test_requests_in_flight_are_capped_per_principal(make_client, module, services):
    module.options['max_requests_in_flight'] = 2
    admin, other = make_client('superuser', 'admin'), make_client('superuser', 'other')
    block = {'cmd': 'ceph.selftest_block', 'args': []}
    first = [admin.post(DEBUG, block).json()['request_id'] for _ in range(2)]
    response = admin.post(DEBUG, block)
    assert response.status_code == 429 and int(response.headers['Retry-After']) > 0
    assert response.json() == {'detail': 'admin has 2 requests in flight, the most allowed (max_requests_in_flight): '
                                         'wait for some to finish or cancel them'}
    assert other.post(DEBUG, block).status_code == 202             # per principal
    admin.post(f'/api/v2/request/{first[0]}/cancel')
    assert admin.post(DEBUG, block).status_code == 202             # one finished: room again
    module.options['max_requests_in_flight'] = 0                   # 0: no cap
    assert admin.post(DEBUG, block).status_code == 202


# -- throttle and lockout -------------------------------------------------------------------------

@pytest.fixture
def web(auth, services):
    return CalamariApp(services).wsgi


def test_client_keys():
    assert client_key('10.0.0.1') == '10.0.0.1'
    assert client_key('2001:db8::1') == client_key('2001:db8::ffff:1') == '2001:db8::/64'
    assert client_key('2001:db8:0:1::1') == '2001:db8:0:1::/64'
    assert client_key('::ffff:10.0.0.1') == '10.0.0.1'
    assert client_key('fe80::1%eth0') == 'fe80::/64'
    assert client_key('') == '' and client_key('not-an-ip') == 'not-an-ip'
    assert login_keys('admin', '10.0.0.1') == ('user:10.0.0.1|admin', 'addr:10.0.0.1')


def test_lockout_keys_on_user_and_address(web, clock):
    attacker = WsgiClient(web, remote_addr='10.0.0.66')
    for _ in range(5):
        assert attacker.post(LOGIN, {'username': 'alice', 'password': 'guess'}).status_code == 401
    assert attacker.post(LOGIN, {'username': 'alice', 'password': 'alice-pw'}).status_code == 429
    assert WsgiClient(web, remote_addr='10.0.0.2').login('alice', 'alice-pw').status_code == 200   # elsewhere: fine
    assert WsgiClient(web, remote_addr='127.0.0.1').login('alice', 'alice-pw').status_code == 200
    clock.advance(301)                                          # after a pause: the right password works there too
    assert attacker.login('alice', 'alice-pw').status_code == 200


def test_a_success_clears_only_its_own_failures(web, clock):
    for _ in range(4):
        WsgiClient(web, remote_addr='10.0.0.66').post(LOGIN, {'username': 'alice', 'password': 'guess'})
    assert WsgiClient(web, remote_addr='10.0.0.2').login('alice', 'alice-pw').status_code == 200
    attacker = WsgiClient(web, remote_addr='10.0.0.66')
    assert attacker.post(LOGIN, {'username': 'alice', 'password': 'guess'}).status_code == 401
    assert attacker.post(LOGIN, {'username': 'alice', 'password': 'alice-pw'}).status_code == 429


def test_per_address_limit_across_users_stays(web):
    guesser = WsgiClient(web, remote_addr='10.0.0.77')
    for i in range(50):
        assert guesser.post(LOGIN, {'username': f'u{i}', 'password': 'guess'}).status_code == 401
    assert guesser.post(LOGIN, {'username': 'alice', 'password': 'guess'}).status_code == 429
    assert WsgiClient(web, remote_addr='10.0.0.78').login('alice', 'alice-pw').status_code == 200


def test_ipv6_addresses_of_one_slash_64_count_together(clock):
    throttle = Throttle(clock, user_limit=5)
    for i in range(5):
        throttle.failed(login_keys('admin', f'2001:db8::{i + 1}'))
    assert throttle.wait(login_keys('admin', '2001:db8::99')) > 0
    assert throttle.wait(login_keys('admin', '2001:db8:0:1::99')) == 0


def test_openapi_documents_429_where_it_can_happen():
    from calamari_api.openapi import build_document
    paths = build_document()['paths']
    c = '/api/v2/cluster/{fsid}'
    assert '429' in paths['/api/v2/auth/login']['post']['responses']
    writes = ((c + '/pool', 'post'), (c + '/osd/{osd_id}', 'patch'), ('/api/v2/server/{fqdn}/debug_job', 'post'))
    for path, method in writes:
        assert 'max_requests_in_flight' in paths[path][method]['responses']['429']['description']
    for path, method in ((c + '/pool', 'get'), (c + '/cli', 'post'), ('/api/v2/user/{user_id}', 'patch')):
        assert '429' not in paths[path][method]['responses'], (path, method)
        assert '401' in paths[path][method]['responses']
