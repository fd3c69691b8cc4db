"""Many clusters from one endpoint (issue 26), on two real clusters: the tier's cluster is the hub, and a second
cluster of the other release (Tentacle when the tier runs on Pacific, Pacific on Tentacle) is its member."""
import json
import os
import signal
import ssl
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.cluster import RELEASE, RealCluster, wait_for

OTHER_RELEASE = 'tentacle' if RELEASE == 'system' else 'system'
MISSING = 'X-Calamari-Missing-Clusters'


@pytest.fixture(scope='session')
def member_start():
    """The member cluster (1 OSD is enough), started in the background while the tier's cluster starts (this
    module's tests ask for it first: pytestmark)."""
    real = RealCluster(tempfile.mkdtemp(prefix='calamari-it-member-'), release=OTHER_RELEASE)
    pool = ThreadPoolExecutor(max_workers=1)
    started = pool.submit(real.up, '--osds', '1')
    yield real, started
    pool.shutdown(wait=True)
    if real.state:
        real.down()


pytestmark = pytest.mark.usefixtures('member_start')


@pytest.fixture(scope='module')
def joined(member_start, cluster):
    """The member added to the hub with a token made on the member (the dev-cluster join steps); stopped at the
    end of this module (the rest of the tier does not need it)."""
    member, started = member_start
    started.result()
    token = member.ceph('calamari-api', 'token-create', 'hub', '--role', 'superuser').stdout.strip()
    added = cluster.ceph('calamari-api', 'cluster-add', member.url, '-i', '-', input_text=token + '\n')
    assert json.loads(added.stdout)['fsid'] == member.fsid
    yield member
    cluster.ceph('calamari-api', 'cluster-rm', member.fsid)
    member.down()
    member.state = {}


@pytest.fixture
def direct(joined):
    return joined.client()


def hub_path(member, rest: str) -> str:
    return f'/api/v2/cluster/{member.fsid}/{rest}'


def test_cluster_ls_shows_the_member_without_its_token(cluster, joined):
    listed = json.loads(cluster.ceph('calamari-api', 'cluster-ls').stdout)
    assert [(m['fsid'], m['url'], m['reachable']) for m in listed] == [(joined.fsid, joined.url, True)]
    version = '.'.join(map(str, joined.ceph_version))
    assert version in listed[0]['release']
    assert 'calapi_' not in cluster.ceph('calamari-api', 'cluster-ls').stdout


def test_cluster_lists_this_cluster_first_then_the_member(client, cluster, joined):
    clusters = client.get('/api/v2/cluster').json()
    assert [c['id'] for c in clusters] == [cluster.fsid, joined.fsid]
    assert client.get(f'/api/v2/cluster/{joined.fsid}').json()['id'] == joined.fsid


@pytest.mark.parametrize('rest', ['osd', 'pool', 'crush_rule', 'crush_node', 'config', 'osd_config', 'mon',
                                  'osd/0', 'pool/1', 'crush_map', 'nope'])
def test_each_member_route_answers_what_the_member_answers(client, direct, joined, rest):
    def same():
        via_hub, own = client.get(hub_path(joined, rest)), direct.get(hub_path(joined, rest))
        return (via_hub.status_code, via_hub.content) == (own.status_code, own.content) and via_hub
    answer = wait_for(same, 20, f'{rest} through the hub to equal the member\'s own answer')
    assert answer.headers['Content-Type'].startswith(('application/json', 'text/plain'))


def test_merged_lists_are_the_union(client, cluster, joined, direct):
    def services_of(servers):
        return {(s['fsid'], s['type'], s['id']) for server in servers for s in server['services']}

    def union_of_servers():
        merged = client.get('/api/v2/server')
        own = direct.get('/api/v2/server').json()
        local = {s for s in services_of(merged.json()) if s[0] == cluster.fsid}
        return MISSING not in merged.headers and services_of(merged.json()) == local | services_of(own)
    wait_for(union_of_servers, 30, 'the merged server list to hold both clusters\' services')
    fqdns = [s['fqdn'] for s in client.get('/api/v2/server').json()]
    assert fqdns == sorted(fqdns)
    some = fqdns[0]
    assert {s['fsid'] for s in client.get(f'/api/v2/server/{some}').json()['services']} >= {joined.fsid}

    keys = {k['id'] for k in client.get('/api/v2/key').json()}
    assert keys >= {k['id'] for k in direct.get('/api/v2/key').json()}

    def union_of_events():
        merged = [event_key(e) for e in all_events(client, '/api/v2/event')]
        member_own = [event_key(e) for e in all_events(direct, '/api/v2/event')]
        hub_scoped = [event_key(e) for e in all_events(client, f'/api/v2/cluster/{cluster.fsid}/event')]
        rest = list(merged)
        for key in member_own:
            if key not in rest:
                return False
            rest.remove(key)
        return all(key in rest for key in hub_scoped) and merged
    merged = wait_for(union_of_events, 30, 'merged events = the hub\'s and the member\'s events')
    assert [key[0] for key in merged] == sorted((key[0] for key in merged), reverse=True)


def event_key(event):
    return event['when'], event['severity'], event['message']


def all_events(client, path):
    """Every event of a paginated event list, page after page."""
    results, page = [], 1
    while True:
        got = client.get(f'{path}?page_size=1000&page={page}').json()
        results += got['results']
        if not got['next']:
            assert len(results) == got['count']
            return results
        page += 1


def test_a_write_to_the_member_is_tracked_through_the_hub(cluster, client, direct, joined):
    cluster.create_user('hub-reader', 'reader-password', 'readonly')
    reader = cluster.client(username='hub-reader', password='reader-password')
    assert reader.post(hub_path(joined, 'pool'), {'name': 'denied', 'pg_num': 8}).status_code == 403
    name = f'hubpool{int(time.time())}'
    answer = client.post(hub_path(joined, 'pool'), {'name': name, 'pg_num': 8})
    assert answer.status_code == 202, answer.content
    request_id = answer.json()['request_id']
    done = wait_for(lambda: (lambda r: r if r['state'] == 'complete' else None)(
        client.get(f'/api/v2/request/{request_id}').json()), 60, 'the member\'s request to complete')
    assert done['error'] is False, done
    assert client.get(hub_path(joined, f'request/{request_id}')).json()['state'] == 'complete'
    assert request_id in [r['id'] for r in client.get('/api/v2/request?page_size=100').json()['results']]
    assert name in [p['name'] for p in direct.get(hub_path(joined, 'pool')).json()]
    assert name not in [p['name'] for p in client.get(f'/api/v2/cluster/{cluster.fsid}/pool').json()]
    pool_id = [p['id'] for p in direct.get(hub_path(joined, 'pool')).json() if p['name'] == name][0]
    assert client.delete(hub_path(joined, f'pool/{pool_id}'), {'name': name}).status_code == 202


V1_POLLED = ('server', 'health', 'space', 'health_counters', 'osd', 'pool')      # V1-DASHBOARD.md §4.1-4.2


def test_calamaris_dashboard_through_the_hub(cluster, direct, joined):
    """The calls Calamari's dashboard makes (V1-DASHBOARD.md §4, with a readonly session on the hub) for the
    hub's own fsid, the first in the cluster list, and for the member's, the UI's cluster drop-down: each answers
    as the member answers the same call directly (the fields the dashboard reads)."""
    cluster.create_user('hub-dashboard', 'dashboard-password', 'readonly')
    ui = cluster.client(username='hub-dashboard', password='dashboard-password')
    assert ui.get('/api/v1/user/me').json()['username'] == 'hub-dashboard'
    clusters = ui.get('/api/v1/cluster').json()
    assert [c['id'] for c in clusters] == [cluster.fsid, joined.fsid]
    for fsid in (cluster.fsid, joined.fsid):
        heartbeat = ui.get(f'/api/v1/cluster/{fsid}').json()
        assert heartbeat['id'] == fsid and isinstance(heartbeat['cluster_update_time_unix'], int)
        got = {rest: ui.get(f'/api/v1/cluster/{fsid}/{rest}') for rest in V1_POLLED}
        assert {rest: r.status_code for rest, r in got.items()} == {rest: 200 for rest in V1_POLLED}, \
            {rest: r.content[:300] for rest, r in got.items()}
        assert got['health'].json()['report']['overall_status'].startswith('HEALTH_')
        assert {'ok', 'warn', 'critical'} <= set(got['health_counters'].json()['osd'])
        assert got['space'].json()['space']['capacity_bytes'] > 0
        assert all(o['up'] in (0, 1) and o['in'] in (0, 1) for o in got['osd'].json()['osds'])
        assert all(isinstance(p['pool_id'], int) and p['name'] for p in got['pool'].json())
        assert any(s['type'] == 'mon' for server in got['server'].json() for s in server['services'])
        requests = ui.get(f'/api/v2/cluster/{fsid}/request?page_size=32')
        assert requests.status_code == 200 and 'results' in requests.json()
        card = f'sumSeries(ceph.cluster.{fsid}.pool.all.num_read,ceph.cluster.{fsid}.pool.all.num_write)'
        url = f'/graphite/render/?format=json-array&from=-1d&target={card}'
        # (a new cluster's first sample may come before its PG stats: the series then appear a sample later)
        wait_for(lambda: (lambda r: r.status_code == 200 and r.json()['targets'] == [card])(ui.get(url)), 90,
                 f'the IOPS card of {fsid}', interval=2, detail=lambda: str(ui.get(url).content[:300]))
    member_osds = direct.get(f'/api/v1/cluster/{joined.fsid}/osd').json()['osds']
    via_hub = ui.get(f'/api/v1/cluster/{joined.fsid}/osd').json()['osds']
    assert [(o['osd'], o['fqdn']) for o in via_hub] == [(o['osd'], o['fqdn']) for o in member_osds]
    assert ui.get('/api/v2/info').status_code == 200
    assert ui.get('/api/v1/auth/logout').status_code == 200
    assert ui.get(f'/api/v1/cluster/{joined.fsid}/health').status_code == 403      # the UI's "session expired"


def test_a_stopped_member_is_a_quick_503_and_comes_back_by_itself(cluster, client, joined):
    mgr_pid = int(open(os.path.join(joined.dir, 'run', 'mgr.x.pid')).read())
    os.kill(mgr_pid, signal.SIGSTOP)            # the member's mgr answers nothing (a hung or unreachable member)
    try:
        started = time.time()
        down = client.get(hub_path(joined, 'osd'))
        took = time.time() - started
        assert down.status_code == 503 and joined.fsid in down.json()['detail'], down.content
        assert took < 6, took
        started = time.time()
        servers = client.get('/api/v2/server')
        assert servers.status_code == 200 and servers.headers[MISSING] == joined.fsid
        assert client.get(f'/api/v2/cluster/{cluster.fsid}/osd').status_code == 200
        assert [c['id'] for c in client.get('/api/v2/cluster').json()] == [cluster.fsid, joined.fsid]
        assert time.time() - started < 3
        assert any(e['message'].startswith('Lost contact with cluster') for e in
                   client.get('/api/v2/event?page_size=20').json()['results'])
    finally:
        os.kill(mgr_pid, signal.SIGCONT)
    wait_for(lambda: client.get(hub_path(joined, 'osd')).status_code == 200, 30, 'the member to be back')
    listed = json.loads(cluster.ceph('calamari-api', 'cluster-ls').stdout)
    assert listed[0]['reachable'] is True
    assert any(e['message'].startswith('Regained contact with cluster') for e in
               client.get('/api/v2/event?page_size=20').json()['results'])


def served_pem(port):
    try:
        return ssl.get_server_certificate(('127.0.0.1', port), timeout=3)
    except (OSError, ssl.SSLError):
        return None


def test_zz_a_member_over_verified_tls(cluster, client, joined):
    """The member serves HTTPS with create-self-signed-cert's certificate (CN calamari-api, no name for 127.0.0.1):
    the hub refuses it unverified, refuses it with the CA but the URL's host as the name, and adds it with
    ``--tls-name calamari-api``; its routes then answer through the hub as before.  (Last in this module: the
    member stays on HTTPS until the module's fixture removes it.)"""
    before = client.get(hub_path(joined, 'osd'))
    joined.ceph('calamari-api', 'create-self-signed-cert')
    joined.ceph('config', 'set', 'mgr', 'mgr/calamari_api/ssl', 'true')
    pem = wait_for(lambda: served_pem(joined.api_port), 60, 'the member to serve HTTPS')
    url = f'https://127.0.0.1:{joined.api_port}'
    token = joined.ceph('calamari-api', 'token-create', 'hub-tls', '--role', 'superuser').stdout.strip()

    def add(*extra, ca=True):
        return cluster.ceph('calamari-api', 'cluster-add', url, *extra, '-i', '-', check=False,
                            input_text=token + '\n' + (pem if ca else ''))
    unverified = add(ca=False)
    assert unverified.returncode != 0 and 'certificate' in unverified.stderr.lower(), unverified.stderr
    wrong_name = add()
    assert wrong_name.returncode != 0 and '127.0.0.1' in wrong_name.stderr, wrong_name.stderr
    added = add('--tls-name', 'calamari-api')
    assert added.returncode == 0, added.stderr
    listed = json.loads(cluster.ceph('calamari-api', 'cluster-ls').stdout)
    assert [(m['url'], m['ca'], m['tls_name'], m['reachable']) for m in listed] == \
        [(url, True, 'calamari-api', True)]
    assert 'BEGIN CERTIFICATE' not in cluster.ceph('calamari-api', 'cluster-ls').stdout
    after = wait_for(lambda: (lambda r: r.status_code == 200 and r)(client.get(hub_path(joined, 'osd'))), 30,
                     'the member\'s OSDs through the hub over HTTPS')
    assert [o['id'] for o in after.json()] == [o['id'] for o in before.json()]
