"""OSD, pool, osd_config and CRUSH reads on a real cluster, checked against the ceph CLI, including after
changes made with the CLI (every change is undone)."""
import json
import os
import re
import subprocess
import tempfile

from tests.integration import reads

base = reads.base      # fixture
get = reads.get

POOL = 'reads-it-pool'


def test_osds_match_osd_dump(client, cluster, base):
    dump = cluster.ceph_json('osd', 'dump')
    tree = {n['id']: n for n in cluster.ceph_json('osd', 'tree')['nodes']}
    metadata = {m['id']: m for m in cluster.ceph_json('osd', 'metadata')}
    osds = get(client, f'{base}/osd')
    assert [o['id'] for o in osds] == sorted(o['osd'] for o in dump['osds'])
    by_id = {o['osd']: o for o in dump['osds']}
    pool_ids = sorted(p['pool'] for p in dump['pools'])     # the one rule takes every OSD
    for osd in osds:
        raw = by_id[osd['id']]
        assert (osd['uuid'], osd['up'], osd['in']) == (raw['uuid'], bool(raw['up']), bool(raw['in']))
        assert (osd['public_addr'], osd['cluster_addr']) == (raw['public_addr'], raw['cluster_addr'])
        assert osd['reweight'] == tree[osd['id']]['reweight']
        assert osd['server'] == metadata[osd['id']]['hostname']
        assert osd['osd_data'] == metadata[osd['id']]['osd_data']
        assert osd['pools'] == pool_ids
        assert osd['valid_commands'] == (['scrub', 'deep_scrub', 'repair'] if raw['up'] else [])
        assert osd['crush_node_ancestry'] and all(path[-1] == -1 for path in osd['crush_node_ancestry'])
        assert get(client, f'{base}/osd/{osd["id"]}') == osd


def test_osd_filters_and_errors(client, cluster, base):
    ids = cluster.osd_ids()
    wanted = [ids[-1], ids[0]]
    got = get(client, f'{base}/osd?id__in[]={wanted[0]}&id__in[]={wanted[1]}')
    assert [o['id'] for o in got] == sorted(wanted)
    pool_id = cluster.ceph_json('osd', 'dump')['pools'][0]['pool']
    assert [o['id'] for o in get(client, f'{base}/osd?pool={pool_id}&id__in[]={ids[0]}')] == [ids[0]]
    for query, status, body in [('pool=abc', 400, 'Pool ID must be an integer'),
                                ('id__in[]=x', 400, 'Invalid OSD ID in list'),
                                ('pool=9999', 404, 'Object of type pool with id 9999 not found')]:
        response = client.get(f'{base}/osd?{query}')
        assert (response.status_code, response.json()) == (status, body)
    response = client.get(f'{base}/osd/9999')
    assert (response.status_code, response.json()) == (
        404, "Object of type osd_map with id ['osds_by_id', 9999] not found")
    assert get(client, f'{base}/osd/command') == ['scrub', 'deep_scrub', 'repair']
    assert get(client, f'{base}/osd/{ids[0]}/command') == {
        str(ids[0]): {'valid_commands': ['scrub', 'deep_scrub', 'repair']}}
    assert get(client, f'{base}/osd/{ids[0]}/command/repair') == {'valid': True}
    assert client.get(f'{base}/osd/9999/command/scrub').status_code == 404


def test_pools_match_osd_dump(client, cluster, base):
    dump = cluster.ceph_json('osd', 'dump')
    pools = get(client, f'{base}/pool')
    assert [p['id'] for p in pools] == sorted(p['pool'] for p in dump['pools'])
    for pool, raw in zip(pools, sorted(dump['pools'], key=lambda p: p['pool'])):
        assert pool == {
            'name': raw['pool_name'], 'id': raw['pool'], 'size': raw['size'], 'pg_num': raw['pg_num'],
            'crush_ruleset': raw['crush_rule'], 'min_size': raw['min_size'], 'crash_replay_interval': 0,
            'pgp_num': raw['pg_placement_num'], 'hashpspool': 'hashpspool' in raw['flags_names'].split(','),
            'full': bool(raw['flags'] & 2), 'quota_max_objects': raw['quota_max_objects'],
            'quota_max_bytes': raw['quota_max_bytes'], 'type': 'replicated', 'erasure_code_profile': ''}
        assert get(client, f'{base}/pool/{pool["id"]}') == pool
    response = client.get(f'{base}/pool/9999')
    assert (response.status_code, response.json()) == (404, 'Object of type pool with id 9999 not found')


def test_crush_rules_match_rule_dump(client, cluster, base):
    rules = cluster.ceph_json('osd', 'crush', 'rule', 'dump')
    api_rules = get(client, f'{base}/crush_rule')
    # Tentacle's rules have neither ruleset (it is the id) nor sizes (the API shows the pre-Reef defaults 1 and 10)
    assert [(r['id'], r['name'], r['ruleset'], r['min_size'], r['max_size']) for r in api_rules] == [
        (r['rule_id'], r['rule_name'], r.get('ruleset', r['rule_id']), r.get('min_size', 1), r.get('max_size', 10))
        for r in rules]
    for api_rule, rule in zip(api_rules, rules):
        assert api_rule['type'] == {1: 'replicated', 3: 'erasure'}[rule['type']]
        assert [{k: v for k, v in s.items() if v is not None} for s in api_rule['steps']] == rule['steps']
        assert api_rule['osd_count'] == len(cluster.osd_ids())
    sets = get(client, f'{base}/crush_rule_set')
    assert sets == [{'id': r.get('ruleset', r['rule_id']), 'rules': [a]} for r, a in zip(rules, api_rules)]


def test_crush_nodes_types_and_text(client, cluster, base):
    crush = cluster.ceph_json('osd', 'crush', 'dump')
    buckets = [b for b in crush['buckets'] if '~' not in b['name']]
    nodes = get(client, f'{base}/crush_node')
    assert sorted(n['id'] for n in nodes) == sorted(b['id'] for b in buckets)
    for node in nodes:
        bucket = next(b for b in buckets if b['id'] == node['id'])
        assert node['name'] == bucket['name'] and node['bucket_type'] == bucket['type_name']
        assert node['weight'] == bucket['weight'] / 65536.0
        assert [i['id'] for i in node['items']] == [i['id'] for i in bucket['items']]
        assert get(client, f'{base}/crush_node/{node["id"]}') == node
    assert get(client, f'{base}/crush_type') == [{'id': t['type_id'], 'name': t['name']} for t in crush['types']]
    assert get(client, f'{base}/crush_type/1') == {'id': 1, 'name': 'host'}
    assert client.get(f'{base}/crush_type/999').status_code == 404
    # the text map: `ceph osd getcrushmap | crushtool -d` with exact item weights, so it compiles back to the same map
    served = get(client, f'{base}/crush_map')
    with tempfile.TemporaryDirectory(dir=cluster.dir) as tmp:      # (seen by the cluster's own tools too)
        binary, source, compiled = (os.path.join(tmp, name) for name in ('map', 'map.txt', 'map2'))
        cluster.ceph('osd', 'getcrushmap', '-o', binary)
        text = subprocess.run(cluster.tool('crushtool', '-d', binary), capture_output=True, text=True,
                              check=True).stdout
        with open(source, 'w') as f:
            f.write(served)
        subprocess.run(cluster.tool('crushtool', '-c', source, '-o', compiled), capture_output=True, check=True)
        with open(binary, 'rb') as a, open(compiled, 'rb') as b:
            assert a.read() == b.read()
    assert re.sub(r'weight [0-9.]+', 'weight W', served) == re.sub(r'weight [0-9.]+', 'weight W', text)


def test_osd_config_matches_flags(client, cluster, base, wait):
    flags = get(client, f'{base}/osd_config')
    assert sorted(flags) == sorted(['pause', 'noup', 'nodown', 'noout', 'noin', 'nobackfill', 'norecover',
                                    'noscrub', 'nodeep-scrub'])
    assert not any(flags.values())
    cluster.ceph('osd', 'set', 'noout')
    cluster.ceph('osd', 'set', 'pause')
    try:
        wait(lambda: get(client, f'{base}/osd_config')['pause'], 30, 'pause in osd_config')
        flags = get(client, f'{base}/osd_config')
        assert [k for k, v in flags.items() if v] == ['pause', 'noout']
    finally:
        cluster.ceph('osd', 'unset', 'pause')
        cluster.ceph('osd', 'unset', 'noout')
    wait(lambda: not any(get(client, f'{base}/osd_config').values()), 30, 'flags cleared')


def test_osd_out_and_in(client, cluster, base, wait):
    osd_id = cluster.osd_ids()[-1]
    cluster.ceph('osd', 'out', str(osd_id))
    try:
        osd = wait(lambda: (lambda o: o if not o['in'] else None)(get(client, f'{base}/osd/{osd_id}')), 30,
                   f'osd.{osd_id} out')
        assert osd['reweight'] == 0.0
        assert osd['reweight'] == next(n for n in cluster.ceph_json('osd', 'tree')['nodes']
                                       if n['id'] == osd_id)['reweight']
    finally:
        cluster.ceph('osd', 'in', str(osd_id))
    osd = wait(lambda: (lambda o: o if o['in'] else None)(get(client, f'{base}/osd/{osd_id}')), 30,
               f'osd.{osd_id} in')
    assert osd['reweight'] == 1.0


def test_new_pool_and_rule_show_up(client, cluster, base, wait):
    """A pool and a device-class rule created with the CLI appear with the right values, OSD pools follow."""
    cluster.ceph('osd', 'crush', 'rule', 'create-replicated', 'reads-it-hdd', 'default', 'osd', 'hdd')
    cluster.ceph('osd', 'pool', 'create', POOL, '4', '4', 'replicated', 'reads-it-hdd')
    try:
        pool = wait(lambda: next((p for p in get(client, f'{base}/pool') if p['name'] == POOL), None), 30,
                    'the new pool')
        raw = next(p for p in cluster.ceph_json('osd', 'dump')['pools'] if p['pool_name'] == POOL)
        rule = next(r for r in cluster.ceph_json('osd', 'crush', 'rule', 'dump') if r['rule_name'] == 'reads-it-hdd')
        assert (pool['id'], pool['pg_num'], pool['crush_ruleset'], pool['size']) == (
            raw['pool'], raw['pg_num'], rule['rule_id'], raw['size'])
        # the pool defaults announce the size a new pool really gets
        assert get(client, f'{base}/pool?defaults')['size'] == raw['size']
        api_rule = get(client, f'{base}/crush_rule/{rule["rule_id"]}')
        assert api_rule['steps'][0]['item_name'] == 'default~hdd' and api_rule['osd_count'] == len(cluster.osd_ids())
        assert all(pool['id'] in osd['pools'] for osd in get(client, f'{base}/osd'))
        assert [o['id'] for o in get(client, f'{base}/osd?pool={pool["id"]}')] == sorted(cluster.osd_ids())
    finally:
        cluster.ceph('osd', 'pool', 'delete', POOL, POOL, '--yes-i-really-really-mean-it')
        cluster.ceph('osd', 'crush', 'rule', 'rm', 'reads-it-hdd')
    wait(lambda: all(p['name'] != POOL for p in get(client, f'{base}/pool')), 30, 'the pool to go')
    assert all(r['name'] != 'reads-it-hdd' for r in get(client, f'{base}/crush_rule'))


def test_stats_match_rados_df(client, cluster, base, wait):
    """pool/stats, pool/<id>/stats and stats give the numbers `rados df` gives for the same cluster."""
    name = 'reads-it-stats'
    cluster.ceph('osd', 'pool', 'create', name, '4', '4')
    try:
        paths = []
        for index, size in enumerate((1000, 70000)):        # (in the cluster's directory: seen by its tools too)
            paths.append(os.path.join(cluster.dir, f'obj{index}'))
            with open(paths[-1], 'wb') as f:
                f.write(os.urandom(size))
            subprocess.run(cluster.tool('rados', '-c', cluster.conf, '-k', cluster.keyring, '-p', name, 'put',
                                        f'obj{index}', paths[-1]), check=True, timeout=60)
        pool_id = next(p['id'] for p in get(client, f'{base}/pool') if p['name'] == name)
        # PG statistics reach the mgr every few seconds: wait until both writes are counted
        stats = wait(lambda: (lambda s: s if s['num_objects'] == 2 and s['num_wr'] >= 2 else None)(
            get(client, f'{base}/pool/{pool_id}/stats')), 60, 'the pool statistics')
        size = sum(os.path.getsize(p) for p in paths)
        assert stats['name'] == name and stats['num_bytes'] == size and stats['num_kb'] == (size + 1023) // 1024

        def rados_df():
            run = subprocess.run(cluster.tool('rados', '-c', cluster.conf, '-k', cluster.keyring, 'df', '-f', 'json'),
                                 check=True, capture_output=True, text=True, timeout=60)
            return json.loads(run.stdout)

        # `rados df` asks the mons, whose copy of the PG statistics is the digest the mgr sends them every
        # mon_mgr_digest_period (5 s): it can lag the mgr's own numbers, so wait until it counts both writes too
        df = wait(lambda: (lambda d: d if next(p for p in d['pools'] if p['name'] == name)['num_objects'] == 2
                           else None)(rados_df()), 60, 'rados df to count the writes')
        row = next(p for p in df['pools'] if p['name'] == name)
        assert (stats['num_objects'], stats['num_bytes'], stats['num_kb'], stats['num_object_copies']) == (
            row['num_objects'], row['size_bytes'], row['size_kb'], row['num_object_copies'])
        listed = get(client, f'{base}/pool/stats')
        assert [s['name'] for s in listed] == [p['name'] for p in get(client, f'{base}/pool')]
        assert next(s for s in listed if s['name'] == name) == stats
        totals = get(client, f'{base}/stats')
        assert totals['kb'] == df['total_space'] and totals['num_objects'] >= 2
        assert 0 < totals['kb_used'] < totals['kb'] and totals['kb_avail'] <= totals['kb']
    finally:
        cluster.ceph('osd', 'pool', 'delete', name, name, '--yes-i-really-really-mean-it')
    wait(lambda: all(s['name'] != name for s in get(client, f'{base}/pool/stats')), 30, 'the pool to go')
