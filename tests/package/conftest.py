"""The package tier's cluster: one per session, started on the older package (CALAMARI_TEST_OLD_DEB) installed
with apt for the tier's release, upgraded by test_package.py, then used by the smoke set (test_smoke_installed.py).
The fixtures the integration tests take (cluster, client, anon, fsid, wait) are this cluster's."""
import os
import shutil
import subprocess
import tempfile

import pytest

from tests.support.cluster import LAUNCHER, RELEASE, RealCluster, wait_for

NEW_DEB = os.environ.get('CALAMARI_TEST_DEB', '')
OLD_DEB = os.environ.get('CALAMARI_TEST_OLD_DEB', '')
PACKAGE = 'ceph-mgr-calamari-api'
INSTALLED = '/usr/share/ceph/mgr/calamari_api'


class Apt:
    """apt and dpkg of the release: this machine's (Pacific) or, with chroot, the Tentacle root's."""

    def __init__(self, release: str) -> None:
        self.root = ''
        if release != 'system':
            self.root = subprocess.run([LAUNCHER, 'root', '--release', release], capture_output=True, text=True,
                                       check=True).stdout.strip()

    def run(self, *args: str) -> str:
        command = (['chroot', self.root] if self.root else []) + list(args)
        proc = subprocess.run(command, capture_output=True, text=True, timeout=900,
                              env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'))
        assert proc.returncode == 0, f'{" ".join(command)} failed:\n{proc.stdout}\n{proc.stderr}'
        return proc.stdout

    def install(self, deb: str) -> str:
        """`apt-get install ./<deb>` (the .deb copied into the root first); returns what it printed."""
        path = deb
        if self.root:
            path = f'/tmp/{os.path.basename(deb)}'
            shutil.copy(deb, self.root + path)
        try:
            return self.run('apt-get', '-o', 'DPkg::Lock::Timeout=900', 'install', '-y', '--no-install-recommends',
                            '--allow-downgrades', path)
        finally:
            if self.root:
                os.unlink(self.root + path)

    def remove(self) -> str:
        return self.run('dpkg', '--remove', PACKAGE)

    def installed_version(self) -> str:
        return self.run('dpkg-query', '-W', '-f=${Version}', PACKAGE)


def pytest_collection_modifyitems(items):
    if not (NEW_DEB and OLD_DEB):
        skip = pytest.mark.skip(reason='tools/run-tests package builds the packages')
        for item in items:
            item.add_marker(skip)


@pytest.fixture(scope='session')
def apt():
    return Apt(RELEASE)


@pytest.fixture(scope='session')
def cluster(apt):
    apt.install(OLD_DEB)
    real = RealCluster(tempfile.mkdtemp(prefix='calamari-pkg-'))
    real.up('--module-src', INSTALLED, '--osds', '1', '--bench-module')     # (test_foundation's floor test)
    try:
        yield real
    finally:
        real.down()


@pytest.fixture
def client(cluster):
    return cluster.client()


@pytest.fixture
def anon(cluster):
    return cluster.client(login=False)


@pytest.fixture
def fsid(cluster):
    return cluster.fsid


@pytest.fixture
def wait():
    return wait_for
