"""Events on a real cluster: OSD down/up and out/in, health, pools via requests, severity filter,
pagination, and persistence across a mgr failover."""
import os
import signal
import subprocess
import time

import pytest

from tests.support.cluster import wait_for

OSD = 2


def all_events(client, url='/api/v2/event', **query):
    params = '&'.join(f'{k}={v}' for k, v in {'page_size': 1000, **query}.items())
    response = client.get(f'{url}?{params}')
    assert response.status_code == 200, response.content
    return response.json()['results']


def wait_event(client, url, severity, message, since, timeout=60):
    def found():
        return [e for e in all_events(client, url) if e['message'] == message and e['severity'] == severity
                and e['when'] >= since]
    return wait_for(found, timeout, f'event {severity} {message!r} at {url}')


def now_when():
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(time.time() - 1))


def osd_up(cluster, osd_id):
    return any(o['osd'] == osd_id and o['up'] for o in cluster.ceph_json('osd', 'dump')['osds'])


def start_osd(cluster, osd_id):
    env = {k: v for k, v in os.environ.items() if k not in ('CEPH_KEYRING', 'CEPH_CONF', 'CEPH_ARGS')}
    subprocess.run(cluster.tool('ceph-osd', '-c', cluster.conf, '-i', str(osd_id)), env=env, check=True,
                   capture_output=True, timeout=60)


def stop_osd(cluster, osd_id):
    with open(os.path.join(cluster.dir, 'run', f'osd.{osd_id}.pid')) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGTERM)


def osd_host(cluster, osd_id):
    return cluster.ceph_json('osd', 'metadata', str(osd_id))['hostname']


def test_osd_down_and_up_events_in_cluster_and_server_views(cluster, client, fsid):
    host = osd_host(cluster, OSD)
    since = now_when()
    stop_osd(cluster, OSD)
    try:
        wait_for(lambda: not osd_up(cluster, OSD), 60, f'osd.{OSD} down')
        down = f'OSD ceph.{OSD} went down (on {host})'
        wait_event(client, f'/api/v2/cluster/{fsid}/event', 'WARNING', down, since)
        wait_event(client, f'/api/v2/server/{host}/event', 'WARNING', down, since)
        # the server view shows the daemon as not running
        services = client.get(f'/api/v2/server/{host}').json()['services']
        assert {'fsid': fsid, 'type': 'osd', 'id': str(OSD), 'running': False} in services
    finally:
        start_osd(cluster, OSD)
        wait_for(lambda: osd_up(cluster, OSD), 90, f'osd.{OSD} back up')
    wait_event(client, f'/api/v2/cluster/{fsid}/event', 'RECOVERY', f'OSD ceph.{OSD} came up (on {host})', since)
    wait_for(lambda: {'fsid': fsid, 'type': 'osd', 'id': str(OSD), 'running': True}
             in client.get(f'/api/v2/server/{host}').json()['services'], 30, 'running again')


def test_osd_out_and_in_events(cluster, client, fsid):
    host = osd_host(cluster, 1)
    since = now_when()
    cluster.ceph('osd', 'out', '1')
    try:
        wait_event(client, '/api/v2/event', 'WARNING', f'OSD ceph.1 marked out (on {host})', since)
    finally:
        cluster.ceph('osd', 'in', '1')
    wait_event(client, f'/api/v2/cluster/{fsid}/event', 'RECOVERY', f'OSD ceph.1 marked in (on {host})', since)


def test_health_flag_degrades_and_recovers(cluster, client, fsid):
    def healthy():
        return cluster.ceph_json('health')['status'] == 'HEALTH_OK'
    try:
        wait_for(healthy, 60, 'HEALTH_OK before the test')
    except AssertionError:
        pytest.skip('the shared cluster is not HEALTH_OK')
    since = now_when()
    cluster.ceph('osd', 'set', 'noout')
    try:
        wait_event(client, f'/api/v2/cluster/{fsid}/event', 'WARNING',
                   "Health of cluster 'ceph' degraded from HEALTH_OK to HEALTH_WARN", since)
    finally:
        cluster.ceph('osd', 'unset', 'noout')
    wait_event(client, f'/api/v2/cluster/{fsid}/event', 'RECOVERY',
               "Health of cluster 'ceph' recovered from HEALTH_WARN to HEALTH_OK", since)


def test_pool_create_delete_gives_request_and_pool_events(cluster, client, fsid):
    since = now_when()
    response = client.post(f'/api/v2/cluster/{fsid}/pool', {'name': 'cal-events-pool', 'pg_num': 8})
    assert response.status_code == 202, response.content
    request_id = response.json()['request_id']
    wait_for(lambda: client.get(f'/api/v2/request/{request_id}').json()['state'] == 'complete', 120, 'pool created')
    pool_id = next(p['pool_id'] for p in cluster.ceph_json('osd', 'pool', 'ls', 'detail')
                   if p['pool_name'] == 'cal-events-pool')
    try:
        wait_event(client, f'/api/v2/cluster/{fsid}/event', 'INFO', f'pool ceph.{pool_id} added to cluster ceph', since)
        messages = [e['message'] for e in all_events(client, f'/api/v2/cluster/{fsid}/event')]
        assert any(m.startswith('Started: ') and 'cal-events-pool' in m for m in messages)
        wait_for(lambda: any(m.startswith('Succeeded: ') and 'cal-events-pool' in m
                             for m in (e['message'] for e in all_events(client))), 30, 'Succeeded event')
    finally:
        response = client.delete(f'/api/v2/cluster/{fsid}/pool/{pool_id}')
        if response.status_code != 202:
            cluster.ceph('osd', 'pool', 'delete', 'cal-events-pool', 'cal-events-pool',
                         '--yes-i-really-really-mean-it')
    wait_event(client, f'/api/v2/cluster/{fsid}/event', 'INFO', f'pool ceph.{pool_id} removed from cluster ceph',
               since)


def test_severity_threshold_and_pagination(client, fsid):
    everything = all_events(client)
    assert everything, 'earlier tests left events'
    assert [e['when'] for e in everything] == sorted((e['when'] for e in everything), reverse=True)
    serious = all_events(client, severity='RECOVERY')
    assert serious and all(e['severity'] != 'INFO' for e in serious)
    assert all(e['severity'] in ('CRITICAL', 'ERROR') for e in all_events(client, severity='ERROR'))
    first = client.get('/api/v2/event?severity=RECOVERY&page_size=1')
    body = first.json()
    assert body['count'] == len(serious) and body['previous'] is None
    if body['count'] > 1:
        assert 'severity=RECOVERY' in body['next'] and 'page=2' in body['next']
        path = body['next'].split('://', 1)[1].split('/', 1)[1]
        second = client.get('/' + path).json()
        assert second['results'] == serious[1:2] and 'severity=RECOVERY' in second['previous']
    bad = client.get('/api/v2/event?severity=FOO')
    assert bad.status_code == 400
    assert bad.json() == {'detail': "Invalid severity 'FOO', must be one of CRITICAL,ERROR,WARNING,RECOVERY,INFO"}
    assert client.get('/api/v2/event?page_size=0').status_code == 400
    assert list(everything[0]) == ['when', 'severity', 'message']
    assert everything[0]['when'].endswith('Z') and len(everything[0]['when']) == len('2014-01-16T22:18:37.133Z')


def test_events_survive_failover_without_duplicates(cluster, fsid):
    client = cluster.client()
    before = all_events(client)
    assert before
    cluster.restart_active_mgr()
    client = cluster.client()
    time.sleep(5)           # let the new mgr's event worker see the maps
    after = all_events(client)
    keys_after = [(e['when'], e['message']) for e in after]
    assert set((e['when'], e['message']) for e in before) <= set(keys_after)
    assert len(keys_after) == len(set(keys_after))
    new = after[:len(after) - len(before)]
    repeated = [e for e in new if e['message'].startswith(('Added server', 'OSD ')) and
                any(b['message'] == e['message'] for b in before)]
    assert not repeated, repeated
