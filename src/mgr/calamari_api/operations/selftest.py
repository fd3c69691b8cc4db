"""``POST server/<fqdn>/debug_job``: Calamari's salt self tests, as requests that exercise the engine."""
from typing import TYPE_CHECKING, Any, Dict, List

from ..web.http import bad_request, detail
from ..requests.steps import LOST_CONTACT, Block, Delay, Fail, Operation, Resume, Step

if TYPE_CHECKING:
    from ..cluster import ClusterState

SELFTEST_PREFIX = 'ceph.selftest'
EXCEPTION_MESSAGE = 'This is a self-test exception'
MAX_ARGS_SHOWN = 200                # characters of the arguments in the headline
MAX_CMD = 64


def selftest_operation(body: Dict[str, Any]) -> Operation:
    cmd, args = body.get('cmd'), body.get('args')
    if cmd is None:
        raise bad_request("'cmd' field is required")
    if args is None:
        raise bad_request("'args' field is required")
    if not isinstance(cmd, str):
        raise bad_request("'cmd' must be a string")
    if not isinstance(args, list):
        raise bad_request("'args' must be a list")
    if not cmd.startswith(SELFTEST_PREFIX):
        raise detail(403, f"Command '{cmd[:MAX_CMD]}' is not a self test command")
    if len(cmd) > MAX_CMD:
        raise bad_request(f"'cmd' is longer than {MAX_CMD} characters")
    spec: Dict[str, Any]
    if cmd == 'ceph.selftest_wait':
        spec = {'delay': _period(args)}
    elif cmd == 'ceph.selftest_block':
        spec = {'block': True}
    elif cmd == 'ceph.selftest_exception':
        spec = {'fail': EXCEPTION_MESSAGE}
    else:
        spec = {'fail': f"'{cmd}' is not available."}
    shown = repr(args)
    if len(shown) > MAX_ARGS_SHOWN:
        shown = shown[:MAX_ARGS_SHOWN - 3] + '...'
    return Operation(f'salt: {cmd}: {shown}', _steps(spec), fsid=None, changes_maps=False,
                     resume=Resume('selftest', spec))


def _steps(spec: Dict[str, Any]) -> List[Step]:
    if 'delay' in spec:
        return [Delay(spec['delay'])]
    if spec.get('block'):
        return [Block()]
    return [Fail(spec['fail'])]


def resume(args: Dict[str, Any], maybe_sent: bool, cluster: 'ClusterState') -> List[Step]:
    """A self test exercises the mgr that ran it: after a failover it ends as in Calamari, "Lost contact"."""
    return [Fail(LOST_CONTACT)]


def _period(args: Any) -> float:
    try:
        seconds = float(args[0]) if args else 0.0
    except (TypeError, ValueError):
        raise bad_request('ceph.selftest_wait takes one argument: a number of seconds')
    if not 0 <= seconds <= 86400:
        raise bad_request('ceph.selftest_wait: the period must be between 0 and 86400 seconds')
    return seconds
