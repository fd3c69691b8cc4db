"""Calamari resource: log (API-REFERENCE §4.23): the cluster log tail and the mgr host's Ceph log files.

The files: from the Ceph log folder only (``views.log.log_folder``), Ceph's own log names only (no audit log), for
the read/write and superuser roles (readonly: 403)."""
import json
import os
from typing import Any, List

from . import BaseController
from ..compat import log_last_newest
from ..derived import mon_query
from ..web.http import ApiError, ApiRequest, bad_request
from ..views.log import (CEPH_LOG_DIR, format_log_entries, is_ceph_log_name, is_rotated, log_folder,
                         resolve_log_path, tail_lines)

DEFAULT_LINES = 40
LOG_TIMEOUT = 15.0
MAX_LINES = 10000
MAX_ASK = 4 * MAX_LINES      # the most entries asked of the mon when it answers fewer than asked


class LogController(BaseController):
    def cluster_tail(self, request: ApiRequest, fsid: str) -> Any:
        """Exactly the newest ``lines`` entries of the cluster channel (every level: what Calamari's tail of
        ceph.log showed), oldest first; fewer only when the log has fewer."""
        lines = self._lines(request)
        entries = self._log_last(lines)
        asked = lines
        while len(entries) < lines and asked < MAX_ASK:        # the mon filtered some of what it counted
            asked = min(asked * 4, MAX_ASK)
            more = self._log_last(asked)
            if len(more) <= len(entries):                       # the log has no more
                break
            entries = more
        return {'lines': format_log_entries(log_last_newest(entries, lines))}

    def _log_last(self, num: int) -> List[Any]:
        """The mon's ``log last`` answer; a timeout, unlike MgrModule.mon_command: without a mon this answers
        503 instead of hanging."""
        r, outb, _ = mon_query(self.services, {'prefix': 'log last', 'num': num, 'level': 'debug',
                                               'channel': 'cluster', 'format': 'json'}, LOG_TIMEOUT)
        if r != 0:
            raise ApiError(503, 'mon log data unavailable')
        try:
            entries = json.loads(outb or '[]')
        except ValueError:
            raise ApiError(503, 'mon log data unavailable')
        if not isinstance(entries, list):
            raise ApiError(503, 'mon log data unavailable')
        return [e for e in entries if isinstance(e, dict)]

    def server_files(self, request: ApiRequest, fqdn: str) -> Any:
        """The Ceph log files, as paths relative to /var/log like Calamari's (``ceph/ceph.log``), wherever the
        mgr's ``log_file`` puts them."""
        root = self._local_log_dir(request, fqdn)
        try:
            return sorted(CEPH_LOG_DIR + name for name in self._list(root))
        except OSError:
            raise ApiError(503, None)

    def server_tail(self, request: ApiRequest, fqdn: str, log_path: str) -> Any:
        """``log_path`` as ``server/<fqdn>/log`` lists it (``ceph/ceph.log``); nothing outside the Ceph logs."""
        lines = self._lines(request)
        root = self._local_log_dir(request, fqdn)
        if not log_path.startswith(CEPH_LOG_DIR) or not is_ceph_log_name(os.path.basename(log_path)):
            raise ApiError(404, {'detail': 'Not found'})
        path = resolve_log_path(root, log_path[len(CEPH_LOG_DIR):])
        if path is None:
            raise bad_request(f"Invalid log path '{log_path}'")
        if not os.path.isfile(path):
            raise ApiError(404, {'detail': 'Not found'})
        try:
            return {'lines': tail_lines(path, lines)}
        except OSError:
            raise ApiError(503, None)

    # -- helpers ----------------------------------------------------------------------------------
    @staticmethod
    def _lines(request: ApiRequest) -> int:
        text = request.query_value('lines', str(DEFAULT_LINES))
        try:
            lines = int(text)
        except (TypeError, ValueError):
            raise bad_request(f"Invalid 'lines' value '{text}', must be an integer between 1 and {MAX_LINES}")
        if not 1 <= lines <= MAX_LINES:
            raise bad_request(f"Invalid 'lines' value '{text}', must be an integer between 1 and {MAX_LINES}")
        return lines

    def _local_log_dir(self, request: ApiRequest, fqdn: str) -> str:
        """Logs are readable by read/write users and superusers (the routes' role), only on the host the active mgr
        runs on; others get Calamari's empty 503."""
        if fqdn != self.services.hosts.local_fqdn():
            raise ApiError(503, None)
        return log_folder(str((self.cluster.source('config') or {}).get('log_file') or ''))

    @staticmethod
    def _list(root: str) -> List[str]:
        names = []
        real_root = os.path.realpath(root)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
            for name in filenames:
                full = os.path.join(dirpath, name)
                if (is_rotated(name) or not is_ceph_log_name(name)
                        or not os.path.realpath(full).startswith(real_root + os.sep)):
                    continue
                names.append(os.path.relpath(full, root))
        return names


CONTROLLER = LogController
