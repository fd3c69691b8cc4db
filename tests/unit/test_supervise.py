"""tools/supervise: a crashed daemon is started again (within the restart limit), a clean exit or a SIGTERM ends
the supervision, and the daemon goes with it."""
import os
import signal
import subprocess
import sys
import time

import pytest

SUPERVISE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                         'tools', 'supervise')

# a daemon that aborts until it has run `times` times, then exits with the status given
CRASH_THEN_EXIT = ('import os, signal, sys\n'
                   'count, times, status = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])\n'
                   'runs = (int(open(count).read()) if os.path.exists(count) else 0) + 1\n'
                   'open(count, "w").write(str(runs))\n'
                   'if runs < times: os.kill(os.getpid(), signal.SIGABRT)\n'
                   'sys.exit(status)\n')


def supervise(tmp_path, *command: str, burst: int = 5) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, SUPERVISE, '--pidfile', str(tmp_path / 'supervisor.pid'),
                             '--log', str(tmp_path / 'supervisor.log'), '--restart-sec', '0', '--burst', str(burst),
                             '--', *command])


def runs(tmp_path) -> int:
    return int((tmp_path / 'count').read_text())


def test_a_crashed_daemon_is_started_again_until_it_exits_cleanly(tmp_path):
    proc = supervise(tmp_path, sys.executable, '-c', CRASH_THEN_EXIT, str(tmp_path / 'count'), '3', '0')
    assert proc.wait(30) == 0
    assert runs(tmp_path) == 3
    log = (tmp_path / 'supervisor.log').read_text().splitlines()
    assert len(log) == 2 and all('signal 6 (SIGABRT); starting it again' in line for line in log), log
    assert not (tmp_path / 'supervisor.pid').exists()


@pytest.mark.parametrize('status', [1, 70])
def test_a_failure_status_counts_as_a_crash(tmp_path, status):
    proc = supervise(tmp_path, sys.executable, '-c', CRASH_THEN_EXIT, str(tmp_path / 'count'), '99', str(status),
                     burst=2)
    assert proc.wait(30) == 1             # two restarts, then the third crash is one too many
    assert runs(tmp_path) == 3
    assert 'giving up' in (tmp_path / 'supervisor.log').read_text()


def test_a_clean_signal_is_not_a_crash(tmp_path):
    proc = supervise(tmp_path, sys.executable, '-c', 'import os, signal; os.kill(os.getpid(), signal.SIGTERM)')
    assert proc.wait(30) == 0
    assert not (tmp_path / 'supervisor.log').exists()


def test_sigterm_to_the_supervisor_stops_the_daemon_too(tmp_path):
    marker = tmp_path / 'started'
    proc = supervise(tmp_path, sys.executable, '-c',
                     f'import time; open({str(marker)!r}, "w").close(); time.sleep(60)')
    deadline = time.time() + 30
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert int((tmp_path / 'supervisor.pid').read_text()) == proc.pid
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    assert not (tmp_path / 'supervisor.log').exists()      # the daemon's SIGTERM ended it: no restart


def test_without_a_command_it_prints_its_usage(tmp_path):
    proc = subprocess.run([sys.executable, SUPERVISE, '--pidfile', 'p', '--log', 'l'], capture_output=True, text=True)
    assert proc.returncode == 2 and 'Restart=on-failure' in proc.stderr
