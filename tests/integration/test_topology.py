"""A real cluster of its own with three mons and two OSDs: the mon list and each mon's status against
`ceph quorum_status`, the quorum events (left/joined quorum, new leader) when mons stop and start, and a second
host (an OSD run with another hostname): "Added server", late reporting, regained contact, and a moved OSD listed
on its new host only."""
import os
import signal
import subprocess
import tempfile

import pytest

from tests.support.cluster import RealCluster, wait_for


@pytest.fixture(scope='module')
def mons():
    cluster = RealCluster(tempfile.mkdtemp(prefix='calamari-mons-'))
    cluster.up('--no-install', '--mons', '3', '--osds', '2')
    try:
        yield cluster
    finally:
        cluster.down()


def stop(cluster: RealCluster, daemon: str) -> None:
    pidfile = os.path.join(cluster.dir, 'run', f'{daemon}.pid')
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return                                          # not running
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists(f'/proc/{pid}'), 30, f'{daemon} to stop')


def stop_mon(cluster: RealCluster, name: str) -> None:
    stop(cluster, f'mon.{name}')


def start_missing_daemons(cluster: RealCluster) -> None:
    cluster.launcher('up', '--no-install', '--osds', '2')


def start_osd_as_host(cluster: RealCluster, osd_id: int, hostname: str) -> None:
    """Ceph daemons take the hostname they report from NODE_NAME when it is set (as in containers)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('CEPH_')}
    subprocess.run(cluster.tool('ceph-osd', '-c', cluster.conf, '-i', str(osd_id)), env=dict(env, NODE_NAME=hostname),
                   check=True, capture_output=True, timeout=60)


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
    # events come from the event generator's thread, a moment after the map (as Calamari's did)
    wait_for(lambda: f"Mon 'ceph.c' left quorum (on {host})" in messages(client), 30, 'the left event')
    assert client.get(f'/api/v2/cluster/{mons.fsid}/mon/c/status').json()['state'] == 'out of quorum'
    start_missing_daemons(mons)
    wait_for(lambda: mon_list(client, mons)['c']['in_quorum'], 90, 'mon.c to rejoin')
    wait_for(lambda: f"Mon 'ceph.c' joined quorum (on {host})" in messages(client), 30, 'the joined event')

    # the leader goes: another mon leads (and the mgr's mon session moves to it)
    assert mon_list(client, mons)['a']['leader']
    stop_mon(mons, 'a')
    wait_for(lambda: (lambda m: m['b']['leader'] and not m['a']['in_quorum'])(mon_list(client, mons)), 90,
             'mon.b to lead')
    wait_for(lambda: f"Mon 'ceph.b' now quorum leader  (on {host})" in messages(client), 30,   # Calamari's
             'the leader event')                                                                 # double space
    start_missing_daemons(mons)
    wait_for(lambda: mon_list(client, mons)['a']['leader'], 90, 'mon.a to lead again')
    wait_for(lambda: f"Mon 'ceph.a' now quorum leader  (on {host})" in messages(client), 30, 'the leader event')


def test_a_second_host_added_late_and_back(mons):
    client = mons.client()
    other = 'other-host'
    home = mon_list(client, mons)['a']['server']       # this machine's hostname

    def servers():
        return {s['fqdn']: [f"{x['type']}.{x['id']}" for x in s['services']]
                for s in client.get('/api/v2/server').json()}

    stop(mons, 'osd.1')
    start_osd_as_host(mons, 1, other)
    try:
        wait_for(lambda: servers().get(other) == ['osd.1'], 60, 'the OSD to report from its new host')
        assert 'osd.1' not in servers()[home]          # listed where it runs now, not twice
        wait_for(lambda: f'Added server {other} with 1 OSD' in messages(client), 30, 'the added event')
        stop(mons, 'osd.1')
        late = wait_for(lambda: next((m for m in messages(client) if m.startswith(f'Server {other} is late')),
                                     None), 90, 'the late reporting event')
        assert 'last report at' in late
        start_osd_as_host(mons, 1, other)
        wait_for(lambda: f'Server {other} regained contact' in messages(client), 90, 'the regained event')
        assert client.get(f'/api/v2/server/{other}').json()['managed'] is True
    finally:
        stop(mons, 'osd.1')
        start_missing_daemons(mons)                     # osd.1 back on this host
    wait_for(lambda: 'osd.1' in servers().get(home, []), 60, 'osd.1 back on its host')
