"""Pool and cluster statistics (Calamari master's stats endpoints), from the captured PG map."""
from calamari_api.views.stats import POOL_STAT_FIELDS, cluster_stats, pool_stat_object, pool_stat_objects


def entry(**stat_sum):
    return {'poolid': 7, 'stat_sum': stat_sum, 'store_stats': {'allocated': 65536}}


def test_pool_stat_object_follows_librados():
    stats = pool_stat_object('rbd', entry(num_bytes=1025, num_objects=3, num_object_copies=6, num_read=2,
                                          num_read_kb=8, num_write=5, num_write_kb=12, num_objects_degraded=1,
                                          num_objects_misplaced=2, num_bytes_hit_set_archive=1), per_pool=False)
    assert list(stats) == ['name', *POOL_STAT_FIELDS]
    assert stats['name'] == 'rbd'
    assert (stats['num_bytes'], stats['num_kb']) == (1026, 2)        # KiB rounded up, as librados
    assert (stats['num_rd'], stats['num_rd_kb'], stats['num_wr'], stats['num_wr_kb']) == (2, 8, 5, 12)
    assert stats['num_objects_degraded'] == 3                       # degraded + misplaced, as librados
    # with per-pool accounting (BlueStore everywhere), librados reports the allocated bytes
    assert pool_stat_object('rbd', entry(num_bytes=1025), per_pool=True)['num_bytes'] == 65536


def test_pools_come_from_the_osd_map_and_default_to_zero():
    pools = [{'pool': 9, 'pool_name': 'new'}, {'pool': 7, 'pool_name': 'old'}]
    stats = pool_stat_objects(pools, {'pool_stats': [entry(num_objects=4), {'poolid': 99, 'stat_sum': {}}]},
                              {'stats': {'num_osds': 3, 'num_per_pool_osds': 0}})
    assert [s['name'] for s in stats] == ['old', 'new']             # by id; deleted pool 99 not listed
    assert stats[0]['num_objects'] == 4 and all(stats[1][f] == 0 for f in POOL_STAT_FIELDS)


def test_cluster_stats_in_kib():
    df = {'stats': {'total_bytes': 10 * 1024 + 1023, 'total_avail_bytes': 4096, 'total_used_raw_bytes': 2047}}
    assert cluster_stats(df, {'pool_stats': [entry(num_objects=4), entry(num_objects=1)]}) == {
        'kb': 10, 'num_objects': 5, 'kb_avail': 4, 'kb_used': 1}


def test_stats_endpoints(client, fsid, module):
    base = f'/api/v2/cluster/{fsid}'
    pools = client.get(f'{base}/pool/stats').json()
    osd_map_pools = module.maps['osd_map']['pools']
    assert [p['name'] for p in pools] == [p['pool_name'] for p in sorted(osd_map_pools, key=lambda p: p['pool'])]
    first = osd_map_pools[0]['pool']
    assert client.get(f'{base}/pool/{first}/stats').json() == pools[0]
    response = client.get(f'{base}/pool/12345/stats')
    assert (response.status_code, response.json()) == (404, 'Object of type pool with id 12345 not found')
    totals = client.get(f'{base}/stats').json()
    assert totals['kb'] == module.maps['df']['stats']['total_bytes'] >> 10
    assert totals['num_objects'] == sum(p['num_objects'] for p in pools)
    for url in ('pool/stats', 'stats'):
        assert client.post(f'{base}/{url}', {}).status_code == 405


def test_stats_without_a_pg_map_are_503(client, fsid, module, services):
    module.maps['df'] = None
    services.cluster.invalidate_all()
    for url in ('pool/stats', 'stats'):
        response = client.get(f'/api/v2/cluster/{fsid}/{url}')
        assert response.status_code == 503 and 'not available' in response.json()['detail']


def test_stats_need_a_session(anon, fsid):
    assert anon.get(f'/api/v2/cluster/{fsid}/stats').status_code == 403
