"""Cluster read resources over HTTP, against the captured fixture (fake ceph_module)."""
import json
import shutil
import subprocess

import pytest

from calamari_api import derived

OSD_FIELDS = ['uuid', 'up', 'in', 'id', 'reweight', 'server', 'pools', 'valid_commands', 'public_addr',
              'cluster_addr', 'crush_node_ancestry', 'backend_partition_path', 'backend_device_node',
              'osd_data', 'osd_journal']
POOL_FIELDS = ['name', 'id', 'size', 'pg_num', 'crush_ruleset', 'min_size', 'crash_replay_interval', 'pgp_num',
               'hashpspool', 'full', 'quota_max_objects', 'quota_max_bytes', 'type', 'erasure_code_profile']
RULE_FIELDS = ['id', 'name', 'ruleset', 'type', 'min_size', 'max_size', 'steps', 'osd_count']


@pytest.fixture
def mon_commands(module):
    """Answers for the read-only mon commands the API sends (config dump, quorum_status)."""
    answers = {
        'config dump': (0, json.dumps([]), ''),
        'quorum_status': (0, json.dumps({'quorum_leader_name': 'a', 'quorum': [0]}), ''),
    }

    def handle(cmd):
        return answers.get(cmd['prefix'], (-22, '', 'command not known'))
    module.command_handler = handle
    return answers


@pytest.fixture
def base(fsid, mon_commands):
    return f'/api/v2/cluster/{fsid}'


def changed(services):
    """Tell the API the maps changed (what notify() does in the mgr)."""
    services.cluster.invalidate_all()


def test_osd_list_shape_and_values(client, base, module):
    response = client.get(f'{base}/osd')
    assert response.status_code == 200
    osds = response.json()
    assert [o['id'] for o in osds] == [0, 1, 2]
    assert list(osds[0]) == OSD_FIELDS
    osd0 = osds[0]
    raw = module.maps['osd_map']['osds'][0]
    assert osd0['uuid'] == raw['uuid'] and osd0['up'] is True and osd0['in'] is True
    assert osd0['reweight'] == 1.0 and osd0['server'] == 'vm'
    assert osd0['pools'] == [1, 2]
    assert osd0['valid_commands'] == ['scrub', 'deep_scrub', 'repair']
    assert osd0['public_addr'] == raw['public_addr'] and osd0['cluster_addr'] == raw['cluster_addr']
    assert osd0['crush_node_ancestry'] == [[-3, -1]]
    assert osd0['osd_data'] == module.maps['osd_metadata']['0']['osd_data']
    assert osd0['backend_partition_path'] is None and osd0['osd_journal'] is None
    assert client.get(f'{base}/osd/1').json() == osds[1]


def test_osd_filters(client, base):
    def ids(query):
        response = client.get(f'{base}/osd?{query}')
        assert response.status_code == 200, response.content
        return [o['id'] for o in response.json()]
    assert ids('id__in[]=2&id__in[]=0') == [0, 2]          # sorted by id whatever the order asked
    assert ids('pool=2') == [0, 1, 2]
    assert ids('pool=2&id__in[]=1') == [1]
    assert ids('pool=') == [0, 1, 2]
    assert ids('id__in[]=99') == []


@pytest.mark.parametrize('query, status, body', [
    ('pool=abc', 400, 'Pool ID must be an integer'),
    ('pool=1.5', 400, 'Pool ID must be an integer'),
    ('id__in[]=x', 400, 'Invalid OSD ID in list'),
    ('id__in[]=1&id__in[]=', 400, 'Invalid OSD ID in list'),
    ('pool=12345', 404, 'Object of type pool with id 12345 not found'),
])
def test_osd_filter_errors(client, base, query, status, body):
    response = client.get(f'{base}/osd?{query}')
    assert (response.status_code, response.json()) == (status, body)


def test_osd_unknown_and_commands(client, base, module, services):
    response = client.get(f'{base}/osd/12345')
    assert response.status_code == 404
    assert response.json() == "Object of type osd_map with id ['osds_by_id', 12345] not found"
    assert client.get(f'{base}/osd/command').json() == ['scrub', 'deep_scrub', 'repair']
    assert client.get(f'{base}/osd /command').json() == ['scrub', 'deep_scrub', 'repair']
    assert client.get(f'{base}/osd/0/command').json() == {'0': {'valid_commands': ['scrub', 'deep_scrub',
                                                                                   'repair']}}
    assert client.get(f'{base}/osd/0/command/deep_scrub').json() == {'valid': True}
    assert client.get(f'{base}/osd/0/command/frobnicate').json() == {'valid': False}
    assert client.get(f'{base}/osd/99/command').status_code == 404
    assert client.get(f'{base}/osd/99/command/scrub').json() == 'Object of type osd with id 99 not found'
    module.maps['osd_map']['osds'][2]['up'] = 0
    changed(services)
    assert client.get(f'{base}/osd/2/command/scrub').json() == {'valid': False}
    assert client.get(f'{base}/osd/2').json()['valid_commands'] == []


def test_osd_config(client, base, module, services):
    flags = client.get(f'{base}/osd_config').json()
    assert set(flags) == {'pause', 'noup', 'nodown', 'noout', 'noin', 'nobackfill', 'norecover', 'noscrub',
                          'nodeep-scrub'}
    assert not any(flags.values())
    module.maps['osd_map']['flags_set'] += ['noout', 'pauserd', 'pausewr', 'nodeep-scrub']
    changed(services)
    flags = client.get(f'{base}/osd_config').json()
    assert [k for k, v in flags.items() if v] == ['pause', 'noout', 'nodeep-scrub']


def test_pools(client, base, module, services):
    pools = client.get(f'{base}/pool').json()
    assert [p['id'] for p in pools] == [1, 2]
    rbd = pools[1]
    assert list(rbd) == POOL_FIELDS
    assert rbd == {'name': 'rbd', 'id': 2, 'size': 1, 'pg_num': 8, 'crush_ruleset': 0, 'min_size': 1,
                   'crash_replay_interval': 0, 'pgp_num': 8, 'hashpspool': True, 'full': False,
                   'quota_max_objects': 0, 'quota_max_bytes': 0, 'type': 'replicated', 'erasure_code_profile': ''}
    assert client.get(f'{base}/pool/2').json() == rbd
    response = client.get(f'{base}/pool/12345')
    assert (response.status_code, response.json()) == (404, 'Object of type pool with id 12345 not found')
    raw = module.maps['osd_map']['pools'][1]
    raw['application_metadata']['calamari'] = {'crash_replay_interval': '45'}
    raw['flags'] = 3
    changed(services)
    rbd = client.get(f'{base}/pool/2').json()
    assert rbd['crash_replay_interval'] == 45 and rbd['full'] is True


def test_pool_defaults(client, base, module, services, mon_commands):
    for query in ('defaults', 'defaults=', 'defaults=anything'):
        response = client.get(f'{base}/pool?{query}')
        assert response.status_code == 200
        assert response.json() == {
            'name': None, 'id': None, 'size': 1, 'pg_num': None, 'crush_ruleset': 0, 'min_size': 1,
            'crash_replay_interval': 0, 'pgp_num': None, 'hashpspool': True, 'full': None,
            'quota_max_objects': 0, 'quota_max_bytes': 0, 'type': None, 'erasure_code_profile': None}
    # options the mon config DB sets: the value the DB gives the mons wins over the mgr's own...
    mon_db = {'osd_pool_default_size': '3', 'mon_max_pool_pg_num': '1024', 'osd_pool_default_min_size': '2'}
    mon_commands['config dump'] = (0, json.dumps([
        {'section': 'mon', 'name': name, 'value': value, 'mask': ''} for name, value in mon_db.items()]), '')
    module.maps['config']['osd_pool_default_min_size'] = '7'    # ...unless the mgr's ceph.conf sets it

    def foreign(entity, key):
        if entity.startswith('mon.') and key in mon_db:
            return mon_db[key]
        return {'osd_pool_default_min_size': '1'}.get(key, module.maps['config'].get(key))
    module._ceph_get_foreign_option = foreign
    changed(services)
    defaults = client.get(f'{base}/pool?defaults').json()
    assert defaults['size'] == 3 and defaults['min_size'] == 7
    pg_max = client.get(f'{base}/config/mon_max_pool_pg_num').json()
    assert pg_max == {'key': 'mon_max_pool_pg_num', 'value': '1024'}
    module.maps['osd_map_crush']['rules'] = []
    changed(services)
    response = client.get(f'{base}/pool?defaults')
    assert (response.status_code, response.json()) == (503, 'No CRUSH rules exist, pool creation is impossible')
    module.maps['config'] = None
    changed(services)
    response = client.get(f'{base}/pool?defaults')
    assert (response.status_code, response.json()) == (503, 'Cluster configuration unavailable')


def test_crush_rules_and_sets(client, base):
    rules = client.get(f'{base}/crush_rule').json()
    assert [list(r) for r in rules] == [RULE_FIELDS]
    assert rules[0]['type'] == 'replicated' and rules[0]['osd_count'] == 3 and rules[0]['name'] == 'replicated_rule'
    assert rules[0]['steps'][0] == {'op': 'take', 'type': None, 'num': None, 'item_name': 'default', 'item': -1}
    assert client.get(f'{base}/crush_rule_set').json() == [{'id': 0, 'rules': rules}]
    assert client.get(f'{base}/crush_rule/0').json() == rules[0]
    response = client.get(f'{base}/crush_rule/7')
    assert (response.status_code, response.json()) == (404, 'Object of type crush_rule with id 7 not found')


def test_crush_nodes_and_types(client, base):
    nodes = client.get(f'{base}/crush_node').json()
    assert [n['name'] for n in nodes] == ['default', 'vm']         # no device-class shadow buckets
    assert list(nodes[0]) == ['bucket_type', 'name', 'id', 'weight', 'alg', 'hash', 'items']
    assert nodes[1]['items'][0] == {'id': 0, 'weight': 13 / 65536, 'pos': 0}
    assert client.get(f'{base}/crush_node/-3').json() == nodes[1]
    assert client.get(f'{base}/crush_node/-99').json() == 'Object of type crush_node with id -99 not found'
    types = client.get(f'{base}/crush_type').json()
    assert types[:2] == [{'id': 0, 'name': 'osd'}, {'id': 1, 'name': 'host'}]
    assert client.get(f'{base}/crush_type/1').json() == {'id': 1, 'name': 'host'}
    assert client.get(f'{base}/crush_type/12345').status_code == 404


CRUSH_TEXT = """
device 0 osd.0
type 0 osd
type 1 root
root default {
    id -1
    alg straw2
    hash 0
    item osd.0 weight 1.000
}
rule replicated_rule {
    id 0
    type replicated
    min_size 1
    max_size 10
    step take default
    step choose firstn 0 type osd
    step emit
}
"""


@pytest.mark.skipif(not shutil.which('crushtool'), reason='crushtool is not installed')
def test_crush_map_text(client, base, monkeypatch, tmp_path):
    src, binary = tmp_path / 'map.txt', tmp_path / 'map.bin'
    src.write_text(CRUSH_TEXT)
    subprocess.run(['crushtool', '-c', str(src), '-o', str(binary)], check=True)
    calls = []
    monkeypatch.setattr(derived, 'fetch_crush_binary', lambda mgr: calls.append(1) or binary.read_bytes())
    text = client.get(f'{base}/crush_map').json()
    assert '# begin crush map' in text and 'rule replicated_rule' in text
    assert client.get(f'{base}/crush_map').json() == text
    assert len(calls) == 1                          # cached until the OSD map changes


def test_crush_map_unavailable(client, base, monkeypatch):
    monkeypatch.setattr(derived, 'fetch_crush_binary', lambda mgr: b'not a crush map')
    response = client.get(f'{base}/crush_map')
    assert response.status_code == 503
    assert response.json()['detail'].startswith('CRUSH map unavailable: crushtool -d failed')

    def fail(mgr):
        raise derived.CrushMapUnavailable('osd getcrushmap timed out')
    monkeypatch.setattr(derived, 'fetch_crush_binary', fail)
    assert client.get(f'{base}/crush_map').json() == {'detail': 'CRUSH map unavailable: osd getcrushmap timed out'}


def test_mons(client, base, module, services, mon_commands):
    mons = client.get(f'{base}/mon').json()
    assert mons == [{'name': 'a', 'rank': 0, 'in_quorum': True, 'server': 'vm', 'addr': '127.0.0.1:40100/0',
                     'leader': True}]
    assert client.get(f'{base}/mon/a').json() == mons[0]
    status = client.get(f'{base}/mon/a/status').json()
    assert status['name'] == 'a' and status['quorum'] == [0]
    for url in ('mon/b', 'mon/b/status'):
        response = client.get(f'{base}/{url}')
        assert (response.status_code, response.json()) == (404, {'detail': 'Not found'})
    # no quorum: nobody is in it and nobody leads (Calamari master gave a 500 here)
    mon_status = json.loads(module.maps['mon_status']['json'])
    mon_status['quorum'] = []
    module.maps['mon_status']['json'] = json.dumps(mon_status)
    mon_commands['quorum_status'] = (-110, '', 'timed out')
    changed(services)
    assert client.get(f'{base}/mon').json()[0]['in_quorum'] is False
    assert client.get(f'{base}/mon').json()[0]['leader'] is False
    module.maps['mon_status'] = None
    changed(services)
    assert client.get(f'{base}/mon').status_code == 404


def test_config(client, base, module, services):
    config = client.get(f'{base}/config').json()
    assert {'key': 'osd_pool_default_size', 'value': '1'} in config
    assert all(isinstance(c['value'], str) for c in config)
    pg_max = client.get(f'{base}/config/mon_max_pool_pg_num').json()
    assert pg_max == {'key': 'mon_max_pool_pg_num', 'value': '65536'}
    response = client.get(f'{base}/config/no_such_key')
    assert (response.status_code, response.json()) == (404, {'detail': 'Not found'})
    module.maps['config'] = None
    changed(services)
    response = client.get(f'{base}/config')
    assert (response.status_code, response.json()) == (503, {'detail': 'Cluster configuration unavailable'})


def test_sync_objects(client, base, module, monkeypatch):
    monkeypatch.setattr(derived, 'fetch_crush_binary', lambda mgr: b'')
    assert client.get(f'{base}/sync_object').json() == [
        'mds_map', 'osd_map', 'mon_map', 'mon_status', 'quorum_status', 'pg_summary', 'health', 'config']
    osd_map = client.get(f'{base}/sync_object/osd_map').json()
    assert osd_map['epoch'] == module.maps['osd_map']['epoch']
    assert osd_map['tree'] == module.maps['osd_map_tree']
    assert osd_map['crush']['buckets'][0]['weight'] == 39 / 65536
    assert osd_map['crush_map_text'] is None                       # crushtool failed: null, not an error
    assert [m['osd'] for m in osd_map['osd_metadata']] == [0, 1, 2]
    assert client.get(f'{base}/sync_object/mon_map').json() == module.maps['mon_map']
    assert client.get(f'{base}/sync_object/mds_map').json() == module.maps['fs_map']
    assert client.get(f'{base}/sync_object/pg_summary').json() == module.maps['pg_summary']
    health = client.get(f'{base}/sync_object/health').json()
    assert health['overall_status'] == health['status']
    assert client.get(f'{base}/sync_object/quorum_status').json()['quorum_leader_name'] == 'a'
    assert client.get(f'{base}/sync_object/mon_status').json()['name'] == 'a'
    assert client.get(f'{base}/sync_object/config').json()['osd_pool_default_size'] == '1'
    response = client.get(f'{base}/sync_object/no_such_type')
    assert (response.status_code, response.json()) == (404, {'detail': 'Not found'})


def test_views_are_computed_once_per_map_change(client, base, module, services, monkeypatch):
    from calamari_api.views import osd as osd_views
    built = []
    real = osd_views.OsdMapView.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        real(self, *args, **kwargs)
    monkeypatch.setattr(osd_views.OsdMapView, '__init__', counting)
    changed(services)
    for url in ('osd', 'osd/0', 'pool', 'pool/1', 'crush_rule', 'crush_rule_set', 'osd_config', 'osd?pool=1'):
        assert client.get(f'{base}/{url}').status_code == 200
    assert len(built) == 1
    services.cluster.invalidate('osd_map')        # what notify('osd_map') does
    client.get(f'{base}/osd')
    assert len(built) == 2


def test_api_root(client):
    root = client.get('/api/v2/').json()
    assert list(root) == ['user', 'cluster']
    assert root['user'].startswith('http://') and root['user'].endswith('/api/v2/user')
    assert root['cluster'] == root['user'][:-len('user')] + 'cluster'


@pytest.mark.parametrize('url', [
    'osd?pool=%00', 'osd?pool=-1', 'osd?pool=99999999999999999999999', 'osd?id__in[]=1e9', 'osd?id__in[]=%ff',
    'osd/99999999999999999999999', 'osd/99999999999999999999999/command', 'osd/0/command/DEEP_SCRUB',
    'pool/99999999999999999999999', 'pool?defaults&pool=x', 'crush_node/-99999999999999999999',
    'crush_rule/-1', 'crush_type/99999999999999999999', 'config/' + 'x' * 500, 'sync_object/-',
    'mon/..', 'mon/a.b/status',
])
def test_no_server_errors(client, base, url, monkeypatch):
    monkeypatch.setattr(derived, 'fetch_crush_binary', lambda mgr: b'')
    response = client.get(f'{base}/{url}')
    assert response.status_code < 500, (url, response.status_code, response.content)
