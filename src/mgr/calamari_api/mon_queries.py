"""Mon commands made on behalf of HTTP requests (``config dump``, ``quorum_status``, ``log last``, the CLI), with a
timeout, all sent from one thread that lives as long as the module.

ceph-mgr delivers a command's completion with the Python thread state of the thread that *sent* it.  An HTTP
worker thread may exit (the server restarts on an addr/port/ssl change) while a query it gave up on is still
unanswered (no mon quorum); the late answer would then use a dead thread state.  So the callers only wait,
with a timeout, and this thread sends, and when stopping stays alive (briefly) until the answers due arrive.
"""
import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from mgr_module import CommandResult

if TYPE_CHECKING:
    from mgr_module import MgrModule


def command_json(command: Dict[str, Any]) -> str:
    """A mon command as the JSON the mon reads.  Not ASCII-escaped: the mon's JSON parser (json_spirit) turns the
    surrogate pair of an escaped character beyond U+FFFF into two 3-byte sequences (CESU-8), so a pool named with
    an emoji reached the OSD map as invalid UTF-8, and every later ``get('osd_map')`` crashed ceph-mgr (16.2.15)."""
    return json.dumps(command, ensure_ascii=False)


TAG_PREFIX = 'calamari_api-read:'
STOP_GRACE = 5.0
TIMED_OUT = (-110, '', 'timed out')
STOPPED = (-108, '', 'the module is stopping')


class MonQueries:
    def __init__(self, mgr: 'MgrModule', grace: float = STOP_GRACE) -> None:
        self._mgr = mgr
        self._grace = grace
        self._cond = threading.Condition()
        self._queue: List[Tuple[CommandResult, str]] = []
        self._thread: Optional[threading.Thread] = None
        self._stopping = False

    def start(self) -> None:
        with self._cond:
            self._stopping = False
        self._thread = threading.Thread(target=self._run, name='calamari-mon-queries', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=self._grace + 1)
            self._thread = None

    def query(self, command: Dict[str, Any], timeout: float) -> Tuple[int, str, str]:
        """(r, outb, outs); ``TIMED_OUT`` when the mon does not answer in time (MgrModule.mon_command would wait
        forever without quorum), ``STOPPED`` when the module is stopping."""
        result = CommandResult(TAG_PREFIX + uuid.uuid4().hex)
        with self._cond:
            if self._stopping or self._thread is None:
                return STOPPED
            self._queue.append((result, command_json(command)))
            self._cond.notify()
        if not result.ev.wait(timeout):
            return TIMED_OUT
        return result.r, result.outb, result.outs

    def _run(self) -> None:
        outstanding: List[CommandResult] = []
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                batch, self._queue = self._queue, []
                stopping = self._stopping
            for result, command in batch:
                try:
                    self._mgr.send_command(result, 'mon', '', command, result.tag)
                except Exception as e:      # the C++ side rejects malformed calls
                    result.complete(-22, '', f'send_command failed: {e}')
                outstanding.append(result)
            outstanding = [r for r in outstanding if not r.ev.is_set()]
            if stopping:
                break
        deadline = time.monotonic() + self._grace
        while any(not r.ev.is_set() for r in outstanding) and time.monotonic() < deadline:
            time.sleep(0.05)
