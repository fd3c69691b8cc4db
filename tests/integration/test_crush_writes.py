"""CRUSH node, rule and map writes on the real cluster, checked with the ceph CLI.  The CRUSH map is saved
first and put back at the end if anything differs (other tests need all 3 OSDs under root default)."""
import os

import pytest

from tests.support.request_polling import finished


def crush_dump(cluster):
    return cluster.ceph_json('osd', 'crush', 'dump')


def bucket(cluster, name):
    return next((b for b in crush_dump(cluster)['buckets'] if b['name'] == name), None)


def host_bucket_name(cluster):
    """The CRUSH host bucket of this machine's OSDs (named after its hostname)."""
    return next(b['name'] for b in crush_dump(cluster)['buckets']
                if b['type_name'] == 'host' and any(i['id'] == 0 for i in b['items']))


@pytest.fixture(scope='module')
def saved_crush(cluster):
    path = os.path.join(cluster.dir, 'saved-crushmap.bin')      # (in the cluster's directory: seen by its tools)
    cluster.ceph('osd', 'getcrushmap', '-o', str(path))
    before = crush_dump(cluster)
    yield before
    after = crush_dump(cluster)
    if after != before:
        cluster.ceph('osd', 'setcrushmap', '-i', str(path))
    assert crush_dump(cluster) == before
    assert after == before, 'the API calls did not restore the CRUSH map (put back from the saved copy)'


@pytest.fixture
def base(fsid, saved_crush):
    return f'/api/v2/cluster/{fsid}'


def test_node_create_move_rename_delete(client, cluster, base):
    host = bucket(cluster, host_bucket_name(cluster))
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


def test_node_with_an_osd_moves_it_and_back(client, cluster, base):
    name = host_bucket_name(cluster)
    host = bucket(cluster, name)
    osd_weight = next(i['weight'] for i in host['items'] if i['id'] == 2)
    finished(client, client.post(f'{base}/crush_node', {'name': 'host-t', 'bucket_type': 'host',
                                                        'items': [{'id': 2}]}))
    moved = bucket(cluster, 'host-t')
    assert moved['items'] == [{'id': 2, 'weight': osd_weight, 'pos': 0}]
    assert [i['id'] for i in bucket(cluster, name)['items']] == [0, 1]
    items = [{'id': i['id'], 'weight': i['weight'] / 65536} for i in host['items']]
    finished(client, client.patch(f'{base}/crush_node/{host["id"]}', {'name': name, 'bucket_type': 'host',
                                                                      'items': items}))
    assert bucket(cluster, name)['items'] == host['items']
    assert bucket(cluster, 'host-t')['items'] == []
    finished(client, client.delete(f'{base}/crush_node/{moved["id"]}'))
    assert bucket(cluster, 'host-t') is None


def test_node_errors(client, base):
    response = client.post(f'{base}/crush_node', {'name': 'x', 'bucket_type': 'rack', 'items': [{'id': -99}]})
    assert (response.status_code, response.json()) == (404, 'Object of type crush_node with id -99 not found')
    response = client.post(f'{base}/crush_node', {'name': 'x', 'bucket_type': 'shelf', 'items': []})
    assert response.status_code == 400 and 'bucket_type' in response.json()


RULE = {'name': 'api-rule', 'type': 'replicated', 'min_size': 1, 'max_size': 4,
        'steps': [{'op': 'set_chooseleaf_tries', 'num': 5}, {'op': 'take', 'item': -1, 'item_name': 'default'},
                  {'op': 'chooseleaf_firstn', 'num': 0, 'type': 'osd'}, {'op': 'emit'}]}


def test_rule_create_update_delete(client, cluster, base):
    weights_before = [b['items'] for b in crush_dump(cluster)['buckets']]
    request = finished(client, client.post(f'{base}/crush_rule', RULE))
    assert request['headline'] == 'Creating CRUSH rule in ceph'
    rule = next(r for r in client.get(f'{base}/crush_rule').json() if r['name'] == 'api-rule')
    assert (rule['type'], rule['min_size'], rule['max_size'], rule['osd_count']) == ('replicated', 1, 4, 3)
    assert [s['op'] for s in rule['steps']] == ['set_chooseleaf_tries', 'take', 'chooseleaf_firstn', 'emit']
    dumped = cluster.ceph_json('osd', 'crush', 'rule', 'dump', 'api-rule')
    assert dumped['rule_id'] == rule['id'] and dumped.get('max_size', 4) == 4     # (Tentacle: rules have no sizes)
    assert [b['items'] for b in crush_dump(cluster)['buckets']] == weights_before       # weights kept exactly
    request = finished(client, client.patch(f'{base}/crush_rule/{rule["id"]}', {'max_size': 6, 'name': 'api-rule2'}))
    assert request['headline'] == 'Updating CRUSH rule in ceph'
    dumped = cluster.ceph_json('osd', 'crush', 'rule', 'dump', 'api-rule2')
    assert (dumped['rule_id'], dumped.get('max_size', 6)) == (rule['id'], 6)
    shown = client.get(f'{base}/crush_rule/{rule["id"]}').json()
    assert (shown['name'], shown['min_size'], shown['max_size']) == ('api-rule2', 1, 6)
    assert client.patch(f'{base}/crush_rule/{rule["id"]}', {'max_size': 6}).status_code == 304
    response = client.delete(f'{base}/crush_rule/0')
    assert response.status_code == 409 and 'is used by pool(s)' in response.json()['detail']
    request = finished(client, client.delete(f'{base}/crush_rule/{rule["id"]}'))
    assert request['headline'] == 'Removing CRUSH rule in ceph'
    assert client.get(f'{base}/crush_rule/{rule["id"]}').status_code == 404
    assert client.delete(f'{base}/crush_rule/{rule["id"]}').status_code == 404


def test_map_replace_noop_and_garbage(client, cluster, base):
    before = crush_dump(cluster)
    text = client.get(f'{base}/crush_map').json()
    response = client.request('POST', f'{base}/crush_map', raw=text.encode(), headers={'Content-Type': 'text/plain'})
    assert response.status_code == 200, response.content
    response.status_code = 202          # finished() polls a 202's request
    request = finished(client, response)
    assert request['headline'] == 'Replacing CRUSH map in ceph'
    assert crush_dump(cluster) == before
    response = client.request('POST', f'{base}/crush_map', raw=b'rule x {', headers={'Content-Type': 'text/plain'})
    assert response.status_code == 400 and response.json()['detail'].startswith('crushtool: ')
    assert client.post(f'{base}/crush_map', {'x': 1}).status_code == 415
