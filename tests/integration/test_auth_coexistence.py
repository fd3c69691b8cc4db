"""The module beside ceph-mgr-dashboard, in a separate small cluster whose mgr also loads the dashboard.

On Debian 12 the dashboard takes the process's only PyO3 slot, so `restful` fails to load there
(MGR_MODULE_DEPENDENCY) — a Debian packaging problem, not ours.  calamari_api imports nothing built with
PyO3, so it must load and serve, also while the dashboard itself is enabled and serving."""
import json
import os
import tempfile
import urllib.request

import pytest

from tests.integration.cluster import RealCluster, free_port, wait_for

DASHBOARD = '/usr/share/ceph/mgr/dashboard'

pytestmark = pytest.mark.skipif(not os.path.isdir(DASHBOARD),
                                reason='ceph-mgr-dashboard is not installed (tools/run-tests installs it)')


@pytest.fixture(scope='module')
def dashboard_cluster():
    real = RealCluster(tempfile.mkdtemp(prefix='calamari-dash-'))
    real.up('--dashboard', '--osds', '1', '--no-install')
    try:
        yield real
    finally:
        real.down()


def module_problems(cluster, name):
    checks = cluster.ceph_json('health', 'detail').get('checks', {})
    return [detail['message'] for check in checks.values() for detail in check.get('detail', [])
            if f"'{name}'" in detail['message']] + \
        [check['summary']['message'] for check in checks.values() if f"'{name}'" in check['summary']['message']]


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def test_calamari_api_loads_beside_the_dashboard(dashboard_cluster):
    cluster = dashboard_cluster
    modules = cluster.ceph_json('mgr', 'module', 'ls')
    assert 'calamari_api' in modules['enabled_modules']
    assert any(m['name'] == 'dashboard' for m in modules['disabled_modules'])     # imported by this mgr
    assert module_problems(cluster, 'calamari_api') == []
    client = cluster.client()
    assert client.get('/api/v2/cluster').json()[0]['id'] == cluster.fsid
    print('restful beside the dashboard:', module_problems(cluster, 'restful') or 'fine')


def test_both_serve_when_the_dashboard_is_enabled(dashboard_cluster):
    cluster = dashboard_cluster
    port = free_port()
    for key, value in (('ssl', 'false'), ('server_addr', '127.0.0.1'), ('server_port', str(port))):
        cluster.ceph('config', 'set', 'mgr', f'mgr/dashboard/{key}', value)
    cluster.ceph('mgr', 'module', 'enable', 'dashboard')
    wait_for(lambda: answers(f'http://127.0.0.1:{port}/'), 90, 'the dashboard')
    cluster.wait_api()
    assert module_problems(cluster, 'calamari_api') == []
    assert module_problems(cluster, 'dashboard') == []
    client = cluster.client()
    assert client.get('/api/v2/user/me').json()['username'] == 'admin'
    services = cluster.ceph_json('mgr', 'services')
    assert set(services) >= {'dashboard'}
    print('mgr services:', json.dumps(services))
