"""Host admission keys: states, transitions, bulk operations, every error; with and without an orchestrator."""
import pytest

from calamari_api.hosts import Hosts
from calamari_api.store import KVStore


@pytest.fixture
def pre(client, services):
    """The host 'vm' in state pre (its key deleted while it still reports)."""
    assert client.delete('/api/v2/key/vm').status_code == 204
    return 'vm'


def test_list_and_get(client):
    assert client.get('/api/v2/key').json() == [{'id': 'vm', 'status': 'accepted'}]
    assert client.get('/api/v2/key/vm').json() == {'id': 'vm', 'status': 'accepted'}
    assert client.get('/api/v2/key/vm/').json() == {'id': 'vm', 'status': 'accepted'}
    missing = client.get('/api/v2/key/nope')
    assert missing.status_code == 404 and missing.json() == 'Object of type server with id nope not found'


def test_auto_accept_off_makes_new_hosts_pre(module, services):
    module.options['auto_accept_keys'] = False
    hosts = Hosts(module, services.cluster, KVStore(module), module.get_module_option)
    assert hosts.key_status('newhost') == 'pre'
    hosts.register(['newhost'])
    module.options['auto_accept_keys'] = True
    assert hosts.key_status('newhost') == 'pre'        # the first-seen state sticks


def test_accept_from_pre(client, pre):
    assert client.get('/api/v2/key/vm').json()['status'] == 'pre'
    assert client.get('/api/v2/server/vm').json()['managed'] is False
    response = client.patch('/api/v2/key/vm', {'status': 'accepted'})
    assert response.status_code == 204 and response.content == b''
    assert client.get('/api/v2/server/vm').json()['managed'] is True


def test_reject_from_pre_then_no_way_back(client, pre):
    assert client.patch('/api/v2/key/vm', {'status': 'rejected'}).status_code == 204
    assert client.get('/api/v2/server/vm').json()['managed'] is False
    response = client.patch('/api/v2/key/vm', {'status': 'accepted'})
    assert response.status_code == 400
    assert response.json() == {'detail': {'status': ['Transition rejected->accepted is invalid']}}


def test_validation_errors(client):
    assert client.patch('/api/v2/key/vm', {}).json() == {'status': ['This field is required.']}
    response = client.patch('/api/v2/key/vm', {'status': 'bogus'})
    assert response.status_code == 400 and response.json() == {'detail': {'status': 'Must be one of accepted,rejected'}}
    response = client.patch('/api/v2/key/vm', {'status': 'accepted'})
    assert response.json() == {'detail': {'status': ['Transition accepted->accepted is invalid']}}
    assert client.patch('/api/v2/key/nope', {'status': 'accepted'}).status_code == 404
    assert client.patch('/api/v2/key/vm', [1]).status_code == 400
    assert client.delete('/api/v2/key/nope').status_code == 404


def test_bulk(client, pre):
    assert client.patch('/api/v2/key', {'id': 'vm'}).json() == {'detail': 'Bulk PATCH must send a list'}
    assert client.patch('/api/v2/key', [{'status': 'x'}]).json() == \
        {'detail': "Items in bulk PATCH must have 'id' attribute"}
    assert client.patch('/api/v2/key', ['vm']).status_code == 400
    assert client.delete('/api/v2/key', {}).json() == {'detail': 'Bulk DELETE must send a list'}
    assert client.delete('/api/v2/key', [{'x': 1}]).json() == \
        {'detail': "Items in bulk DELETE must have 'id' attribute"}
    assert client.patch('/api/v2/key', [{'id': 'vm', 'status': 'accepted'}]).status_code == 204
    assert client.get('/api/v2/key/vm').json()['status'] == 'accepted'
    assert client.delete('/api/v2/key', [{'id': 'vm'}]).status_code == 204
    assert client.get('/api/v2/key/vm').json()['status'] == 'pre'


def test_a_bad_item_in_a_bulk_request_changes_nothing(client, pre):
    assert client.patch('/api/v2/key', [{'id': 'vm', 'status': 'accepted'},
                                        {'id': 'nope', 'status': 'accepted'}]).status_code == 404
    assert client.patch('/api/v2/key', [{'id': 'vm', 'status': 'accepted'}, {'id': 'vm', 'status': 'bogus'}]) \
        .status_code == 400
    response = client.patch('/api/v2/key', [{'id': 'vm', 'status': 'accepted'}, {'id': 'vm', 'status': 'rejected'}])
    assert response.json() == {'detail': 'Bulk PATCH lists the same id more than once'}
    assert client.get('/api/v2/key/vm').json()['status'] == 'pre'          # nothing was applied
    assert client.patch('/api/v2/key/vm', {'status': 'accepted'}).status_code == 204
    assert client.delete('/api/v2/key', [{'id': 'vm'}, {'id': 'nope'}]).status_code == 404
    assert client.get('/api/v2/key/vm').json()['status'] == 'accepted'     # nothing was deleted


def test_states_persist_in_the_store(client, module, services, pre):
    assert client.patch('/api/v2/key/vm', {'status': 'rejected'}).status_code == 204
    again = Hosts(module, services.cluster, KVStore(module), module.get_module_option)
    assert again.key_status('vm') == 'rejected'


def test_roles(make_client):
    readonly = make_client('readonly')
    assert readonly.get('/api/v2/key').status_code == 200
    assert readonly.patch('/api/v2/key/vm', {'status': 'accepted'}).status_code == 403


class FakeOrchResult:
    def __init__(self, result):
        self.result = result
        self.exception = None


class FakeSpec:
    def __init__(self, hostname):
        self.hostname = hostname


def test_with_an_orchestrator_accepted_means_in_its_host_list(module, services):
    calls = []

    def remote(mod, method, *args):
        calls.append(method)
        if method == 'available':
            return True, '', {}
        if method == 'get_hosts':
            return FakeOrchResult([FakeSpec('vm'), FakeSpec('other')])
        raise AssertionError(method)
    module.remote = remote
    module.options['orchestrator/orchestrator'] = 'cephadm'
    hosts = Hosts(module, services.cluster, KVStore(module), module.get_module_option)
    assert hosts.key_status('other') == 'accepted' and hosts.key_status('gone') == 'pre'
    hosts.key_status('vm')
    assert calls.count('get_hosts') == 1             # cached
    assert hosts.keys() == {'vm': 'accepted', 'other': 'accepted'}     # a host with no daemon has a key too
    module.options['orchestrator/orchestrator'] = None                  # `ceph orch set backend ''`: at once
    assert hosts.orchestrator_hosts() is None and hosts.keys() == {'vm': 'accepted'}


def test_without_an_orchestrator_backend_the_orchestrator_is_not_called(module, services):
    """(each call would raise NoOrchestrator, which ceph-mgr logs as an error with a traceback)"""
    def remote(mod, method, *args):
        raise AssertionError(f'orchestrator called: {method}')
    module.remote = remote
    hosts = Hosts(module, services.cluster, KVStore(module), module.get_module_option)
    assert hosts.orchestrator_hosts() is None
    assert hosts.key_status('vm') in ('accepted', 'pre')
