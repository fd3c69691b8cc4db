"""The launcher and the module's start-up on a real mgr: a module that cannot load says why (in `ceph mgr module
ls`, in the refusal of `enable` and in the mgr log), and an `up` that fails there leaves no daemon running."""
import json
import os
import re
import shutil
import tempfile

import pytest

from tests.support.cluster import RELEASE, REPO, RealCluster


@pytest.fixture
def broken_module():
    """A copy of the module whose import fails (as a missing dependency or an unhandled release difference would)."""
    directory = tempfile.mkdtemp(prefix='calamari-broken-')
    module = os.path.join(directory, 'calamari_api')
    shutil.copytree(os.path.join(REPO, 'src', 'mgr', 'calamari_api'), module,
                    ignore=shutil.ignore_patterns('__pycache__'))
    with open(os.path.join(module, 'module.py'), 'a') as f:
        f.write("\nraise ImportError('injected by test_launcher')\n")
    yield module
    shutil.rmtree(directory)


def test_a_module_that_cannot_load_says_why_and_a_failed_up_stops_its_daemons(broken_module):
    cluster = RealCluster(tempfile.mkdtemp(prefix='calamari-broken-cluster-'))
    with pytest.raises(RuntimeError) as failure:        # (the launcher alone: RealCluster.up would clean up itself)
        cluster.launcher('up', '--release', RELEASE, '--no-install', '--osds', '1', '--module-src', broken_module)
    # `ceph mgr module enable` refused with the import error as the reason
    assert "reports that it cannot run on the active manager daemon: injected by test_launcher" in str(failure.value)
    try:
        with open(os.path.join(cluster.dir, 'state.json')) as f:
            state = json.load(f)
        assert state['mgrs'] and state['osds']                      # it got as far as starting them all
        running = [name for name in os.listdir(os.path.join(cluster.dir, 'run')) if name.endswith('.pid')
                   and os.path.exists(f"/proc/{open(os.path.join(cluster.dir, 'run', name)).read().strip()}")]
        assert running == [], 'the failed up left daemons running'
        with open(os.path.join(cluster.dir, 'log', 'mgr.x.log'), errors='replace') as f:
            log = f.read()
        # the traceback, down to the failing line (ceph-mgr's own "Class not found" only follows it)
        assert re.search(r"Traceback \(most recent call last\):\n(.*\n)*?  File \".*/calamari_api/module.py\", line "
                         r"\d+, in <module>\n.*\n(.*\n)?ImportError: injected by test_launcher", log), log[-3000:]
    finally:
        cluster.launcher('down', '--purge')


def test_an_up_of_a_running_cluster_leaves_the_module_links_alone(cluster):
    """`ceph mgr fail` then `up` (RealCluster.restart_active_mgr) runs beside the respawned mgr's imports: the links
    it imports through stay the same files (an `up` once unlinked and linked them again, and the mgr's import of
    `mgr_commands.py` in that moment failed: CI, Tentacle, 2026-12-07)."""
    modules = os.path.join(cluster.dir, 'mgr-modules')
    links = {name: os.lstat(os.path.join(modules, name)) for name in ('calamari_api', 'calamari_bench')}
    cluster.launcher('up', '--no-install')
    for name, before in links.items():
        after = os.lstat(os.path.join(modules, name))
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), name
    assert not [name for name in os.listdir(modules) if name.endswith('.new')]
