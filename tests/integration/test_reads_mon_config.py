"""Mons, config, sync objects and the API root on a real cluster, checked against the ceph CLI."""
from tests.integration import reads

base = reads.base      # fixture
get = reads.get

MAX_PG = 'mon_max_pool_pg_num'


def test_mons_match_mon_dump(client, cluster, base):
    dump = cluster.ceph_json('mon', 'dump')
    quorum = cluster.ceph_json('quorum_status')
    mons = get(client, f'{base}/mon')
    assert [(m['name'], m['rank'], m['addr']) for m in mons] == [
        (m['name'], m['rank'], m['addr']) for m in sorted(dump['mons'], key=lambda m: m['rank'])]
    for mon in mons:
        assert mon['in_quorum'] is (mon['name'] in quorum['quorum_names'])
        assert mon['leader'] is (mon['name'] == quorum['quorum_leader_name'])
        assert mon['server'] == cluster.ceph_json('mon', 'metadata', mon['name'])['hostname']
        assert get(client, f'{base}/mon/{mon["name"]}') == mon
        status = get(client, f'{base}/mon/{mon["name"]}/status')
        assert status['monmap']['fsid'] == cluster.fsid and status['quorum'] == quorum['quorum']
    for url in ('mon/nosuchmon', 'mon/nosuchmon/status'):
        response = client.get(f'{base}/{url}')
        assert (response.status_code, response.json()) == (404, {'detail': 'Not found'})


def config_value(client, base, key):
    return get(client, f'{base}/config/{key}')['value']


def mon_says(cluster, key):
    """What the mon really runs with (`config show` is served from the daemons' own reports)."""
    return cluster.ceph('config', 'show', 'mon.a', key).stdout.strip()


def test_config_matches_the_mons(client, cluster, base):
    config = get(client, f'{base}/config')
    assert len(config) > 1000 and all(set(c) == {'key', 'value'} and isinstance(c['value'], str) for c in config)
    for key in ('osd_pool_default_size', 'osd_pool_default_min_size', MAX_PG):
        assert config_value(client, base, key) == mon_says(cluster, key)
    response = client.get(f'{base}/config/no_such_option')
    assert (response.status_code, response.json()) == (404, {'detail': 'Not found'})


def test_config_follows_the_config_db(client, cluster, base, wait):
    """`ceph config set` for the cluster or for the mons shows up (the value is cached for up to 10 s).
    A ceph.conf value beats the DB in Ceph: the dev cluster's conf sets osd_pool_default_size, so setting it
    in the DB changes nothing for the mons, and the API keeps saying what the mons use."""
    changes = [('global', 'osd_pool_default_pg_num', '16'), ('global', MAX_PG, '4096'), ('mon', MAX_PG, '2048'),
               ('global', 'osd_pool_default_size', '2'), ('mon', 'osd_pool_default_min_size', '2')]
    try:
        for who, key, value in changes:
            cluster.ceph('config', 'set', who, key, value)
        wait(lambda: config_value(client, base, MAX_PG) == '2048', 30, f'{MAX_PG} = 2048 for the mons')
        wait(lambda: config_value(client, base, 'osd_pool_default_pg_num') == '16', 30, 'a global setting')
        wait(lambda: mon_says(cluster, MAX_PG) == '2048', 30, 'the mon to report its new value')
        for key in ('osd_pool_default_pg_num', 'osd_pool_default_size', 'osd_pool_default_min_size'):
            assert config_value(client, base, key) == mon_says(cluster, key), key
        defaults = get(client, f'{base}/pool?defaults')
        assert defaults['size'] == int(mon_says(cluster, 'osd_pool_default_size'))
        assert defaults['min_size'] == int(mon_says(cluster, 'osd_pool_default_min_size'))
    finally:
        for who, key, _ in changes:
            cluster.ceph('config', 'rm', who, key)
    wait(lambda: config_value(client, base, MAX_PG) == '65536', 30, f'{MAX_PG} back to the default')


def test_sync_objects(client, cluster, base):
    assert get(client, f'{base}/sync_object') == [
        'mds_map', 'osd_map', 'mon_map', 'mon_status', 'quorum_status', 'pg_summary', 'health', 'config']
    osd_map = get(client, f'{base}/sync_object/osd_map')
    dump = cluster.ceph_json('osd', 'dump')
    assert osd_map['epoch'] >= dump['epoch'] - 1 and osd_map['fsid'] == cluster.fsid
    assert [o['osd'] for o in osd_map['osds']] == [o['osd'] for o in dump['osds']]
    assert osd_map['tree']['nodes'] and osd_map['crush']['rules']
    assert osd_map['crush_map_text'].startswith('# begin crush map')
    assert [m['osd'] for m in osd_map['osd_metadata']] == sorted(cluster.osd_ids())
    mon_map = get(client, f'{base}/sync_object/mon_map')
    assert mon_map['fsid'] == cluster.fsid and mon_map['epoch'] == cluster.ceph_json('mon', 'dump')['epoch']
    health = get(client, f'{base}/sync_object/health')
    assert health['overall_status'] == health['status'] and health['status'].startswith('HEALTH_')
    quorum = get(client, f'{base}/sync_object/quorum_status')
    assert quorum['quorum_leader_name'] == cluster.ceph_json('quorum_status')['quorum_leader_name']
    assert 'filesystems' in get(client, f'{base}/sync_object/mds_map')
    assert 'all' in get(client, f'{base}/sync_object/pg_summary')
    assert get(client, f'{base}/sync_object/mon_status')['quorum']
    assert get(client, f'{base}/sync_object/config')['osd_pool_default_size'] == mon_says(
        cluster, 'osd_pool_default_size')
    response = client.get(f'{base}/sync_object/nonsense')
    assert (response.status_code, response.json()) == (404, {'detail': 'Not found'})


def test_api_root(client, cluster):
    root = get(client, '/api/v2/')
    assert root == {'user': f'{cluster.url}/api/v2/user', 'cluster': f'{cluster.url}/api/v2/cluster'}
