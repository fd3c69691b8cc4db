"""The request engine: every write the API accepts becomes a tracked Calamari request.

An ``Operation`` is a headline plus steps run in order: waves of mon commands (the commands of a wave
are sent together with ``send_command(CommandResult(tag), 'mon', '', json, tag)``), waits for a
condition on the cluster maps (a pool's PGs to settle), timers and failures (self tests).  Completions
arrive through ``on_command(tag)`` from ``notify('command', tag)`` (synchronously inside
``send_command`` in the unit-test fake, asynchronously in ceph-mgr); the first failing command ends the
request with the mon's ``outs`` as ``error_message``.  A background thread handles timeouts, timers,
condition checks and persistence (one small KV key per request), so neither ``notify()`` nor HTTP
threads ever wait.

Every ``send_command`` is made from the engine's own thread: ceph-mgr keeps the *sending* thread's Python
thread state to deliver the completion, and the thread state ``notify()`` runs in is temporary (sending
from it crashed the mgr with a GPF in libpython when the completion arrived).  The engine's thread lives as
long as the module and, when stopping, waits (briefly) for the commands still in flight.
"""
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from .cluster import isoformat
from .mon_queries import command_json

log = logging.getLogger(__name__)

TAG_PREFIX = 'calamari_api:'
STORE_PREFIX = 'request/'
SUBMITTED = 'submitted'
COMPLETE = 'complete'
STATES = (COMPLETE, SUBMITTED)
LOST_CONTACT = 'Lost contact'
STOP_GRACE = 5.0
IDLE_SLEEP = 30.0
WAIT_RECHECK = 1.0
CANCELLED = 'Cancelled'
MAX_HEADLINE = 512                  # characters of a headline kept (a debug_job's arguments are the client's)


class TooManyInFlight(Exception):
    """A principal has as many requests in flight as the option ``max_requests_in_flight`` allows."""


# -- operations -----------------------------------------------------------------------------------

class Step:
    """One stage of an operation."""


@dataclass
class Commands(Step):
    """A wave of mon commands sent together; the next step starts when all of them returned 0."""
    commands: List[Dict[str, Any]]


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
    check: Callable[[Any], Tuple[bool, Optional[str], Optional[str]]]
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
class Operation:
    headline: str
    steps: List[Step]
    fsid: Optional[str] = None          # the association of its events and of cluster request lists
    changes_maps: bool = True           # invalidate the cached maps when it completes
    on_result: Optional[Callable[[Dict[str, Any], int, str, str], None]] = None   # each command's (r, outb, outs)


def command_steps(commands: Sequence[Dict[str, Any]]) -> List[Step]:
    """Commands that must run one after the other (each references what the previous one made)."""
    return [Commands([cmd]) for cmd in commands]


# -- requests -------------------------------------------------------------------------------------

@dataclass
class Pending:
    result: Any
    command: Dict[str, Any]
    deadline: float


@dataclass
class UserRequest:
    id: str
    headline: str
    fsid: Optional[str]
    requested: float
    state: str = SUBMITTED
    error: bool = False
    error_message: str = ''
    status: Optional[str] = 'Running'
    completed: Optional[float] = None
    steps: List[Step] = field(default_factory=list)
    changes_maps: bool = True
    next_step: int = 0
    pending: Dict[str, Pending] = field(default_factory=dict)
    wait: Optional[WaitFor] = None
    wake_at: Optional[float] = None     # Delay timer, or the deadline of a WaitFor
    sent: int = 0
    on_result: Optional[Callable[[Dict[str, Any], int, str, str], None]] = None
    principal: str = '-'                # who asked (audit.principal_name) and from which address
    client: str = ''

    def to_json(self) -> Dict[str, Any]:
        return {
            'id': self.id,
            'state': self.state,
            'error': self.error,
            'error_message': self.error_message,
            'headline': self.headline,
            'status': self.status,
            'requested_at': isoformat(self.requested),
            'completed_at': isoformat(self.completed) if self.completed is not None else None,
        }

    def record(self) -> Dict[str, Any]:
        return {'id': self.id, 'headline': self.headline, 'fsid': self.fsid, 'requested': self.requested,
                'state': self.state, 'error': self.error, 'error_message': self.error_message,
                'status': self.status, 'completed': self.completed, 'principal': self.principal,
                'client': self.client}

    @classmethod
    def from_record(cls, rec: Dict[str, Any]) -> 'UserRequest':
        return cls(id=str(rec['id']), headline=str(rec.get('headline', '')), fsid=rec.get('fsid'),
                   requested=float(rec.get('requested', 0.0)), state=rec.get('state', COMPLETE),
                   error=bool(rec.get('error')), error_message=str(rec.get('error_message') or ''),
                   status=rec.get('status'), completed=rec.get('completed'),
                   principal=str(rec.get('principal') or '-'), client=str(rec.get('client') or ''))


class RequestEngine:
    def __init__(self, mgr: Any, store: Any, cluster: Any, history: Callable[[], int],
                 timeout: Callable[[], float], events: Optional[Any] = None,
                 clock: Callable[[], float] = time.time, audit: Optional[Any] = None,
                 max_in_flight: Callable[[], int] = lambda: 0) -> None:
        self._mgr = mgr
        self._store = store
        self._cluster = cluster
        self._history = history
        self._timeout = timeout
        self._events = events           # the EventLog (emit()), for Started/Succeeded/Failed events
        self._audit = audit             # audit.Audit: a line when a request finishes
        self._max_in_flight = max_in_flight     # per principal; 0: no cap
        self.clock = clock
        self._lock = threading.RLock()
        self._wakeup = threading.Condition(threading.Lock())
        self._flush_lock = threading.Lock()
        self._requests: Dict[str, UserRequest] = {}
        self._by_tag: Dict[str, UserRequest] = {}
        self._dirty: Dict[str, bool] = {}          # id -> True (write) / False (delete)
        self._outbox: List[Tuple[UserRequest, List[Tuple[str, Pending]]]] = []
        self._send_lock = threading.Lock()
        self._unanswered: Set[str] = set()          # sent and not answered yet, even if no longer wanted
        self._stop = threading.Event()
        self._woken = False
        self._thread: Optional[threading.Thread] = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self.load()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name='calamari-requests', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=STOP_GRACE + 5)
            self._thread = None
        self.flush()

    def load(self) -> None:
        """Read the persisted history; requests in flight when the previous mgr died are lost."""
        lost: List[UserRequest] = []
        with self._lock:
            for rec in self._store.prefix_json(STORE_PREFIX).values():
                try:
                    req = UserRequest.from_record(rec)
                except (KeyError, TypeError, ValueError):
                    continue
                if req.id in self._requests:
                    continue
                self._requests[req.id] = req
                if req.state != COMPLETE:
                    self._set_complete(req, LOST_CONTACT)
                    lost.append(req)
            self._trim()
        for req in lost:
            self._emit_completion(req)
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception('request engine tick failed')
            # _sleep_time() takes self._lock: never call it while holding _wakeup, since threads that hold
            # self._lock call _wake() (lock-order deadlock).  A wake-up in between sets _woken: no wait then.
            timeout = self._sleep_time()
            with self._wakeup:
                if not self._woken:
                    self._wakeup.wait(timeout=timeout)
                self._woken = False
        # Completions use this thread's state: do not exit while commands are still in flight.
        deadline = time.monotonic() + STOP_GRACE
        while self._in_flight() and time.monotonic() < deadline:
            with self._wakeup:
                self._wakeup.wait(timeout=0.1)

    def _in_flight(self) -> bool:
        with self._lock:
            return bool(self._unanswered)

    def _wake(self) -> None:
        with self._wakeup:
            self._woken = True
            self._wakeup.notify()

    def _sleep_time(self) -> float:
        """Until the next deadline or timer; waits are re-checked every WAIT_RECHECK seconds besides the
        wake-ups their map notifications give."""
        now = self.clock()
        times = [now + IDLE_SLEEP]
        with self._lock:
            if self._outbox:
                return 0.0
            for req in self._requests.values():
                if req.state == COMPLETE:
                    continue
                if req.wait is not None:
                    times.append(now + WAIT_RECHECK)
                elif req.wake_at is not None and req.wake_at != float('inf'):
                    times.append(req.wake_at)
                times.extend(entry.deadline for entry in req.pending.values())
        return min(max(min(times) - now, 0.05), IDLE_SLEEP)

    # -- submitting -----------------------------------------------------------------------------
    def submit(self, operation: Operation, principal: str = '-', client: str = '') -> str:
        """Start a request; raise TooManyInFlight when ``principal`` has the most requests in flight allowed."""
        headline = operation.headline
        if len(headline) > MAX_HEADLINE:
            headline = headline[:MAX_HEADLINE - 3] + '...'
        req = UserRequest(id=str(uuid.uuid4()), headline=headline, fsid=operation.fsid,
                          requested=self.clock(), steps=list(operation.steps),
                          changes_maps=operation.changes_maps, on_result=operation.on_result,
                          principal=principal, client=client)
        cap = int(self._max_in_flight() or 0)
        with self._lock:
            if cap > 0 and principal != '-':
                mine = sum(1 for r in self._requests.values() if r.state != COMPLETE and r.principal == principal)
                if mine >= cap:
                    raise TooManyInFlight(f'{principal} has {mine} requests in flight, the most allowed '
                                          f'(max_requests_in_flight): wait for some to finish or cancel them')
            self._requests[req.id] = req
            self._dirty[req.id] = True
        self._emit(req, 'INFO', f'Started: {req.headline}')
        self._advance(req)
        self._wake()
        return req.id

    def _advance(self, req: UserRequest) -> None:
        """Start the request's next step (sending its commands outside the lock)."""
        while True:
            to_send: List[Tuple[str, Pending]] = []
            finished = waiting = False
            with self._lock:
                if req.state == COMPLETE or req.pending or req.wait is not None or req.wake_at is not None:
                    return
                if req.next_step >= len(req.steps):
                    finished = self._set_complete(req, None)
                else:
                    step = req.steps[req.next_step]
                    req.next_step += 1
                    if isinstance(step, Commands):
                        to_send = self._register(req, step.commands)
                        req.status = 'Running'
                    elif isinstance(step, RadosCommand):
                        to_send = self._register(req, [step.command], rados=step)
                        req.status = 'Running'
                    elif isinstance(step, WaitFor):
                        req.wait = step
                        req.status = step.status
                        req.wake_at = self.clock() + self._timeout()
                        waiting = True
                    elif isinstance(step, Delay):
                        req.wake_at = self.clock() + step.seconds
                    elif isinstance(step, Block):
                        req.wake_at = float('inf')
                    elif isinstance(step, Fail):
                        finished = self._set_complete(req, step.message)
            if finished:
                self._emit_completion(req)
                return
            if waiting:
                self._wake()
                return
            if not to_send:
                continue
            with self._lock:
                self._outbox.append((req, to_send))
            self._wake()
            return

    def _register(self, req: UserRequest, commands: List[Dict[str, Any]],
                  rados: Optional[RadosCommand] = None) -> List[Tuple[str, Pending]]:
        from mgr_module import CommandResult
        deadline = self.clock() + self._timeout()
        entries = []
        for cmd in commands:
            req.sent += 1
            tag = f'{TAG_PREFIX}{req.id}:{req.sent}'
            entry = Pending(rados if rados is not None else CommandResult(tag), cmd, deadline)
            req.pending[tag] = entry
            self._by_tag[tag] = req
            entries.append((tag, entry))
        return entries

    def _drain_outbox(self) -> None:
        """Send what ``_advance`` queued (completions delivered synchronously queue more: loop)."""
        with self._send_lock:
            while True:
                with self._lock:
                    batch, self._outbox = self._outbox, []
                if not batch:
                    return
                for req, entries in batch:
                    self._send(req, entries)

    def _send(self, req: UserRequest, entries: List[Tuple[str, Pending]]) -> None:
        for tag, entry in entries:
            with self._lock:
                if req.state == COMPLETE:
                    return
                entry.deadline = self.clock() + self._timeout()
                if isinstance(entry.result, RadosCommand):
                    threading.Thread(target=self._run_rados, args=(req, tag, entry.result),
                                     name='calamari-rados-command', daemon=True).start()
                    continue
                self._unanswered.add(tag)
            try:
                self._mgr.send_command(entry.result, 'mon', '', command_json(entry.command), tag)
            except Exception as e:
                with self._lock:
                    self._unanswered.discard(tag)
                log.exception('send_command failed for %s', entry.command.get('prefix'))
                self._command_done(req, tag, -1, '', f'Internal error {e}')

    def _run_rados(self, req: UserRequest, tag: str, step: RadosCommand) -> None:
        """Worker thread: the librados call may block (no quorum); the engine times it out meanwhile."""
        try:
            r, _outb, outs = self._mgr.rados.mon_command(command_json(step.command), step.inbuf)
        except Exception as e:      # librados raises its own error types
            log.exception('librados mon_command failed for %s', step.command.get('prefix'))
            r, outs = -1, f"Internal error {e}"
        outs = outs if isinstance(outs, str) else bytes(outs).decode('utf-8', 'replace')
        if r == 0 and step.then is not None:
            try:
                follow = step.then(outs)
            except Exception as e:
                log.exception('request %s: follow-up step failed', req.id)
                r, outs, follow = -1, f'Internal error {e}', None
            with self._lock:
                if follow is not None and tag in req.pending:
                    req.steps.insert(req.next_step, follow)
        self._command_done(req, tag, r, '', outs)
        self._wake()

    # -- completions ----------------------------------------------------------------------------
    def on_command(self, tag: Any) -> None:
        """``notify('command', tag)``: fast; foreign tags are ignored."""
        if not isinstance(tag, str) or not tag.startswith(TAG_PREFIX):
            return
        with self._lock:
            self._unanswered.discard(tag)
            req = self._by_tag.get(tag)
            entry = req.pending.get(tag) if req else None
        if req is None or entry is None:
            return
        result = entry.result
        self._command_done(req, tag, result.r, result.outb, result.outs)

    def _command_done(self, req: UserRequest, tag: str, r: int, outb: str, outs: str) -> None:
        with self._lock:
            self._by_tag.pop(tag, None)
            entry = req.pending.pop(tag, None)
            if entry is None or req.state == COMPLETE:
                return
            if req.on_result is not None:
                try:
                    req.on_result(entry.command, r, outb, outs)
                except Exception:
                    log.exception('request %s: result callback failed', req.id)
            finished = False
            if req.changes_maps:
                # the mgr holds the new map once a mon command returns; its notify may come later
                self._invalidate_maps()
            if r != 0:
                prefix = entry.command.get('prefix', '')
                finished = self._set_complete(req, outs or f"Command '{prefix}' failed with error {r}")
            more = not finished and not req.pending
        if finished:
            self._emit_completion(req)
        elif more:
            self._advance(req)

    def on_map(self, notify_type: str) -> None:
        """A map changed: requests waiting for a condition get re-checked by the background thread."""
        if notify_type in ('osd_map', 'pg_summary'):
            with self._lock:
                waiting = any(r.wait is not None for r in self._requests.values() if r.state != COMPLETE)
            if waiting:
                self._wake()

    def tick(self) -> None:
        """Sends, timeouts, timers and waits; then persistence.  Run by the engine's thread (and by tests)."""
        self._drain_outbox()
        now = self.clock()
        expired: List[Tuple[UserRequest, str]] = []
        resume: List[UserRequest] = []
        check: List[Tuple[UserRequest, WaitFor]] = []
        with self._lock:
            for req in list(self._requests.values()):
                if req.state == COMPLETE:
                    continue
                late = [e for e in req.pending.values() if e.deadline <= now]
                if late:
                    prefix = late[0].command.get('prefix', '')
                    expired.append((req, f"Timed out waiting for the mon to answer '{prefix}'"))
                elif req.wait is not None:
                    check.append((req, req.wait))
                elif req.wake_at is not None and req.wake_at <= now:
                    req.wake_at = None
                    resume.append(req)
        for req, wait in check:
            self._check_wait(req, wait, now)
        for req, message in expired:
            self._fail(req, message)
        for req in resume:
            self._advance(req)
        self._drain_outbox()
        self.flush()

    def _check_wait(self, req: UserRequest, wait: WaitFor, now: float) -> None:
        try:
            done, status, error = wait.check(self._cluster)
        except Exception as e:
            log.exception('request %s: condition check failed', req.id)
            done, status, error = False, None, f'Internal error {e}'
        resume = False
        with self._lock:
            if req.state == COMPLETE or req.wait is not wait:
                return
            if status:
                req.status = status
            if done:
                req.wait = None
                req.wake_at = None
                resume = True
            elif not error and req.wake_at is not None and req.wake_at <= now:
                error = f'Timed out ({req.status})'
        if error:
            self._fail(req, error)
        elif resume:
            self._advance(req)

    def _fail(self, req: UserRequest, message: str) -> None:
        with self._lock:
            finished = self._set_complete(req, message)
        if finished:
            self._emit_completion(req)

    def _invalidate_maps(self) -> None:
        for notify_type in ('osd_map', 'pg_summary'):
            self._cluster.invalidate(notify_type)

    def _set_complete(self, req: UserRequest, error: Optional[str]) -> bool:
        """Mark complete (lock held).  The maps are invalidated first, so a GET that sees the request
        complete also sees its effect."""
        if req.state == COMPLETE:
            return False
        if req.changes_maps:
            self._invalidate_maps()
        for tag in req.pending:
            self._by_tag.pop(tag, None)
        req.pending.clear()
        req.wait = None
        req.wake_at = None
        req.steps = []
        req.state = COMPLETE
        req.error = error is not None
        req.error_message = error or ''
        req.status = f'Failed ({error})' if error is not None else 'Completed successfully'
        req.completed = self.clock()
        self._dirty[req.id] = True
        self._trim()
        self._wake()
        return True

    # -- queries and commands from the API --------------------------------------------------------
    def get(self, request_id: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            req = self._requests.get(request_id)
            return req.to_json() if req else None

    def list(self, state: Optional[str] = None, fsid: Optional[str] = None) -> List[Dict[str, Any]]:
        """Newest first."""
        with self._lock:
            reqs = [r for r in self._requests.values()
                    if (state is None or r.state == state) and (fsid is None or r.fsid == fsid)]
            reqs.sort(key=lambda r: r.requested, reverse=True)
            return [r.to_json() for r in reqs]

    def cancel(self, request_id: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            req = self._requests.get(request_id)
            if req is None:
                return None
            finished = self._set_complete(req, CANCELLED)
        if finished:
            self._emit_completion(req)
        return self.get(request_id)

    def forget_finished(self) -> None:
        """Drop every finished request (``DELETE cluster/<fsid>``)."""
        with self._lock:
            for req in [r for r in self._requests.values() if r.state == COMPLETE]:
                del self._requests[req.id]
                self._dirty[req.id] = False
        self._wake()

    # -- persistence ----------------------------------------------------------------------------
    def _trim(self) -> None:
        """Keep at most ``history`` finished requests (lock held)."""
        finished = [r for r in self._requests.values() if r.state == COMPLETE]
        excess = len(finished) - max(1, int(self._history()))
        if excess <= 0:
            return
        finished.sort(key=lambda r: r.requested)
        for req in finished[:excess]:
            del self._requests[req.id]
            self._dirty[req.id] = False

    def flush(self) -> None:
        """Write changed requests (one small key each) and delete evicted ones."""
        with self._flush_lock:
            with self._lock:
                dirty, self._dirty = self._dirty, {}
                writes = {rid: self._requests[rid].record() for rid, keep in dirty.items()
                          if keep and rid in self._requests}
                deletes = [rid for rid, keep in dirty.items() if not keep or rid not in self._requests]
            for rid, rec in writes.items():
                try:
                    self._store.set_json(STORE_PREFIX + rid, rec)
                except Exception:
                    log.exception('could not persist request %s', rid)
            for rid in deletes:
                try:
                    self._store.delete(STORE_PREFIX + rid)
                except Exception:
                    log.exception('could not delete request %s', rid)

    # -- events ---------------------------------------------------------------------------------
    def _emit_completion(self, req: UserRequest) -> None:
        if self._audit is not None:
            self._audit.request_finished(req.principal, req.client, req.id, req.headline,
                                         req.error_message if req.error else None)
        if req.error:
            self._emit(req, 'WARNING', f'Failed: {req.headline} ({req.error_message})')
        else:
            self._emit(req, 'INFO', f'Succeeded: {req.headline}')

    def _emit(self, req: UserRequest, severity: str, message: str) -> None:
        if self._events is None:
            return
        try:
            self._events.emit(severity, message, fsid=req.fsid)
        except Exception:
            log.exception('could not emit event %r', message)
