"""Host admission keys with a real orchestrator backend: ceph-mgr's own test_orchestrator module, whose host
inventory the test loads (`ceph test_orchestrator load_data`).  Accepted = in the orchestrator's host list."""
import json
import time

import pytest

EXTRA_HOST = 'orch-only-host'


def use_inventory(cluster, wait, hosts):
    inventory = {'inventory': [{'name': name, 'addr': '127.0.0.1', 'devices': []} for name in hosts],
                 'services': [], 'daemons': []}
    wait(lambda: cluster.ceph('test_orchestrator', 'load_data', '-i', '-', input_text=json.dumps(inventory),
                              check=False).returncode == 0, 60, 'test_orchestrator to take its inventory')
    # the module caches a backend's host list for a while, but follows a backend change at once
    cluster.ceph('orch', 'set', 'backend', '')
    cluster.ceph('orch', 'set', 'backend', 'test_orchestrator')


def key_status(client, host):
    response = client.get(f'/api/v2/key/{host}')
    return response.json()['status'] if response.status_code == 200 else response.status_code


@pytest.fixture
def host(cluster, client, wait):
    """The session cluster has test_orchestrator enabled from the start (`dev-cluster --test-orchestrator`);
    enabling or disabling it later respawns the active mgr, so a reused cluster gets it once and keeps it."""
    host = cluster.ceph_json('osd', 'metadata', '0')['hostname']
    if 'test_orchestrator' not in cluster.ceph_json('mgr', 'module', 'ls')['enabled_modules']:
        cluster.ceph('mgr', 'module', 'enable', 'test_orchestrator')
        time.sleep(5)                   # the respawn
        cluster.launcher('up', '--no-install')
        cluster.wait_api()
    try:
        yield host
    finally:
        cluster.ceph('orch', 'set', 'backend', '')
        # back to the module's own key states, and the host accepted as the other tests expect
        wait(lambda: key_status(client, EXTRA_HOST) == 404, 30, 'the orchestrator hosts to go')
        if key_status(client, host) != 'accepted':
            client.delete(f'/api/v2/key/{host}')
            client.patch(f'/api/v2/key/{host}', {'status': 'accepted'})
        assert key_status(client, host) == 'accepted'


def test_keys_follow_the_orchestrator_host_list(cluster, client, host, wait):
    use_inventory(cluster, wait, [host, EXTRA_HOST])
    wait(lambda: {'id': EXTRA_HOST, 'status': 'accepted'} in client.get('/api/v2/key').json(), 30,
         'the orchestrator host list')
    assert key_status(client, host) == 'accepted'
    assert client.get(f'/api/v2/server/{host}').json()['managed'] is True
    # deleting a key removes the host from the orchestrator (the test backend keeps listing it)
    assert client.delete(f'/api/v2/key/{EXTRA_HOST}').status_code == 204

    use_inventory(cluster, wait, [EXTRA_HOST])          # the reporting host is not in the orchestrator
    wait(lambda: key_status(client, host) == 'pre', 30, 'the host to be pending')
    assert client.get(f'/api/v2/server/{host}').json()['managed'] is False
    # accepting it asks the orchestrator to add the host (the real add_host call, with a real HostSpec)
    assert client.patch(f'/api/v2/key/{host}', {'status': 'accepted'}).status_code == 204
    assert client.patch(f'/api/v2/key/{EXTRA_HOST}', {'status': 'accepted'}).status_code == 400   # not pending
