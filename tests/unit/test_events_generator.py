"""The event generator over fake maps: mutate module.maps, notify, process; exact Calamari messages."""
import copy
import json

import pytest

from calamari_api.events import STATE_KEY, EventGenerator, EventLog
from calamari_api.hosts import Hosts
from calamari_api.store import KVStore
from calamari_api.views import events as views


@pytest.fixture
def gen(services):
    services.event_generator.stop()          # drive it by hand, deterministically
    services.event_generator.process()
    return services.event_generator


def messages(services, since=0):
    return [(e.severity, e.message) for e in reversed(services.events.events())][since:]


def osd(module, osd_id):
    return next(o for o in module.maps['osd_map']['osds'] if o['osd'] == osd_id)


def change(module, gen, notify_type):
    module.notify(notify_type, '')
    gen.process()


def set_health(module, status):
    module.maps['health'] = {'json': json.dumps({'status': status, 'checks': {}, 'mutes': []})}


def test_first_start_announces_servers_only(services, gen):
    assert messages(services) == [(5, 'Added server vm with 3 OSDs, 1 monitor service')]
    e = services.events.events()[0]
    assert e.fqdn == 'vm' and e.fsid == services.cluster.fsid


def test_osd_down_up_out_in(module, services, gen):
    n = len(services.events)
    osd(module, 2)['up'] = 0
    change(module, gen, 'osd_map')
    osd(module, 2)['up'] = 1
    osd(module, 1)['in'] = 0
    change(module, gen, 'osd_map')
    osd(module, 1)['in'] = 1
    change(module, gen, 'osd_map')
    assert messages(services, n) == [(3, 'OSD ceph.2 went down (on vm)'), (3, 'OSD ceph.1 marked out (on vm)'),
                                     (4, 'OSD ceph.2 came up (on vm)'), (4, 'OSD ceph.1 marked in (on vm)')]
    down = services.events.events(fqdn='vm', max_severity=3)[-1]
    assert (down.service_type, down.service_id, down.fsid) == ('osd', '2', services.cluster.fsid)


def test_osd_added_and_removed(module, services, gen):
    n = len(services.events)
    new = copy.deepcopy(osd(module, 2))
    new['osd'] = 7
    module.maps['osd_map']['osds'].append(new)
    change(module, gen, 'osd_map')
    module.maps['osd_map']['osds'] = [o for o in module.maps['osd_map']['osds'] if o['osd'] != 0]
    change(module, gen, 'osd_map')
    assert messages(services, n) == [(5, 'OSD ceph.7 added to the cluster map'),
                                     (5, 'OSD ceph.0 (on vm) removed from the cluster map')]


def test_pools(module, services, gen):
    n = len(services.events)
    module.maps['osd_map']['pools'].append({'pool': 9, 'pool_name': 'new'})
    change(module, gen, 'osd_map')
    module.maps['osd_map']['pools'] = [p for p in module.maps['osd_map']['pools'] if p['pool'] != 2]
    change(module, gen, 'osd_map')
    assert messages(services, n) == [(5, 'pool ceph.9 added to cluster ceph'),
                                     (5, 'pool ceph.2 removed from cluster ceph')]


def test_health_changes(module, services, gen):
    n = len(services.events)
    for status in ('HEALTH_WARN', 'HEALTH_ERR', 'HEALTH_WARN', 'HEALTH_OK', 'HEALTH_OK'):
        set_health(module, status)
        change(module, gen, 'health')
    assert messages(services, n) == [
        (3, "Health of cluster 'ceph' degraded from HEALTH_OK to HEALTH_WARN"),
        (2, "Health of cluster 'ceph' degraded from HEALTH_WARN to HEALTH_ERR"),
        (4, "Health of cluster 'ceph' recovered from HEALTH_ERR to HEALTH_WARN"),
        (4, "Health of cluster 'ceph' recovered from HEALTH_WARN to HEALTH_OK")]


def test_overall_status_fallback():
    assert views.health_status({'overall_status': 'HEALTH_WARN'}) == 'HEALTH_WARN'
    assert views.health_status({'status': 'HEALTH_ERR', 'overall_status': 'HEALTH_WARN'}) == 'HEALTH_ERR'
    assert views.health_status(None) is None


def _mon_status(quorum, names=('a', 'b', 'c')):
    return {'quorum': quorum, 'monmap': {'mons': [{'rank': i, 'name': n} for i, n in enumerate(names)]}}


def test_quorum_and_leader():
    host_of = {'a': 'h1', 'b': 'h2'}.get
    old = views.quorum_summary(_mon_status([0, 1, 2]))
    assert old == (['a', 'b', 'c'], 'a')
    new = views.quorum_summary(_mon_status([1, 2]))
    assert [(e.severity, e.message) for e in views.diff_quorum(old, new, 'ceph', 'f', host_of)] == [
        ('WARNING', "Mon 'ceph.a' left quorum (on h1)"),
        ('INFO', "Mon 'ceph.b' now quorum leader  (on h2)")]
    back = views.diff_quorum(new, old, 'ceph', 'f', host_of)
    assert [e.message for e in back] == ["Mon 'ceph.a' joined quorum (on h1)",
                                         "Mon 'ceph.a' now quorum leader  (on h1)"]
    assert back[0].severity == 'RECOVERY'
    assert views.diff_quorum((['c'], 'c'), (['b', 'c'], 'b'), 'ceph', 'f', lambda n: None)[1].message == \
        "Mon 'ceph.b' now quorum leader "


def test_quorum_events_from_mon_status(module, services, gen):
    n = len(services.events)
    status = json.loads(module.maps['mon_status']['json'])
    status['quorum'] = []
    module.maps['mon_status'] = {'json': json.dumps(status)}
    change(module, gen, 'mon_map')       # an empty quorum is no news (mgr cannot see it); nothing
    assert messages(services, n) == []


def test_server_added_wording():
    spec = views.server_added('h.example.com', ['osd', 'mon', 'osd', 'mds', 'mgr'], 'f')
    assert spec.message == 'Added server h.example.com with 2 OSDs, 1 monitor service, 1 MDS'
    assert views.server_added('h', ['mgr'], 'f').message == 'Added server h'


def test_clog_warnings_and_errors(module, services, gen):
    n = len(services.events)
    entry = {'name': 'osd.1', 'channel': 'cluster', 'priority': '[ERR]', 'message': '1.0 scrub errors'}
    module.notify('clog', entry)
    module.notify('clog', dict(entry, priority='[INF]', message='boring'))
    module.notify('clog', dict(entry, channel='audit', priority='[WRN]'))
    module.notify('clog', dict(entry, name='mon.a', priority='[WRN]', message='Health check failed'))
    gen.process()
    assert messages(services, n) == [(2, 'osd.1: 1.0 scrub errors'), (3, 'mon.a: Health check failed')]
    assert services.events.events(fqdn='vm', max_severity=2)[0].service_id == '1'


def test_notify_is_constant_time_and_ignores_other_types(services, gen):
    gen.notify('command', 'tag')
    gen.notify('pg_summary', '')
    gen.notify('osd_map', '')
    assert gen._pending == {'osd_map'}


def test_no_reannounce_or_duplicates_after_failover(module, services, gen):
    osd(module, 2)['up'] = 0
    change(module, gen, 'osd_map')
    set_health(module, 'HEALTH_WARN')
    change(module, gen, 'health')
    gen.flush()
    before = messages(services)
    # a new mgr: same store, fresh components
    log2 = EventLog(KVStore(module), capacity=lambda: 5000)
    gen2 = EventGenerator(log2, services.cluster, Hosts(module, services.cluster, KVStore(module),
                                                        module.get_module_option), KVStore(module))
    gen2.process()
    assert [(e.severity, e.message) for e in reversed(log2.events())] == before
    # what happened while no mgr was active is reported once
    osd(module, 2)['up'] = 1
    module.notify('osd_map', '')
    gen2.notify('osd_map', '')
    gen2.process()
    assert [e.message for e in log2.events()][:1] == ['OSD ceph.2 came up (on vm)']


def test_state_is_small_at_scale():
    states = {i: (i % 3 != 0, i % 5 != 0) for i in range(10000)}
    packed = views.pack_osd_states(states)
    assert views.unpack_osd_states(packed) == {i: (int(u), int(n)) for i, (u, n) in states.items()}
    assert len(json.dumps(packed)) < 8000


def test_state_of_another_cluster_is_ignored(module, services, gen):
    module.store[STATE_KEY] = json.dumps({'fsid': 'other', 'servers': ['vm'], 'health': 'HEALTH_ERR'})
    gen.load_state(services.cluster.fsid)
    assert gen._state == {'fsid': services.cluster.fsid}


def test_late_reporting_and_regained_contact(module, services, gen):
    clock = {'now': 1000.0}
    module._ceph_get_latest_counter = lambda t, n, p: {p: (clock['now'] - 100, 0)}
    services.hosts._clock = lambda: clock['now']
    services.hosts._contacts = None
    gen._clock = lambda: clock['now']
    services.cluster._update_time = clock['now']
    n = len(services.events)
    gen.tick()
    module._ceph_get_latest_counter = lambda t, n, p: {p: (clock['now'], 0)}
    clock['now'] += 10
    gen.tick()
    clock['now'] += 100
    services.cluster._update_time = clock['now'] - 70
    gen.tick()
    services.cluster._update_time = clock['now']
    gen.tick()
    assert messages(services, n) == [
        (3, 'Server vm is late reporting in, last report at 1970-01-01 00:15:00+00:00'),
        (4, 'Server vm regained contact'),
        (3, "Cluster 'ceph' is late reporting in"),
        (4, "Cluster 'ceph' regained contact")]


def test_event_api(client, services, gen, fsid):
    for i in range(12):
        services.events.emit('INFO' if i % 2 else 'WARNING', f'm{i}', fsid=fsid if i < 6 else None,
                             fqdn='vm' if i % 3 == 0 else None)
    body = client.get('/api/v2/event?page_size=5&severity=WARNING').json()
    assert body['count'] == 6 and [e['message'] for e in body['results']] == ['m10', 'm8', 'm6', 'm4', 'm2']
    assert body['next'].endswith('event?page_size=5&severity=WARNING&page=2')
    assert client.get(f'/api/v2/cluster/{fsid}/event').json()['count'] == 6 + 1    # + Added server
    assert [e['message'] for e in client.get('/api/v2/server/vm/event?page_size=100').json()['results']][:4] == \
        ['m9', 'm6', 'm3', 'm0']
    assert client.get('/api/v2/server/nohost/event').json()['count'] == 0
    bad = client.get('/api/v2/event?severity=bogus')
    assert bad.status_code == 400
    assert bad.json() == {'detail': "Invalid severity 'bogus', must be one of CRITICAL,ERROR,WARNING,RECOVERY,INFO"}
    assert client.get('/api/v2/event?page=99').status_code == 400
