"""The Debian package (`tools/run-tests package`): what the .deb holds and needs, and an upgrade on a real cluster
of the tier's release (CALAMARI_TEST_RELEASE), installed with apt on this machine (Pacific) or in the Tentacle
root: a cluster in use with the older package (users, an API token, a session, a finished request), the new
package installed over it and the mgr restarted, and everything still there, served by the new version.  The
removal keeps the cluster's data.  The new package stays installed for the smoke set that follows on the same cluster
(test_smoke_installed.py).

CALAMARI_TEST_DEB: the package under test (built from HEAD); CALAMARI_TEST_OLD_DEB: the older one (v0.2.0)."""
import json
import os
import re
import subprocess
from typing import List

from tests.support.http_client import HttpClient
from tests.support.cluster import REPO, RealCluster
from tests.support.request_polling import finished

from .conftest import INSTALLED, NEW_DEB, OLD_DEB, PACKAGE


def deb_version(deb: str) -> str:
    return subprocess.run(['dpkg-deb', '-f', deb, 'Version'], capture_output=True, text=True, check=True).stdout.strip()


def checkout_version() -> str:
    with open(os.path.join(REPO, 'src', 'mgr', 'calamari_api', 'version.py')) as f:
        return re.search(r"VERSION = '([^']+)'", f.read()).group(1)


def test_the_package_holds_the_module_and_needs_a_supported_ceph_mgr():
    assert deb_version(NEW_DEB) == checkout_version()
    assert os.path.basename(NEW_DEB) == f'{PACKAGE}_{checkout_version()}_all.deb'
    depends = subprocess.run(['dpkg-deb', '-f', NEW_DEB, 'Depends'], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert [d.strip() for d in depends.split(',')] == [
        'ceph-mgr (>= 16.2~)', 'ceph-mgr (<< 21~)', 'python3-cherrypy3', 'python3-routes']
    listing = subprocess.run(['dpkg-deb', '-c', NEW_DEB], capture_output=True, text=True, check=True).stdout
    files = [line.split()[5].lstrip('.') for line in listing.splitlines() if not line.startswith('d')]
    module_files = [f for f in files if f.startswith(INSTALLED + '/')]
    expected = [os.path.join(INSTALLED, os.path.relpath(os.path.join(d, f), os.path.join(REPO, 'src/mgr/calamari_api')))
                for d, _, names in os.walk(os.path.join(REPO, 'src/mgr/calamari_api')) if '__pycache__' not in d
                for f in names if not f.endswith('.pyc')]
    assert sorted(module_files) == sorted(expected)
    others = [f for f in files if f not in module_files]
    assert others == [f'/usr/share/doc/{PACKAGE}/changelog.gz', f'/usr/share/doc/{PACKAGE}/copyright'], others
    assert not [f for f in files if '__pycache__' in f or '/tests/' in f or f.endswith('.pyc')]


def api_version(client: HttpClient) -> str:
    return client.get('/api/v2/info').json()['version']


def token_names(cluster: RealCluster) -> List[str]:
    return sorted(t['name'] for t in json.loads(cluster.ceph('calamari-api', 'token-list').stdout))


def test_upgrade_keeps_users_tokens_sessions_and_requests(apt, cluster):
    old, new = deb_version(OLD_DEB), deb_version(NEW_DEB)
    assert old != new
    assert apt.installed_version() == old
    try:
        assert os.readlink(os.path.join(cluster.dir, 'mgr-modules', 'calamari_api')) == INSTALLED
        admin = cluster.client()
        assert api_version(admin) == old

        # in use: a user with a session, an API token, a finished request
        cluster.create_user('upgrader', 'upgrade-password-1', 'read/write')
        session = cluster.client(username='upgrader', password='upgrade-password-1')
        token = cluster.ceph('calamari-api', 'token-create', 'upgrade-token', '--role', 'read/write').stdout.strip()
        request = finished(session, session.patch(f'/api/v2/cluster/{cluster.fsid}/osd_config', {'noscrub': True}))
        users = admin.get('/api/v2/user').json()
        tokens = token_names(cluster)
        assert 'upgrade-token' in tokens and 'upgrader' in [u['username'] for u in users]

        printed = apt.install(NEW_DEB)
        assert f'upgraded from {old}' in printed
        assert apt.installed_version() == new
        assert api_version(admin) == old            # (the mgr runs the module it loaded until it restarts)
        cluster.restart_active_mgr()

        assert api_version(admin) == new
        assert cluster.ceph('calamari-api', 'version').stdout.strip() == new
        me = session.get('/api/v2/user/me')
        assert (me.status_code, me.json()['username']) == (200, 'upgrader')     # the same session cookie
        assert admin.get('/api/v2/user').json() == users
        assert token_names(cluster) == tokens
        assert HttpClient(cluster.url, bearer=token).get('/api/v2/cluster').status_code == 200
        kept = admin.get(f'/api/v2/request/{request["id"]}').json()
        assert (kept['id'], kept['state'], kept['error']) == (request['id'], 'complete', False)
        assert request['id'] in [r['id'] for r in admin.get('/api/v2/request?page_size=100').json()['results']]
        finished(session, session.patch(f'/api/v2/cluster/{cluster.fsid}/osd_config', {'noscrub': False}))

        # removing the package removes the files on this host, never the cluster's data
        printed = apt.remove()
        assert 'is kept' in printed
        assert not os.path.exists((apt.root or '') + INSTALLED)
        keys = cluster.ceph_json('config-key', 'ls')
        assert any(k.startswith('mgr/calamari_api/') for k in keys), keys
        assert HttpClient(cluster.url, bearer=token).get('/api/v2/cluster').status_code == 200   # (still loaded)
    finally:
        apt.install(NEW_DEB)        # (for the smoke set on the installed module that follows)
    assert apt.installed_version() == new
