"""The request engine on the real cluster: self tests, cancel, the request list, the CLI, and a request
interrupted by a mgr failover."""
from tests.support.request_polling import finished

DEBUG = '/api/v2/server/localhost/debug_job'


def test_selftest_exception_and_wait(client):
    request = finished(client, client.post(DEBUG, {'cmd': 'ceph.selftest_exception', 'args': []}), expect_error=True)
    assert request['error_message'] == 'This is a self-test exception'
    request = finished(client, client.post(DEBUG, {'cmd': 'ceph.selftest_wait', 'args': [1]}))
    assert request['headline'] == 'salt: ceph.selftest_wait: [1]'


def test_cancel(client):
    request_id = client.post(DEBUG, {'cmd': 'ceph.selftest_block', 'args': []}).json()['request_id']
    assert client.get(f'/api/v2/request/{request_id}').json()['state'] == 'submitted'
    listed = client.get('/api/v2/request?state=submitted&page_size=100').json()['results']
    assert request_id in [r['id'] for r in listed]
    cancelled = client.post(f'/api/v2/request/{request_id}/cancel').json()
    assert (cancelled['state'], cancelled['error'], cancelled['error_message']) == ('complete', True, 'Cancelled')
    assert client.post(f'/api/v2/request/{request_id}/cancel').json() == cancelled


def test_not_a_selftest(client):
    response = client.post(DEBUG, {'cmd': 'cmd.run', 'args': []})
    assert response.status_code == 403
    assert response.json() == {'detail': "Command 'cmd.run' is not a self test command"}


def test_cli(client, fsid):
    url = f'/api/v2/cluster/{fsid}/cli'
    response = client.post(url, {'command': 'ceph osd stat --format json'})
    assert response.status_code == 200
    body = response.json()
    assert body['status'] == 0 and '"num_osds":3' in body['out'].replace(' ', '')
    failed = client.post(url, {'command': ['osd', 'pool', 'get', 'no-such-pool', 'size']}).json()
    assert failed['status'] == -2 and "unrecognized pool 'no-such-pool'" in failed['err']
    bad = client.post(url, {'command': 'osd frobnicate'}).json()
    assert bad['status'] == -22 and 'no valid command found' in bad['err']
    assert client.post(url, {}).status_code == 400


def test_forget_cluster(client, fsid):
    done = finished(client, client.post(DEBUG, {'cmd': 'ceph.selftest_wait', 'args': [0]}))
    response = client.delete(f'/api/v2/cluster/{fsid}')
    assert response.status_code == 204 and response.content == b''
    assert client.get(f"/api/v2/request/{done['id']}").status_code == 404
    assert client.get(f'/api/v2/cluster/{fsid}').json()['id'] == fsid      # re-detected at once


def test_request_interrupted_by_failover(cluster, client):
    done = finished(client, client.post(DEBUG, {'cmd': 'ceph.selftest_exception', 'args': []}), expect_error=True)
    blocked = client.post(DEBUG, {'cmd': 'ceph.selftest_block', 'args': []}).json()['request_id']
    cluster.restart_active_mgr()
    fresh = cluster.client()
    lost = fresh.get(f'/api/v2/request/{blocked}').json()
    assert (lost['state'], lost['error'], lost['error_message']) == ('complete', True, 'Lost contact')
    listed = [r['id'] for r in fresh.get('/api/v2/request?page_size=100').json()['results']]
    assert done['id'] in listed and blocked in listed
