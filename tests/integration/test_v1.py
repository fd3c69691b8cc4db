"""Calamari 1.3's v1 API (what its dashboard and admin apps call) on a real cluster: every endpoint's fields,
types and values checked against the ceph CLI (V1-DASHBOARD.md §5)."""
import subprocess
import time
import uuid
from datetime import datetime

import pytest

from tests.support.cluster import wait_for

POOL = 'v1-it-pool'
DENIED_ANON = {'detail': 'Authentication credentials were not provided.'}


@pytest.fixture
def base(fsid):
    return f'/api/v1/cluster/{fsid}'


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.content)
    return response.json()


def matches(fetch, expect, timeout=60):
    """Wait until the API and the CLI agree (the mgr's maps trail the mons' by a moment); the last pair."""
    last = {}

    def agree():
        last['api'], last['cli'] = fetch(), expect()
        return last['api'] == last['cli']
    try:
        wait_for(agree, timeout, 'the API to match the CLI')
    except AssertionError:
        assert last['api'] == last['cli']
    return last['api']


@pytest.fixture(scope='module')
def pool_with_data(cluster):
    """A pool holding a few objects (so that usage and PG states are not all zero); removed afterwards."""
    cluster.ceph('osd', 'pool', 'create', POOL, '8')
    cluster.ceph('osd', 'pool', 'application', 'enable', POOL, 'rados')
    wait_for(lambda: all(pg['state'] == 'active+clean' for pg in pgs_brief(cluster)), 120, 'active+clean PGs')
    for n in range(5):
        subprocess.run(cluster.tool('rados', '--conf', cluster.conf, '--keyring', cluster.keyring, '-p', POOL, 'put',
                                    f'obj{n}', cluster.conf), check=True, capture_output=True, timeout=60)
    wait_for(lambda: pool_stat(cluster, POOL)['num_objects'] == 5, 120, 'the PG map to count the objects')
    yield POOL
    cluster.ceph('osd', 'pool', 'delete', POOL, POOL, '--yes-i-really-really-mean-it')


def pool_stat(cluster, name):
    """The pool's ``stat_sum`` in ``ceph pg dump pools``."""
    pool_id = next(p['pool'] for p in cluster.ceph_json('osd', 'dump')['pools'] if p['pool_name'] == name)
    stats = cluster.ceph_json('pg', 'dump', 'pools')
    stats = stats['pool_stats'] if isinstance(stats, dict) else stats       # (a bare list on some releases)
    return next(s['stat_sum'] for s in stats if s['poolid'] == pool_id)


def pgs_brief(cluster):
    pgs = cluster.ceph_json('pg', 'dump', 'pgs_brief')
    return pgs['pg_stats'] if isinstance(pgs, dict) else pgs       # (a bare list on some releases)


def test_cluster_list_and_detail(client, cluster, fsid, base):
    clusters = get(client, '/api/v1/cluster')
    assert [c['id'] for c in clusters] == [cluster.ceph_json('fsid')['fsid']] == [fsid]
    item = clusters[0]
    assert list(item) == ['cluster_update_time', 'cluster_update_time_unix', 'id', 'name']
    assert item['name'] == 'ceph'
    stamp = datetime.fromisoformat(item['cluster_update_time']).timestamp()
    assert item['cluster_update_time_unix'] == int(stamp) * 1000           # milliseconds, whole seconds
    assert time.time() - 15 * 60 < stamp <= time.time() + 1                   # the dashboard warns past 15 minutes
    detail = get(client, base)
    assert list(detail) == list(item) and detail['id'] == fsid
    response = client.get('/api/v1/cluster/00000000-0000')
    assert (response.status_code, response.content) == (404, b'')
    for method, url in (('POST', '/api/v1/cluster'), ('PUT', base), ('DELETE', base)):
        response = client.request(method, url, {'name': 'x'})
        assert (response.status_code, response.json()) == (405, {'detail': f"Method '{method}' not allowed."})


def test_health_matches_ceph_health(client, cluster, base):
    def cli():
        health = cluster.ceph_json('health', 'detail')
        checks = {k: c for k, c in health['checks'].items() if not c.get('muted')}
        return {'overall_status': health['status'],
                'summary': [{'severity': c['severity'], 'summary': c['summary']['message']} for c in checks.values()],
                'detail': [d['message'] for c in checks.values() for d in c.get('detail', [])]}
    report = matches(lambda: get(client, f'{base}/health')['report'], cli)
    assert report['overall_status'] in ('HEALTH_OK', 'HEALTH_WARN', 'HEALTH_ERR')
    body = get(client, f'{base}/health')
    assert list(body) == ['report', 'cluster_update_time', 'cluster_update_time_unix']


def test_health_shows_a_check_raised_with_the_cli(client, cluster, base):
    """A flag raises OSDMAP_FLAGS (HEALTH_WARN): the dashboard's summary shows it, then it goes."""
    cluster.ceph('osd', 'set', 'noscrub')
    try:
        def warned():
            report = get(client, f'{base}/health')['report']
            return any(s['severity'] == 'HEALTH_WARN' and 'noscrub' in s['summary'] for s in report['summary'])
        wait_for(warned, 60, 'the noscrub warning')
    finally:
        cluster.ceph('osd', 'unset', 'noscrub')


def _pg_classes(pg_stats):
    """The CLI-side oracle: Calamari's classification, PG by PG."""
    crit = {'stale', 'down', 'peering', 'inconsistent', 'incomplete', 'inactive'}
    warn = {'creating', 'recovery_wait', 'recovering', 'replay', 'splitting', 'degraded', 'remapped', 'scrubbing',
            'repair', 'wait_backfill', 'backfilling', 'backfill_toofull'}
    ok = {'active', 'clean'}
    result = {name: {'count': 0, 'states': {}} for name in ('ok', 'warn', 'critical')}
    for pg in pg_stats:
        tokens = pg['state'].split('+')
        name, members = next(((n, m) for n, m in (('critical', crit), ('warn', warn), ('ok', ok))
                              if set(tokens) & m), ('critical', set(tokens)))
        result[name]['count'] += 1
        for token in tokens:
            if token in members:
                result[name]['states'][token] = result[name]['states'].get(token, 0) + 1
    return result


def test_health_counters_match_the_cli(client, cluster, base, pool_with_data):
    def cli():
        osds = cluster.ceph_json('osd', 'dump')['osds']
        quorum = cluster.ceph_json('quorum_status')
        pgs = pgs_brief(cluster)
        fs = cluster.ceph_json('fs', 'dump')

        def counter(n, key):
            return {'count': n, 'states': {key: n} if n else {}}
        up_in = sum(1 for o in osds if o['up'] and o['in'])
        up_out = sum(1 for o in osds if o['up'] and not o['in'])
        down_in = sum(1 for o in osds if not o['up'] and o['in'])
        down_out = sum(1 for o in osds if not o['up'] and not o['in'])
        warn_states = {k: v for k, v in (('up/out', up_out), ('down/in', down_in)) if v}
        in_quorum = len(quorum['quorum'])
        total_mds = sum(len(f['mdsmap']['info']) for f in fs['filesystems']) + len(fs['standbys'])
        up_mds = sum(len(f['mdsmap']['up']) for f in fs['filesystems'])
        in_mds = sum(len(f['mdsmap']['in']) for f in fs['filesystems'])
        return {'pg': _pg_classes(pgs),
                'mds': {'total': total_mds, 'up_in': in_mds, 'up_not_in': up_mds - in_mds,
                        'not_up_not_in': total_mds - up_mds},
                'mon': {'ok': counter(in_quorum, 'in'), 'warn': counter(0, ''),
                        'critical': counter(len(quorum['monmap']['mons']) - in_quorum, 'out')},
                'osd': {'ok': counter(up_in, 'up/in'),
                        'warn': {'count': up_out + down_in, 'states': warn_states},
                        'critical': counter(down_out, 'down/out')}}

    def api():
        body = get(client, f'{base}/health_counters')
        assert list(body) == ['pg', 'mds', 'mon', 'osd', 'cluster_update_time', 'cluster_update_time_unix']
        return {k: body[k] for k in ('pg', 'mds', 'mon', 'osd')}
    counters = matches(api, cli)
    assert counters['osd']['ok']['count'] == len(cluster.osd_ids())
    pg_stat = cluster.ceph_json('pg', 'stat')
    assert sum(c['count'] for c in counters['pg'].values()) == pg_stat.get('pg_summary', pg_stat)['num_pgs']


def test_space_matches_ceph_df(client, cluster, base):
    def cli():
        stats = cluster.ceph_json('df')['stats']
        return {'space': {'used_bytes': stats['total_used_bytes'], 'capacity_bytes': stats['total_bytes'],
                          'free_bytes': stats['total_avail_bytes']}}
    space = matches(lambda: get(client, f'{base}/space'), cli)
    assert all(isinstance(v, int) for v in space['space'].values())
    assert get(client, '/api/v1/cluster/00000000-0000/space') == {
        'space': {'used_bytes': None, 'capacity_bytes': None, 'free_bytes': None}}


def test_osds_match_osd_dump_and_pg_dump(client, cluster, base, pool_with_data):
    def cli():
        dump = cluster.ceph_json('osd', 'dump')
        pgs = pgs_brief(cluster)
        hosts = {m['id']: m['hostname'] for m in cluster.ceph_json('osd', 'metadata')}
        pool_names = [p['pool_name'] for p in sorted(dump['pools'], key=lambda p: p['pool'])]   # one rule: all OSDs
        states = {o['osd']: {} for o in dump['osds']}
        for pg in pgs:
            for osd in pg['acting']:
                for token in pg['state'].split('+'):
                    states[osd][token] = states[osd].get(token, 0) + 1
        osds = []
        for raw in sorted(dump['osds'], key=lambda o: o['osd']):
            osd = {k: raw[k] for k in ('uuid', 'up', 'in', 'up_from', 'public_addr', 'cluster_addr',
                                       'heartbeat_back_addr', 'heartbeat_front_addr')}
            osd.update(id=raw['osd'], osd=raw['osd'], pg_states=states[raw['osd']], pools=pool_names,
                       fqdn=hosts.get(raw['osd']), host=hosts.get(raw['osd'], '').split('.')[0] or None)
            osds.append(osd)
        counts = {}
        for per_osd in states.values():
            for token in per_osd:
                counts[token] = counts.get(token, 0) + 1
        return {'osds': osds, 'pg_state_counts': counts}
    body = matches(lambda: get(client, f'{base}/osd'), cli)
    assert list(body) == ['osds', 'pg_state_counts']
    for osd in body['osds']:
        assert type(osd['up']) is int and type(osd['in']) is int and type(osd['osd']) is int
        assert POOL in osd['pools']
    # OSDs with an active PG, not PGs
    assert body['pg_state_counts']['active'] == sum(1 for o in body['osds'] if o['pg_states'].get('active'))
    osd_id = cluster.osd_ids()[0]
    single = matches(lambda: get(client, f'{base}/osd/{osd_id}'),
                     lambda: {'osd': next(o for o in cluster.ceph_json('osd', 'dump')['osds'] if o['osd'] == osd_id)})
    assert list(single) == ['osd']
    response = client.get(f'{base}/osd/9999')
    assert (response.status_code, response.json()) == (404, 'Object of type osd with id 9999 not found')


def test_pools_match_osd_dump_and_pg_dump_pools(client, cluster, fsid, base, pool_with_data):
    def cli():
        dump = cluster.ceph_json('osd', 'dump')
        stats = cluster.ceph_json('pg', 'dump', 'pools')
        stats = stats['pool_stats'] if isinstance(stats, dict) else stats
        sums = {s['poolid']: s['stat_sum'] for s in stats}
        return [{'pool_id': p['pool'], 'name': p['pool_name'], 'quota_max_bytes': p['quota_max_bytes'],
                 'quota_max_objects': p['quota_max_objects'], 'used_objects': sums[p['pool']]['num_objects'],
                 'used_bytes': sums[p['pool']]['num_bytes'], 'id': p['pool'], 'cluster': fsid}
                for p in sorted(dump['pools'], key=lambda p: p['pool'])]
    pools = matches(lambda: get(client, f'{base}/pool'), cli)
    ours = next(p for p in pools if p['name'] == POOL)
    assert ours['used_objects'] == 5 and ours['used_bytes'] > 0
    assert get(client, f"{base}/pool/{ours['id']}") == ours
    assert client.get(f'{base}/pool/9999').status_code == 404


def test_servers_match_node_ls(client, cluster, base):
    nodes = cluster.ceph_json('node', 'ls')
    hosts = sorted({h for by_host in nodes.values() for h in by_host})
    servers = get(client, f'{base}/server')
    assert [s['addr'] for s in servers] == hosts
    for server in servers:
        assert list(server) == ['addr', 'hostname', 'name', 'services']
        assert server['hostname'] == server['name'] == server['addr'].split('.')[0]
        expected = {(kind, str(i)) for kind, by_host in nodes.items() for i in by_host.get(server['addr'], [])}
        assert {(s['type'], s['service_id']) for s in server['services']} == expected
        assert all(s['name'] == f"{s['type']}.{s['service_id']}" for s in server['services'])
    assert get(client, '/api/v1/cluster/00000000-0000/server') == []


def test_unknown_fsid_and_anonymous(cluster, client, anon):
    for resource in ('health', 'health_counters', 'osd', 'pool'):
        response = client.get(f'/api/v1/cluster/00000000-0000/{resource}')
        assert (response.status_code, response.json()) == (
            404, 'Object of type cluster with id 00000000-0000 not found')
        response = anon.get(f'/api/v1/cluster/{cluster.fsid}/{resource}')
        assert (response.status_code, response.json()) == (403, DENIED_ANON)


def test_dashboard_start_up_sequence(cluster):
    """What the dashboard does after login (§4.1), then logout by GET (§4.3)."""
    name = 'v1-reader-' + uuid.uuid4().hex[:6]
    cluster.create_user(name, 'pw-' + name, 'readonly')
    ui = cluster.client(username=name, password='pw-' + name)
    assert get(ui, '/api/v1/user/me')['username'] == name
    fsid = get(ui, '/api/v1/cluster')[0]['id']
    for resource in ('server', 'health', 'space', 'health_counters', 'osd', 'pool'):
        assert ui.get(f'/api/v1/cluster/{fsid}/{resource}').status_code in (200, 202)
    assert get(ui, f'/api/v1/cluster/{fsid}')['id'] == fsid
    assert ui.get('/api/v2/info').status_code == 200
    assert ui.get('/api/v1/auth/logout').status_code == 200
    assert ui.get(f'/api/v1/cluster/{fsid}/health').status_code == 403        # the UI's "session expired"


def test_admin_app_calls(cluster):
    """The admin app (V1-DASHBOARD.md §1): the cluster list, 405 for its cluster writes, the users, PUT user/me."""
    name = 'v1-admin-' + uuid.uuid4().hex[:6]
    cluster.create_user(name, 'pw-' + name, 'read/write')
    admin = cluster.client(username=name, password='pw-' + name)
    fsid = get(admin, '/api/v1/cluster')[0]['id']
    for method, url in (('POST', '/api/v1/cluster'), ('PUT', f'/api/v1/cluster/{fsid}'),
                        ('DELETE', f'/api/v1/cluster/{fsid}')):
        assert admin.request(method, url, {'name': 'x'}).status_code == 405
    assert name in [u['username'] for u in get(admin, '/api/v1/user')]
    me = get(admin, '/api/v1/user/me')
    response = admin.put('/api/v1/user/me', {'username': name, 'password': 'pw-' + name, 'email': 'a@example.com'})
    assert response.status_code == 200 and response.json() == dict(me, email='a@example.com')
    assert {'username': name, 'email': 'a@example.com', 'role': 'read/write', 'id': me['id']} in \
        cluster.ceph_json('calamari-api', 'user-list')
    cluster.ceph('calamari-api', 'user-delete', name)
