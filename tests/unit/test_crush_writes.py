"""CRUSH writes (API reference §4.6, §4.8, §4.9): validation, the commands sent, rule text, setcrushmap."""
import pytest
from tests.unit.writes_support import drained, sent  # noqa: F401


@pytest.fixture
def base(fsid):
    return f'/api/v2/cluster/{fsid}'


@pytest.fixture
def mon(module, services):
    module.command_handler = lambda cmd: (0, '', '')
    return module


def request_of(client, response):
    assert response.status_code == 202, response.content
    return client.get(f"/api/v2/request/{response.json()['request_id']}").json()


# -- crush_node ------------------------------------------------------------------------------------

def test_node_post_creates_and_moves_children(client, base, mon):
    response = client.post(f'{base}/crush_node', {'name': 'rack1', 'bucket_type': 'rack', 'id': 5,
                                                  'items': [{'id': -3, 'weight': 0.1, 'pos': 0}, {'id': 1}]})
    req = request_of(client, response)
    assert req['headline'] == 'Creating CRUSH node in ceph'
    assert (req['state'], req['error']) == ('complete', False)
    assert sent(mon) == [
        {'prefix': 'osd crush add-bucket', 'name': 'rack1', 'type': 'rack'},
        {'prefix': 'osd crush move', 'name': 'vm', 'args': ['rack=rack1']},
        {'prefix': 'osd crush set', 'id': 1, 'weight': 13 / 65536, 'args': ['rack=rack1']}]


def test_node_post_empty_items(client, base, mon):
    request_of(client, client.post(f'{base}/crush_node', {'name': 'r', 'bucket_type': 'row', 'items': []}))
    assert sent(mon) == [{'prefix': 'osd crush add-bucket', 'name': 'r', 'type': 'row'}]


def test_node_post_required_and_invalid_fields(client, base, mon):
    response = client.post(f'{base}/crush_node', {'alg': 'straw'})
    assert response.status_code == 400
    assert response.json() == {'alg': 'Not allowed during POST', 'name': 'Required during POST',
                               'bucket_type': 'Required during POST', 'items': 'Required during POST'}
    response = client.post(f'{base}/crush_node', {'name': 'a b', 'bucket_type': 'shelf', 'items': [{'x': 1}]})
    assert response.status_code == 400
    body = response.json()
    assert body['name'] == ['Enter a valid CRUSH name (letters, digits, "-", "_" and "." only).']
    assert body['bucket_type'][0].startswith('Select a valid choice. shelf is not one of the available choices')
    assert body['items'] == ['Enter a list of items: {"id": <CRUSH item id>, "weight": <number, optional>}.']
    response = client.post(f'{base}/crush_node', {'name': 'x', 'bucket_type': 'osd', 'items': []})
    assert response.status_code == 400 and 'bucket_type' in response.json()
    assert sent(mon) == []


def test_node_post_duplicate_name_and_missing_child(client, base, mon):
    response = client.post(f'{base}/crush_node', {'name': 'vm', 'bucket_type': 'rack', 'items': []})
    assert (response.status_code, response.json()) == (409, {'name': ["A CRUSH item named 'vm' already exists"]})
    response = client.post(f'{base}/crush_node', {'name': 'osd.1', 'bucket_type': 'rack', 'items': []})
    assert response.status_code == 409
    response = client.post(f'{base}/crush_node', {'name': 'r', 'bucket_type': 'rack', 'items': [{'id': -99}]})
    assert (response.status_code, response.json()) == (404, 'Object of type crush_node with id -99 not found')
    response = client.post(f'{base}/crush_node', {'name': 'r', 'bucket_type': 'rack', 'items': [{'id': 7}]})
    assert (response.status_code, response.json()) == (404, 'Object of type osd with id 7 not found')
    response = client.post(f'{base}/crush_node', {'name': 'r', 'bucket_type': 'rack', 'items': [{'id': -4}]})
    assert response.status_code == 404          # device-class shadow buckets are not nodes
    assert sent(mon) == []


def test_node_patch_rename_move_unlink_reweight(client, base, mon):
    response = client.patch(f'{base}/crush_node/-3', {'name': 'vm2', 'bucket_type': 'host',
                                                      'items': [{'id': 0}, {'id': 1, 'weight': 0.5}]})
    req = request_of(client, response)
    assert req['headline'] == 'Updating CRUSH node in ceph'
    assert sent(mon) == [
        {'prefix': 'osd crush rename-bucket', 'srcname': 'vm', 'dstname': 'vm2'},
        {'prefix': 'osd crush reweight', 'name': 'osd.1', 'weight': 0.5},
        {'prefix': 'osd crush unlink', 'name': 'osd.2', 'ancestor': 'vm2'}]


def test_node_patch_noop_retype_loop_and_unknown(client, base, mon):
    items = [{'id': i, 'weight': 13 / 65536} for i in (0, 1, 2)]
    response = client.patch(f'{base}/crush_node/-3', {'name': 'vm', 'bucket_type': 'host', 'items': items})
    assert response.status_code == 304
    response = client.patch(f'{base}/crush_node/-3', {'name': 'vm', 'bucket_type': 'rack', 'items': items})
    assert response.status_code == 400 and 'not supported' in response.json()['bucket_type'][0]
    response = client.patch(f'{base}/crush_node/-3', {'name': 'vm', 'bucket_type': 'host', 'items': [{'id': -1}]})
    assert (response.status_code, response.json()) == (400, {
        'items': ['Item -1 is this bucket or one of its ancestors.']})
    response = client.patch(f'{base}/crush_node/-3', {'name': 'default', 'bucket_type': 'host', 'items': items})
    assert response.status_code == 409
    response = client.patch(f'{base}/crush_node/-3', {'name': 'vm'})
    assert response.json() == {'bucket_type': 'Required during PATCH', 'items': 'Required during PATCH'}
    assert client.patch(f'{base}/crush_node/-77', {}).json() == 'Object of type crush_node with id -77 not found'
    assert sent(mon) == []


def test_node_delete(client, base, module, mon):
    response = client.delete(f'{base}/crush_node/-3')
    assert (response.status_code, response.json()) == (409, 'Cannot delete a bucket that still contains items')
    assert client.delete(f'{base}/crush_node/-2').status_code == 404
    empty = {'id': -5, 'name': 'empty', 'type_id': 3, 'type_name': 'rack', 'weight': 0, 'alg': 'straw2',
             'hash': 'rjenkins1', 'items': []}
    module.maps['osd_map_crush']['buckets'].append(empty)
    module.services.cluster.invalidate('osd_map')
    req = request_of(client, client.delete(f'{base}/crush_node/-5'))
    assert req['headline'] == 'Removing CRUSH node in ceph'
    assert sent(mon) == [{'prefix': 'osd crush remove', 'name': 'empty'}]


def test_node_command_failure_fails_the_request(client, base, module):
    module.command_handler = lambda cmd: (-17, '', "item 'r' exists")
    req = request_of(client, client.post(f'{base}/crush_node', {'name': 'r', 'bucket_type': 'rack', 'items': []}))
    assert (req['error'], req['error_message']) == (True, "item 'r' exists")


def test_node_writes_need_write_role(make_client, base, mon):
    response = make_client('readonly').post(f'{base}/crush_node', {'name': 'r', 'bucket_type': 'rack', 'items': []})
    assert response.status_code == 403
    assert sent(mon) == []
