"""CLI, debug jobs and cluster forget over the fake mgr."""
import json

import pytest
from tests.unit.drained_requests import drained, sent  # noqa: F401

# A tiny get_command_descriptions answer (the real one lists every mon and mgr command).
DESCRIPTIONS = {
    'cmd000': {'sig': ['osd', 'dump', {'name': 'epoch', 'type': 'CephInt', 'req': 'false', 'range': '0'}],
               'help': 'print summary of OSD map', 'module': 'osd', 'perm': 'r', 'flags': 0},
    'cmd002': {'sig': ['status'], 'help': 'show cluster status', 'module': 'mon', 'perm': 'r', 'flags': 0},
    'cmd001': {'sig': ['osd', 'pool', 'create', {'name': 'pool', 'type': 'CephPoolname'},
                       {'name': 'pg_num', 'type': 'CephInt', 'range': '0', 'req': 'false'}],
               'help': 'create pool', 'module': 'osd', 'perm': 'rw', 'flags': 0},
}


@pytest.fixture
def mon(module):
    calls = []

    def handler(cmd):
        calls.append(cmd)
        if cmd['prefix'] == 'get_command_descriptions':
            return 0, json.dumps(DESCRIPTIONS), ''
        if cmd['prefix'] == 'osd dump':
            return 0, 'epoch 17\n', ''
        if cmd['prefix'] == 'osd pool create':
            return -17, '', f"pool '{cmd['pool']}' already exists"
        return -22, '', 'command not known'
    module.command_handler = handler
    return calls


@pytest.fixture
def cli(fsid):
    return f'/api/v2/cluster/{fsid}/cli'


@pytest.mark.parametrize('command', ['osd dump', 'ceph osd dump', ['ceph', 'osd', 'dump'], ['osd', 'dump']])
def test_cli_forms(client, cli, mon, command):
    response = client.post(cli, {'command': command})
    assert response.status_code == 200
    assert response.json() == {'out': 'epoch 17\n', 'err': '', 'status': 0}
    assert mon[-1] == {'prefix': 'osd dump'}


def test_cli_status_shorthand(client, cli, mon):
    client.post(cli, {'command': 'ceph -s'})
    assert mon[-1] == {'prefix': 'status'}


def test_cli_typed_arguments_and_format(client, cli, mon):
    client.post(cli, {'command': 'osd dump 5 --format json'})
    assert mon[-1] == {'prefix': 'osd dump', 'epoch': 5, 'format': 'json'}


def test_cli_failure_is_200_with_the_status(client, cli, mon):
    response = client.post(cli, {'command': 'osd pool create rbd 8'})
    assert response.status_code == 200
    assert response.json() == {'out': '', 'err': "pool 'rbd' already exists", 'status': -17}
    assert mon[-1] == {'prefix': 'osd pool create', 'pool': 'rbd', 'pg_num': 8}


def test_cli_unparseable_command_is_einval(client, cli, mon):
    response = client.post(cli, {'command': 'osd frobnicate'})
    assert response.status_code == 200
    body = response.json()
    assert body['status'] == -22 and body['out'] == ''
    assert 'no valid command found' in body['err']


def test_cli_descriptions_are_cached(client, cli, mon):
    client.post(cli, {'command': 'osd dump'})
    client.post(cli, {'command': 'osd dump'})
    assert [c['prefix'] for c in mon].count('get_command_descriptions') == 1


@pytest.mark.parametrize('body,message', [({}, "'command' field is required"),
                                          ({'command': 5}, "'command' must be a string or list"),
                                          ({'command': [['osd']]}, "'command' must be a string or list")])
def test_cli_bad_bodies(client, cli, mon, body, message):
    response = client.post(cli, body)
    assert response.status_code == 400
    assert response.json() == {'detail': message}


def test_cli_unbalanced_quotes_is_400(client, cli, mon):
    assert client.post(cli, {'command': 'osd "dump'}).status_code == 400


def test_cli_is_for_superusers_only(make_client, cli, mon):
    assert make_client('read/write').post(cli, {'command': 'osd dump'}).status_code == 403
    assert make_client('readonly').post(cli, {'command': 'osd dump'}).status_code == 403


# -- debug jobs ------------------------------------------------------------------------------------

DEBUG = '/api/v2/server/node1/debug_job'


def test_selftest_wait_completes_after_the_period(client, services):
    clock = [1000.0]
    services.requests.clock = lambda: clock[0]
    response = client.post(DEBUG, {'cmd': 'ceph.selftest_wait', 'args': [120]})
    assert response.status_code == 202
    rid = response.json()['request_id']
    request = client.get(f'/api/v2/request/{rid}').json()
    assert request['headline'] == 'salt: ceph.selftest_wait: [120]'
    assert request['state'] == 'submitted'
    clock[0] += 121
    services.requests.tick()
    assert client.get(f'/api/v2/request/{rid}').json()['status'] == 'Completed successfully'


def test_selftest_block_until_cancelled(client, services):
    rid = client.post(DEBUG + '/', {'cmd': 'ceph.selftest_block', 'args': []}).json()['request_id']
    services.requests.tick()
    assert client.get(f'/api/v2/request/{rid}').json()['state'] == 'submitted'
    assert client.post(f'/api/v2/request/{rid}/cancel').json()['error_message'] == 'Cancelled'


def test_selftest_exception(client):
    rid = client.post(DEBUG, {'cmd': 'ceph.selftest_exception', 'args': []}).json()['request_id']
    request = client.get(f'/api/v2/request/{rid}').json()
    assert (request['state'], request['error']) == ('complete', True)
    assert 'This is a self-test exception' in request['error_message']


def test_not_a_selftest_is_403_with_a_formatted_message(client):
    response = client.post(DEBUG, {'cmd': 'cmd.run', 'args': ['rm -rf /']})
    assert response.status_code == 403
    assert response.json() == {'detail': "Command 'cmd.run' is not a self test command"}


@pytest.mark.parametrize('body', [{}, {'cmd': 'ceph.selftest_wait'}, {'args': []},
                                  {'cmd': 'ceph.selftest_wait', 'args': 'x'},
                                  {'cmd': 'ceph.selftest_wait', 'args': ['soon']}])
def test_bad_debug_job_bodies_are_400(client, body):
    assert client.post(DEBUG, body).status_code == 400


# -- cluster forget --------------------------------------------------------------------------------

def test_forget_cluster_drops_finished_requests_and_redetects(client, fsid, services, module):
    module.hold_commands = True
    finished = client.post(DEBUG, {'cmd': 'ceph.selftest_exception', 'args': []}).json()['request_id']
    running = client.post(DEBUG, {'cmd': 'ceph.selftest_block', 'args': []}).json()['request_id']
    services.requests.flush()
    response = client.delete(f'/api/v2/cluster/{fsid}')
    assert response.status_code == 204 and response.content == b''
    assert client.get(f'/api/v2/request/{finished}').status_code == 404
    assert client.get(f'/api/v2/request/{running}').status_code == 200
    services.requests.flush()
    assert f'request/{finished}' not in module.store
    assert client.get(f'/api/v2/cluster/{fsid}').json()['id'] == fsid


# -- no 500s -------------------------------------------------------------------------------------

ODD_BODIES = [None, [], 'text', 5, {'name': {}}, {'name': ['x'], 'pg_num': 8}, {'pg_num': []}, {'pg_num': None},
              {'name': 'x', 'pg_num': 10 ** 30}, {'size': -1}, {'hashpspool': {}}, {'in': None}, {'up': 'no'},
              {'reweight': None}, {'noout': None}, {'command': None}, {'cmd': 5, 'args': {}},
              {'name': '', 'pg_num': 1}, {'erasure_code_profile': 5, 'type': 'erasure', 'name': 'e', 'pg_num': 1}]


@pytest.mark.parametrize('body', ODD_BODIES)
def test_odd_bodies_never_give_a_500(client, fsid, mon, body):
    c = f'/api/v2/cluster/{fsid}'
    for method, url in [('post', f'{c}/pool'), ('patch', f'{c}/pool/1'), ('delete', f'{c}/pool/1'),
                        ('patch', f'{c}/osd/0'), ('post', f'{c}/osd/0/command/scrub'), ('patch', f'{c}/osd_config'),
                        ('post', f'{c}/cli'), ('post', DEBUG), ('post', '/api/v2/request/x/cancel'),
                        ('patch', f'{c}/pool/99999'), ('patch', f'{c}/osd/99999')]:
        response = getattr(client, method)(url, body)
        assert response.status_code < 500, (method, url, body, response.content)
