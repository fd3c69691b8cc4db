"""The request engine: every write the API accepts becomes a tracked Calamari request.

An ``Operation`` is a headline plus steps run in order: waves of mon commands (the commands of a wave
are sent together with ``send_command(CommandResult(tag), 'mon', '', json, tag)``), waits for a
condition on the cluster maps (a pool's PGs to settle), timers and failures (self tests).  Completions
arrive through ``on_command(tag)`` from ``notify('command', tag)`` (synchronously inside
``send_command`` in the unit-test fake, asynchronously in ceph-mgr); the first failing command ends the
request with the mon's ``outs`` as ``error_message``.  A background thread handles timeouts, timers,
condition checks and persistence (one small KV key per request), so neither ``notify()`` nor HTTP
threads ever wait — except ``submit``: a request is in the store (``journal.GroupCommit``: concurrent submits
share one write) before its id is returned, so a 202 is never lost with the mgr that gave it.

Failover: each operation names how it is resumed (``Resume``: a kind in the engine's table of resumers and JSON
arguments).  A new active mgr loads every unfinished request and, from the maps, lets the resumer decide: the
change is there (no steps: success), the remaining steps are safe to run again (they run), or what is unknown
(a ``Fail`` step saying so).  Requests submitted meanwhile are held until every loaded one is settled: a resumer
judges from maps that no new write has changed yet.  A step that must not run twice (``Commands.write_ahead``: a
pool create) is recorded as started in the store before it is sent, so its resumer knows whether it may have been
sent.  A completion
event is emitted once: after a failover, a completion whose event is already in the log takes that event's
outcome, and a completed request whose event did not reach the log gets it again.

Every ``send_command`` is made from the engine's own thread: ceph-mgr keeps the *sending* thread's Python
thread state to deliver the completion, and the thread state ``notify()`` runs in is temporary (sending
from it crashed the mgr with a GPF in libpython when the completion arrived).  The engine's thread lives as
long as the module and, when stopping, waits (briefly) for the commands still in flight.
"""
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set, Tuple

from ..events import MAX_MESSAGE
from ..web.http import unavailable
from ..mon_queries import command_json
from .journal import GroupCommit, NotStored, load_batches, newer
from .steps import LOST_CONTACT, Block, Commands, Delay, Fail, Operation, RadosCommand, Resume, Step, WaitFor
from .user_request import COMPLETE, Pending, UserRequest

if TYPE_CHECKING:
    from mgr_module import MgrModule
    from ..audit import Audit
    from ..cluster import ClusterState
    from ..events import EventLog
    from ..store import KVStore

log = logging.getLogger(__name__)

TAG_PREFIX = 'calamari_api:'
STORE_PREFIX = 'request/'
LOST_UNKNOWN = (LOST_CONTACT + ': the mgr running this request stopped, and this kind of request cannot tell from '
                'the maps whether its change was made')
RESUMING = 'Resuming after a mgr failover'
SETTLING_FIRST = 'Waiting for the requests a previous mgr left unfinished to be settled'
SUBMIT_TIMEOUT = 10.0           # a submit waits this long for the mons to store the request, then answers 503
WRITE_AHEAD_TIMEOUT = 30.0
NOT_STORED_IN_TIME = 'Not started: the mons stored it only after the client was told it was not stored'
STOP_GRACE = 5.0
IDLE_SLEEP = 30.0
WAIT_RECHECK = 1.0
CANCELLED = 'Cancelled'
MAX_HEADLINE = 512                  # characters of a headline kept (a debug_job's arguments are the client's)


class TooManyInFlight(Exception):
    """A principal has as many requests in flight as the option ``max_requests_in_flight`` allows."""


def setting_target(resume: Optional[Resume]) -> Any:
    """What an idempotent "set it to X" request sets, as a set of names (None for other requests)."""
    if resume is None:
        return None
    args = resume.args
    if resume.kind == 'osd_update':
        return {f"osd.{args['osd']}"}
    if resume.kind == 'osd_flags':
        return {f'flag.{flag}' for flag in args['flags']}
    if resume.kind == 'pool_update':
        return {f"pool.{args['pool_id']}"}
    return None


def completion_message(headline: str, error: Optional[str]) -> str:
    return f'Failed: {headline} ({error})' if error is not None else f'Succeeded: {headline}'


def _event_key(req: 'UserRequest') -> Tuple[Optional[str], str, Optional[float]]:
    """How a completed request's event looks in the log (its message cut as the log cuts it)."""
    message = completion_message(req.headline, req.error_message if req.error else None)
    return req.fsid, message[:MAX_MESSAGE], req.completed


class RequestEngine:
    def __init__(self, mgr: 'MgrModule', store: 'KVStore', cluster: 'ClusterState', history: Callable[[], int],
                 timeout: Callable[[], float], events: Optional['EventLog'] = None,
                 clock: Callable[[], float] = time.time,
                 resumers: Optional[Dict[str, Callable[..., List[Step]]]] = None,
                 fault: Callable[[str], None] = lambda point: None, audit: Optional['Audit'] = None,
                 max_in_flight: Callable[[], int] = lambda: 0) -> None:
        self._mgr = mgr
        self._store = store
        self._journal = GroupCommit(store, on_late=self._stored_too_late)
        self._resumers = resumers or {}
        self._fault = fault             # test only (fault_hook): may SIGKILL the mgr at a named point
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
        self._write_ahead: Set[str] = set()         # ids whose record must be stored before their outbox entry
        self._stale_batches: List[str] = []         # batch keys of a previous mgr, dropped by the first flush
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
        """Read the persisted requests (own keys and group-commit batches: the newest copy of each).  Unfinished
        ones are settled by their resumers from the engine's thread; completion events are reconciled."""
        records, self._stale_batches = load_batches(self._store)
        from_batches = set(records)
        for rec in self._store.prefix_json(STORE_PREFIX).values():
            if isinstance(rec, dict) and 'id' in rec:
                rid = str(rec['id'])
                if rid not in records or not newer(records[rid], rec):      # same rev: the own key
                    records[rid] = rec
                    from_batches.discard(rid)
        with self._lock:
            for rec in records.values():
                try:
                    req = UserRequest.from_record(rec)
                except (KeyError, TypeError, ValueError):
                    continue
                if req.id in self._requests:
                    continue
                self._requests[req.id] = req
                if req.id in from_batches:
                    self._dirty[req.id] = True          # its own key, then the batch can go
                if req.state != COMPLETE:
                    req.to_settle = True
                    req.status = RESUMING
            self._trim()
        self._reconcile_events()
        self._settle_loaded()       # (sends nothing: what is left is queued for the engine's thread)
        self.flush()

    def _reconcile_events(self) -> None:
        """Exactly one completion event per request across a failover: a completed request whose event did not
        reach the log gets it (with its completion time); an unfinished one whose completion event is in the
        log (the previous mgr finished it but its record was not stored yet) takes that outcome."""
        if self._events is None:
            return
        every = self._events.events()
        logged = [e for e in every if e.message.startswith('Succeeded: ') or e.message.startswith('Failed: ')]
        oldest = min((e.when for e in every), default=float('-inf'))       # older ones fell off the log
        with self._lock:
            done = [r for r in self._requests.values() if r.state == COMPLETE and r.rev and r.completed]
            claimed = {_event_key(r) for r in done}
            seen = {(e.fsid, e.message, e.when) for e in logged}
            missing = [r for r in done if r.completed >= oldest and _event_key(r) not in seen]
            adopted = []
            for req in sorted((r for r in self._requests.values() if r.to_settle), key=lambda r: r.requested):
                event = next((e for e in reversed(logged) if e.when >= req.requested and e.fsid == req.fsid
                              and (e.fsid, e.message, e.when) not in claimed
                              and (e.message == completion_message(req.headline, None)
                                   or e.message.startswith(f'Failed: {req.headline} ('))), None)
                if event is None:
                    continue
                claimed.add((event.fsid, event.message, event.when))
                error = None if event.message.startswith('Succeeded: ') else \
                    event.message[len(f'Failed: {req.headline} ('):-1]
                req.to_settle = False
                self._set_complete(req, error, when=event.when)
                adopted.append(req.id)
        for req in missing:
            self._emit_completion(req)
        if adopted:
            log.info('requests completed by the previous mgr (their events say so): %s', ', '.join(adopted))

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
                if req.wait is not None or req.to_settle or req.held:      # (settling waits for the maps)
                    times.append(now + WAIT_RECHECK)
                elif req.wake_at is not None and req.wake_at != float('inf'):
                    times.append(req.wake_at)
                times.extend(entry.deadline for entry in req.pending.values())
        return min(max(min(times) - now, 0.05), IDLE_SLEEP)

    # -- submitting -----------------------------------------------------------------------------
    def submit(self, operation: Operation, principal: str = '-', client: str = '') -> str:
        """Store the request (group commit), then start it; its id is returned only once it is stored.  Raise
        TooManyInFlight, before anything is stored, when ``principal`` has the most requests in flight allowed (two
        submits at once may both pass: the cap is a bound against floods, not an exact count)."""
        headline = operation.headline
        if len(headline) > MAX_HEADLINE:
            headline = headline[:MAX_HEADLINE - 3] + '...'
        req = UserRequest(id=str(uuid.uuid4()), headline=headline, fsid=operation.fsid,
                          requested=self.clock(), steps=list(operation.steps),
                          changes_maps=operation.changes_maps, resume=operation.resume, rev=1,
                          on_result=operation.on_result, principal=principal, client=client)
        cap = int(self._max_in_flight() or 0)
        if cap > 0 and principal != '-':
            with self._lock:
                mine = sum(1 for r in self._requests.values() if r.state != COMPLETE and r.principal == principal)
            if mine >= cap:
                raise TooManyInFlight(f'{principal} has {mine} requests in flight, the most allowed '
                                      f'(max_requests_in_flight): wait for some to finish or cancel them')
        self._fault('accepted')
        try:
            self._journal.commit({req.id: req.record()}, timeout=SUBMIT_TIMEOUT)
        except NotStored as e:
            log.error('request %s not stored, not started: %s', req.id, e)
            raise unavailable(f'The request could not be stored, so it was not started ({e}); try again')
        self._fault('stored')
        with self._lock:
            if any(r.to_settle for r in self._requests.values()):
                req.held = True
                req.status = SETTLING_FIRST
            self._requests[req.id] = req
            self._dirty[req.id] = True
        self._emit(req, 'INFO', f'Started: {req.headline}')
        self._advance(req)
        self._wake()
        return req.id

    def _stored_too_late(self, records: Dict[str, Dict[str, Any]]) -> None:
        """Records stored after their caller gave up: a submit answered 503 must never run (the stored record
        is replaced by a failed one); a write-ahead step that was not sent is already failed (rewrite it)."""
        finished = []
        with self._lock:
            for rid, rec in records.items():
                req = self._requests.get(rid)
                if req is None:
                    req = UserRequest.from_record(rec)
                    self._requests[rid] = req
                    if self._set_complete(req, NOT_STORED_IN_TIME):
                        finished.append(req)
                else:
                    req.rev = max(req.rev, int(rec.get('rev', 0))) + 1
                    self._dirty[rid] = True
        for req in finished:
            self._emit_completion(req)
        self._wake()

    def _advance(self, req: UserRequest) -> None:
        """Start the request's next step (sending its commands outside the lock)."""
        while True:
            to_send: List[Tuple[str, Pending]] = []
            finished = waiting = False
            with self._lock:
                if req.state == COMPLETE or req.pending or req.wait is not None or req.wake_at is not None:
                    return
                if req.to_settle or req.held:
                    return
                if req.next_step >= len(req.steps):
                    finished = self._set_complete(req, None)
                else:
                    if req.next_step:
                        self._fault('between_steps')
                    step = req.steps[req.next_step]
                    req.next_step += 1
                    if isinstance(step, Commands):
                        to_send = self._register(req, step.commands)
                        req.status = 'Running'
                        if step.write_ahead:
                            req.maybe_sent = True
                            req.rev += 1
                            self._write_ahead.add(req.id)
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
        """Send what ``_advance`` queued (completions delivered synchronously queue more: loop).  Records of
        write-ahead steps are stored first, all in one write."""
        with self._send_lock:
            while True:
                with self._lock:
                    batch, self._outbox = self._outbox, []
                    ahead = {req.id: req.record() for req, _ in batch if req.id in self._write_ahead}
                    self._write_ahead -= set(ahead)
                if not batch:
                    return
                refused = None
                if ahead:
                    try:
                        self._journal.commit(ahead, timeout=WRITE_AHEAD_TIMEOUT)
                        self._fault('before_send')
                    except NotStored as e:
                        refused = f'Not sent: its start could not be recorded ({e})'
                for req, entries in batch:
                    if refused and req.id in ahead:
                        with self._lock:
                            req.maybe_sent = False      # (it was not)
                        self._fail(req, refused)
                        continue
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
        self._settle_loaded()
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

    def _settle_loaded(self) -> None:
        """Requests a previous mgr left unfinished, oldest first: their resumers say from the maps what is left.
        Then the requests held meanwhile start."""
        with self._lock:
            loaded = sorted((r for r in self._requests.values() if r.to_settle and r.state != COMPLETE),
                            key=lambda r: r.requested)
        if loaded:
            self._invalidate_maps()
            if (self._cluster.source('osd_map') or {}).get('epoch') is None:
                return          # no OSD map yet: settle at the next tick (held requests wait)
            for req in loaded:
                self._resume(req)
        self._release_held()

    def _resume(self, req: UserRequest) -> None:
        resumer = self._resumers.get(req.resume.kind) if req.resume is not None else None
        try:
            if self._superseded(req):
                steps = []      # R then the later write: the maps show the later one, as they should
            else:
                steps = resumer(req.resume.args, req.maybe_sent, self._cluster) if resumer else [Fail(LOST_UNKNOWN)]
        except Exception as e:
            log.exception('request %s: could not settle it', req.id)
            steps = [Fail(f'{LOST_CONTACT}: settling it after a failover failed ({e})')]
        log.info('request %s (%s) resumed after a failover: %d step(s) left', req.id, req.headline, len(steps))
        with self._lock:
            if req.state == COMPLETE or not req.to_settle:
                return
            req.to_settle = False
            req.steps = list(steps)
            req.next_step = 0
            req.status = 'Running'
            req.rev += 1
            self._dirty[req.id] = True
        self._advance(req)

    def _release_held(self) -> None:
        with self._lock:
            if any(r.to_settle for r in self._requests.values()):
                return
            held = sorted((r for r in self._requests.values() if r.held), key=lambda r: r.requested)
            for req in held:
                req.held = False
                if req.state != COMPLETE:
                    req.status = 'Running'
        for req in held:
            self._advance(req)

    def _superseded(self, req: UserRequest) -> bool:
        """Is there a later request setting the same thing (an OSD's state, a flag, a pool's settings) that has
        completed or started?  Then this one is over (its completion may just not have been stored before the
        mgr died): settling it from the maps would apply its setting again, after the later one."""
        target = setting_target(req.resume)
        if target is None:
            return False
        with self._lock:
            return any(other is not req and other.requested > req.requested
                       and (setting_target(other.resume) or set()) & target
                       and (other.state == COMPLETE or other.next_step > 0)
                       for other in self._requests.values())

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

    def _set_complete(self, req: UserRequest, error: Optional[str], when: Optional[float] = None) -> bool:
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
        req.completed = self.clock() if when is None else when
        req.rev += 1
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
        """Write changed requests (one small key each) and delete evicted ones; then the group-commit batches
        whose records all have their own keys now."""
        with self._flush_lock:
            with self._lock:
                dirty, self._dirty = self._dirty, {}
                writes = {rid: self._requests[rid].record() for rid, keep in dirty.items()
                          if keep and rid in self._requests}
                deletes = [rid for rid, keep in dirty.items() if not keep or rid not in self._requests]
            done: List[str] = []
            for rid, rec in writes.items():
                try:
                    self._store.set_json(STORE_PREFIX + rid, rec)
                    done.append(rid)
                except Exception:
                    log.exception('could not persist request %s', rid)
                    with self._lock:
                        self._dirty.setdefault(rid, True)       # again at the next flush
            for rid in deletes:
                try:
                    self._store.delete(STORE_PREFIX + rid)
                    done.append(rid)
                except Exception:
                    log.exception('could not delete request %s', rid)
            empty = self._journal.settled(done)
            if len(done) == len(writes) + len(deletes):
                empty, self._stale_batches = empty + self._stale_batches, []
            for key in empty:
                try:
                    self._store.delete(key)
                except Exception:
                    log.exception('could not delete %s', key)

    # -- events ---------------------------------------------------------------------------------
    def _emit_completion(self, req: UserRequest) -> None:
        """Stamped with the completion time: after a failover, ``_reconcile_events`` matches it to the request."""
        if self._audit is not None:
            self._audit.request_finished(req.principal, req.client, req.id, req.headline,
                                         req.error_message if req.error else None)
        message = completion_message(req.headline, req.error_message if req.error else None)
        self._emit(req, 'WARNING' if req.error else 'INFO', message, when=req.completed)

    def _emit(self, req: UserRequest, severity: str, message: str, when: Optional[float] = None) -> None:
        if self._events is None:
            return
        try:
            self._events.emit(severity, message, fsid=req.fsid, when=when)
        except Exception:
            log.exception('could not emit event %r', message)
