"""Reliability on a second real cluster with two mgrs: the standby answers 503, `ceph mgr fail` under load
hands the API over with users, sessions, finished requests and events intact, an in-flight request ends with
an error, and a mon outage neither hangs nor breaks the module."""
import os
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from tests.support.http_client import HttpClient
from tests.support.cluster import RELEASE, RealCluster, wait_for


DASHBOARD = RELEASE == 'tentacle' or os.path.isdir('/usr/share/ceph/mgr/dashboard')    # (Tentacle's root has it)


@pytest.fixture(scope='module')
def ha():
    """Two mgrs; with ceph-mgr-dashboard installed, the dashboard is loaded in them too."""
    cluster = RealCluster(tempfile.mkdtemp(prefix='calamari-ha-'))
    cluster.up('--no-install', '--mgrs', '2', *(['--dashboard'] if DASHBOARD else []))
    try:
        yield cluster
    finally:
        cluster.down()


def active_url(cluster: RealCluster) -> str:
    return cluster.ceph_json('mgr', 'services').get('calamari_api', '').rstrip('/')


def mgr_urls(cluster: RealCluster):
    ports = {'x': cluster.api_port, 'y': cluster.api_port + 1}
    # while both mgrs respawn (a module enabled) the map has no active one for a moment: wait for one
    dump = wait_for(lambda: (lambda d: d if d.get('active_name') in ports else None)(cluster.ceph_json('mgr', 'dump')),
                    120, 'an active mgr in the mgr map', interval=0.5, detail=cluster.mgr_story)
    active = dump['active_name']
    standby = next(m for m in ports if m != active)
    return active, f'http://127.0.0.1:{ports[active]}', f'http://127.0.0.1:{ports[standby]}'


def status_of(base: str, path: str = '/api/v2/info') -> int:
    try:
        return HttpClient(base, timeout=5).get(path).status_code
    except OSError:
        return 0


def module_checks(cluster: RealCluster):
    checks = cluster.ceph_json('health', 'detail').get('checks', {})
    return {name: check for name, check in checks.items() if name.startswith('MGR_MODULE')}


def serving_modules(cluster: RealCluster, ports) -> set:
    """Which of dashboard, prometheus and calamari_api answer on the active mgr right now."""
    active, api, _ = mgr_urls(cluster)
    serving = {'calamari_api'} if status_of(api, '/api/v2/info') == 200 else set()
    if status_of(f'http://127.0.0.1:{ports["dashboard"][active]}', '/') == 200:
        serving.add('dashboard')
    if status_of(f'http://127.0.0.1:{ports["prometheus"][active]}', '/metrics') == 200:
        serving.add('prometheus')
    return serving


@pytest.fixture
def neighbours(ha):
    """The dashboard and prometheus enabled beside calamari_api (each mgr's on its own port), disabled after."""
    ports = {'dashboard': {'x': ha.api_port + 10, 'y': ha.api_port + 11},
             'prometheus': {'x': ha.api_port + 20, 'y': ha.api_port + 21}}
    for key, val in (('ssl', 'false'), ('server_addr', '127.0.0.1')):
        ha.ceph('config', 'set', 'mgr', f'mgr/dashboard/{key}', val, '--force')
    ha.ceph('config', 'set', 'mgr', 'mgr/prometheus/server_addr', '127.0.0.1', '--force')
    for module, by_mgr in ports.items():
        for mgr_id, port in by_mgr.items():
            ha.ceph('config', 'set', 'mgr', f'mgr/{module}/{mgr_id}/server_port', str(port), '--force')
    assert 'restful' not in ha.ceph_json('mgr', 'module', 'ls')['enabled_modules']
    for module in ports:
        ha.ceph('mgr', 'module', 'enable', module)
    try:
        yield ports
    finally:
        for module in ports:
            ha.ceph('mgr', 'module', 'disable', module)


def all_three_serve_without_module_errors(cluster: RealCluster, ports, wait) -> None:
    wait(lambda: serving_modules(cluster, ports) == {'dashboard', 'prometheus', 'calamari_api'}, 120,
         'dashboard, prometheus and calamari_api on the active mgr')
    client = cluster.client(base=mgr_urls(cluster)[1])
    assert client.get(f'/api/v2/cluster/{cluster.fsid}/osd').status_code == 200
    assert {'dashboard', 'prometheus', 'calamari_api'} <= set(cluster.ceph_json('mgr', 'module', 'ls')[
        'enabled_modules'])
    # the mgr reports health every few seconds: give a stale report time to be replaced, then require none
    try:
        wait(lambda: not module_checks(cluster), 30, 'no MGR_MODULE_* health check')
    except AssertionError:
        pass
    assert module_checks(cluster) == {}


def loaded_in(cluster: RealCluster, mgr_id: str) -> str:
    """Where the mgr's last start loaded calamari_api: 'main interpreter' or 'sub-interpreter' (Tentacle's log)."""
    with open(os.path.join(cluster.dir, 'log', f'mgr.{mgr_id}.log'), errors='replace') as f:
        lines = [line for line in f if 'Loading module calamari_api in ' in line]
    return lines[-1].split('Loading module calamari_api in ')[1].strip() if lines else ''


def wait_settled(cluster: RealCluster) -> None:
    """Until the mgr map has an active and a standby and each serves (the active 200, the standby 503): after a
    module is enabled both mgrs respawn, and a failover while the standby is still restarting leaves the mon no
    standby to promote, so the first mgr to report, the failed one included, becomes active."""
    def settled() -> bool:
        dump = cluster.ceph_json('mgr', 'dump')
        if not dump.get('available') or not dump.get('standbys'):
            return False
        _, active, standby = mgr_urls(cluster)
        return status_of(active) == 200 and status_of(standby) == 503
    wait_for(settled, 120, 'an active and a standby mgr, each serving', interval=0.5, detail=cluster.mgr_story)


def fail_over(cluster: RealCluster) -> str:
    """`ceph mgr fail` the active mgr once both mgrs serve (it restarts as a standby); returns the new active's
    name once the failed mgr is a standby again, for the same reason."""
    wait_settled(cluster)
    old = mgr_urls(cluster)[0]
    cluster.ceph('mgr', 'fail', old)
    new = wait_for(lambda: (lambda d: d['active_name'] if d.get('available') and d['active_name'] != old else None)(
        cluster.ceph_json('mgr', 'dump')), 90, 'a new active mgr', detail=cluster.mgr_story)
    wait_for(lambda: old in {m['name'] for m in cluster.ceph_json('mgr', 'dump').get('standbys', [])}, 90,
             f'mgr.{old} back as a standby', detail=cluster.mgr_story)
    cluster.wait_api(base=mgr_urls(cluster)[1])
    return new


@pytest.mark.skipif(not DASHBOARD, reason='ceph-mgr-dashboard is not installed (tools/run-tests installs it)')
def test_coexists_with_the_dashboard_and_prometheus(ha, neighbours, wait):
    """dashboard, prometheus and calamari_api in one mgr all serve, before and after a failover, and none reports an
    error.  On Tentacle (20.2.2 and later) the three share the main interpreter and so one CherryPy.  (restful
    cannot load beside the dashboard on Debian 12's Pacific — both want the process's single PyO3 slot — so
    `dev-cluster --dashboard` keeps it disabled, as it must be on such a mgr; Tentacle has no restful.)"""
    all_three_serve_without_module_errors(ha, neighbours, wait)
    new_active = fail_over(ha)
    all_three_serve_without_module_errors(ha, neighbours, wait)
    if ha.release == 'tentacle':
        assert loaded_in(ha, new_active) == 'main interpreter'


def test_standby_answers_503_pointing_at_the_active(ha):
    wait_settled(ha)                    # (the standby answers 503 by then)
    _, active, standby = mgr_urls(ha)
    port = active.split(':')[-1]
    # the standby learns the active's URL from the next mgr map it receives
    response = wait_for(lambda: (lambda r: r if port in r.content.decode() else None)(
        HttpClient(standby).get('/api/v2/cluster')), 30, 'the standby to name the active mgr')
    assert response.status_code == 503
    assert 'standby' in response.json()['detail']


def test_failover_keeps_state_and_fails_in_flight_requests(ha, capsys):
    wait_settled(ha)
    active_name, active, standby = mgr_urls(ha)
    ha.create_user('ha-reader', 'ha-reader-pw', 'readonly')
    admin = ha.client(base=active)
    reader = ha.client(username='ha-reader', password='ha-reader-pw', base=active)
    # a finished request, and one that will still be running when the mgr goes away
    response = admin.patch(f'/api/v2/cluster/{ha.fsid}/osd_config', {'noscrub': True})
    assert response.status_code == 202
    finished_id = response.json()['request_id']
    wait_for(lambda: admin.get(f'/api/v2/request/{finished_id}').json()['state'] == 'complete', 60, 'request')
    fqdn = admin.get('/api/v2/server').json()[0]['fqdn']
    blocked = admin.post(f'/api/v2/server/{fqdn}/debug_job', {'cmd': 'ceph.selftest_block', 'args': []})
    assert blocked.status_code == 202, blocked.content
    blocked_id = blocked.json()['request_id']
    events_before = admin.get('/api/v2/event?page_size=1000').json()['count']

    # steady read + write load against whichever mgr is active, while it fails over
    stop = threading.Event()
    outcomes = []

    def load():
        while not stop.is_set():
            for base in (active, standby):
                code = status_of(base, f'/api/v2/cluster/{ha.fsid}/osd')
                outcomes.append((time.time(), base, code))
            time.sleep(0.05)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    failed_at = time.time()
    ha.ceph('mgr', 'fail', active_name)
    new_base = wait_for(lambda: active_url(ha) if active_url(ha) not in ('', active) else None, 90,
                        'a new active mgr', detail=ha.mgr_story)
    ha.wait_api(base=new_base)
    back_at = wait_for(lambda: time.time() if status_of(new_base, '/api/v2/info') == 200 else None, 90, 'the API')
    stop.set()
    worker.join()
    with capsys.disabled():
        print(f'\nfailover: API unavailable for {back_at - failed_at:.1f}s (ceph mgr fail -> new active answers)')
    assert not any(code >= 500 and code != 503 for _, _, code in outcomes), outcomes

    # the same cookies still work on the new active mgr
    admin.rebase(new_base)
    reader.rebase(new_base)
    assert reader.get(f'/api/v2/cluster/{ha.fsid}/osd').status_code == 200
    assert reader.get('/api/v2/user/me').json()['username'] == 'ha-reader'
    finished = admin.get(f'/api/v2/request/{finished_id}').json()
    assert finished['state'] == 'complete' and finished['error'] is False
    lost = wait_for(lambda: admin.get(f'/api/v2/request/{blocked_id}').json(), 30, 'the lost request')
    assert lost['state'] == 'complete' and lost['error'] is True and lost['error_message'], lost
    assert admin.get('/api/v2/event?page_size=1000').json()['count'] >= events_before
    restore = admin.patch(f'/api/v2/cluster/{ha.fsid}/osd_config', {'noscrub': False})
    assert restore.status_code == 202
    restore_id = restore.json()['request_id']
    wait_for(lambda: admin.get(f'/api/v2/request/{restore_id}').json()['state'] == 'complete', 60, 'the restore')


def test_mon_outage_neither_hangs_nor_breaks_the_module(ha):
    base = active_url(ha)
    client = ha.client(base=base)
    pid = int(open(os.path.join(ha.dir, 'run', 'mon.a.pid')).read())
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists(f'/proc/{pid}'), 30, 'the mon to stop')
    try:
        started = time.time()
        response = client.get(f'/api/v2/cluster/{ha.fsid}/osd')
        assert response.status_code in (200, 503)           # last known maps, or a clear 503
        assert time.time() - started < 30
        write = client.patch(f'/api/v2/cluster/{ha.fsid}/osd_config', {'nodeep-scrub': True})
        assert write.status_code in (202, 503), write.content
    finally:
        subprocess.run(ha.tool('ceph-mon', '-c', ha.conf, '-i', 'a'), check=True)
    wait_for(lambda: ha.ceph('status', check=False, timeout=20).returncode == 0, 60, 'the mon')
    if write.status_code == 202:
        request_id = write.json()['request_id']
        done = wait_for(lambda: client.get(f'/api/v2/request/{request_id}').json()['state'] == 'complete', 180,
                        'the write to finish (or fail) after the outage')
        assert done
    client.patch(f'/api/v2/cluster/{ha.fsid}/osd_config', {'nodeep-scrub': False})
    assert client.get(f'/api/v2/cluster/{ha.fsid}/osd').status_code == 200
    health = ha.ceph_json('health', 'detail')
    assert 'MGR_MODULE_ERROR' not in health.get('checks', {})


@pytest.mark.skipif(RELEASE != 'tentacle' or not DASHBOARD, reason='Pacific runs every module in a sub-interpreter')
def test_serves_from_a_sub_interpreter_too(ha, neighbours, wait):
    """Listed in `mgr_subinterpreter_modules`, calamari_api gets its own interpreter again (and its own CherryPy)."""
    ha.ceph('config', 'set', 'mgr', 'mgr_subinterpreter_modules', 'calamari_api')
    try:
        fail_over(ha)                   # the failed mgr restarts and reads the option; then make it the active one
        active = fail_over(ha)
        # the mgr logs through its own log thread: give the line of this start a moment to reach the file
        wait(lambda: loaded_in(ha, active) == 'sub-interpreter', 30, f'mgr.{active} to load calamari_api in a '
             'sub-interpreter', detail=ha.mgr_story)
        all_three_serve_without_module_errors(ha, neighbours, wait)
    finally:
        ha.ceph('config', 'rm', 'mgr', 'mgr_subinterpreter_modules')
