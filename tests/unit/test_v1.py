"""Calamari 1.3's v1 API for its dashboard and admin apps (V1-DASHBOARD.md §5, §8): shapes, types and quirks."""
import json

import pytest

from calamari_api.views import v1


@pytest.fixture
def base(fsid):
    return f'/api/v1/cluster/{fsid}'


def changed(services):
    services.cluster.invalidate_all()


def test_cluster_list_and_detail(client, fsid, base):
    clusters = client.get('/api/v1/cluster').json()
    assert len(clusters) == 1
    cluster = clusters[0]
    assert list(cluster) == ['cluster_update_time', 'cluster_update_time_unix', 'id', 'name']
    assert (cluster['id'], cluster['name']) == (fsid, 'ceph')
    assert cluster['cluster_update_time'].endswith('+00:00')
    assert isinstance(cluster['cluster_update_time_unix'], int) and cluster['cluster_update_time_unix'] % 1000 == 0
    assert cluster['cluster_update_time_unix'] > 1e12                    # milliseconds
    assert client.get(base).json() == cluster
    response = client.get('/api/v1/cluster/00000000-0000')
    assert (response.status_code, response.content) == (404, b'')


@pytest.mark.parametrize('method,url', [('POST', '/api/v1/cluster'), ('PUT', 'FSID'), ('DELETE', 'FSID')])
def test_cluster_writes_are_405(client, fsid, method, url):
    response = client.request(method, f'/api/v1/cluster/{fsid}' if url == 'FSID' else url, {'name': 'x'})
    assert (response.status_code, response.json()) == (405, {'detail': f"Method '{method}' not allowed."})
    assert response.headers['allow'] == 'GET, HEAD, OPTIONS'


def test_health_report(client, module, services, base):
    body = client.get(f'{base}/health').json()
    assert list(body) == ['report', 'cluster_update_time', 'cluster_update_time_unix']
    assert body['report'] == {'overall_status': 'HEALTH_OK', 'summary': [], 'detail': []}
    module.maps['health'] = {'json': json.dumps({'status': 'HEALTH_ERR', 'checks': {
        'OSD_DOWN': {'severity': 'HEALTH_WARN', 'summary': {'message': '1 osds down', 'count': 1},
                     'detail': [{'message': 'osd.2 is down'}]},
        'MGR_MODULE_ERROR': {'severity': 'HEALTH_ERR', 'summary': {'message': 'Module failed', 'count': 1}},
        'POOL_NO_REDUNDANCY': {'severity': 'HEALTH_WARN', 'summary': {'message': 'no replicas', 'count': 1},
                               'muted': True}}, 'mutes': []})}
    changed(services)
    report = client.get(f'{base}/health').json()['report']
    assert report == {'overall_status': 'HEALTH_ERR', 'detail': ['osd.2 is down'], 'summary': [
        {'severity': 'HEALTH_WARN', 'summary': '1 osds down'}, {'severity': 'HEALTH_ERR', 'summary': 'Module failed'}]}
    module.maps['health'] = {'json': ''}
    changed(services)
    assert client.get(f'{base}/health').json()['report'] is None


def test_health_counters(client, module, services, base):
    body = client.get(f'{base}/health_counters').json()
    assert list(body) == ['pg', 'mds', 'mon', 'osd', 'cluster_update_time', 'cluster_update_time_unix']
    assert body['osd'] == {'ok': {'count': 3, 'states': {'up/in': 3}}, 'warn': {'count': 0, 'states': {}},
                           'critical': {'count': 0, 'states': {}}}
    assert body['mon'] == {'ok': {'count': 1, 'states': {'in': 1}}, 'warn': {'count': 0, 'states': {}},
                           'critical': {'count': 0, 'states': {}}}
    assert body['mds'] == {'total': 0, 'up_in': 0, 'up_not_in': 0, 'not_up_not_in': 0}
    assert body['pg'] == {'ok': {'count': 9, 'states': {'active': 9, 'clean': 9}}, 'warn': {'count': 0, 'states': {}},
                          'critical': {'count': 0, 'states': {}}}
    osds = module.maps['osd_map']['osds']
    osds[0]['up'], osds[1]['in'], osds[2]['up'], osds[2]['in'] = 0, 0, 0, 0
    changed(services)
    assert client.get(f'{base}/health_counters').json()['osd'] == {
        'ok': {'count': 0, 'states': {}}, 'warn': {'count': 2, 'states': {'up/out': 1, 'down/in': 1}},
        'critical': {'count': 1, 'states': {'down/out': 1}}}


def test_pg_classification():
    counters = v1.pg_counters({'active+clean': 10, 'active+clean+scrubbing+deep': 2, 'peering': 1,
                               'active+undersized+degraded': 3, 'undersized+peered': 4,
                               'active+remapped+backfill_wait': 5})
    assert counters['ok'] == {'count': 10, 'states': {'active': 10, 'clean': 10}}
    assert counters['warn'] == {'count': 10, 'states': {'scrubbing': 2, 'degraded': 3, 'remapped': 5}}
    # no known token at all: critical, with every token
    assert counters['critical'] == {'count': 5, 'states': {'peering': 1, 'undersized': 4, 'peered': 4}}
    assert sum(c['count'] for c in counters.values()) == 10 + 2 + 1 + 3 + 4 + 5


def test_mon_and_mds_counters():
    mon_status = {'quorum': [0, 2], 'monmap': {'mons': [{'rank': 0}, {'rank': 1}, {'rank': 2}]}}
    assert v1.mon_counters(mon_status) == {'ok': {'count': 2, 'states': {'in': 2}}, 'warn': {'count': 0, 'states': {}},
                                           'critical': {'count': 1, 'states': {'out': 1}}}
    fs_map = {'filesystems': [{'mdsmap': {'info': {'gid_1': {}, 'gid_2': {}}, 'up': {'mds_0': 1}, 'in': [0]}}],
              'standbys': [{'name': 'c'}]}
    assert v1.mds_counters(fs_map) == {'total': 3, 'up_in': 1, 'up_not_in': 0, 'not_up_not_in': 2}


def test_space(client, module, services, base):
    stats = module.maps['df']['stats']
    assert client.get(f'{base}/space').json() == {'space': {
        'used_bytes': stats['total_used_bytes'], 'capacity_bytes': stats['total_bytes'],
        'free_bytes': stats['total_avail_bytes']}}
    # Calamari: an unknown fsid is not an error here
    response = client.get('/api/v1/cluster/00000000-0000/space')
    assert (response.status_code, response.json()) == (
        200, {'space': {'used_bytes': None, 'capacity_bytes': None, 'free_bytes': None}})


def test_osd_list(client, module, services, base):
    body = client.get(f'{base}/osd').json()
    assert list(body) == ['osds', 'pg_state_counts']
    by_osd = module.maps['pg_summary']['by_osd']
    raws = {o['osd']: o for o in module.maps['osd_map']['osds']}
    assert [o['osd'] for o in body['osds']] == sorted(raws)
    for osd in body['osds']:
        raw = raws[osd['osd']]
        assert osd['id'] == osd['osd'] and isinstance(osd['osd'], int)
        assert osd['up'] == raw['up'] and osd['in'] == raw['in'] and type(osd['up']) is int and type(osd['in']) is int
        for field in ('uuid', 'up_from', 'public_addr', 'cluster_addr', 'heartbeat_back_addr', 'heartbeat_front_addr'):
            assert osd[field] == raw[field]
        assert osd['pg_states'] == {'active': by_osd[str(osd['osd'])]['active+clean'],
                                    'clean': by_osd[str(osd['osd'])]['active+clean']}
        assert osd['pools'] == ['device_health_metrics', 'rbd']
        assert (osd['fqdn'], osd['host']) == ('vm', 'vm')
    assert body['pg_state_counts'] == {'active': 3, 'clean': 3}        # OSDs, not PGs
    assert client.get(f'{base}/osd/1').json() == {'osd': raws[1]}
    response = client.get(f'{base}/osd/99')
    assert (response.status_code, response.json()) == (404, 'Object of type osd with id 99 not found')


def test_osd_list_without_pg_states_is_202(client, module, services, base):
    module.maps['pg_summary'] = dict(module.maps['pg_summary'], by_osd={})
    changed(services)
    response = client.get(f'{base}/osd')
    assert (response.status_code, response.json()) == (202, [])
    module.maps['pg_summary'] = dict(module.maps['pg_summary'], by_osd={'0': {'active+clean+degraded': 2}})
    changed(services)
    body = client.get(f'{base}/osd').json()
    assert body['osds'][0]['pg_states'] == {'active': 2, 'clean': 2, 'degraded': 2}
    assert body['osds'][1]['pg_states'] == {}
    assert body['pg_state_counts'] == {'active': 1, 'clean': 1, 'degraded': 1}


def test_pool_list(client, module, fsid, base):
    pools = client.get(f'{base}/pool').json()
    sums = {e['poolid']: e['stat_sum'] for e in module.maps['pool_stats']['pool_stats']}
    raws = sorted(module.maps['osd_map']['pools'], key=lambda p: p['pool'])
    assert [p['id'] for p in pools] == [p['pool'] for p in raws]
    for pool, raw in zip(pools, raws):
        assert pool == {'pool_id': raw['pool'], 'name': raw['pool_name'], 'quota_max_bytes': raw['quota_max_bytes'],
                        'quota_max_objects': raw['quota_max_objects'],
                        'used_objects': sums[raw['pool']]['num_objects'], 'used_bytes': sums[raw['pool']]['num_bytes'],
                        'id': raw['pool'], 'cluster': fsid}
        assert client.get(f"{base}/pool/{pool['id']}").json() == pool
    assert client.get(f'{base}/pool/999').status_code == 404


def test_server_list(client, base):
    servers = client.get(f'{base}/server').json()
    assert servers == [{'addr': 'vm', 'hostname': 'vm', 'name': 'vm', 'services': [
        {'type': 'mon', 'service_id': 'a', 'name': 'mon.a'}, {'type': 'osd', 'service_id': '0', 'name': 'osd.0'},
        {'type': 'osd', 'service_id': '1', 'name': 'osd.1'}, {'type': 'osd', 'service_id': '2', 'name': 'osd.2'},
        {'type': 'mgr', 'service_id': 'x', 'name': 'mgr.x'}]}]
    response = client.get('/api/v1/cluster/00000000-0000/server')
    assert (response.status_code, response.json()) == (200, [])


def test_unknown_fsid_is_a_404_string(client):
    for resource in ('health', 'health_counters', 'osd', 'pool'):
        response = client.get(f'/api/v1/cluster/00000000-0000/{resource}')
        assert (response.status_code, response.json()) == (
            404, 'Object of type cluster with id 00000000-0000 not found')


def test_auth_and_roles(anon, make_client, base):
    urls = ['/api/v1/cluster', base, f'{base}/health', f'{base}/health_counters', f'{base}/space', f'{base}/osd',
            f'{base}/pool', f'{base}/server']
    for url in urls:
        response = anon.get(url)
        assert (response.status_code, response.json()) == (
            403, {'detail': 'Authentication credentials were not provided.'}), url
    reader, nobody = make_client('readonly', 'reader'), make_client('none', 'nobody')
    for url in urls:
        assert reader.get(url).status_code == 200
        assert nobody.get(url).status_code == 403


def test_admin_app_user_me(client):
    me = client.get('/api/v1/user/me').json()
    response = client.put('/api/v1/user/me', {'username': me['username'], 'password': 'pw-admin',
                                              'email': 'new@example.com'})
    assert response.status_code == 200 and response.json()['email'] == 'new@example.com'


def test_responses_are_cached_until_maps_change(client, module, services, base):
    first = client.get(f'{base}/osd')
    again = client.get(f'{base}/osd', headers={'If-None-Match': first.headers['etag']})
    assert again.status_code == 304
    module.maps['osd_map']['osds'][0]['in'] = 0
    services.cluster.invalidate('osd_map')
    assert client.get(f'{base}/osd').json()['osds'][0]['in'] == 0
