"""The audit trail: every write through the API, as one line each on the cluster log's ``audit`` channel
(``ceph log last 20 debug audit``), beside the mgr's own ``from='mgr.x' ... cmd=...`` lines.

One format, ``key=value`` words after ``calamari_api:``::

    calamari_api: who=admin from=10.0.0.5 op="POST /api/v2/cluster/<fsid>/pool" result=202 request=<id>
    calamari_api: who=token:backup from=10.0.0.7 op="POST /api/v2/cluster/<fsid>/cli" cmd="osd pool ls" result=200 rc=0
    calamari_api: who=admin from=10.0.0.5 request=<id> result=complete headline="Creating pool 'foo'"
    calamari_api: who=admin from=10.0.0.5 request=<id> result=failed headline="..." error="..."

``who`` is the user name, or ``token:<name>`` for an API token (neither may contain ``:`` otherwise); ``from`` the
client address; ``result`` the HTTP status of the answer and, for a tracked request, a second line when it
finishes.  Never in a line: a body, a query string, a password, a token, a key or any free-text argument of a
CLI command (``cmd`` shows the command's prefix and only the arguments named in ``SHOWN_ARGS``; the others appear
as ``name=?``).  Values are quoted, printable and capped (``MAX_VALUE``)."""
import logging
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

if TYPE_CHECKING:
    from mgr_module import MgrModule

log = logging.getLogger(__name__)

CHANNEL = 'audit'
MAX_VALUE = 200
# CLI arguments whose values name things (pools, daemons, entities, options) rather than carry data
SHOWN_ARGS = frozenset({'pool', 'pool2', 'srcpool', 'destpool', 'id', 'ids', 'who', 'name', 'key', 'var', 'entity',
                        'rule', 'bucket', 'type', 'root', 'parent', 'host', 'osdname', 'srcname', 'dstname',
                        'format', 'epoch', 'pgid', 'module', 'fs_name', 'image', 'daemon_type', 'weight',
                        'pg_num', 'pgp_num', 'size', 'item', 'ancestor', 'app', 'mode', 'service_type',
                        'sure', 'yes_i_really_mean_it', 'yes_i_really_really_mean_it', 'force'})
# ClusterLogPrio of mgr_module (the same numbers on Pacific and Tentacle)
DEBUG, INFO, SEC, WARN = 0, 1, 2, 3


def principal_name(principal: Any) -> str:
    """``admin`` for a user, ``token:<name>`` for an API token, ``-`` for nobody."""
    if principal is None:
        return '-'
    if getattr(principal, 'bearer', False):
        return f'token:{principal.name}'
    return str(getattr(principal, 'username', '-'))


def quoted(value: Any, limit: int = MAX_VALUE) -> str:
    """A printable, double-quoted value of at most ``limit`` characters (then ``...``)."""
    text = ''.join(c if c.isprintable() else '?' for c in str(value)).replace('\\', '\\\\').replace('"', '\\"')
    if len(text) > limit:
        text = text[:limit] + '...'
    return f'"{text}"'


def bare(value: Any) -> str:
    """A value without spaces that needs no quotes (addresses, ids); anything else is quoted."""
    text = str(value)
    if text and len(text) <= 64 and all(c.isalnum() or c in '.:-_@[]%' for c in text):
        return text
    return quoted(text, 64)


def cli_summary(command: Dict[str, Any]) -> str:
    """``osd pool create pool=foo pg_num=8``: the prefix and its arguments, free-text ones as ``name=?``."""
    words: List[str] = [str(command.get('prefix', '?'))]
    for name, value in command.items():
        if name == 'prefix':
            continue
        if name in SHOWN_ARGS and _plain(value):
            shown = ','.join(str(v) for v in value) if isinstance(value, list) else str(value)
            words.append(f'{name}={shown}')
        else:
            words.append(f'{name}=?')
    return ' '.join(words)


def _plain(value: Any) -> bool:
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return isinstance(value, (str, int, float, bool))


def http_line(who: str, addr: str, method: str, path: str, status: int, fields: Dict[str, str]) -> str:
    parts = [f'who={bare(who)}', f'from={bare(addr or "-")}', f'op={quoted(f"{method} {path}")}']
    parts += [f'{k}={v}' for k, v in fields.items() if k not in ('rc', 'request')]
    parts.append(f'result={status}')
    parts += [f'{k}={fields[k]}' for k in ('rc', 'request') if k in fields]
    return 'calamari_api: ' + ' '.join(parts)


def request_line(who: str, addr: str, request_id: str, headline: str, error: Optional[str]) -> str:
    parts = [f'who={bare(who)}', f'from={bare(addr or "-")}', f'request={bare(request_id)}',
             f'result={"failed" if error is not None else "complete"}', f'headline={quoted(headline)}']
    if error is not None:
        parts.append(f'error={quoted(error)}')
    return 'calamari_api: ' + ' '.join(parts)


class Audit:
    """Writes audit lines to the cluster log through ``cluster_log(channel, priority, message)`` (the mgr's).
    A failure to log never fails the write it describes (it is logged to the mgr log instead)."""

    def __init__(self, cluster_log: Callable[[str, int, str], None]) -> None:
        self._cluster_log = cluster_log

    def write(self, line: str, priority: int = INFO) -> None:
        try:
            self._cluster_log(CHANNEL, priority, line)
        except Exception as e:
            log.warning('could not write to the audit channel (%s): %s', e, line)

    def http(self, principal: Any, addr: str, method: str, path: str, status: int,
             fields: Optional[Dict[str, str]] = None) -> None:
        priority = SEC if status in (401, 403, 429) else INFO
        self.write(http_line(principal_name(principal), addr, method, path, status, fields or {}), priority)

    def request_finished(self, who: str, addr: str, request_id: str, headline: str, error: Optional[str]) -> None:
        self.write(request_line(who, addr, request_id, headline, error), WARN if error is not None else INFO)


def mgr_cluster_log(mgr: 'MgrModule') -> Callable[[str, int, str], None]:
    """The mgr's ``cluster_log`` with a plain int priority (it takes a ClusterLogPrio on both releases)."""
    def write(channel: str, priority: int, message: str) -> None:
        mgr.cluster_log(channel, mgr.ClusterLogPrio(priority), message)
    return write
