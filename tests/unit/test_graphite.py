"""Graphite-compatible history: time specs, targets, globbing, output formats (views/graphite.py), the ring-buffer
store and its persistence (history.py), the sampler (sampler.py) and the HTTP endpoints."""
import json
import threading
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from calamari_api.graphite.history import HistoryStore, decode_bucket, encode_bucket
from calamari_api.graphite.host_metrics import (HostReading, cpu_counters, disk_counters, iostat_values,
                                                loadavg_gauges, memory_gauges, network_counters)
from calamari_api.graphite.sampler import HistorySampler, Rates, cluster_metrics
from calamari_api.graphite import render as g
from calamari_api.web.app import CalamariApp
from tests.support.wsgi_client import WsgiClient

NOW = 1_800_000_000.0      # a multiple of 900


# -- views/graphite.py ------------------------------------------------------------------------------

@pytest.mark.parametrize('text,expected', [
    ('-1d', NOW - 86400), ('-12hour', NOW - 43200), ('-1hour', NOW - 3600), ('-7d', NOW - 7 * 86400),
    ('-3d', NOW - 3 * 86400), ('-10min', NOW - 600), ('-90s', NOW - 90), ('now', NOW), ('-2weeks', NOW - 1209600),
    ('1700000000', 1700000000), ('12:30_20260102', 1767357000), ('20260102', 1767312000), (None, NOW - 86400)])
def test_parse_time(text, expected):
    assert g.parse_time(text, NOW, '-1d') == expected


@pytest.mark.parametrize('text', ['-1fortnight', 'yesterdayish', '12:30_2026', '-d'])
def test_parse_time_errors(text):
    with pytest.raises(g.GraphiteError):
        g.parse_time(text, NOW, '-1d')


def test_parse_target():
    assert g.parse_target('a.b.c') == g.Path('a.b.c')
    assert g.parse_target('scale(ceph.cluster.f.df.total_avail, 1024)') == \
        g.Call('scale', (g.Path('ceph.cluster.f.df.total_avail'), 1024.0))
    assert g.parse_target('sumSeries(a.*.x,b.{c,d}.y)') == g.Call('sumSeries', (g.Path('a.*.x'), g.Path('b.{c,d}.y')))
    assert g.parse_target('alias(scale(servers.h.loadavg.01,0.5), "load")') == \
        g.Call('alias', (g.Call('scale', (g.Path('servers.h.loadavg.01'), 0.5)), 'load'))
    assert g.parse_target('servers.h.loadavg.01') == g.Path('servers.h.loadavg.01')
    assert g.paths_of(g.parse_target('sumSeries(a.b,scale(c.d,2))')) == ['a.b', 'c.d']


@pytest.mark.parametrize('text', ['sumSeries(a.b', 'scale(a.b,,2)', 'a.b)', 'f(' * 30 + 'x' + ')' * 30, ')'])
def test_parse_target_errors(text):
    with pytest.raises(g.GraphiteError):
        g.parse_target(text)


NAMES = ['ceph.cluster.f.pool.1.num_read', 'ceph.cluster.f.pool.1.num_write', 'ceph.cluster.f.pool.12.num_read',
         'ceph.cluster.f.pool.all.num_read', 'ceph.cluster.f.df.total_bytes', 'servers.h.cpu.cpu0.user',
         'servers.h.cpu.total.user']


def test_match_paths():
    assert g.match_paths('ceph.cluster.f.pool.*.num_read', NAMES) == [
        'ceph.cluster.f.pool.1.num_read', 'ceph.cluster.f.pool.12.num_read', 'ceph.cluster.f.pool.all.num_read']
    assert g.match_paths('ceph.cluster.f.pool.{1,all}.num_read', NAMES) == [
        'ceph.cluster.f.pool.1.num_read', 'ceph.cluster.f.pool.all.num_read']
    assert g.match_paths('ceph.cluster.f.pool.1?.num_read', NAMES) == ['ceph.cluster.f.pool.12.num_read']
    assert g.match_paths('ceph.*', NAMES) == []                      # * does not cross a dot
    assert g.match_paths('servers.h.cpu.total.user', NAMES) == ['servers.h.cpu.total.user']
    assert g.match_paths('servers.other.cpu.total.user', NAMES) == []


def test_tree_json():
    nodes = g.tree_json('ceph.cluster.f.pool.*', NAMES)
    assert [n['text'] for n in nodes] == ['1', '12', 'all']
    assert nodes[0] == {'text': '1', 'id': 'ceph.cluster.f.pool.1', 'allowChildren': 1, 'expandable': 1, 'leaf': 0,
                        'context': {}}
    leaves = g.tree_json('ceph.cluster.f.pool.1.*', NAMES)
    assert [(n['text'], n['leaf']) for n in leaves] == [('num_read', 1), ('num_write', 1)]
    mixed = g.tree_json('ceph.cluster.f.*', NAMES + ['ceph.cluster.f.zleaf'], wildcards=True)
    assert [(n['text'], n['leaf']) for n in mixed] == [('*', 0), ('df', 0), ('pool', 0), ('zleaf', 1)]
    assert mixed[0]['id'] == 'ceph.cluster.f.*'
    assert g.tree_json('servers.*', NAMES) == [{'text': 'h', 'id': 'servers.h', 'allowChildren': 1, 'expandable': 1,
                                                'leaf': 0, 'context': {}}]
    assert g.tree_json('nothing.*', NAMES) == []


def _series(name, start, values, step=60):
    return g.Series(name, start, start + step * len(values), step, values)


def test_functions_and_formats():
    a, b = _series('a', 60, [1.0, None, 3.0]), _series('b', 60, [10.0, None, None])
    fetch = {'a': [a], 'b': [b], 'x.*': [a, b]}.get
    total = g.evaluate(g.parse_target('sumSeries(a,b)'), fetch)
    assert total == [g.Series('sumSeries(a,b)', 60, 240, 60, [11.0, None, 3.0])]
    assert g.evaluate(g.parse_target('sumSeries(x.*)'), fetch)[0].name == 'sumSeries(x.*)'
    scaled = g.evaluate(g.parse_target('scale(a, 1024)'), fetch)
    assert scaled == [g.Series('scale(a,1024)', 60, 240, 60, [1024.0, None, 3072.0])]
    assert g.evaluate(g.parse_target('averageSeries(a,b)'), fetch)[0].values == [5.5, None, 3.0]
    assert g.evaluate(g.parse_target('alias(a,"A")'), fetch)[0].name == 'A'
    with pytest.raises(g.GraphiteError):
        g.evaluate(g.parse_target('movingAverage(a,5)'), fetch)
    assert g.json_array_format([a, b]) == {'targets': ['a', 'b'], 'datapoints': [
        [60, 1.0, 10.0], [120, None, None], [180, 3.0, None]]}
    assert g.json_array_format([]) == {'targets': [], 'datapoints': []}
    with pytest.raises(g.GraphiteError, match='different steps'):
        g.json_array_format([a, _series('c', 60, [1.0], step=900)])
    assert g.json_format([a]) == [{'target': 'a', 'datapoints': [[1.0, 60], [None, 120], [3.0, 180]]}]
    # the union of ranges: a series that starts later has nulls first
    late = _series('late', 120, [7.0, 8.0])
    assert g.json_array_format([a, late])['datapoints'] == [[60, 1.0, None], [120, None, 7.0], [180, 3.0, 8.0]]


# -- history.py ---------------------------------------------------------------------------------------

def test_store_fine_archive_and_gaps():
    store = HistoryStore(60)
    for i in range(5):
        if i != 2:                                              # a missed sample is a gap
            store.record(NOW - 300 + i * 60 + 0.5, {'a': float(i), 'b': 10.0 * i} if i != 3 else {'a': 3.0})
    (a, b) = store.fetch(['a', 'b'], NOW - 300, NOW, NOW)
    assert (a.step, a.start) == (60, NOW - 240)
    assert a.values == [1.0, None, 3.0, 4.0, None]
    assert b.values == [10.0, None, None, 40.0, None]
    assert store.fetch(['missing'], NOW - 300, NOW, NOW) == []


def test_store_ring_wraps_without_serving_stale_points():
    store = HistoryStore(60, fine_points=10, coarse_points=4, coarse_factor=5)
    for i in range(25):
        store.record(NOW + i * 60, {'a': float(i)})
    now = NOW + 24 * 60
    (a,) = store.fetch(['a'], now - 600, now, now)
    assert a.values == [float(i) for i in range(15, 25)]
    # a day later nothing of it is in the fine ring any more
    (a,) = store.fetch(['a'], now + 86400 - 600, now + 86400, now + 86400)
    assert a.values == [None] * 10


def test_store_coarse_archive_averages_and_persists():
    store = HistoryStore(60)
    finished = []
    for i in range(31):                                          # two full 15-minute buckets, then one sample
        result = store.record(NOW + i * 60, {'a': float(i)})
        if result:
            finished.append(result)
    assert finished == [(NOW, {'a': 7.0}), (NOW + 900, {'a': 22.0})]
    now = NOW + 30 * 60
    (a,) = store.fetch(['a'], now - 3 * 86400, now, now)        # beyond a day: the coarse archive
    assert a.step == 900
    assert a.values[-3:] == [7.0, 22.0, 30.0]                    # the bucket being filled: its average so far


def test_store_is_bounded_and_drops_dead_series():
    store = HistoryStore(60, max_series=3)
    store.record(NOW, {f's{i}': 1.0 for i in range(5)})
    assert sorted(store.names()) == ['s0', 's1', 's2'] and store.refused == 2
    assert store.usage()['series'] == 3
    t = NOW
    for _ in range(8 * 24 * 4):                                  # 8 days of 15-minute samples of s0 only
        t += 900
        store.record(t, {'s0': 2.0})
    assert store.names() == ['s0']


def test_store_aliases():
    store = HistoryStore(60)
    store.set_aliases({'kb': ('bytes', 1 / 1024), 'orphan': ('nothing', 2.0)})
    store.record(NOW, {'bytes': 2048.0})
    assert sorted(store.names()) == ['bytes', 'kb']
    assert store.fetch(['kb'], NOW - 60, NOW, NOW)[0].values == [2.0]


def test_persistence_round_trip_and_chunks():
    values = {f'ceph.cluster.f.pool.{i}.num_read': i * 1.5 for i in range(3000)}
    chunks = encode_bucket(NOW, 900, values)
    assert len(chunks) == 1 and len(chunks[0]) < 60 * 1024
    assert decode_bucket(json.loads(chunks[0])) == (NOW, 900, values)
    small = encode_bucket(NOW, 900, values, limit=4000)
    assert len(small) > 1 and all(len(c) <= 4000 for c in small)
    merged = {}
    for chunk in small:
        merged.update(decode_bucket(json.loads(chunk))[2])
    assert merged == values
    with pytest.raises(ValueError):
        decode_bucket({'t': 1})


# -- graphite/host_metrics.py -----------------------------------------------------------------------

def test_proc_parsers():
    assert cpu_counters('cpu  10 1 5 100 2 0 1 0 0 0\ncpu0 5 1 2 50 1 0 0 0 0 0\nintr 1 2\n') == {
        'cpu.total.user': 10, 'cpu.total.nice': 1, 'cpu.total.system': 5, 'cpu.total.idle': 100,
        'cpu.total.iowait': 2, 'cpu.total.irq': 0, 'cpu.total.softirq': 1, 'cpu.total.steal': 0,
        'cpu.cpu0.user': 5, 'cpu.cpu0.nice': 1, 'cpu.cpu0.system': 2, 'cpu.cpu0.idle': 50, 'cpu.cpu0.iowait': 1,
        'cpu.cpu0.irq': 0, 'cpu.cpu0.softirq': 0, 'cpu.cpu0.steal': 0}
    assert loadavg_gauges('0.50 0.25 0.10 1/100 999\n') == {'loadavg.01': 0.5, 'loadavg.05': 0.25,
                                                            'loadavg.15': 0.1}
    assert memory_gauges('MemTotal:  1000 kB\nMemFree: 10 kB\nHugePages_Total: 0\n') == {
        'memory.MemTotal': 1024000.0, 'memory.MemFree': 10240.0}
    net = ('Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes\n'
           '    lo: 9 9 0 0 0 0 0 0 9 9 0 0 0 0 0 0\n  eth0: 100 2 0 1 0 0 0 0 200 3 1 0 0 0 0 0\n')
    assert network_counters(net) == {'network.eth0.rx_byte': 100, 'network.eth0.rx_packets': 2,
                                     'network.eth0.rx_errors': 0, 'network.eth0.rx_drop': 1,
                                     'network.eth0.tx_byte': 200, 'network.eth0.tx_packets': 3,
                                     'network.eth0.tx_errors': 1, 'network.eth0.tx_drop': 0}
    disks = disk_counters(' 254 0 vda 10 0 80 20 5 0 40 10 0 30 30\n 7 0 loop0 1 0 8 1 0 0 0 0 0 1 1\n')
    assert disks == {'vda': (10, 80, 20, 5, 40, 10)}
    later = {'vda': (20, 180, 40, 15, 140, 60)}
    assert iostat_values(disks, later, 10) == {
        'iostat.vda.iops': 2.0, 'iostat.vda.read_byte_per_second': 5120.0,
        'iostat.vda.write_byte_per_second': 5120.0, 'iostat.vda.read_await': 2.0, 'iostat.vda.write_await': 5.0}


# -- sampler.py ---------------------------------------------------------------------------------------

def test_rates_like_diamond():
    rates = Rates()
    assert rates.update(100.0, {'c': 10.0}) == {}                    # the first sample has no rate
    assert rates.update(160.0, {'c': 70.0}) == {'c': 1.0}
    assert rates.update(220.0, {'c': 40.0}) == {'c': 0.0}            # went down: 0
    assert rates.update(280.0, {'d': 1.0}) == {}                     # names of the last sample only


def test_cluster_metrics_order_and_names(module):
    maps = module.maps
    gauges, counters = cluster_metrics('F', maps['pool_stats'], maps['pg_summary'], maps['df'])
    assert list(gauges)[:4] == ['ceph.cluster.F.df.total_bytes', 'ceph.cluster.F.df.total_used_bytes',
                                'ceph.cluster.F.df.total_avail_bytes', 'ceph.cluster.F.df.total_used_raw_bytes']
    assert list(gauges)[4:6] == ['ceph.cluster.F.pool.all.num_objects', 'ceph.cluster.F.pool.all.num_bytes']
    assert gauges['ceph.cluster.F.pool.2.num_bytes'] == 12862
    assert counters['ceph.cluster.F.pool.2.num_write'] == 4
    assert list(counters)[:4] == [f'ceph.cluster.F.pool.all.{s}' for s in
                                  ('num_read', 'num_write', 'num_read_kb', 'num_write_kb')]
    # a mgr without OSD stats yet reports 0 bytes in all: no df points then
    empty_df = {'stats': dict(maps['df']['stats'], total_bytes=0, total_avail_bytes=0)}
    assert not any('.df.' in name for name in cluster_metrics('F', None, None, empty_df)[0])


class CountingStore:
    """The KV store seen by the sampler, counting writes."""

    def __init__(self, data=None):
        self.data = dict(data or {})
        self.writes = 0

    def set(self, key, value):
        self.writes += 1
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value

    def prefix_json(self, prefix):
        return {k[len(prefix):]: json.loads(v) for k, v in self.data.items() if k.startswith(prefix)}


def host_reading(step=[0]):
    step[0] += 1
    return HostReading({'loadavg.01': 0.5}, {'cpu.total.user': 100.0 * step[0]}, {})


def make_sampler(services, store, interval=60, now=NOW + 30 * 60):
    return HistorySampler(services.cluster, store, lambda: 'mgr.example.com', {'history_interval': interval}.get,
                          clock=lambda: now, read_host=lambda dirs: host_reading())


def test_sampler_rates_and_one_write_per_bucket(module, services, fsid):
    store = CountingStore()
    sampler = make_sampler(services, store)
    stat_sum = module.maps['pool_stats']['pool_stats'][0]['stat_sum']
    name = f"ceph.cluster.{fsid}.pool.{module.maps['pool_stats']['pool_stats'][0]['poolid']}.num_write"
    for i in range(31):
        stat_sum['num_write'] = 1000 + 120 * i                    # 2 writes per second
        services.cluster.invalidate('pg_summary')
        sampler.sample_once(NOW + i * 60)
    assert store.writes == 2                                      # one per finished 15-minute bucket
    assert sorted(store.data) == [f'history/{(int(NOW) // 900 + n) % 672:04d}.0' for n in (0, 1)]
    history = sampler.history
    now = NOW + 30 * 60
    (writes,) = history.fetch([name], now - 600, now, now)
    assert writes.values == [2.0] * 10
    (first,) = history.fetch([name], NOW - 60, NOW + 60, now)
    assert first.values == [None, 2.0]                            # the first sample has no rate
    assert 'servers.mgr_example_com.cpu.total.user' in history.names()
    assert 'servers.mgr_example_com.loadavg.01' in history.names()
    assert f'ceph.cluster.{fsid}.df.total_avail' in history.names()       # the legacy KB name
    kb = history.fetch([f'ceph.cluster.{fsid}.df.total_avail'], now - 60, now, now)[0].values[-1]
    assert kb == module.maps['df']['stats']['total_avail_bytes'] / 1024
    # after a failover, the new active mgr has the coarse points
    restored = make_sampler(services, CountingStore(store.data)).history
    (writes,) = restored.fetch([name], now - 3 * 86400, now, now)
    assert writes.step == 900 and writes.values[-3:-1] == [2.0, 2.0]
    # a changed interval starts a new history (points of another step are not loaded)
    assert make_sampler(services, CountingStore(store.data), interval=30).history.names() == []


def test_sampler_thread_waits_on_an_event(module, services):
    store = CountingStore()
    options = {'history_interval': 1}
    sampler = HistorySampler(services.cluster, store, lambda: 'h', options.get, read_host=lambda dirs: host_reading())
    sampled = threading.Event()
    original = sampler.sample_once

    def sample(now):
        original(now)
        sampled.set()
    sampler.sample_once = sample
    sampler.start()
    try:
        assert sampled.wait(10)
        sampled.clear()
        assert sampled.wait(10)                                   # and again, a second later
        options['history_interval'] = 2
        sampler.wake()
        deadline = time.time() + 10
        while sampler.history.step != 2 and time.time() < deadline:
            time.sleep(0.05)
        assert sampler.history.step == 2
    finally:
        sampler.stop()
    assert not sampler._thread.is_alive()


# -- HTTP ---------------------------------------------------------------------------------------------

@pytest.fixture
def sampled(services):
    sampler = services.history
    now = time.time()
    for i in range(3):
        sampler.sample_once(now - 120 + i * 60)
    return sampler


def test_render_and_find_over_http(client, fsid, sampled):
    target = f'sumSeries(ceph.cluster.{fsid}.pool.all.num_read,ceph.cluster.{fsid}.pool.all.num_write)'
    response = client.get(f'/graphite/render/?format=json-array&from=-1d&target={target}')
    assert response.status_code == 200 and response.headers['content-type'] == 'application/json'
    assert response.headers['cache-control'] == 'no-cache' and response.headers['pragma'] == 'no-cache'
    body = response.json()
    assert body['targets'] == [target] and len(body['datapoints']) == 1440
    assert body['datapoints'][-1][1] == 0.0                       # idle: rates of 0
    response = client.get(f'/graphite/render?format=json-array&target=scale(ceph.cluster.{fsid}.df.total_avail,'
                          f'%201024)&target=scale(ceph.cluster.{fsid}.df.total_used,%201024)&from=-1hour')
    body = response.json()
    assert len(body['targets']) == 2 and len(body['datapoints']) == 60
    assert body['datapoints'][-1][1:] == [805181859.0, 124509.0]
    default = client.get(f'/graphite/render?target=ceph.cluster.{fsid}.df.total_bytes').json()
    assert len(default[0]['datapoints']) == 1440 and default[0]['datapoints'][-1][0] == 805306368.0
    nodes = client.get(f'/graphite/metrics/find?query=ceph.cluster.{fsid}.pool.*').json()
    assert [n['text'] for n in nodes] == ['1', '2', 'all']
    assert client.get('/graphite/metrics/find?query=servers.*').json()[0]['text'] == 'vm'
    assert client.get('/graphite/metrics?query=servers.*').status_code == 200
    assert client.get('/graphite/metrics/find?query=servers.elsewhere.cpu.*').json() == []
    assert client.get('/graphite/render?target=servers.elsewhere.cpu.total.user&format=json-array').json() == {
        'targets': [], 'datapoints': []}
    jsonp = client.get(f'/graphite/render?target=ceph.cluster.{fsid}.df.total_bytes&from=-2min&jsonp=cb')
    assert jsonp.headers['content-type'] == 'text/javascript' and jsonp.content.startswith(b'cb([{"target"')


@pytest.mark.parametrize('query,message', [
    ('format=png&target=a', b"Unsupported format 'png'"), ('target=sumSeries(a', b'Unexpected end'),
    ('target=a&from=-1fortnight', b'Invalid offset unit'), ('target=a&from=-1h&until=-2h', b'Invalid time range'),
    ('target=movingAverage(a,2)', b'Unsupported function'), ('target=a&jsonp=alert(1)', b'Invalid jsonp')])
def test_render_errors_are_400_text(client, sampled, query, message):
    response = client.get(f'/graphite/render?{query}')
    assert response.status_code == 400 and response.headers['content-type'] == 'text/plain'
    assert response.content.startswith(message)


def test_graphite_needs_a_session(anon, make_client, sampled):
    for url in ('/graphite/render?target=a', '/graphite/metrics/find?query=a'):
        response = anon.get(url)
        assert (response.status_code, response.json()) == (
            403, {'detail': 'Authentication credentials were not provided.'})
        assert make_client('readonly', 'reader').get(url).status_code == 200
        assert make_client('none', 'nobody').get(url).status_code == 403
    assert anon.get('/graphite/metrics/find').status_code == 403


def test_graphite_takes_an_api_token(services, sampled):
    """A graphite client (e.g. a dashboard tool) with a read-only token, no session."""
    token = services.tokens.create('graphs', 'readonly')[0]
    client = WsgiClient(CalamariApp(services).wsgi)
    response = client.get('/graphite/metrics/find?query=servers.*', headers={'Authorization': f'Bearer {token}'})
    assert response.status_code == 200 and response.json()[0]['text'] == 'vm'
    response = client.get('/graphite/render?target=a', headers={'Authorization': 'Bearer calapi_nonsense'})
    assert response.status_code == 401


# Graphite is outside the OpenAPI document (and so outside schemathesis): its query language is fuzzed here.
GRAPHITE_TEXT = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(['ceph', 'cluster', '*', 'pool', 'all', 'num_read', 'df', 'servers', '{a,b}', '[0-9]',
                              'sumSeries(', 'scale(', ')', ',', ' 1024', '-1d', 'now', '.', '..', '%', '\x00']),
             max_size=12).map(''.join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.lists(st.tuples(st.sampled_from(['target', 'from', 'until', 'format', 'jsonp', 'query',
                                                  'maxDataPoints', 'rawData', 'x']), GRAPHITE_TEXT), max_size=5),
       path=st.sampled_from(['/graphite/render', '/graphite/render/', '/graphite/metrics/find', '/graphite/metrics']))
def test_graphite_answers_any_query_without_a_5xx(client, sampled, params, path):
    response = client.get(path + '?' + urlencode(params))
    assert response.status_code in (200, 400), (path, params, response.status_code, response.content[:300])
