"""Calamari's web apps served by the module on a real cluster (option ui_path), from a small stand-in
calamari-clients tree (the project ships none of its files), with Calamari's redirects, and the dashboard's
first requests through the same session."""
import os
import shutil
from pathlib import Path

import pytest

from tests.support.cluster import wait_for
from tests.support.ui_tree import make_tree


@pytest.fixture(scope='module')
def ui_tree(cluster):
    """The stand-in tree, inside the cluster's directory (which the mgr sees on every release)."""
    root = os.path.join(cluster.dir, 'calamari-clients')
    make_tree(Path(root))
    cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/ui_path', root)
    anon = cluster.client(login=False)
    wait_for(lambda: anon.get('/login/').status_code == 200, 30, 'ui_path to take effect')
    yield root
    # (a running Pacific mgr does not see `config rm` of a module option: set the default first)
    cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/ui_path', '')
    cluster.ceph('config', 'rm', 'mgr', 'mgr/calamari_api/ui_path')
    wait_for(lambda: anon.get('/login/').status_code == 404, 30, 'ui_path to be unset')
    shutil.rmtree(root)


def test_apps_and_redirects(cluster, ui_tree):
    anon = cluster.client(login=False)
    for app in ('login', 'manage', 'admin'):
        response = anon.get(f'/{app}/')
        assert (response.status_code, response.content) == (200, f'<html>{app}</html>'.encode())
        response = anon.get(f'/{app}')
        assert (response.status_code, response.headers['location']) == (302, f'/{app}/')
    response = anon.get('/')
    assert (response.status_code, response.headers['location']) == (302, '/dashboard/')
    response = anon.get('/dashboard/')
    assert (response.status_code, response.headers['location']) == (302, '/login/?next=/dashboard/')
    assert anon.get('/login/../secret.txt').status_code == 404


def test_dashboard_after_login(cluster, ui_tree, fsid):
    """Log in as the login app does (v1), then what the dashboard loads first (V1-DASHBOARD.md §2, §4.1)."""
    ui = cluster.client(login=False)
    assert ui.get('/api/v1/auth/login/').status_code == 200
    response = ui.post('/api/v1/auth/login/', {'username': cluster.admin['username'],
                                               'password': cluster.admin['password']})
    assert response.status_code == 200
    assert ui.get('/dashboard/').content == b'<html>dashboard</html>'
    head = ui.request('HEAD', '/dashboard/scripts/config.json')
    assert head.status_code == 200 and head.headers['content-type'] == 'application/json'
    config = ui.get('/dashboard/scripts/config.json').json()
    assert ui.get('/dashboard/scripts/locales/en/strings.l20n').status_code == 200
    assert ui.get('/api/v1/user/me').json()['username'] == cluster.admin['username']
    assert ui.get('/api/v1/cluster').json()[0]['id'] == fsid
    graphite = config['graphite-host']
    target = f'sumSeries(ceph.cluster.{fsid}.pool.all.num_read,ceph.cluster.{fsid}.pool.all.num_write)'
    response = ui.get(f'{graphite}/render/?format=json-array&from=-1d&target={target}')
    assert response.status_code == 200 and response.json()['targets'] == [target]
    assert ui.get(f'{graphite}/metrics/find?query=ceph.cluster.{fsid}.pool.*').status_code == 200
    assert ui.get('/api/v1/auth/logout').status_code == 200
    response = ui.get('/dashboard/')
    assert (response.status_code, response.headers['location']) == (302, '/login/?next=/dashboard/')
