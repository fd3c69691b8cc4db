"""Graphite-compatible history on a real cluster: the sampler's rates and gauges against `ceph pg dump pools` and
`ceph df` taken at two moments, the dashboard's queries, this host's /proc metrics, and the 15-minute history
surviving a mgr failover.  The sample interval is set to 2 s (so a coarse bucket is 30 s)."""
import json
import os
import subprocess
import time

import pytest

from tests.support.cluster import wait_for

INTERVAL = 2
POOL = 'graphite-it-pool'


def status(cluster):
    return cluster.ceph_json('calamari-api', 'history-status')


@pytest.fixture(scope='module')
def sampling(cluster):
    """history_interval = 2 s for this module (restored afterwards), and a pool of our own."""
    cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/history_interval', str(INTERVAL))
    wait_for(lambda: status(cluster)['interval'] == INTERVAL and status(cluster)['series'] > 0, 60,
             'the sampler to use the new interval')
    cluster.ceph('osd', 'pool', 'create', POOL, '8')
    cluster.ceph('osd', 'pool', 'application', 'enable', POOL, 'rados')
    pool_id = next(p['pool'] for p in cluster.ceph_json('osd', 'dump')['pools'] if p['pool_name'] == POOL)
    yield pool_id
    cluster.ceph('osd', 'pool', 'delete', POOL, POOL, '--yes-i-really-really-mean-it')
    # (a running Pacific mgr does not see `config rm` of a module option: set the default first)
    cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/history_interval', '60')
    cluster.ceph('config', 'rm', 'mgr', 'mgr/calamari_api/history_interval')


def pool_stats(cluster):
    stats = cluster.ceph_json('pg', 'dump', 'pools')
    stats = stats['pool_stats'] if isinstance(stats, dict) else stats
    return {s['poolid']: s['stat_sum'] for s in stats}


def render(client, *targets, **params):
    query = '&'.join([f'target={t}' for t in targets] + [f'{k}={v}' for k, v in params.items()])
    response = client.get(f'/graphite/render?{query}')
    assert response.status_code == 200, response.content
    return response.json()


def settled(cluster, pool_id):
    """The PG map's stat_sum for the pool once it stops changing (OSDs report every few seconds)."""
    last = {}

    def same():
        now = pool_stats(cluster)[pool_id]
        stable = now == last.get('value')
        last['value'] = now
        time.sleep(5)
        return stable
    wait_for(same, 90, 'the pool stats to settle')
    return last['value'], time.time()


def test_rates_match_pg_dump_pools_at_two_moments(cluster, client, fsid, sampling):
    pool_id = sampling
    before, t_before = settled(cluster, pool_id)
    rados = cluster.tool('rados', '--conf', cluster.conf, '--keyring', cluster.keyring, '-p', POOL)
    for n in range(40):
        subprocess.run(rados + ['put', f'obj{n}', cluster.conf], check=True, capture_output=True, timeout=60)
    # every PG has reported its stats since the writes once all 40 new objects are counted
    wait_for(lambda: pool_stats(cluster)[pool_id]['num_objects'] == before['num_objects'] + 40, 120,
             'the PG map to count the 40 objects')
    after, t_after = settled(cluster, pool_id)
    written = after['num_write'] - before['num_write']
    assert written >= 40
    wait_for(lambda: time.time() > t_after + 2 * INTERVAL, 30, 'one more sample')
    span = int(time.time() - t_before) + 10
    for name, expected in (('num_write', written), ('num_write_kb', after['num_write_kb'] - before['num_write_kb'])):
        (series,) = render(client, f'ceph.cluster.{fsid}.pool.{pool_id}.{name}', format='json', **{'from': f'-{span}s'})
        assert series['target'] == f'ceph.cluster.{fsid}.pool.{pool_id}.{name}'
        points = [(ts, v) for v, ts in series['datapoints'] if v is not None]
        assert all(v >= 0 for _, v in points)
        # the rates integrate to the counter's change between the two moments (per-second rates x the 2 s step)
        integral = sum(v * INTERVAL for _, v in points)
        assert abs(integral - expected) <= max(2, 0.15 * expected), (name, integral, expected)
        # ... and their mean over the IO equals the change divided by the time between the moments
        window = [v for ts, v in points if t_before <= ts <= t_after]
        mean = sum(window) / len(window)
        assert mean == pytest.approx(expected / (t_after - t_before), rel=0.25)
    # the dashboard's IOPS card: read + write of all pools.  Its -1d is beyond the fine archive at a 2 s interval
    # (1440 points: 48 minutes), so it gets the coarse one (15 intervals a point); -40min gets the fine one.
    target = f'sumSeries(ceph.cluster.{fsid}.pool.all.num_read,ceph.cluster.{fsid}.pool.all.num_write)'
    for since, step in (('-1d', 15 * INTERVAL), ('-40min', INTERVAL)):
        card = render(client, target, format='json-array', **{'from': since})
        assert card['targets'] == [target]
        assert all(len(row) == 2 and isinstance(row[0], int) for row in card['datapoints'])
        assert {b[0] - a[0] for a, b in zip(card['datapoints'], card['datapoints'][1:])} == {step}
    total = sum(v * INTERVAL for ts, v in card['datapoints'] if v is not None and ts >= t_before - INTERVAL)
    assert total >= 0.85 * written


def test_gauges_match_pg_dump_pools_and_ceph_df(cluster, client, fsid, sampling):
    pool_id = sampling

    def latest(target):
        values = [v for v, _ in render(client, target, format='json', **{'from': '-20s'})[0]['datapoints']
                  if v is not None]
        return values[-1] if values else None

    def agree():
        stat = pool_stats(cluster)[pool_id]
        df = cluster.ceph_json('df')['stats']
        return (latest(f'ceph.cluster.{fsid}.pool.{pool_id}.num_objects') == stat['num_objects']
                and latest(f'ceph.cluster.{fsid}.pool.{pool_id}.num_bytes') == stat['num_bytes']
                and latest(f'ceph.cluster.{fsid}.df.total_bytes') == df['total_bytes']
                and latest(f'ceph.cluster.{fsid}.df.total_used_bytes') == df['total_used_bytes']
                and latest(f'ceph.cluster.{fsid}.df.total_avail') == df['total_avail_bytes'] / 1024)
    wait_for(agree, 60, 'the latest samples to match pg dump pools and ceph df')
    # the graph wall's "total disk" graph: the legacy KB names x 1024
    body = render(client, f'scale(ceph.cluster.{fsid}.df.total_avail, 1024)',
                  f'scale(ceph.cluster.{fsid}.df.total_used, 1024)', format='json-array', **{'from': '-1min'})
    assert body['targets'] == [f'scale(ceph.cluster.{fsid}.df.total_avail,1024)',
                               f'scale(ceph.cluster.{fsid}.df.total_used,1024)']
    df = cluster.ceph_json('df')['stats']
    last = [row for row in body['datapoints'] if row[1] is not None][-1]
    assert last[1] == pytest.approx(df['total_avail_bytes'], rel=0.01)
    assert last[2] == pytest.approx(df['total_used_bytes'], rel=0.5)


def test_find_lists_the_pools_and_this_host(cluster, client, fsid, sampling):
    pools = {str(p['pool']) for p in cluster.ceph_json('osd', 'dump')['pools']}
    nodes = client.get(f'/graphite/metrics/find?query=ceph.cluster.{fsid}.pool.*').json()
    assert {n['text'] for n in nodes} >= pools | {'all'}
    assert all(n['id'] == f"ceph.cluster.{fsid}.pool.{n['text']}" and n['leaf'] == 0 for n in nodes)
    stats = client.get(f'/graphite/metrics/find?query=ceph.cluster.{fsid}.pool.{sampling}.*').json()
    assert [n['text'] for n in stats] == sorted(['num_bytes', 'num_objects', 'num_read', 'num_read_kb', 'num_write',
                                                 'num_write_kb'])
    host = cluster.ceph_json('mgr', 'metadata', cluster.ceph_json('mgr', 'dump')['active_name'])['hostname']
    graphite_host = host.replace('.', '_')
    assert graphite_host in [n['text'] for n in client.get('/graphite/metrics/find?query=servers.*').json()]
    cpus = [n['text'] for n in client.get(f'/graphite/metrics/find?query=servers.{graphite_host}.cpu.*').json()]
    assert 'total' in cpus and f'cpu{os.cpu_count() - 1}' in cpus


def test_this_hosts_metrics_and_empty_other_hosts(cluster, client, sampling):
    host = cluster.ceph_json('mgr', 'metadata', cluster.ceph_json('mgr', 'dump')['active_name'])['hostname']
    h = host.replace('.', '_')
    with open('/proc/meminfo') as f:
        mem_total = int(next(line for line in f if line.startswith('MemTotal:')).split()[1]) * 1024
    body = render(client, f'servers.{h}.memory.MemTotal', f'servers.{h}.loadavg.01', f'servers.{h}.cpu.total.idle',
                  format='json-array', **{'from': '-30s'})
    assert len(body['targets']) == 3
    rows = [row for row in body['datapoints'] if None not in row]
    assert rows and rows[-1][1] == mem_total
    load = float(open('/proc/loadavg').read().split()[0])
    assert 0 <= rows[-1][2] <= max(4 * load, load + 4)
    assert 0 <= rows[-1][3] <= 100 * os.cpu_count() * 1.1      # jiffies per second: at most 100 per CPU
    # the dashboard's host overview for a host without an agent: empty graphs, not an error
    body = render(client, 'servers.no_such_host.cpu.total.user', 'servers.no_such_host.loadavg.01',
                  format='json-array')
    assert body == {'targets': [], 'datapoints': []}
    assert client.get('/graphite/metrics/find?query=servers.no_such_host.cpu.*').json() == []


def test_coarse_history_survives_a_failover(cluster, client, fsid, sampling):
    coarse = INTERVAL * 15
    host = cluster.ceph_json('mgr', 'metadata', cluster.ceph_json('mgr', 'dump')['active_name'])['hostname']
    target = f"servers.{host.replace('.', '_')}.memory.MemTotal"       # a gauge every sample has

    def persisted():
        """This test's buckets (the tier's cluster may have stored default-interval ones before: 15 minutes of
        60-second samples, step 900 s)."""
        keys = [k for k in cluster.ceph_json('config-key', 'ls') if k.startswith('mgr/calamari_api/history/')]
        texts = [cluster.ceph('config-key', 'get', k).stdout for k in keys]
        ours = [text for text in texts if json.loads(text).get('step') == coarse]
        return ours if len(ours) >= 2 else None
    stored = wait_for(persisted, 4 * coarse + 30, 'two 15-interval buckets in the KV store')
    assert all(len(text) < 64 * 1024 for text in stored)

    def coarse_points():
        """The finished (and so persisted) buckets: those that ended two samples ago or earlier."""
        now = time.time()
        (series,) = render(client, target, format='json', **{'from': '-3d'})
        assert series['datapoints'][1][1] - series['datapoints'][0][1] == coarse
        return {ts: v for v, ts in series['datapoints'] if v is not None and ts + coarse + 2 * INTERVAL <= now}
    before = coarse_points()
    assert before and all(v > 0 for v in before.values())
    cluster.restart_active_mgr()          # (sessions live in the KV store too: the client stays logged in)
    after = wait_for(lambda: (lambda p: p if set(before) <= set(p) else None)(coarse_points()), 60,
                     'the coarse history after the failover')
    assert {ts: after[ts] for ts in before} == before
    assert status(cluster)['interval'] == INTERVAL
