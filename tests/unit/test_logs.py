"""Log tails: cluster log via `log last`, the mgr host's log directory, line bounds and path safety."""
import json
import os

import pytest

from calamari_api.views.log import format_log_entry, is_rotated, resolve_log_path, tail_lines

ENTRY = {'name': 'mon.a', 'rank': 'mon.0', 'stamp': '2026-11-27T11:57:16.993500+0000', 'seq': 141,
         'channel': 'cluster', 'priority': '[INF]', 'message': 'Cluster is now healthy'}


def test_format_like_the_cli():
    assert format_log_entry(ENTRY) == \
        '2026-11-27T11:57:16.993500+0000 mon.a (mon.0) 141 : cluster [INF] Cluster is now healthy'


def test_cluster_tail(client, module, fsid):
    module.command_handler = lambda cmd: (0, json.dumps([ENTRY, dict(ENTRY, seq=142)]), '')
    body = client.get(f'/api/v2/cluster/{fsid}/log?lines=2').json()
    assert body['lines'].split('\n')[1].endswith('142 : cluster [INF] Cluster is now healthy')
    sent = module.sent_commands[-1][2]
    assert sent == {'prefix': 'log last', 'num': 2, 'level': 'debug', 'channel': 'cluster', 'format': 'json'}
    before = len(module.sent_commands)
    assert client.get(f'/api/v2/cluster/{fsid}/log').status_code == 200
    assert module.sent_commands[before][2]['num'] == 40


def _log(count):
    return [dict(ENTRY, seq=seq) for seq in range(1, count + 1)]


def _seqs(body):
    return [int(line.split(' : ')[0].rsplit(' ', 1)[1]) for line in body['lines'].split('\n')]


def test_cluster_tail_never_more_than_asked(client, module, fsid):
    """Pacific's mon answers `log last N` with N+1 entries: the answer holds the newest N, oldest first."""
    log = _log(100)
    module.command_handler = lambda cmd: (0, json.dumps(log[-(cmd['num'] + 1):]), '')
    for lines in (1, 5, 40):
        assert _seqs(client.get(f'/api/v2/cluster/{fsid}/log?lines={lines}').json()) == list(range(101 - lines, 101))


def test_cluster_tail_asks_for_more_when_the_mon_filters(client, module, fsid):
    """A mon that counts N entries and then filters some out answers fewer: ask for more until N are in."""
    log = _log(300)
    module.command_handler = lambda cmd: (0, json.dumps(log[-cmd['num']:][::3]), '')     # a third survive
    assert len(_seqs(client.get(f'/api/v2/cluster/{fsid}/log?lines=50').json())) == 50


def test_cluster_tail_of_a_short_log(client, module, fsid):
    """A log with fewer entries than asked: all of them, after one more ask that brings nothing new."""
    module.command_handler = lambda cmd: (0, json.dumps(_log(7)), '')
    before = len(module.sent_commands)
    assert _seqs(client.get(f'/api/v2/cluster/{fsid}/log?lines=20').json()) == list(range(1, 8))
    assert [c[2]['num'] for c in module.sent_commands[before:]] == [20, 80]


@pytest.mark.parametrize('bad', ['x', '0', '-1', '10001', '1.5', ''])
def test_cluster_tail_bad_lines(client, fsid, bad):
    response = client.get(f'/api/v2/cluster/{fsid}/log?lines={bad}')
    assert response.status_code == 400
    assert response.json() == {
        'detail': f"Invalid 'lines' value '{bad}', must be an integer between 1 and 10000"}


def test_cluster_tail_unavailable(client, module, fsid):
    module.command_handler = lambda cmd: (-5, '', 'EIO')
    response = client.get(f'/api/v2/cluster/{fsid}/log')
    assert response.status_code == 503 and response.json() == 'mon log data unavailable'


@pytest.fixture
def logdir(tmp_path, module):
    (tmp_path / 'ceph.log').write_text(''.join(f'line {i}\n' for i in range(100)))
    (tmp_path / 'mgr.x.log').write_text('a\nb\n')
    (tmp_path / 'ceph.log.1').write_text('old')
    (tmp_path / 'ceph.log.2.gz').write_text('old')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'x.log').write_text('x\n')
    outside = tmp_path.parent / (tmp_path.name + '-outside')
    outside.mkdir(exist_ok=True)
    (outside / 'secret').write_text('secret\n')
    os.symlink(outside / 'secret', tmp_path / 'escape.log')
    module.maps['config']['log_file'] = str(tmp_path / 'mgr.x.log')
    module.notify('osd_map', '')
    return tmp_path


def test_server_files(client, logdir):
    assert client.get('/api/v2/server/vm/log').json() == ['ceph/ceph.log', 'ceph/mgr.x.log', 'ceph/sub/x.log']


def test_server_tail(client, logdir):
    assert client.get('/api/v2/server/vm/log/ceph/ceph.log?lines=3').json() == {'lines': 'line 97\nline 98\nline 99'}
    assert client.get('/api/v2/server/vm/log/ceph/ceph.log').json()['lines'].split('\n')[0] == 'line 60'
    assert client.get('/api/v2/server/vm/log/ceph/sub/x.log').json() == {'lines': 'x'}
    assert client.get('/api/v2/server/vm/log/ceph/ceph.log?lines=0').status_code == 400
    # paths are relative to /var/log, as Calamari listed them: only the Ceph log directory, "ceph/", exists
    assert client.get('/api/v2/server/vm/log/ceph.log').status_code == 404


@pytest.mark.parametrize('path', ['../x', 'sub/../../x', 'escape.log', '%2Fetc%2Fpasswd', 'ceph/../x',
                                  'ceph/sub/../../x', 'ceph/escape.log', 'ceph/%2Fetc%2Fpasswd'])
def test_server_tail_refuses_escapes(client, logdir, path):
    assert client.get(f'/api/v2/server/vm/log/{path}').status_code in (400, 404)


def test_server_tail_missing(client, logdir):
    assert client.get('/api/v2/server/vm/log/ceph/nope.log').status_code == 404


def test_other_hosts_are_unavailable(client, logdir):
    for url in ('/api/v2/server/elsewhere/log', '/api/v2/server/elsewhere/log/ceph.log'):
        response = client.get(url)
        assert response.status_code == 503 and response.content == b''


def test_resolve_and_rotated(tmp_path):
    (tmp_path / 'a.log').write_text('')
    assert resolve_log_path(str(tmp_path), 'a.log') == os.path.realpath(tmp_path / 'a.log')
    for bad in ('/etc/passwd', '../a', 'a/../../b', '', 'a\x00b'):
        assert resolve_log_path(str(tmp_path), bad) is None
    assert is_rotated('ceph.log.1') and is_rotated('x.gz') and not is_rotated('ceph.log')


def test_tail_lines_large_file(tmp_path):
    path = tmp_path / 'big.log'
    path.write_text(''.join(f'{i:08d}' * 20 + '\n' for i in range(20000)))
    lines = tail_lines(str(path), 5000).split('\n')
    assert len(lines) == 5000 and lines[-1].startswith('00019999')
    assert tail_lines(str(path), 1).startswith('00019999')
    (tmp_path / 'empty.log').write_text('')
    assert tail_lines(str(tmp_path / 'empty.log'), 10) == ''
