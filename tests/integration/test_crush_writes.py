"""CRUSH node, rule and map writes on the real cluster, checked with the ceph CLI.  The CRUSH map is saved
first and put back at the end if anything differs (other tests need all 3 OSDs under root default)."""
import pytest

from tests.integration.writes_support import finished


def crush_dump(cluster):
    return cluster.ceph_json('osd', 'crush', 'dump')


def bucket(cluster, name):
    return next((b for b in crush_dump(cluster)['buckets'] if b['name'] == name), None)


@pytest.fixture(scope='module')
def saved_crush(cluster, tmp_path_factory):
    path = tmp_path_factory.mktemp('crush') / 'crushmap.bin'
    cluster.ceph('osd', 'getcrushmap', '-o', str(path))
    before = crush_dump(cluster)
    yield before
    if crush_dump(cluster) != before:
        cluster.ceph('osd', 'setcrushmap', '-i', str(path))
    assert crush_dump(cluster) == before


@pytest.fixture
def base(fsid, saved_crush):
    return f'/api/v2/cluster/{fsid}'


def test_node_create_move_rename_delete(client, cluster, base):
    host = bucket(cluster, 'vm')
    request = finished(client, client.post(f'{base}/crush_node', {'name': 'rack-t', 'bucket_type': 'rack',
                                                                  'items': []}))
    assert request['headline'] == 'Creating CRUSH node in ceph'
    rack = next(n for n in client.get(f'{base}/crush_node').json() if n['name'] == 'rack-t')
    assert (rack['bucket_type'], rack['items']) == ('rack', [])
    response = client.post(f'{base}/crush_node', {'name': 'rack-t', 'bucket_type': 'rack', 'items': []})
    assert response.status_code == 409
    # the rack goes under root default, then the host under the rack: placement stays under default
    finished(client, client.patch(f'{base}/crush_node/-1', {'name': 'default', 'bucket_type': 'root',
                                                            'items': [{'id': host['id']}, {'id': rack['id']}]}))
    finished(client, client.patch(f'{base}/crush_node/{rack["id"]}', {'name': 'rack-t', 'bucket_type': 'rack',
                                                                      'items': [{'id': host['id']}]}))
    assert [i['id'] for i in bucket(cluster, 'rack-t')['items']] == [host['id']]
    assert [i['id'] for i in bucket(cluster, 'default')['items']] == [rack['id']]
    assert client.get(f'{base}/crush_node/{host["id"]}').status_code == 200
    response = client.delete(f'{base}/crush_node/{rack["id"]}')
    assert (response.status_code, response.json()) == (409, 'Cannot delete a bucket that still contains items')
    # back: the host under default again, the rack renamed, unlinked and deleted
    finished(client, client.patch(f'{base}/crush_node/-1', {'name': 'default', 'bucket_type': 'root',
                                                            'items': [{'id': rack['id']}, {'id': host['id']}]}))
    request = finished(client, client.patch(f'{base}/crush_node/{rack["id"]}', {
        'name': 'rack-u', 'bucket_type': 'rack', 'items': []}))
    assert request['headline'] == 'Updating CRUSH node in ceph'
    assert bucket(cluster, 'rack-u')['items'] == []
    finished(client, client.patch(f'{base}/crush_node/-1', {'name': 'default', 'bucket_type': 'root',
                                                            'items': [{'id': host['id']}]}))
    request = finished(client, client.delete(f'{base}/crush_node/{rack["id"]}'))
    assert request['headline'] == 'Removing CRUSH node in ceph'
    assert bucket(cluster, 'rack-u') is None
    assert [i['id'] for i in bucket(cluster, 'default')['items']] == [host['id']]
    assert client.get(f'{base}/crush_node/{rack["id"]}').status_code == 404


def test_node_errors(client, base):
    response = client.post(f'{base}/crush_node', {'name': 'x', 'bucket_type': 'rack', 'items': [{'id': -99}]})
    assert (response.status_code, response.json()) == (404, 'Object of type crush_node with id -99 not found')
    response = client.post(f'{base}/crush_node', {'name': 'x', 'bucket_type': 'shelf', 'items': []})
    assert response.status_code == 400 and 'bucket_type' in response.json()
