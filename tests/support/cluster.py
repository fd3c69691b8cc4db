"""A real Ceph cluster through tools/dev-cluster: the integration and package tiers' harness, and bench/'s."""
import json
import os
import random
import re
import shutil
import socket
import subprocess
import time
import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from tests.support.http_client import HttpClient

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCHER = os.path.join(REPO, 'tools', 'dev-cluster')
# The Ceph release the tier runs on: `system` (the machine's own Ceph) or `tentacle` (tools/run-tests sets it).
RELEASE = os.environ.get('CALAMARI_TEST_RELEASE', 'system')
# The module the test clusters load: the checkout's, or the directory CALAMARI_TEST_MODULE_SRC names, e.g. the
# installed package's /usr/share/ceph/mgr/calamari_api (`tools/run-tests package`).
MODULE_SRC = os.environ.get('CALAMARI_TEST_MODULE_SRC', '')


# Ports a cluster may use: mon a, b, c on mon_port, +1, +2; mgr x, y's API on api_port, +1, the dashboard's and
# prometheus' on api_port+10.. and +20.. (test_failover).  Blocks of them are taken below Linux's ephemeral range
# (32768-60999), where no outgoing connection can take a port between the choice and the daemon's bind; each
# release's tier has its own range, as tools/run-tests runs the two side by side (a dashboard port is bound only
# when a test enables it, so a check for free ports alone cannot keep two tiers apart).
PORT_BLOCK = 32
PORT_RANGE = (20000, 26000) if RELEASE == 'system' else (26000, 32000)


HANDED_OUT: List[range] = []      # ports given to clusters of this test process (not bound yet while they start)


def free_port(block: int = PORT_BLOCK) -> int:
    """The first of `block` consecutive ports that are free now, chosen at random (test tiers run side by side),
    and not handed out before in this process (two clusters may start at once: test_many_clusters)."""
    rng = random.SystemRandom()
    for _ in range(200):
        base = rng.randrange(PORT_RANGE[0], PORT_RANGE[1] - block)
        if any(base < taken.stop and taken.start < base + block for taken in HANDED_OUT):
            continue
        if all(port_is_free(port) for port in range(base, base + block)):
            HANDED_OUT.append(range(base, base + block))
            return base
    raise RuntimeError(f'no {block} consecutive free ports in {PORT_RANGE}')


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(('127.0.0.1', port))
        except OSError:
            return False
    return True


class RealCluster:
    def __init__(self, directory: str, mon_port: Optional[int] = None, api_port: Optional[int] = None,
                 release: str = RELEASE) -> None:
        self.dir = directory
        self.release_wanted = release           # for a new cluster; an existing one keeps its own (``release``)
        base = free_port(2 * PORT_BLOCK)        # one block for the mons, the next for the mgrs' HTTP servers
        self.mon_port = mon_port or base
        self.api_port = api_port or base + PORT_BLOCK
        self.conf = os.path.join(directory, 'ceph.conf')
        self.keyring = os.path.join(directory, 'keyring')
        self.state: Dict[str, Any] = {}

    # -- lifecycle ------------------------------------------------------------------------------
    def launcher(self, *args: str, timeout: float = 600) -> str:
        proc = subprocess.run([LAUNCHER, *args, '--dir', self.dir, '--mon-port', str(self.mon_port),
                               '--api-port', str(self.api_port)], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f'dev-cluster {args} failed:\n{proc.stdout}\n{proc.stderr}')
        return proc.stdout

    def up(self, *extra: str) -> None:
        try:
            self.launcher('up', '--release', self.release_wanted, *(['--module-src', MODULE_SRC] if MODULE_SRC else []),
                          *extra)
        except BaseException:       # (KeyboardInterrupt too: the tier's time limit)
            self.launcher('down')       # leave no daemons behind (the logs stay in the directory)
            raise
        self.state = json.load(open(os.path.join(self.dir, 'state.json')))
        self.api_port = self.state['api_port']

    def down(self) -> None:
        """Stop and delete the cluster; fail if this module left a traceback in a mgr log (there must be none).
        With CALAMARI_TEST_KEEP_LOGS=<dir> set, the daemons' logs are kept in <dir>/<cluster dir's name>."""
        tracebacks = self.module_tracebacks()
        for restart in self.mgr_restarts():
            warnings.warn(f'{os.path.basename(self.dir)}: {restart} (see its mgr log for the crash)')
        keep = os.environ.get('CALAMARI_TEST_KEEP_LOGS')
        if keep and os.path.isdir(os.path.join(self.dir, 'log')):
            shutil.copytree(os.path.join(self.dir, 'log'), os.path.join(keep, os.path.basename(self.dir)),
                            dirs_exist_ok=True)
        self.launcher('down', '--purge')
        assert not tracebacks, 'tracebacks from calamari_api in the mgr log:\n' + '\n'.join(tracebacks[:40])

    def logs(self, prefix: str) -> Iterator[Tuple[str, List[str]]]:
        """(file name, lines) of each log of this cluster whose name starts with `prefix`, in name order."""
        log_dir = os.path.join(self.dir, 'log')
        for name in sorted(os.listdir(log_dir)) if os.path.isdir(log_dir) else []:
            if name.startswith(prefix):
                with open(os.path.join(log_dir, name), errors='replace') as f:
                    yield name, f.readlines()

    def module_tracebacks(self) -> List[str]:
        """Lines of the mgr logs that show a traceback through this module's code, or its failure to load."""
        return [f'{name}: {line.rstrip()}' for name, lines in self.logs('mgr.') for line in lines
                if re.search(r'File ".*/calamari_api/|calamari_api failed to load', line)]

    def mgr_restarts(self) -> List[str]:
        """The crashes after which a mgr's supervisor (tools/supervise) started it again, as systemd would."""
        return [f'{name[len("supervisor."):-len(".log")]}: {line.split("] ", 1)[-1].strip()}'
                for name, lines in self.logs('supervisor.') for line in lines if 'exited with' in line]

    @property
    def fsid(self) -> str:
        return self.state['fsid']

    @property
    def admin(self) -> Dict[str, str]:
        return self.state['admin']

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.api_port}'

    @property
    def release(self) -> str:
        return self.state.get('release', 'system')

    @property
    def ceph_version(self) -> Tuple[int, ...]:
        """(16, 2, 15) on Pacific, (20, 2, 4) on Tentacle."""
        match = re.search(r'ceph version (\d+)\.(\d+)\.(\d+)', self.state.get('ceph_version', ''))
        return tuple(int(x) for x in match.groups()) if match else (16, 2, 15)

    # -- Ceph tools -----------------------------------------------------------------------------
    def tool(self, *args: str) -> List[str]:
        """A Ceph tool's command line for this cluster's release (inside its root, with chroot, on Tentacle)."""
        root = self.state.get('root')
        return ['chroot', root, *args] if root else list(args)

    def ceph(self, *args: str, check: bool = True, input_text: Optional[str] = None,
             timeout: float = 60) -> subprocess.CompletedProcess:
        proc = subprocess.run(self.tool('ceph', '--conf', self.conf, '--keyring', self.keyring, *args),
                              capture_output=True, text=True, input=input_text, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f'ceph {" ".join(args)} failed ({proc.returncode}): {proc.stderr}')
        return proc

    def ceph_json(self, *args: str) -> Any:
        return json.loads(self.ceph(*args, '--format', 'json').stdout)

    # -- HTTP -----------------------------------------------------------------------------------
    def client(self, login: bool = True, username: Optional[str] = None, password: Optional[str] = None,
               base: Optional[str] = None) -> HttpClient:
        client = HttpClient(base or self.url)
        if login:
            try:
                response = client.login(username or self.admin['username'], password or self.admin['password'])
            except OSError:
                # the mgr went away under the login: Pacific 16.2.15's mgr can abort just after it activates (a
                # respawn: `mgr module enable`, `mgr fail`; see tools/supervise), and its supervisor starts it again
                self.wait_api(120, base)
                client = HttpClient(base or self.url)
                response = client.login(username or self.admin['username'], password or self.admin['password'])
            assert response.status_code == 200, response.content
        return client

    def create_user(self, username: str, password: str, role: str) -> None:
        proc = self.ceph('calamari-api', 'user-create', username, '--role', role, '-i', '-',
                         input_text=password, check=False)
        if proc.returncode != 0 and 'already exists' not in proc.stderr:
            raise RuntimeError(proc.stderr)

    def wait_api(self, timeout: float = 60, base: Optional[str] = None) -> None:
        wait_for(lambda: self._answers(base or self.url), timeout, 'the API to answer')

    @staticmethod
    def _answers(base: str) -> bool:
        try:
            return HttpClient(base, timeout=3).get('/api/v2/info').status_code == 200
        except OSError:
            return False

    def restart_active_mgr(self) -> None:
        """`ceph mgr fail`: the mgr restarts (or a standby takes over) and re-imports the module."""
        # (16.2.15's mon aborts on `mgr fail` while no mgr is active: wait for one first)
        dump = wait_for(lambda: (lambda d: d if d.get('available') else None)(self.ceph_json('mgr', 'dump')),
                        60, 'an active mgr')
        self.ceph('mgr', 'fail', dump['active_name'])
        time.sleep(2)
        self.launcher('up', '--no-install')        # restarts a mgr process that exited, if any
        self.wait_api()

    def mgr_story(self, count: int = 15) -> str:
        """What the mgrs are doing, for a failure message: the mgr map, which mgr processes run (`dev-cluster
        status`), and the last `count` lines of each mgr log that tell of starts, respawns, failovers and loads."""
        dump = self.ceph('mgr', 'dump', '--format', 'json', check=False, timeout=20)
        try:
            mgr_map = json.loads(dump.stdout)
            told = [f"mgr map e{mgr_map.get('epoch')}: active {mgr_map.get('active_name')!r} "
                    f"(available {mgr_map.get('available')}), standbys "
                    f"{[m['name'] for m in mgr_map.get('standbys', [])]}"]
        except ValueError:
            told = [f'mgr dump failed: {dump.stderr.strip()}']
        told += [line for line in self.launcher('status').splitlines() if line.startswith('mgr.')]
        notable = re.compile(r'respawn|standby|active|Loading module|Exiting|signal|Aborted|assert|'
                             r'calamari_api|ceph version|error', re.I)
        for name, lines in self.logs('mgr.'):
            told += [f'{name}:'] + [f'  {line.rstrip()[:240]}' for line in lines if notable.search(line)][-count:]
        return '\n'.join(told + [f'restarted: {restart}' for restart in self.mgr_restarts()])

    def osd_ids(self) -> List[int]:
        return [o['osd'] for o in self.ceph_json('osd', 'dump')['osds']]


def wait_for(predicate: Callable[[], Any], timeout: float = 60, what: str = 'condition',
             interval: float = 0.25, detail: Optional[Callable[[], str]] = None) -> Any:
    """Poll until `predicate` is true; on timeout fail with `what` and, if given, `detail()` (what was seen)."""
    deadline = time.time() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.time() > deadline:
            raise AssertionError(f'timed out after {timeout}s waiting for {what}' +
                                 (f'\n{detail()}' if detail else ''))
        time.sleep(interval)
