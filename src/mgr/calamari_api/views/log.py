"""Log tails: the cluster log entries as ``ceph log last`` prints them, and safe paths under a log dir."""
import os
import re
from typing import Any, Dict, List, Optional

CEPH_LOG_DIR = 'ceph/'      # Calamari's log paths were relative to /var/log; the Ceph log directory is "ceph/"
ROTATED = re.compile(r'(\d|\.gz|\.bz2|\.zip|\.xz|\.zst)$')
DEFAULT_LOG_FOLDER = '/var/log/ceph'
# Ceph's own log files: the cluster channel's (``$cluster.log``) and each daemon's or client's (``ceph-osd.0.log``,
# ``mgr.x.log``, ``ceph-client.admin.log``, ``ceph-volume.log``); never the audit channel's ceph.audit.log, which
# holds every command's arguments, nor anything else that happens to share the folder.
CEPH_LOG_NAME = re.compile(r'^(?:[a-z0-9_]+|(?:[a-z0-9_]+-)?(?:mon|mgr|osd|mds|client|rgw|radosgw|rbd-mirror|'
                           r'cephfs-mirror|crash|volume|volume-systemd)(?:\.[\w.-]+)?)\.log$', re.ASCII)
AUDIT_LOG_NAME = re.compile(r'\.audit\.log$')
# Folders a log_file may sit in directly that hold more than Ceph's logs: then the logs are read from
# DEFAULT_LOG_FOLDER only.
SHARED_FOLDERS = ('/', '/var', '/var/log', '/tmp', '/var/tmp', '/run', '/home', '/root', '/etc', '/usr', '/opt', '/srv',
                  '/dev', '/proc', '/sys', '/boot', '/mnt', '/media', '/var/lib')


def format_log_entry(entry: Dict[str, Any]) -> str:
    """``2026-11-27T11:57:16.993500+0000 mon.a (mon.0) 141 : cluster [INF] message`` (the CLI's format)."""
    return (f"{entry.get('stamp', '')} {entry.get('name', '')} ({entry.get('rank', '')}) {entry.get('seq', '')} : "
            f"{entry.get('channel', '')} {entry.get('priority', '')} {entry.get('message', '')}")


def format_log_entries(entries: List[Dict[str, Any]]) -> str:
    return '\n'.join(format_log_entry(e) for e in entries if isinstance(e, dict))


def is_rotated(name: str) -> bool:
    """Calamari's listing skipped files ending in a digit, .gz, .bz2 or .zip (rotated logs)."""
    return bool(ROTATED.search(name))


def is_ceph_log_name(name: str) -> bool:
    """Whether a file name is one of Ceph's own logs that the API shows (not the audit channel's)."""
    return bool(CEPH_LOG_NAME.match(name)) and not AUDIT_LOG_NAME.search(name)


def log_folder(log_file: str) -> str:
    """The Ceph log folder on this host: the folder of the mgr's ``log_file`` when that is a path of its own,
    else DEFAULT_LOG_FOLDER (never /var/log itself, nor another folder shared with the rest of the system)."""
    if not log_file.startswith('/') or log_file.startswith('/dev/'):
        return DEFAULT_LOG_FOLDER
    folder = os.path.dirname(os.path.normpath(log_file))
    if folder.rstrip('/') in SHARED_FOLDERS or os.path.realpath(folder) in SHARED_FOLDERS:
        return DEFAULT_LOG_FOLDER
    return folder


def resolve_log_path(root: str, relative: str) -> Optional[str]:
    """The real path of ``relative`` under ``root``, or None if it is absolute, has ``..`` or escapes
    ``root`` through a symlink."""
    if not relative or relative.startswith('/') or '\x00' in relative:
        return None
    if any(part == '..' for part in relative.split('/')):
        return None
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, relative))
    if not real.startswith(real_root + os.sep):
        return None
    return real


def tail_lines(path: str, lines: int, block: int = 65536) -> str:
    """The last ``lines`` lines of a file, reading backwards (a log can be large)."""
    with open(path, 'rb') as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        data = b''
        while end > 0 and data.count(b'\n') <= lines:
            start = max(0, end - block)
            f.seek(start)
            data = f.read(end - start) + data
            end = start
    text = data.decode('utf-8', 'replace')
    if text.endswith('\n'):
        text = text[:-1]
    return '\n'.join(text.split('\n')[-lines:]) if text else ''
