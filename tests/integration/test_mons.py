"""Three mons on a real cluster of its own: the mon list and each mon's status against `ceph quorum_status`,
and the quorum events (left/joined quorum, new leader) when mons are stopped and started again."""
import os
import signal
import tempfile

import pytest

from tests.integration.cluster import RealCluster, wait_for


@pytest.fixture(scope='module')
def mons():
    cluster = RealCluster(tempfile.mkdtemp(prefix='calamari-mons-'))
    cluster.up('--no-install', '--mons', '3', '--osds', '1')
    try:
        yield cluster
    finally:
        cluster.down()


def stop_mon(cluster: RealCluster, name: str) -> None:
    with open(os.path.join(cluster.dir, 'run', f'mon.{name}.pid')) as f:
        os.kill(int(f.read().strip()), signal.SIGTERM)


def start_missing_daemons(cluster: RealCluster) -> None:
    cluster.launcher('up', '--no-install', '--osds', '1')


def mon_list(client, cluster):
    return {m['name']: m for m in client.get(f'/api/v2/cluster/{cluster.fsid}/mon').json()}


def messages(client):
    return [e['message'] for e in client.get('/api/v2/event?page_size=100').json()['results']]


def test_mons_and_their_status_match_the_cluster(mons):
    client = mons.client()
    quorum = mons.ceph_json('quorum_status')
    listed = mon_list(client, mons)
    assert sorted(listed) == ['a', 'b', 'c']
    for mon in quorum['monmap']['mons']:
        api = listed[mon['name']]
        assert (api['rank'], api['in_quorum'], api['leader']) == (
            mon['rank'], True, mon['name'] == quorum['quorum_leader_name'])
        assert api['addr'] == mon['addr']
        status = client.get(f'/api/v2/cluster/{mons.fsid}/mon/{mon["name"]}/status').json()
        assert (status['name'], status['rank']) == (mon['name'], mon['rank'])
        assert status['state'] == ('leader' if api['leader'] else 'peon')
        assert sorted(status['quorum']) == sorted(quorum['quorum'])


def test_quorum_events_when_mons_stop_and_start(mons):
    client = mons.client()
    host = mon_list(client, mons)['c']['server']
    stop_mon(mons, 'c')
    wait_for(lambda: not mon_list(client, mons)['c']['in_quorum'], 90, 'mon.c to leave the quorum')
    assert f"Mon 'ceph.c' left quorum (on {host})" in messages(client)
    assert client.get(f'/api/v2/cluster/{mons.fsid}/mon/c/status').json()['state'] == 'out of quorum'
    start_missing_daemons(mons)
    wait_for(lambda: mon_list(client, mons)['c']['in_quorum'], 90, 'mon.c to rejoin')
    wait_for(lambda: f"Mon 'ceph.c' joined quorum (on {host})" in messages(client), 30, 'the joined event')

    # the leader goes: another mon leads (and the mgr's mon session moves to it)
    assert mon_list(client, mons)['a']['leader']
    stop_mon(mons, 'a')
    wait_for(lambda: (lambda m: m['b']['leader'] and not m['a']['in_quorum'])(mon_list(client, mons)), 90,
             'mon.b to lead')
    assert f"Mon 'ceph.b' now quorum leader  (on {host})" in messages(client)     # Calamari's double space
    start_missing_daemons(mons)
    wait_for(lambda: mon_list(client, mons)['a']['leader'], 90, 'mon.a to lead again')
    wait_for(lambda: f"Mon 'ceph.a' now quorum leader  (on {host})" in messages(client), 30, 'the leader event')
