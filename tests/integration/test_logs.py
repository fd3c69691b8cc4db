"""Log tails on a real cluster: the cluster log (vs `ceph log last`) and the mgr host's log files."""
import os

import pytest


def _cli_tail(cluster, num):
    """`ceph log last <num> debug cluster` as lines, oldest first (Pacific's CLI shows one more than asked)."""
    return cluster.ceph('log', 'last', str(num), 'debug', 'cluster').stdout.rstrip('\n').split('\n')


@pytest.mark.parametrize('lines', [1, 5, None, 10000])         # None: the default, 40
def test_cluster_log_tail_has_exactly_the_lines_asked(cluster, client, fsid, wait, lines):
    """Exactly `lines` lines once the log has that many (the newest, newest last, as `ceph log last` shows
    them); when the mon keeps fewer, all that it keeps."""
    want = lines or 40
    if len(_cli_tail(cluster, 60)) < 45:
        for n in range(45):
            cluster.ceph('log', f'calamari-api log filler {n}')
        wait(lambda: len(_cli_tail(cluster, 60)) >= 45, 30, 'the filler entries')
    before = _cli_tail(cluster, 10000)               # all the mon keeps of the channel (Pacific: a bounded tail)
    query = '' if lines is None else f'?lines={lines}'
    answer = client.get(f'/api/v2/cluster/{fsid}/log{query}').json()['lines'].split('\n')
    after = _cli_tail(cluster, 10000)
    assert min(want, len(before)) <= len(answer) <= min(want, len(after)), (len(answer), want, len(before))
    newest = answer[-min(len(answer), 20):]         # the oldest of a long answer may have left the mon's tail since
    start = after.index(newest[0])
    assert after[start:start + len(newest)] == newest       # consecutive entries, oldest first
    assert after.index(answer[-1]) >= after.index(before[-1])      # up to the newest


def test_cluster_log_tail_matches_ceph_log_last(cluster, client, fsid, wait):
    """The last lines of the cluster log at every level, as Calamari's tail of ceph.log showed them."""
    cluster.ceph('log', 'calamari-api log tail test')
    wait(lambda: 'log tail test' in cluster.ceph('log', 'last', '20', 'debug', 'cluster').stdout, 30, 'the entry')
    lines = client.get(f'/api/v2/cluster/{fsid}/log?lines=5').json()['lines'].split('\n')
    assert len(lines) == 5
    cli = cluster.ceph('log', 'last', '50', 'debug', 'cluster').stdout.strip().split('\n')
    assert set(lines) <= set(cli), (lines, cli[-8:])
    assert 'calamari-api log tail test' in client.get(f'/api/v2/cluster/{fsid}/log?lines=500').json()['lines']
    assert client.get(f'/api/v2/cluster/{fsid}/log').status_code == 200       # default 40
    for bad in ('x', '0', '-3', '10001'):
        response = client.get(f'/api/v2/cluster/{fsid}/log?lines={bad}')
        assert response.status_code == 400 and 'lines' in response.json()['detail']


@pytest.fixture
def log_dir(cluster):
    return os.path.join(cluster.dir, 'log')


def test_server_log_files_and_tail(cluster, client, log_dir):
    host = cluster.ceph_json('mgr', 'metadata', cluster.ceph_json('mgr', 'dump')['active_name'])['hostname']
    files = client.get(f'/api/v2/server/{host}/log').json()
    assert files == sorted(files)
    assert 'ceph/ceph.log' in files            # relative to /var/log, as Calamari listed them
    on_disk = {f for f in os.listdir(log_dir) if os.path.isfile(os.path.join(log_dir, f))}
    assert {f[len('ceph/'):] for f in files} <= on_disk
    tail = client.get(f'/api/v2/server/{host}/log/ceph/ceph.log?lines=3').json()['lines'].split('\n')
    with open(os.path.join(log_dir, 'ceph.log')) as f:
        content = f.read().rstrip('\n').split('\n')
    assert len(tail) == 3 and set(tail) <= set(content[-50:])


def test_server_log_path_traversal_refused(cluster, client, log_dir):
    host = cluster.ceph_json('mgr', 'metadata', cluster.ceph_json('mgr', 'dump')['active_name'])['hostname']
    assert client.get(f'/api/v2/server/{host}/log/../ceph.conf').status_code in (400, 404)
    assert client.get(f'/api/v2/server/{host}/log/x/../../ceph.conf').status_code in (400, 404)
    assert client.get(f'/api/v2/server/{host}/log//etc/passwd').status_code in (400, 404)
    assert client.get(f'/api/v2/server/{host}/log/ceph/no-such.log').status_code == 404
    assert client.get(f'/api/v2/server/{host}/log/ceph/../ceph.conf').status_code in (400, 404)
    link = os.path.join(log_dir, 'cal-escape.log')
    os.symlink(os.path.join(cluster.dir, 'ceph.conf'), link)
    try:
        assert 'ceph/cal-escape.log' not in client.get(f'/api/v2/server/{host}/log').json()
        assert client.get(f'/api/v2/server/{host}/log/ceph/cal-escape.log').status_code in (400, 404)
    finally:
        os.unlink(link)


def test_other_hosts_logs_unavailable(client):
    for url in ('/api/v2/server/other-host/log', '/api/v2/server/other-host/log/ceph/ceph.log'):
        response = client.get(url)
        assert response.status_code == 503 and response.content == b''
