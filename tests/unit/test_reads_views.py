"""Pure views over a synthetic large cluster: thousands of OSDs, several roots, racks, hosts, device-class
shadow trees and rules.  The expected answers are computed from the generator's own bookkeeping (which OSD
it put where), never by walking the CRUSH map the way the code under test does."""
import random
from typing import Dict, List, Set

import pytest

from calamari_api.views.config import db_option_names, effective_config, mon_value
from calamari_api.views.crush import CrushIndex, rule_set_objects
from calamari_api.views.mon import mon_objects, mon_status_of
from calamari_api.views.osd import OsdMapView, address, osd_flags
from calamari_api.views.pool import pool_defaults, pool_object

TYPES = [{'type_id': 0, 'name': 'osd'}, {'type_id': 1, 'name': 'host'}, {'type_id': 3, 'name': 'rack'},
         {'type_id': 11, 'name': 'root'}]


class SyntheticCluster:
    """Roots ``default`` (racks → hosts → OSDs, mixed hdd/ssd) and ``fast`` (hosts → the ssd OSDs of the
    first rack: OSDs in two places), Pacific-style ``~hdd``/``~ssd`` shadow trees of ``default``, a stray
    OSD that is in no bucket, and a set of rules and pools over them."""

    def __init__(self, racks: int = 4, hosts_per_rack: int = 25, osds_per_host: int = 30, seed: int = 7) -> None:
        rnd = random.Random(seed)
        self.next_bucket = -1
        self.buckets: List[dict] = []
        self.host_osds: Dict[int, List[int]] = {}
        self.rack_hosts: Dict[int, List[int]] = {}
        self.osd_class: Dict[int, str] = {}
        self.osd_paths: Dict[int, List[List[int]]] = {}
        osd = 0
        self.default = self._id()
        self.fast = self._id()
        for r in range(racks):
            rack = self._id()
            self.rack_hosts[rack] = []
            for h in range(hosts_per_rack):
                host = self._id()
                self.rack_hosts[rack].append(host)
                self.host_osds[host] = list(range(osd, osd + osds_per_host))
                for o in self.host_osds[host]:
                    self.osd_class[o] = 'ssd' if rnd.random() < 0.25 else 'hdd'
                    self.osd_paths[o] = [[host, rack, self.default]]
                osd += osds_per_host
                self._bucket(host, f'host{r}-{h}', 'host', self.host_osds[host])
            self._bucket(rack, f'rack{r}', 'rack', self.rack_hosts[rack])
        self._bucket(self.default, 'default', 'root', list(self.rack_hosts))
        # root "fast": one host bucket per host of rack 0, holding that host's ssd OSDs (OSDs in two trees)
        self.first_rack = next(iter(self.rack_hosts))
        fast_hosts = []
        for host in self.rack_hosts[self.first_rack]:
            fast_host = self._id()
            ssds = [o for o in self.host_osds[host] if self.osd_class[o] == 'ssd']
            self._bucket(fast_host, f'fast-{fast_host}', 'host', ssds)
            for o in ssds:
                self.osd_paths[o].append([fast_host, self.fast])
            fast_hosts.append(fast_host)
        self._bucket(self.fast, 'fast', 'root', fast_hosts)
        # shadow trees: default~hdd / default~ssd with one shadow host per host (as Pacific makes them)
        self.shadow_root = {}
        for cls in ('hdd', 'ssd'):
            shadow_racks = []
            for rack, hosts in self.rack_hosts.items():
                shadow_hosts = []
                for host in hosts:
                    shadow_host = self._id()
                    self._bucket(shadow_host, f'h{host}~{cls}', 'host',
                                 [o for o in self.host_osds[host] if self.osd_class[o] == cls])
                    shadow_hosts.append(shadow_host)
                shadow_rack = self._id()
                self._bucket(shadow_rack, f'r{rack}~{cls}', 'rack', shadow_hosts)
                shadow_racks.append(shadow_rack)
            self.shadow_root[cls] = self._id()
            self._bucket(self.shadow_root[cls], f'default~{cls}', 'root', shadow_racks)
        self.stray = osd                          # exists in the OSD map, in no bucket
        self.num_osds = osd + 1
        self.all_osds = set(range(self.num_osds))
        self.down = set(rnd.sample(range(self.num_osds), 50))
        self.out = set(rnd.sample(range(self.num_osds), 50))
        self.rules = self._rules()

    def _id(self) -> int:
        self.next_bucket -= 1
        return self.next_bucket + 1

    def _bucket(self, bid: int, name: str, type_name: str, items: List[int]) -> None:
        type_id = next(t['type_id'] for t in TYPES if t['name'] == type_name)
        self.buckets.append({'id': bid, 'name': name, 'type_id': type_id, 'type_name': type_name,
                             'weight': 0x10000 * len(items), 'alg': 'straw2', 'hash': 'rjenkins1',
                             'items': [{'id': i, 'weight': 0x10000, 'pos': p} for p, i in enumerate(items)]})

    def _rule(self, rule_id: int, name: str, steps: List[dict], rtype: int = 1) -> dict:
        return {'rule_id': rule_id, 'rule_name': name, 'ruleset': rule_id, 'type': rtype, 'min_size': 1,
                'max_size': 10, 'steps': steps}

    def _rules(self) -> List[dict]:
        take = lambda item: {'op': 'take', 'item': item, 'item_name': str(item)}  # noqa: E731
        emit = {'op': 'emit'}
        rack0 = self.first_rack
        return [
            self._rule(0, 'replicated_rule', [take(self.default), {'op': 'chooseleaf_firstn', 'num': 0,
                                                                   'type': 'host'}, emit]),
            self._rule(1, 'fast', [take(self.fast), {'op': 'choose_firstn', 'num': 0, 'type': 'osd'}, emit]),
            self._rule(2, 'rack0', [take(rack0), {'op': 'chooseleaf_firstn', 'num': 0, 'type': 'host'}, emit]),
            self._rule(3, 'hdd_only', [take(self.shadow_root['hdd']),
                                       {'op': 'chooseleaf_firstn', 'num': 0, 'type': 'host'}, emit]),
            self._rule(4, 'ec_ssd', [{'op': 'set_chooseleaf_tries', 'num': 5}, take(self.shadow_root['ssd']),
                                     {'op': 'chooseleaf_indep', 'num': 0, 'type': 'host'}, emit], rtype=3),
            self._rule(5, 'two_takes', [take(rack0), {'op': 'choose_firstn', 'num': 1, 'type': 'host'},
                                        {'op': 'chooseleaf_firstn', 'num': 1, 'type': 'osd'}, emit,
                                        take(self.fast), {'op': 'chooseleaf_firstn', 'num': 0, 'type': 'host'},
                                        emit]),
            self._rule(6, 'single_osd', [take(7), emit]),
            self._rule(7, 'choose_rack_only', [take(self.default), {'op': 'choose_firstn', 'num': 0,
                                                                    'type': 'rack'}, emit]),
        ]

    def expected_rule_osds(self) -> Dict[int, Set[int]]:
        in_default = self.all_osds - {self.stray}
        rack0 = {o for h in self.rack_hosts[self.first_rack] for o in self.host_osds[h]}
        fast = {o for o in rack0 if self.osd_class[o] == 'ssd'}
        return {
            0: in_default,
            1: fast,
            2: rack0,
            3: {o for o in in_default if self.osd_class[o] == 'hdd'},
            4: {o for o in in_default if self.osd_class[o] == 'ssd'},
            5: rack0 | fast,
            6: {7},
            7: set(),                       # racks are emitted, not OSDs
        }

    def pools(self) -> List[dict]:
        spec = [(1, 0), (2, 0), (3, 1), (4, 3), (5, 4), (6, 2), (7, 99)]   # pool 7's rule does not exist
        return [{'pool': pid, 'pool_name': f'pool{pid}', 'crush_rule': rule, 'size': 3, 'min_size': 2,
                 'pg_num': 64, 'pg_placement_num': 64, 'flags': 1, 'type': 3 if rule == 4 else 1,
                 'erasure_code_profile': 'default' if rule == 4 else '', 'quota_max_bytes': 0,
                 'quota_max_objects': 0, 'application_metadata': {}} for pid, rule in spec]

    def maps(self):
        osd_map = {
            'epoch': 1234, 'flags': 'noout,sortbitwise', 'flags_set': ['noout', 'sortbitwise'],
            'pools': self.pools(),
            'osds': [{'osd': o, 'uuid': f'uuid-{o}', 'up': int(o not in self.down), 'in': int(o not in self.out),
                      'weight': 0.0 if o in self.out else 1.0, 'public_addr': f'10.0.0.1:{6800 + o}/1',
                      'cluster_addr': f'10.1.0.1:{6800 + o}/1'}
                     for o in sorted(self.all_osds, reverse=True)],    # unsorted on purpose
        }
        tree = {'nodes': [{'id': o, 'name': f'osd.{o}', 'type': 'osd', 'type_id': 0,
                           'reweight': 0.0 if o in self.out else 1.0} for o in self.all_osds if o != self.stray],
                'stray': [{'id': self.stray, 'name': f'osd.{self.stray}', 'reweight': 1.0}]}
        crush = {'buckets': self.buckets, 'rules': self.rules, 'types': TYPES,
                 'devices': [{'id': o, 'name': f'osd.{o}', 'class': self.osd_class.get(o, 'hdd')}
                             for o in self.all_osds]}
        metadata = {str(o): {'hostname': f'node{o // 30}', 'osd_data': f'/var/lib/ceph/osd/ceph-{o}'}
                    for o in self.all_osds if o % 100 != 5}      # some OSDs have no metadata
        return osd_map, tree, crush, metadata


@pytest.fixture(scope='module')
def synthetic():
    return SyntheticCluster()


@pytest.fixture(scope='module')
def view(synthetic):
    return OsdMapView(*synthetic.maps())


def test_size(synthetic):
    assert synthetic.num_osds == 3001 and len(synthetic.buckets) > 300


def test_rule_osd_counts(synthetic, view):
    expected = synthetic.expected_rule_osds()
    for rule in view.rules:
        assert rule['osd_count'] == len(expected[rule['id']]), rule['name']
        assert set(view.crush.osds_by_rule_id[rule['id']]) == expected[rule['id']], rule['name']
    assert view.rule_by_id[4]['type'] == 'erasure'
    assert all(len(step) == 5 for rule in view.rules for step in rule['steps'])


def test_osd_pools_and_filters(synthetic, view):
    rule_osds = synthetic.expected_rule_osds()
    pool_rule = {p['pool']: p['crush_rule'] for p in synthetic.pools()}
    expected_pool_osds = {pid: rule_osds.get(rule, synthetic.all_osds) for pid, rule in pool_rule.items()}
    assert [o['id'] for o in view.osds] == sorted(synthetic.all_osds)
    for osd in view.osds:
        assert osd['pools'] == sorted(pid for pid, osds in expected_pool_osds.items() if osd['id'] in osds)
    for pid, osds in expected_pool_osds.items():
        assert [o['id'] for o in view.osds_for_pool(pid)] == sorted(osds)


def test_osd_fields(synthetic, view):
    stray = view.osd_by_id[synthetic.stray]
    assert stray['crush_node_ancestry'] == [] and stray['reweight'] == 0.0      # not in CRUSH
    for osd in view.osds:
        o = osd['id']
        assert osd['up'] is (o not in synthetic.down)
        assert osd['in'] is (o not in synthetic.out)
        assert osd['valid_commands'] == ([] if o in synthetic.down else ['scrub', 'deep_scrub', 'repair'])
        if o != synthetic.stray:
            assert sorted(osd['crush_node_ancestry']) == sorted(synthetic.osd_paths[o])
            assert osd['reweight'] == (0.0 if o in synthetic.out else 1.0)
        if o % 100 == 5:
            assert osd['server'] is None and osd['osd_data'] is None
        else:
            assert osd['server'] == f'node{o // 30}'


def test_nodes_types_rulesets(synthetic, view):
    names = [n['name'] for n in view.nodes]
    assert not any('~' in name for name in names)
    assert 'default' in names and 'fast' in names
    assert [n['id'] for n in view.nodes] == sorted((n['id'] for n in view.nodes), reverse=True)
    root = next(n for n in view.nodes if n['name'] == 'default')
    assert root['weight'] == 4.0 and root['items'][0]['weight'] == 1.0
    assert view.types == [{'id': t['type_id'], 'name': t['name']} for t in TYPES]
    assert [s['id'] for s in rule_set_objects(view.rules)] == list(range(8))
    assert view.rulesets == list(range(8))


def test_address_of_an_osd_that_never_booted():
    assert address('(unrecognized address family 0)/0') == '' and address(None) == ''
    assert address('10.0.0.1:6800/123') == '10.0.0.1:6800/123'


def test_pools_and_flags(view):
    assert [p['id'] for p in view.pools] == [1, 2, 3, 4, 5, 6, 7]
    assert view.pool_by_id[5]['type'] == 'erasure' and view.pool_by_id[5]['erasure_code_profile'] == 'default'
    assert view.flags['noout'] is True and view.flags['pause'] is False


def test_cyclic_map_does_not_hang():
    crush = {'buckets': [{'id': -1, 'name': 'a', 'type_name': 'root', 'items': [{'id': -2}]},
                         {'id': -2, 'name': 'b', 'type_name': 'host', 'items': [{'id': -1}, {'id': 0}]}],
             'rules': [{'rule_id': 0, 'steps': [{'op': 'take', 'item': -1},
                                                {'op': 'chooseleaf_firstn', 'num': 0, 'type': 'host'},
                                                {'op': 'emit'}]}], 'types': TYPES}
    index = CrushIndex(crush)
    assert index.osds_by_rule_id[0] == [0]
    assert index.ancestry(0)                                # some finite answer


def test_empty_maps():
    view = OsdMapView(None, None, None, None)
    assert view.osds == [] and view.pools == [] and view.rules == [] and view.rulesets == []
    assert osd_flags(None) == {flag: False for flag in osd_flags(None)}


@pytest.mark.parametrize('app_metadata, expected', [
    ({}, 0), ({'calamari': {'crash_replay_interval': '30'}}, 30), ({'calamari': {'crash_replay_interval': 'x'}}, 0),
    ({'rbd': {}}, 0)])
def test_crash_replay_interval(app_metadata, expected):
    pool = {'pool': 1, 'pool_name': 'p', 'crush_rule': 0, 'flags': 2, 'application_metadata': app_metadata}
    obj = pool_object(pool)
    assert obj['crash_replay_interval'] == expected and obj['full'] is True and obj['hashpspool'] is False


@pytest.mark.parametrize('config, rulesets, ruleset', [
    ({'osd_pool_default_crush_rule': '-1'}, [3, 1], 1),              # Pacific's "pick one": lowest
    ({'osd_pool_default_crush_rule': '3'}, [3, 1], 3),
    ({'osd_pool_default_crush_rule': '7', 'osd_pool_default_crush_replicated_ruleset': '3'}, [3, 1], 3),
    ({'osd_pool_default_crush_rule': 'junk'}, [2], 2),
])
def test_pool_defaults_ruleset(config, rulesets, ruleset):
    config = dict(config, osd_pool_default_size='3', osd_pool_default_min_size='0',
                  osd_pool_default_flag_hashpspool='false')
    defaults = pool_defaults(config, rulesets)
    assert defaults['crush_ruleset'] == ruleset
    assert (defaults['size'], defaults['min_size'], defaults['hashpspool']) == (3, 0, False)


def test_effective_config_merge():
    assert mon_value(1, 1, 4) == 4                  # the DB sets it for the mons: they use 4
    assert mon_value(1, 2, 4) is None               # the mgr's ceph.conf overrides the DB: keep the mgr's 1
    assert mon_value(True, True, True) is None
    mgr = {'osd_pool_default_size': '1', 'mon_max_pool_pg_num': '65536', 'osd_pool_default_flag_hashpspool': 'true'}
    merged = effective_config(mgr, {'mon_max_pool_pg_num': 512, 'osd_pool_default_flag_hashpspool': False})
    assert merged == {'osd_pool_default_size': '1', 'mon_max_pool_pg_num': '512',
                      'osd_pool_default_flag_hashpspool': 'false'}
    assert effective_config(None, {}) is None
    dump = [{'section': 'global', 'name': 'a_opt', 'value': '1', 'mask': ''},
            {'section': 'mon.b', 'name': 'b_opt', 'value': '1', 'mask': 'host:x'},
            {'section': 'osd', 'name': 'c_opt', 'value': '1', 'mask': ''},
            {'section': 'mgr', 'name': 'mgr/calamari_api/ssl', 'value': 'false', 'mask': ''},
            {'section': 'mon', 'name': 'a_opt', 'value': '2', 'mask': ''}]
    assert db_option_names(dump) == ['a_opt', 'b_opt']


def test_mons_quorum_rules():
    mon_map = {'mons': [{'name': n, 'rank': r, 'addr': f'10.0.0.{r}:6789/0'} for r, n in enumerate('abc')]}
    mons = mon_objects(mon_map, {'quorum': [1, 2]}, None, {'a': 'ha'})
    assert [(m['name'], m['in_quorum'], m['leader']) for m in mons] == [
        ('a', False, False), ('b', True, True), ('c', True, False)]
    assert mons[0]['server'] == 'ha' and mons[1]['server'] is None
    mons = mon_objects(mon_map, {'quorum': [1, 2]}, 'c', {})
    assert [m['leader'] for m in mons] == [False, False, True]
    mons = mon_objects(mon_map, {'quorum': [2]}, 'c', {})             # no majority: nobody in, nobody leads
    assert not any(m['in_quorum'] or m['leader'] for m in mons)
    assert mon_objects(None, None, None, {}) == []


def test_mon_status_describes_the_mon_asked_for():
    mon_map = {'mons': [{'name': n, 'rank': r, 'addr': f'10.0.0.{r}:6789/0'} for r, n in enumerate('abc')]}
    held = {'name': 'b', 'rank': 1, 'state': 'leader', 'quorum': [1, 2], 'election_epoch': 8}
    a, b, c = mon_objects(mon_map, held, 'b', {})
    assert mon_status_of(held, b) == held                                  # the mon the mgr talks to: as is
    assert mon_status_of(held, c) == dict(held, name='c', rank=2, state='peon')
    assert mon_status_of(held, a) == dict(held, name='a', rank=0, state='out of quorum')
    assert held['name'] == 'b'                                             # not modified in place
