"""Host admission ("keys") without an orchestrator: states in the KV store, transitions, persistence."""
import pytest


@pytest.fixture
def host(cluster, client):
    host = cluster.ceph_json('osd', 'metadata', '0')['hostname']
    yield host
    # restore: the host accepted again, whatever the test did
    status = client.get(f'/api/v2/key/{host}').json()['status']
    if status == 'rejected':
        client.delete(f'/api/v2/key/{host}')
        status = client.get(f'/api/v2/key/{host}').json()['status']
    if status == 'pre':
        assert client.patch(f'/api/v2/key/{host}', {'status': 'accepted'}).status_code == 204
    assert client.get(f'/api/v2/key/{host}').json()['status'] == 'accepted'


def managed(client, host):
    return client.get(f'/api/v2/server/{host}').json()['managed']


def test_list_and_detail(client, host):
    keys = client.get('/api/v2/key').json()
    assert {'id': host, 'status': 'accepted'} in keys
    assert client.get(f'/api/v2/key/{host}').json() == {'id': host, 'status': 'accepted'}
    assert client.get(f'/api/v2/key/{host}/').status_code == 200       # unanchored, as Calamari
    missing = client.get('/api/v2/key/no-such-host')
    assert missing.status_code == 404 and missing.json() == 'Object of type server with id no-such-host not found'


def test_transitions_and_errors(client, host):
    bad = client.patch(f'/api/v2/key/{host}', {'status': 'rejected'})
    assert bad.status_code == 400 and bad.json() == {'detail': {'status': ['Transition accepted->rejected is invalid']}}
    assert client.patch(f'/api/v2/key/{host}', {}).json() == {'status': ['This field is required.']}
    assert client.patch(f'/api/v2/key/{host}', {'status': 'pre'}).json() == \
        {'detail': {'status': 'Must be one of accepted,rejected'}}
    # deleting the key of a host that still reports: it comes back as "pre", unmanaged
    assert client.delete(f'/api/v2/key/{host}').status_code == 204
    assert client.get(f'/api/v2/key/{host}').json()['status'] == 'pre'
    assert managed(client, host) is False
    assert client.get(f'/api/v2/server/{host}').json()['last_contact'] is None
    assert client.patch(f'/api/v2/key/{host}', {'status': 'rejected'}).status_code == 204
    assert client.get(f'/api/v2/key/{host}').json()['status'] == 'rejected'
    assert client.patch(f'/api/v2/key/{host}', {'status': 'accepted'}).json() == \
        {'detail': {'status': ['Transition rejected->accepted is invalid']}}
    assert client.delete(f'/api/v2/key/{host}').status_code == 204
    assert client.patch(f'/api/v2/key/{host}', {'status': 'accepted'}).status_code == 204
    assert managed(client, host) is True


def test_bulk_patch_and_delete(client, host):
    assert client.patch('/api/v2/key', {'id': host}).json() == {'detail': 'Bulk PATCH must send a list'}
    assert client.patch('/api/v2/key', [{'status': 'accepted'}]).json() == \
        {'detail': "Items in bulk PATCH must have 'id' attribute"}
    assert client.delete('/api/v2/key', {'id': host}).json() == {'detail': 'Bulk DELETE must send a list'}
    assert client.delete('/api/v2/key', [{}]).json() == {'detail': "Items in bulk DELETE must have 'id' attribute"}
    assert client.delete('/api/v2/key', [{'id': host}]).status_code == 204
    assert client.get(f'/api/v2/key/{host}').json()['status'] == 'pre'
    assert client.patch('/api/v2/key', [{'id': host, 'status': 'accepted'}]).status_code == 204
    assert client.get(f'/api/v2/key/{host}').json()['status'] == 'accepted'


def test_states_persist_across_mgr_failover(cluster, host):
    client = cluster.client()
    assert client.delete(f'/api/v2/key/{host}').status_code == 204
    assert client.patch(f'/api/v2/key/{host}', {'status': 'rejected'}).status_code == 204
    cluster.restart_active_mgr()
    client = cluster.client()
    assert client.get(f'/api/v2/key/{host}').json()['status'] == 'rejected'
    assert managed(client, host) is False
    assert client.delete(f'/api/v2/key/{host}').status_code == 204
    assert client.patch(f'/api/v2/key/{host}', {'status': 'accepted'}).status_code == 204
