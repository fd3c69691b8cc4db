"""restful's clients, unmodified, against this module's restful listener on the test cluster's release:

- Zabbix agent 2 (Debian's zabbix-agent2 6.0.14, its Ceph plugin): ``zabbix_agent2 -t`` for the seven Ceph items.
  Each item's value must equal what the plugin's handler makes of the ceph CLI's JSON for the same commands
  (the handlers are re-done below from the plugin's source, src/go/plugins/ceph/handler_*.go).
- Metricbeat's ``ceph`` module: the five mgr metricsets' requests replayed as their source sends them (POST
  ``/request?wait=1``, body ``{"prefix": "<command>", "format": "json"}``, JSON headers, HTTP Basic), and the
  fields each metricset reads (metricbeat/module/ceph/mgr_*/data.go) compared with the CLI's.

Counters can move between the client's read and the CLI's, so each comparison is retried until they agree."""
import base64
import json
import math
import os
import shutil
import ssl
import subprocess
import urllib.request
from typing import Any, Dict, List

import pytest

from tests.support.cluster import wait_for

ZABBIX_AGENT = shutil.which('zabbix_agent2') or '/usr/sbin/zabbix_agent2'
KEY_NAME = 'restful-clients-test'


@pytest.fixture(scope='module')
def restful(cluster) -> Dict[str, str]:
    """restful's URL and a key made as an operator would (``calamari-api restful-key-create``, on both releases)."""
    cluster.ceph('calamari-api', 'restful-key-delete', KEY_NAME, check=False)
    key = cluster.ceph('calamari-api', 'restful-key-create', KEY_NAME).stdout.strip()
    url = f'https://127.0.0.1:{cluster.state["restful_port"]}'
    wait_for(lambda: _answers(url), timeout=60, what=f"restful's listener at {url}")
    return {'url': url, 'user': KEY_NAME, 'key': key}


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url + '/', context=_insecure(), timeout=5)
    except urllib.error.HTTPError:
        return True             # 401 without a key: it serves
    except OSError:
        return False
    return True


def _insecure() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE         # the listener's self-signed certificate
    return context


def agreed(fetch, expect, what: str, timeout: float = 90) -> None:
    """Retry until the client's value equals the CLI's (fetch and expect each read anew)."""
    seen: Dict[str, Any] = {}

    def same() -> bool:
        seen['client'], seen['cli'] = fetch(), expect()
        return seen['client'] == seen['cli']
    wait_for(same, timeout=timeout, interval=1, what=what,
             detail=lambda: f'client: {json.dumps(seen.get("client"), sort_keys=True)[:3000]}\n'
                            f'cli:    {json.dumps(seen.get("cli"), sort_keys=True)[:3000]}')


# -- Zabbix agent 2 --------------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def zabbix(restful, tmp_path_factory):
    """``zabbix_agent2 -t <item>`` with a config that accepts the listener's self-signed certificate."""
    if not os.path.exists(ZABBIX_AGENT):
        pytest.fail('zabbix_agent2 is not installed (tools/run-tests installs Debian\'s zabbix-agent2)')
    directory = tmp_path_factory.mktemp('zabbix')
    config = directory / 'zabbix_agent2.conf'
    config.write_text(f'LogType=console\nServer=127.0.0.1\nHostname=calamari-test\n'
                      f'ControlSocket={directory}/agent.sock\n'
                      f'Plugins.Ceph.InsecureSkipVerify=true\nPlugins.Ceph.Timeout=30\n')

    def item(name: str) -> Any:
        key = f'{name}["{restful["url"]}","{restful["user"]}","{restful["key"]}"]'
        proc = subprocess.run([ZABBIX_AGENT, '-c', str(config), '-t', key], capture_output=True, text=True,
                              timeout=120)
        out = proc.stdout.strip()
        assert out.startswith(key), f'{proc.stdout}{proc.stderr}'
        value = out[len(key):].strip()
        if not value.startswith('[s|') or not value.endswith(']'):
            return {'not supported': value}
        text = value[3:-1]
        return json.loads(text) if text[:1] in '{[' else int(text)
    return item


PG_STATES = ['creating', 'activating', 'active', 'clean', 'down', 'laggy', 'wait', 'scrubbing', 'deep', 'degraded',
             'inconsistent', 'peering', 'repair', 'recovering', 'forced_recovery', 'recovery_wait',
             'recovery_toofull', 'recovery_unfound', 'backfilling', 'forced_backfill', 'backfill_wait',
             'backfill_toofull', 'backfill_unfound', 'incomplete', 'stale', 'remapped', 'undersized', 'peered',
             'snaptrim', 'snaptrim_wait', 'snaptrim_error', 'unknown']


def zabbix_status(status: Dict[str, Any]) -> Dict[str, Any]:
    """handler_status.go over ``status``."""
    states = dict.fromkeys(PG_STATES, 0)
    for entry in status['pgmap'].get('pgs_by_state', []):
        for state in entry['state_name'].split('+'):
            states[state] += entry['count']
    return {'overall_status': {'HEALTH_OK': 0, 'HEALTH_WARN': 1, 'HEALTH_ERR': 2}[status['health']['status']],
            'num_mon': status['monmap']['num_mons'], 'num_osd': status['osdmap']['num_osds'],
            'num_osd_in': status['osdmap']['num_in_osds'], 'num_osd_up': status['osdmap']['num_up_osds'],
            'num_pg': status['pgmap']['num_pgs'], 'pg_states': states,
            'min_mon_release_name': status['monmap']['min_mon_release_name']}


def _aggregate(values: List[float]) -> Dict[str, float]:
    return {'min': min(values), 'max': max(values), 'avg': sum(values) / len(values)} if values else \
        {'min': 0, 'max': 0, 'avg': 0}


def zabbix_osd_stats(pg_dump: Dict[str, Any]) -> Dict[str, Any]:
    """handler_osd.go over ``pg dump``."""
    osds = {}
    for stat in pg_dump['pg_map']['osd_stats']:
        fill = math.ceil(stat['kb_used'] / stat['kb'] * 100) if stat['kb'] else 0
        osds[str(stat['osd'])] = {'osd_latency_apply': stat['perf_stat']['apply_latency_ms'],
                                  'osd_latency_commit': stat['perf_stat']['commit_latency_ms'],
                                  'num_pgs': stat['num_pgs'], 'osd_fill': fill}
    column = [list(o.values()) for o in osds.values()]
    return {'osd_latency_apply': _aggregate([c[0] for c in column]),
            'osd_latency_commit': _aggregate([c[1] for c in column]),
            'osd_pgs': _aggregate([c[2] for c in column]), 'osd_fill': _aggregate([c[3] for c in column]),
            'osds': osds}


def zabbix_osd_discovery(crush_tree: Dict[str, Any]) -> List[Dict[str, str]]:
    """handler_discovery.go (osdDiscoveryHandler) over ``osd crush tree``."""
    found, host = [], None
    for node in crush_tree['nodes']:
        if node['type'] == 'host':
            host = node
        elif node['type'] == 'osd' and host is not None and node['id'] in host.get('children', []):
            found.append({'{#OSDNAME}': str(node['id']), '{#CLASS}': node.get('device_class', ''),
                          '{#HOST}': host['name']})
    return found


def zabbix_osd_dump(osd_dump: Dict[str, Any]) -> Dict[str, Any]:
    """handler_osd_dump.go over ``osd dump``."""
    return {'osd_backfillfull_ratio': round(osd_dump['backfillfull_ratio'] * 100) / 100,
            'osd_full_ratio': round(osd_dump['full_ratio'] * 100) / 100,
            'osd_nearfull_ratio': round(osd_dump['nearfull_ratio'] * 100) / 100,
            'num_pg_temp': len(osd_dump['pg_temp']),
            'osds': {str(o['osd']): {'in': o['in'], 'up': o['up']} for o in osd_dump['osds']}}


def zabbix_pool_discovery(osd_dump: Dict[str, Any], rules: List[Dict[str, Any]]) -> List[Dict[str, str]]:
    """handler_discovery.go (poolDiscoveryHandler) over ``osd dump`` and ``osd crush rule dump``."""
    found = []
    for pool in osd_dump['pools']:
        for rule in rules:
            if rule['rule_id'] == pool['crush_rule']:
                take = next(step for step in rule['steps'] if step['op'] == 'take')
                found.append({'{#POOLNAME}': pool['pool_name'], '{#CRUSHRULE}': take['item_name']})
                break
    return found


def zabbix_df(df: Dict[str, Any]) -> Dict[str, Any]:
    """handler_df.go over ``df detail``.  6.0.14 prints a pool's percent_used as a whole number: the fraction
    truncated (0.0666 -> 0; seen with the CLI at 0.0006, 0.008 and 0.0666, the agent at 0 each time)."""
    pools = {p['name']: {'percent_used': int(p['stats']['percent_used']), 'objects': p['stats']['objects'],
                         'bytes_used': p['stats']['bytes_used'], 'rd_ops': p['stats']['rd'],
                         'rd_bytes': p['stats']['rd_bytes'], 'wr_ops': p['stats']['wr'],
                         'wr_bytes': p['stats']['wr_bytes'], 'stored_raw': p['stats']['stored_raw'],
                         'max_avail': p['stats']['max_avail']} for p in df['pools']}
    total = {key: sum(p[key] for p in pools.values()) for key in ('rd_ops', 'rd_bytes', 'wr_ops', 'wr_bytes')}
    return dict(total, pools=pools, num_pools=len(df['pools']), total_bytes=df['stats']['total_bytes'],
                total_avail_bytes=df['stats']['total_avail_bytes'], total_used_bytes=df['stats']['total_used_bytes'],
                total_objects=sum(p['objects'] for p in pools.values()))


def test_zabbix_ping(zabbix):
    assert zabbix('ceph.ping') == 1


ZABBIX_ITEMS = {
    'ceph.status': lambda c: zabbix_status(c.ceph_json('status')),
    'ceph.osd.stats': lambda c: zabbix_osd_stats(c.ceph_json('pg', 'dump')),
    'ceph.osd.discovery': lambda c: zabbix_osd_discovery(c.ceph_json('osd', 'crush', 'tree')),
    'ceph.osd.dump': lambda c: zabbix_osd_dump(c.ceph_json('osd', 'dump')),
    'ceph.pool.discovery': lambda c: zabbix_pool_discovery(c.ceph_json('osd', 'dump'),
                                                           c.ceph_json('osd', 'crush', 'rule', 'dump')),
    'ceph.df.details': lambda c: zabbix_df(c.ceph_json('df', 'detail')),
}


@pytest.mark.parametrize('item', sorted(ZABBIX_ITEMS))
def test_zabbix_item_equals_the_cli(cluster, zabbix, item):
    agreed(lambda: zabbix(item), lambda: ZABBIX_ITEMS[item](cluster), f'{item} equal to the CLI\'s')


def test_zabbix_osd_stats_sees_every_osd(cluster, zabbix):
    """ceph.osd.stats is the item restful broke (its ``pg dump`` was refused): it must see real OSDs."""
    assert set(zabbix('ceph.osd.stats')['osds']) == {str(i) for i in cluster.osd_ids()}


# -- Metricbeat ------------------------------------------------------------------------------------------------
def metricbeat_request(restful: Dict[str, str], prefix: str) -> Any:
    """One metricset fetch as Metricbeat sends it (metricbeat/module/ceph/mgr/metricset.go), decoded as its
    mgr.UnmarshalResponse does: one finished command, its outb parsed as JSON."""
    body = f'{{"prefix": "{prefix}", "format": "json"}}'.encode()
    request = urllib.request.Request(restful['url'] + '/request?wait=1', data=body, method='POST')
    request.add_header('Content-Type', 'application/json')
    request.add_header('Accept', 'application/json')
    token = base64.b64encode(f'{restful["user"]}:{restful["key"]}'.encode()).decode()
    request.add_header('Authorization', f'Basic {token}')
    with urllib.request.urlopen(request, context=_insecure(), timeout=60) as response:
        answer = json.loads(response.read())
    assert not answer['has_failed'], answer
    assert len(answer['finished']) == 1, answer
    return json.loads(answer['finished'][0]['outb'])


def cluster_disk(df: Dict[str, Any]) -> Dict[str, int]:
    return {key: df['stats'][key] for key in ('total_bytes', 'total_avail_bytes', 'total_used_bytes')}


def osd_perf(perf: Dict[str, Any]) -> Dict[int, Dict[str, int]]:
    return {info['id']: {key: info['perf_stats'][key] for key in
                         ('commit_latency_ms', 'apply_latency_ms', 'commit_latency_ns', 'apply_latency_ns')}
            for info in perf['osdstats']['osd_perf_infos']}


def osd_pool_stats(stats: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [{'pool_id': s['pool_id'], 'pool_name': s['pool_name'],
             'client_io_rate': {key: s['client_io_rate'].get(key, 0) for key in
                                ('read_bytes_sec', 'write_bytes_sec', 'read_op_per_sec', 'write_op_per_sec')}}
            for s in stats]


def osd_tree(tree: Dict[str, Any]) -> List[Dict[str, Any]]:
    fields = ('id', 'name', 'type', 'type_id', 'children', 'crush_weight', 'depth', 'exists', 'primary_affinity',
              'reweight', 'status', 'device_class')
    return [{key: node.get(key) for key in fields} for node in tree['nodes']]


def pool_disk(df: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{'id': p['id'], 'name': p['name'],
             'stats': {key: p['stats'][key] for key in ('bytes_used', 'max_avail', 'objects', 'kb_used')}}
            for p in df['pools']]


METRICSETS = {      # metricset: (the prefix its source sends, the fields its data.go reads, the CLI command)
    'mgr_cluster_disk': ('df', cluster_disk, ('df',)),
    'mgr_osd_perf': ('osd perf', osd_perf, ('osd', 'perf')),
    'mgr_osd_pool_stats': ('osd pool stats', osd_pool_stats, ('osd', 'pool', 'stats')),
    'mgr_osd_tree': ('osd tree', osd_tree, ('osd', 'tree')),
    'mgr_pool_disk': ('df', pool_disk, ('df',)),
}


@pytest.mark.parametrize('metricset', sorted(METRICSETS))
def test_metricbeat_metricset_reads_what_the_cli_prints(cluster, restful, metricset):
    prefix, fields, cli_words = METRICSETS[metricset]
    agreed(lambda: fields(metricbeat_request(restful, prefix)), lambda: fields(cluster.ceph_json(*cli_words)),
           f'{metricset} fields equal to the CLI\'s')


def test_metricbeat_osd_perf_lists_every_osd(cluster, restful):
    assert set(osd_perf(metricbeat_request(restful, 'osd perf'))) == set(cluster.osd_ids())


def test_pg_dump_through_restful_is_the_clis(cluster, restful):
    """The whole ``pg dump`` (not only what Zabbix reads): same structure as the CLI's, same PGs."""
    ours = metricbeat_request(restful, 'pg dump')
    cli = cluster.ceph_json('pg', 'dump')
    assert set(ours) == set(cli) and set(ours['pg_map']) == set(cli['pg_map'])
    assert [set(s) for s in ours['pg_map']['osd_stats']] == [set(s) for s in cli['pg_map']['osd_stats']]
    assert sorted(p['pgid'] for p in ours['pg_map']['pg_stats']) == sorted(p['pgid'] for p in cli['pg_map']['pg_stats'])


# -- the v2 cli route ------------------------------------------------------------------------------------------
@pytest.mark.parametrize('words', [('pg', 'dump'), ('osd', 'perf'), ('osd', 'pool', 'stats')])
def test_v2_cli_route_answers_mgr_commands(cluster, client, fsid, words):
    """``POST cluster/<fsid>/cli`` with a command the mgr serves: the CLI's JSON, no longer "access denied"."""
    body = client.post(f'/api/v2/cluster/{fsid}/cli', {'command': ' '.join(words) + ' --format json'}).json()
    assert body['status'] == 0, body
    ours, cli = json.loads(body['out']), cluster.ceph_json(*words)
    if words == ('pg', 'dump'):
        ours, cli = ours['pg_map'], cli['pg_map']
        assert [set(s) for s in ours['osd_stats']] == [set(s) for s in cli['osd_stats']]
    assert type(ours) is type(cli) and len(ours) == len(cli)
    if isinstance(ours, dict):
        assert set(ours) == set(cli)
