"""Ceph releases the project runs on, and the cached Debian root that brings a release this machine does not have.

``system`` is the machine's own Ceph (Pacific 16.2 on Debian 12).  ``tentacle`` is Debian sid's Ceph 20.2, installed
with mmdebstrap into a root under ``/var/cache/calamari-api`` (built once, about a minute) whose daemons run with
chroot; /proc, /sys, /dev, this checkout and each cluster directory are bind-mounted at the same paths inside, so a
path means the same thing in and out of the root and the daemons are ordinary processes of this machine.
"""
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from typing import List, Optional, Tuple

CACHE = os.environ.get('CALAMARI_ROOT_CACHE', '/var/cache/calamari-api')
# suite: the Debian suite that has the release; packages: what the root holds (a change rebuilds the root).
RELEASES = {
    'tentacle': {
        'suite': 'sid',
        'packages': ['ceph-mon', 'ceph-mgr', 'ceph-osd', 'ceph-common', 'ceph-mgr-dashboard', 'python3-routes',
                     'python3-cherrypy3', 'procps', 'openssl', 'iproute2',
                     'python3-venv'],            # (the test runner's venv for the unit tier)
    },
}
STAMP = '.calamari-root.json'
# The mirror's sid Release file is past its Valid-Until date.
APT_OPTIONS = ['Acquire::Check-Valid-Until "false"', 'Acquire::Retries "3"']


def log(msg: str) -> None:
    print(f'[release-root] {msg}', file=sys.stderr, flush=True)


def root_path(release: str) -> str:
    return os.path.join(CACHE, f'{release}-root')


def _mounts() -> List[Tuple[str, str]]:
    """(mount point, mounted path of its filesystem) of every mount; the latter ends in //deleted once the bound
    directory is gone."""
    mounts = []
    with open('/proc/self/mountinfo') as f:
        for line in f:
            fields = line.split()
            mounts.append(tuple(field.encode().decode('unicode_escape') for field in (fields[4], fields[3])))
    return mounts       # type: ignore[return-value]


def _mount_points() -> List[str]:
    return [point for point, _ in _mounts()]


def _mounts_under(path: str) -> List[str]:
    path = path.rstrip('/')
    return [p for p in _mount_points() if p == path or p.startswith(path + '/')]


def _run(args: List[str], timeout: float = 60) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f'command failed ({proc.returncode}): {" ".join(args)}\n{proc.stdout}{proc.stderr}')


class ReleaseRoot:
    """The root of one release: built on first use, then mounted and entered with chroot."""

    def __init__(self, release: str) -> None:
        self.release = release
        self.spec = RELEASES[release]
        self.path = root_path(release)

    def _wanted_stamp(self) -> dict:
        return {'suite': self.spec['suite'], 'packages': sorted(self.spec['packages'])}

    def ready(self) -> bool:
        try:
            with open(os.path.join(self.path, STAMP)) as f:
                stamp = json.load(f)
        except (OSError, ValueError):
            return False
        return all(stamp.get(k) == v for k, v in self._wanted_stamp().items())

    def _lock(self):
        os.makedirs(CACHE, exist_ok=True)
        handle = open(os.path.join(CACHE, f'.{self.release}.lock'), 'w')
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle

    def ensure(self, rebuild: bool = False) -> str:
        """Build the root unless an up-to-date one is cached; returns its path."""
        if self.ready() and not rebuild:
            return self.path
        with self._lock():
            if self.ready() and not rebuild:        # built by another process meanwhile
                return self.path
            self._build()
        return self.path

    def _build(self) -> None:
        if os.geteuid() != 0:
            raise SystemExit(f'the {self.release} root must be built as root (mmdebstrap, chroot, mount)')
        if not shutil.which('mmdebstrap'):
            log('installing mmdebstrap')
            env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
            subprocess.run(['apt-get', 'update', '-qq'], check=True, env=env, capture_output=True, timeout=600)
            subprocess.run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'mmdebstrap'],
                           check=True, env=env, capture_output=True, timeout=600)
        new = self.path + '.new'
        self._remove(new)
        log(f'building the {self.release} root ({self.spec["suite"]}) in {self.path}: about a minute, once')
        started = time.time()
        args = ['mmdebstrap', '--variant=apt', '--include=' + ','.join(self.spec['packages'])]
        args += [f'--aptopt={opt}' for opt in APT_OPTIONS]
        proc = subprocess.run(args + [self.spec['suite'], new], capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            self._remove(new)
            raise SystemExit(f'mmdebstrap failed ({proc.returncode}):\n{proc.stderr[-4000:]}')
        with open(os.path.join(new, STAMP), 'w') as f:
            json.dump(dict(self._wanted_stamp(), built=time.time(), version=self._ceph_version(new)), f)
        self._remove(self.path)
        os.rename(new, self.path)
        log(f'built in {time.time() - started:.0f} s: {self._ceph_version(self.path)}')

    @staticmethod
    def _ceph_version(path: str) -> str:
        proc = subprocess.run(['chroot', path, 'ceph', '--version'], capture_output=True, text=True, timeout=60)
        return proc.stdout.strip()

    @staticmethod
    def _remove(path: str) -> None:
        """Delete a root, never through a bind mount (that would delete this checkout or /dev)."""
        if not os.path.lexists(path):
            return
        for point in sorted(_mounts_under(path), key=len, reverse=True):
            subprocess.run(['umount', '-R', point], capture_output=True, timeout=60)
        if _mounts_under(path):
            raise SystemExit(f'{path} still has mounts: {_mounts_under(path)}; not deleting it')
        shutil.rmtree(path)

    # -- mounts ----------------------------------------------------------------------------------
    def inside(self, path: str) -> str:
        return os.path.join(self.path, path.lstrip('/'))

    def mount(self, dirs: List[str]) -> None:
        """Mount /proc, /sys and /dev, and bind each of ``dirs`` at the same path inside (idempotent)."""
        with self._lock():
            for point, source in _mounts():         # binds of directories deleted since (test clusters)
                if point.startswith(self.path + '/') and source.endswith('//deleted'):
                    subprocess.run(['umount', point], capture_output=True, timeout=60)
            mounted = set(_mount_points())
            wanted = [('/proc', ['-t', 'proc', 'proc']), ('/sys', ['--rbind', '/sys']), ('/dev', ['--rbind', '/dev'])]
            wanted += [(os.path.abspath(d), ['--bind', os.path.abspath(d)]) for d in dirs]
            for path, how in wanted:
                target = self.inside(path)
                if target in mounted:
                    continue
                os.makedirs(target, exist_ok=True)
                _run(['mount', *how, target])
                if '--rbind' in how:
                    # unmounting it later must not unmount the host's own /dev/pts, /sys/fs/cgroup, ...
                    subprocess.run(['mount', '--make-rslave', target], capture_output=True, timeout=60)

    def unmount(self, path: str) -> None:
        """Undo ``mount([path])`` (before the directory is deleted)."""
        target = self.inside(os.path.abspath(path))
        if target in _mount_points():
            _run(['umount', target])
            try:
                os.rmdir(target)
            except OSError:
                pass

    def unmount_all(self) -> None:
        for point in sorted(_mounts_under(self.path), key=len, reverse=True):
            subprocess.run(['umount', '-R', point], capture_output=True, timeout=60)

    def command(self, args: List[str]) -> List[str]:
        """``args`` run inside the root."""
        return ['chroot', self.path, *args]


def command_prefix(root: Optional[str]) -> List[str]:
    """What to put before a Ceph command of a cluster whose state names ``root`` (none: the machine's own)."""
    return ['chroot', root] if root else []
