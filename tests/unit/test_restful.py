"""restful's dialect (restful/): keys, authentication, request objects and the URLs, over the fake mgr."""
import base64
import json

import pytest

from calamari_api.restful import commands as restful_commands
from calamari_api.restful.app import RestfulApp, basic_credentials
from calamari_api.restful.controllers import paginate, RestfulError
from calamari_api.restful.keys import STORE_PREFIX
from calamari_api.restful.views import pool_update_waves
from tests.support.wsgi_client import WsgiClient


def basic(name, key):
    return {'Authorization': 'Basic ' + base64.b64encode(f'{name}:{key}'.encode()).decode()}


@pytest.fixture
def mon(module):
    """The fake mon: restful's keys in its config-key store, commands recorded."""
    state = {'config-key': {}, 'sent': []}

    def handle(cmd):
        state['sent'].append(cmd)
        prefix = cmd['prefix']
        if prefix == 'config-key dump':
            return 0, json.dumps({k: v for k, v in state['config-key'].items() if k.startswith(cmd.get('key', ''))}), ''
        if prefix == 'config-key exists':
            return (0, '', '') if cmd['key'] in state['config-key'] else (-2, '', 'no such key')
        if prefix == 'config-key rm':
            state['config-key'].pop(cmd['key'], None)
            return 0, '', ''
        if prefix == 'status':
            return 0, json.dumps({'fsid': 'x', 'health': {'status': 'HEALTH_OK'}}), ''
        if prefix == 'osd pool create' and cmd['pool'] == 'bad':
            return -22, '', 'bad pool'
        return 0, '', ''
    module.command_handler = handle
    return state


@pytest.fixture
def restful(services, mon):
    return WsgiClient(RestfulApp(services, services.restful), host='localhost:8003')


@pytest.fixture
def key(services):
    return services.restful.keys.create('admin')


def test_no_auth_is_401_with_basic_challenge(restful):
    for headers in ({}, {'Authorization': 'Bearer x'}, {'Authorization': 'Basic !!!'},
                    {'Authorization': 'Basic ' + base64.b64encode(b'nocolon').decode()}):
        r = restful.get('/osd', headers=headers)
        assert r.status_code == 401
        assert r.headers['WWW-Authenticate'].startswith('Basic')
        assert r.json() == {'message': 'auth: No HTTP username/password'}


def test_root_and_doc_are_public(restful):
    assert restful.get('/').json()['api_version'] == 1
    doc = restful.get('/doc').json()
    assert doc['/request']['POST'] == ['Pass through method to create any request']
    assert set(doc['/pool/<arg>']) == {'GET', 'PATCH', 'DELETE'}


def test_keys_are_hashed_and_wrong_keys_401(restful, services, module, key):
    stored = json.loads(module.store[f'{STORE_PREFIX}admin'])
    assert key not in json.dumps(stored) and stored['role'] == 'superuser'
    assert restful.get('/osd', headers=basic('admin', key)).status_code == 200
    r = restful.get('/osd', headers=basic('admin', 'nope'))
    assert r.status_code == 401 and r.json() == {'message': 'auth: Incorrect password'}
    r = restful.get('/osd', headers=basic('nobody', key))
    assert r.status_code == 401 and r.json() == {'message': 'auth: No such user'}


def test_a_right_key_is_never_throttled(restful, services, key):
    for _ in range(60):
        restful.get('/osd', headers=basic('admin', 'wrong'))
    r = restful.get('/osd', headers=basic('admin', 'wrong'))
    assert r.status_code == 429 and 'Retry-After' in r.headers
    assert restful.get('/osd', headers=basic('admin', key)).status_code == 200


def test_key_never_logged(restful, services, key, caplog):
    caplog.set_level('DEBUG')
    restful.get('/osd', headers=basic(key, key))
    restful.get('/osd', headers=basic('admin', key + 'x'))
    assert key not in caplog.text


def test_restful_keys_imported(restful, services, mon):
    mon['config-key']['mgr/restful/keys/zabbix'] = 'f3d5a4b0-0000-4000-8000-000000000001'
    r = restful.get('/pool', headers=basic('zabbix', 'f3d5a4b0-0000-4000-8000-000000000001'))
    assert r.status_code == 200
    assert services.restful.keys.list()['zabbix']['imported'] is True
    existed, warning = services.restful.keys.delete('zabbix')
    assert existed and not warning and 'mgr/restful/keys/zabbix' not in mon['config-key']


def test_post_request_wait_one_command(restful, key, mon):
    r = restful.post('/request?wait=1', {'prefix': 'status', 'format': 'json'}, headers=basic('admin', key))
    assert r.status_code == 200
    body = r.json()
    assert body['state'] == 'success' and body['is_finished'] and not body['has_failed']
    assert json.loads(body['finished'][0]['outb'])['health']['status'] == 'HEALTH_OK'
    assert body['finished'][0]['command'] == 'status format=json'
    assert set(body) == {'id', 'running', 'finished', 'waiting', 'failed', 'is_waiting', 'is_finished',
                         'has_failed', 'state'}
    got = restful.get(f'/request/{body["id"]}', headers=basic('admin', key)).json()
    assert got == body
    assert [x['id'] for x in restful.get('/request', headers=basic('admin', key)).json()] == [body['id']]


def test_reads_are_not_persisted_writes_are_tracked(restful, services, module, key):
    before = {k for k in module.store if k.startswith('request/')}
    restful.post('/request?wait=1', {'prefix': 'osd dump', 'format': 'json'}, headers=basic('admin', key))
    services.requests.flush()
    assert {k for k in module.store if k.startswith('request/')} == before
    r = restful.post('/request?wait=1', [[{'prefix': 'osd set', 'key': 'noout'}], [{'prefix': 'osd pool create',
                                                                                    'pool': 'bad', 'pg_num': 8}]],
                     headers=basic('admin', key)).json()
    assert r['state'] == 'failed' and len(r['finished']) == 1 and r['failed'][0]['outs'] == 'bad pool'
    headlines = [q['headline'] for q in services.requests.list()]
    assert 'restful: osd set key=noout' in headlines


def test_choke_point_sees_every_command(restful, key, monkeypatch):
    seen = []
    real = restful_commands.run
    monkeypatch.setattr(restful_commands, 'run', lambda services, command: seen.append(command) or
                        real(services, command))
    restful.patch('/config/osd?wait=1', {'noout': True, 'bogus': 1}, headers=basic('admin', key))
    restful.post('/request?wait=1', [[{'prefix': 'status'}, {'prefix': 'df'}]], headers=basic('admin', key))
    assert [c['prefix'] for c in seen] == ['osd set', 'status', 'df']


def test_mgr_commands_answer_first(restful, key, monkeypatch, mon):
    from calamari_api import mgr_commands
    monkeypatch.setattr(mgr_commands, 'answer', lambda services, command: (0, '{"pg": 1}', '')
                        if command['prefix'] == 'pg dump' else None)
    r = restful.post('/request?wait=1', {'prefix': 'pg dump', 'format': 'json'}, headers=basic('admin', key))
    assert r.json()['finished'][0]['outb'] == '{"pg": 1}'
    assert not [c for c in mon['sent'] if c['prefix'] == 'pg dump']


def test_readonly_key(restful, services):
    key = services.restful.keys.create('ro', 'readonly')
    assert restful.post('/request?wait=1', {'prefix': 'status'}, headers=basic('ro', key)).status_code == 200
    r = restful.post('/request?wait=1', {'prefix': 'osd set', 'key': 'noout'}, headers=basic('ro', key))
    assert r.status_code == 403
    assert restful.delete('/pool/1', headers=basic('ro', key)).status_code == 403


@pytest.mark.parametrize('method,url,body,status', [
    ('POST', '/request', [{'prefix': 'status'}], 400),
    ('POST', '/request', [['status']], 400),
    ('POST', '/request', {'no': 'prefix'}, 400),
    ('POST', '/pool', {'pg_num': 8}, 400),
    ('POST', '/pool', {'name': 'p'}, 400),
    ('POST', '/pool', {'name': 'p', 'pg_num': 'x'}, 400),
    ('POST', '/pool', {'name': 'p', 'pg_num': 8, 'colour': 1}, 400),
    ('PATCH', '/pool/999', {'size': 2}, 404),
    ('PATCH', '/pool/1', [], 400),
    ('PATCH', '/osd/0', {'up': True}, 400),
    ('PATCH', '/osd/0', {'reweight': 7}, 400),
    ('POST', '/osd/0/command', {'command': 'rm'}, 400),
    ('GET', '/osd/999', None, 404),
    ('GET', '/mon/nope', None, 404),
    ('GET', '/request/nope', None, 404),
    ('DELETE', '/request/nope', None, 404),
    ('GET', '/osd?pool=x', None, 400),
    ('GET', '/perf?daemon=(', None, 400),
    ('GET', '/request?page=x', None, 400),
    ('GET', '/nothing', None, 404),
    ('PUT', '/pool', {}, 405),
])
def test_bad_input_is_4xx(restful, key, method, url, body, status):
    r = restful.request(method, url, body, headers=basic('admin', key))
    assert r.status_code == status, r.content
    assert 'message' in r.json()


def test_malformed_json_is_400(restful, key):
    r = restful.request('POST', '/request', raw=b'{not json', headers=basic('admin', key))
    assert r.status_code == 400 and r.json() == {'message': 'Bad request: malformed JSON or wrong Content-Type'}


def test_reads(restful, key, module):
    h = basic('admin', key)
    osds = restful.get('/osd', headers=h).json()
    assert osds and {'pools', 'server', 'reweight', 'valid_commands'} <= set(osds[0])
    pools = restful.get('/pool', headers=h).json()
    assert pools and 'pgp_num' in pools[0] and 'pg_placement_num' not in pools[0]
    pool_id = pools[0]['pool']
    assert restful.get(f'/pool/{pool_id}', headers=h).json()['pool'] == pool_id
    assert restful.get(f'/osd?pool={pool_id}', headers=h).status_code == 200
    mons = restful.get('/mon', headers=h).json()
    assert mons[0]['in_quorum'] is True and 'leader' in mons[0]
    assert restful.get(f'/mon/{mons[0]["name"]}', headers=h).json()['name'] == mons[0]['name']
    assert 'osd_count' in restful.get('/crush/rule', headers=h).json()[0]
    assert isinstance(restful.get('/config/cluster', headers=h).json(), dict)
    assert isinstance(restful.get('/config/osd', headers=h).json(), list)
    assert restful.get('/server', headers=h).status_code == 200
    assert restful.get(f'/osd/{osds[0]["osd"]}/command', headers=h).status_code == 200


def test_perf(restful, key, module, monkeypatch):
    counters = {'osd.0': {'a': 1}, 'mon.a': {'b': 2}}
    name = 'get_unlabeled_perf_counters' if hasattr(module, 'get_unlabeled_perf_counters') else 'get_all_perf_counters'
    monkeypatch.setattr(module, name, lambda: counters)
    assert restful.get('/perf?daemon=osd', headers=basic('admin', key)).json() == {'osd.0': {'a': 1}}


def test_delete_requests(restful, key):
    h = basic('admin', key)
    rid = restful.post('/request?wait=1', {'prefix': 'status'}, headers=h).json()['id']
    assert restful.delete('/request', headers=h).json() == {'cleaned': 1, 'remaining': 0}
    assert restful.get(f'/request/{rid}', headers=h).status_code == 404
    rid = restful.post('/request?wait=1', {'prefix': 'status'}, headers=h).json()['id']
    assert restful.delete(f'/request/{rid}', headers=h).json()['id'] == rid


def test_pool_waves():
    waves = pool_update_waves('p', {'pg_num': 16, 'quota_max_bytes': 10, 'hashpspool': True})
    assert [c['var'] for c in waves[0] if 'var' in c] == ['pg_num', 'hashpspool']
    assert waves[0][1]['val'] == 'true'
    assert waves[1] == [{'prefix': 'osd pool set', 'pool': 'p', 'var': 'pgp_num', 'val': '16'}]


def test_paginate_and_credentials():
    assert paginate(list(range(250)), '0') == list(range(100))
    assert paginate(list(range(250)), '-1') == list(range(150, 250))
    with pytest.raises(RestfulError):
        paginate([], 'x')
    assert basic_credentials('Basic ' + base64.b64encode(b'a:b:c').decode()) == ('a', 'b:c')


def test_cli_keys(module, services, mon):
    from calamari_api.restful import cli
    r = cli.restful_key_create(module, 'k1')
    assert r.retval == 0 and len(r.stdout) == 36
    assert cli.restful_key_create(module, 'k1').retval != 0
    listed = json.loads(cli.restful_key_list(module).stdout)
    assert listed['k1']['role'] == 'superuser' and r.stdout not in json.dumps(listed)
    assert cli.restful_key_delete(module, 'k1').retval == 0
    assert cli.restful_key_delete(module, 'k1').retval != 0


def test_listener_serves_and_stops(module, services, mon):
    import http.client
    import socket
    from calamari_api.module import _listen_options
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    module.options.update({'restful_enabled': True, 'restful_server_addr': '127.0.0.1', 'restful_server_port': port,
                           'restful_ssl': False})
    options = _listen_options(module)
    assert options.restful == ('127.0.0.1', port, False, False)
    server = module._start_restful(options)
    try:
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
        conn.request('GET', '/osd')
        response = conn.getresponse()
        assert response.status == 401 and response.getheader('WWW-Authenticate').startswith('Basic')
    finally:
        server.stop()


def test_listener_without_certificate_does_not_serve(module, services, mon):
    module.options.update({'restful_enabled': True, 'restful_server_port': 1, 'restful_ssl': True})
    from calamari_api.module import _listen_options
    assert module._start_restful(_listen_options(module)) is None


def test_restful_commands_only_where_no_restful_module():
    from calamari_api import compat
    from calamari_api.restful import cli
    assert hasattr(cli, 'restful_create_key') is (not compat.RESTFUL_MODULE_SHIPPED)


def test_chunked_body(restful, key):
    headers = dict(basic('admin', key), **{'Transfer-Encoding': 'chunked', 'Content-Length': ''})
    r = restful.request('POST', '/request?wait=1', raw=b'{"prefix": "status"}', headers=headers)
    assert r.status_code == 200 and r.json()['state'] == 'success'


def test_request_obeys_the_command_policy_and_is_audited(restful, key, mon, module, services):
    """POST /request runs no command of the command policy (secrets) unless allow_secret_commands is on: a 403 in
    restful's error shape before any command of the batch runs; every write gets its audit line, key named."""
    name, secret = 'admin', key
    batch = [[{'prefix': 'status'}], [{'prefix': 'auth get', 'entity': 'client.admin'}]]
    r = restful.post('/request?wait=1', batch, headers=basic(name, secret))
    assert r.status_code == 403 and 'allow_secret_commands' in r.json()['message']
    assert not [c for c in mon['sent'] if c['prefix'] in ('status', 'auth get')]
    lines = [m for channel, _, m in module.cluster_logs if channel == 'audit']
    assert lines[-1].startswith('calamari_api: who=restful:admin from=')
    assert 'op="POST /request" cmd="status; auth get entity=client.admin" result=403' in lines[-1]
    module.options['allow_secret_commands'] = True
    r = restful.post('/request?wait=1', batch, headers=basic(name, secret))
    assert r.status_code == 200 and r.json()['has_failed'] is False
    assert [c['prefix'] for c in mon['sent'] if c['prefix'] in ('status', 'auth get')] == ['status', 'auth get']
    assert 'result=200' in [m for channel, _, m in module.cluster_logs if channel == 'audit'][-1]
