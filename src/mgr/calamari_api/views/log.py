"""Log tails: the cluster log entries as ``ceph log last`` prints them, and safe paths under a log dir."""
import os
import re
from typing import Any, Dict, List, Optional

CEPH_LOG_DIR = 'ceph/'      # Calamari's log paths were relative to /var/log; the Ceph log directory is "ceph/"
ROTATED = re.compile(r'(\d|\.gz|\.bz2|\.zip|\.xz|\.zst)$')


def format_log_entry(entry: Dict[str, Any]) -> str:
    """``2026-11-27T11:57:16.993500+0000 mon.a (mon.0) 141 : cluster [INF] message`` (the CLI's format)."""
    return (f"{entry.get('stamp', '')} {entry.get('name', '')} ({entry.get('rank', '')}) {entry.get('seq', '')} : "
            f"{entry.get('channel', '')} {entry.get('priority', '')} {entry.get('message', '')}")


def format_log_entries(entries: List[Dict[str, Any]]) -> str:
    return '\n'.join(format_log_entry(e) for e in entries if isinstance(e, dict))


def is_rotated(name: str) -> bool:
    """Calamari's listing skipped files ending in a digit, .gz, .bz2 or .zip (rotated logs)."""
    return bool(ROTATED.search(name))


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
