"""The vocabulary ``operations/`` writes requests in: an ``Operation`` is a headline plus ``Step``s run in order —
waves of mon commands (``Commands``), a binary-input command (``RadosCommand``), waits for a condition on the maps
(``WaitFor``), timers (``Delay``, ``Block``) and failures (``Fail``) — and how a new active mgr resumes it after a
failover (``Resume``).  The engine (engine.py) runs them; nothing here runs anything."""
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

if TYPE_CHECKING:
    from ..cluster import ClusterState

LOST_CONTACT = 'Lost contact'


class Step:
    """One stage of an operation."""


@dataclass
class Commands(Step):
    """A wave of mon commands sent together; the next step starts when all of them returned 0.
    ``write_ahead``: the wave must never run twice, so it is recorded as started in the store before it is sent."""
    commands: List[Dict[str, Any]]
    write_ahead: bool = False


@dataclass
class RadosCommand(Step):
    """One mon command with a binary input buffer (``osd setcrushmap``), sent through librados
    (``mgr.rados.mon_command``) because ``send_command`` cuts its input at the first NUL.  It runs in a
    worker thread started by the engine's thread and is timed out like any command.  On success,
    ``then(outs)`` may return a step to run next (e.g. a wait for the map the command made)."""
    command: Dict[str, Any]
    inbuf: bytes = b''
    then: Optional[Callable[[str], Optional[Step]]] = None


@dataclass
class WaitFor(Step):
    """Wait until ``check(cluster)`` returns ``(done, status, error)`` with done or error set."""
    check: Callable[['ClusterState'], Tuple[bool, Optional[str], Optional[str]]]
    status: str = 'Running'


@dataclass
class Delay(Step):
    seconds: float


class Block(Step):
    """Never finishes by itself (self test: ends only when cancelled)."""


@dataclass
class Fail(Step):
    message: str


@dataclass
class Resume:
    """How a new active mgr settles the request: ``resumers[kind](args, started, cluster)`` returns the steps
    still to run ([] when the change is already there; a ``Fail`` saying what is unknown).  ``started``: how
    many steps had been started (exact for write-ahead steps, a lower bound otherwise)."""
    kind: str
    args: Dict[str, Any]


@dataclass
class Operation:
    headline: str
    steps: List[Step]
    fsid: Optional[str] = None          # the association of its events and of cluster request lists
    changes_maps: bool = True           # invalidate the cached maps when it completes
    on_result: Optional[Callable[[Dict[str, Any], int, str, str], None]] = None   # each command's (r, outb, outs)
    resume: Optional[Resume] = None     # None: a request cut off by a failover ends in LOST_UNKNOWN


def command_steps(commands: Sequence[Dict[str, Any]]) -> List[Step]:
    """Commands that must run one after the other (each references what the previous one made)."""
    return [Commands([cmd]) for cmd in commands]
