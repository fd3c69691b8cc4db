"""The one place every command a restful client sends passes through before it is sent (``run``).

A command the mgr itself serves is answered by ``mgr_commands.answer``.  A read-only command (``status``,
``osd dump``, ``df``: what Zabbix and Metricbeat poll) is a mon query, kept nowhere.  Any other command is a
write: a request of the request engine (tracked, persisted, with its events), waited for here."""
import errno
import threading
import time
from typing import TYPE_CHECKING, Any, Dict, Tuple

from .. import mgr_commands
from ..requests.steps import Commands, Operation

if TYPE_CHECKING:
    from ..services import Services

Result = Tuple[int, str, str]

# The last word of a read-only command's prefix ("osd pool get", "pg dump", "status", "osd perf").  A command not
# recognised as read-only is treated as a write (tracked): the safe mistake.
READ_VERBS = frozenset((
    'status', 'health', 'df', 'dump', 'ls', 'list', 'stat', 'stats', 'tree', 'get', 'get-quota', 'perf', 'detail',
    'metadata', 'count-metadata', 'versions', 'version', 'report', 'find', 'summary', 'query', 'map', 'getmap',
    'getcrushmap', 'quorum_status', 'mon_status', 'fsid', 'last', 'autoscale-status', 'blocked-by', 'utilization',
    'ok-to-stop', 'safe-to-destroy', 'exists', 'time-sync-status', 'feature', 'features', 'show',
))
GRACE = 5.0             # beyond request_timeout, for the engine's own timeout to answer first
POLL = 0.25


def humanify(command: Dict[str, Any]) -> str:
    """restful's one-line form of a command: ``prefix arg=value ...``."""
    return ' '.join([str(command.get('prefix', ''))] +
                    [f'{k}={v}' for k, v in command.items() if k != 'prefix'])


def is_read_only(command: Dict[str, Any]) -> bool:
    words = str(command.get('prefix', '')).split()
    return bool(words) and words[-1] in READ_VERBS


def _timeout(services: 'Services') -> float:
    try:
        return float(services.option('request_timeout') or 300)
    except (TypeError, ValueError):
        return 300.0


def run(services: 'Services', command: Dict[str, Any]) -> Result:
    """(r, outb, outs) of one client command, as the ceph CLI would get them."""
    served = mgr_commands.answer(services, command)
    if served is not None:
        return served
    if is_read_only(command):
        return services.mon_queries.query(command, _timeout(services))
    return _tracked(services, command)


def _tracked(services: 'Services', command: Dict[str, Any]) -> Result:
    """A write, as a request of the engine (listed at /api/v2/request with its events); its result once done."""
    done = threading.Event()
    results = []

    def on_result(_command: Dict[str, Any], r: int, outb: str, outs: str) -> None:
        results.append((r, outb, outs))
        done.set()

    operation = Operation(headline=f'restful: {humanify(command)}', steps=[Commands([command])],
                          fsid=services.cluster.fsid, on_result=on_result)
    request_id = services.requests.submit(operation)
    deadline = time.monotonic() + _timeout(services) + GRACE
    while not done.wait(POLL):
        state = services.requests.get(request_id)
        if state is None or state['state'] == 'complete' or time.monotonic() > deadline:
            break
    if results:
        return results[0]
    state = services.requests.get(request_id) or {}
    return -errno.ETIMEDOUT, '', state.get('error_message') or 'the command did not finish in time'
