"""Integration tier: one real cluster (1 mon, 1 mgr, 3 memstore OSDs) per test session.

CALAMARI_TEST_CLUSTER_DIR=<dir> reuses a cluster already started there with tools/dev-cluster (the mgr is
failed over first so it loads the current code) and leaves it running afterwards."""
import os
import sys
import tempfile

import pytest

from tests.support.cluster import REPO, RealCluster, wait_for

sys.path.insert(0, os.path.join(REPO, 'src', 'mgr'))   # the route table and schemas, for sweeps and checks


@pytest.fixture(scope='session')
def cluster():
    reuse = os.environ.get('CALAMARI_TEST_CLUSTER_DIR')
    if reuse:
        import json
        state = json.load(open(os.path.join(reuse, 'state.json')))
        real = RealCluster(reuse, state['mon_port'], state['api_port'])
        real.state = state
        real.restart_active_mgr()
        yield real
        return
    directory = tempfile.mkdtemp(prefix='calamari-it-')
    real = RealCluster(directory)
    real.up('--test-orchestrator', '--bench-module')      # test_keys_orchestrator.py (no backend), test_foundation.py
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
