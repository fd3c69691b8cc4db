"""Calamari's event log: what happened to the cluster, newest last in memory, persisted in bounded chunks.

Events are kept in memory (bounded by the ``event_history`` option) and in the mgr KV store as chunks
``events/<chunk number>`` of at most CHUNK_SIZE events each, chunk number = event seq // CHUNK_SIZE.  Only
chunks that changed are rewritten (normally just the open one), writes are batched by ``flush()`` (called by
the event worker about once a second), and chunks whose events all fell off the end are deleted.
"""
import logging
import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Dict, List, NamedTuple, Optional, Set

from .views import events as views

if TYPE_CHECKING:
    from .cluster import ClusterState
    from .hosts import Hosts
    from .store import KVStore

log = logging.getLogger(__name__)

SEVERITIES: Dict[str, int] = {'CRITICAL': 1, 'ERROR': 2, 'WARNING': 3, 'RECOVERY': 4, 'INFO': 5}
SEVERITY_NAMES: Dict[int, str] = {number: name for name, number in SEVERITIES.items()}
CHUNK_PREFIX = 'events/'
CHUNK_SIZE = 50
MAX_MESSAGE = 600          # keeps a full chunk well under the store's 64 KiB per key


class Event(NamedTuple):
    seq: int
    when: float
    severity: int
    message: str
    fsid: Optional[str] = None
    fqdn: Optional[str] = None
    service_type: Optional[str] = None
    service_id: Optional[str] = None


def format_when(ts: float) -> str:
    """Event ``when`` as Calamari's DRF rendered it: ISO 8601 cut to milliseconds, ``Z`` for UTC."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'


def event_object(event: Event) -> Dict[str, Any]:
    return {'when': format_when(event.when), 'severity': SEVERITY_NAMES[event.severity], 'message': event.message}


def parse_severity(text: Optional[str]) -> Optional[int]:
    """The ``?severity=`` threshold as a number, or None when the name is not a severity."""
    return SEVERITIES.get((text or 'INFO').upper()) if text is not None else SEVERITIES['INFO']


def chunk_key(number: int) -> str:
    return f'{CHUNK_PREFIX}{number:010d}'


class EventLog:
    """Bounded, persisted event history.  ``emit`` is safe from any thread and never touches the store."""

    def __init__(self, store: 'KVStore', capacity: Callable[[], int], clock: Callable[[], float] = time.time,
                 on_change: Callable[[], None] = lambda: None) -> None:
        self._store = store
        self._on_change = on_change         # the event list changed (cached responses of it are stale)
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._events: List[Event] = []
        self._next_seq = 0
        self._dirty: Set[int] = set()
        self._on_emit: Optional[Callable[[], None]] = None
        self._load()

    # -- persistence ----------------------------------------------------------------------------
    def _load(self) -> None:
        events: List[Event] = []
        self._stored_chunks: Set[int] = set()
        for key, rows in self._store.prefix_json(CHUNK_PREFIX).items():
            try:
                self._stored_chunks.add(int(key))
                events.extend(Event(*row) for row in rows)
            except (TypeError, ValueError):
                log.warning('ignoring unreadable event chunk %s', key)
        events.sort(key=lambda e: e.seq)
        self._events = events[-self._limit():]
        self._next_seq = events[-1].seq + 1 if events else 0

    def _limit(self) -> int:
        try:
            return max(10, int(self._capacity()))
        except (TypeError, ValueError):
            return 5000

    def flush(self) -> int:
        """Write the chunks that changed and delete the ones that were trimmed away; returns store writes."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            by_chunk: Dict[int, List[list]] = {n: [] for n in dirty}
            for event in self._events:
                number = event.seq // CHUNK_SIZE
                if number in by_chunk:
                    by_chunk[number].append(list(event))
            oldest_chunk = self._events[0].seq // CHUNK_SIZE if self._events else self._next_seq // CHUNK_SIZE
            stale = {n for n in self._stored_chunks if n < oldest_chunk}
        writes = 0
        try:
            for number, rows in sorted(by_chunk.items()):
                if rows:
                    self._store.set_json(chunk_key(number), rows)
                    self._stored_chunks.add(number)
                else:
                    self._store.delete(chunk_key(number))
                    self._stored_chunks.discard(number)
                writes += 1
            for number in sorted(stale):
                self._store.delete(chunk_key(number))
                self._stored_chunks.discard(number)
                writes += 1
        except Exception:
            log.exception('could not persist events; will retry')
            with self._lock:
                self._dirty |= dirty
        return writes

    @property
    def dirty(self) -> bool:
        return bool(self._dirty)

    # -- writing --------------------------------------------------------------------------------
    def set_listener(self, on_emit: Optional[Callable[[], None]]) -> None:
        """``on_emit()`` is called after each new event (the worker uses it to schedule a flush)."""
        self._on_emit = on_emit

    def emit(self, severity: str, message: str, fsid: Optional[str] = None, fqdn: Optional[str] = None,
             service_type: Optional[str] = None, service_id: Optional[str] = None,
             when: Optional[float] = None) -> Event:
        """Record one event.  ``severity`` is a name (CRITICAL, ERROR, WARNING, RECOVERY, INFO); ``when``: its
        time if not now (a request's completion time)."""
        number = SEVERITIES[severity] if isinstance(severity, str) else int(severity)
        with self._lock:
            event = Event(self._next_seq, self._clock() if when is None else when, number,
                          str(message)[:MAX_MESSAGE], fsid, fqdn, service_type,
                          None if service_id is None else str(service_id))
            self._next_seq += 1
            self._events.append(event)
            self._dirty.add(event.seq // CHUNK_SIZE)
            excess = len(self._events) - self._limit()
            if excess > 0:
                del self._events[:excess]
        log.debug('event %s %s', severity, message)
        self._on_change()
        if self._on_emit:
            self._on_emit()
        return event

    def forget_cluster(self, fsid: str) -> None:
        """Drop every event associated with ``fsid`` (DELETE cluster)."""
        with self._lock:
            kept = [e for e in self._events if e.fsid != fsid]
            self._dirty |= {e.seq // CHUNK_SIZE for e in self._events if e.fsid == fsid}
            self._events = kept
        self._on_change()
        if self._on_emit:
            self._on_emit()

    # -- reading --------------------------------------------------------------------------------
    def events(self, fsid: Optional[str] = None, fqdn: Optional[str] = None,
               max_severity: int = SEVERITIES['INFO']) -> List[Event]:
        """Newest first; ``max_severity`` is the "this severe or worse" threshold."""
        with self._lock:
            snapshot = list(self._events)
        return [e for e in reversed(snapshot)
                if e.severity <= max_severity
                and (fsid is None or e.fsid == fsid)
                and (fqdn is None or e.fqdn == fqdn)]

    def __len__(self) -> int:
        return len(self._events)


# -- the generator: map diffs → events, off the mgr's notification thread ------------------------

STATE_KEY = 'event_state'
MAP_TYPES = ('osd_map', 'mon_map', 'health', 'fs_map')
SERVER_LATE_SECONDS = 30.0      # Calamari: 3 x its 10 s heartbeat; daemons report every mgr_stats_period (5 s)
CLUSTER_LATE_SECONDS = 60.0     # Calamari's cluster_contact_threshold
TICK_SECONDS = 10.0             # Calamari's eventer tick
FLUSH_SECONDS = 1.0
MAX_PENDING_CLOG = 1000


class EventGenerator:
    """Compares each new map with the previous summary and records Calamari's events.

    ``notify()`` only records which map changed (O(1)); a worker thread reads the maps through
    ``ClusterState``, diffs them, checks contact every tick, and flushes the event log in batches.  The
    last-seen summary is persisted (``event_state``) so a new mgr neither re-announces nor repeats events.
    """

    def __init__(self, log_: EventLog, cluster: 'ClusterState', hosts: 'Hosts', store: 'KVStore',
                 clock: Callable[[], float] = time.time) -> None:
        self.log = log_
        self._cluster = cluster
        self._hosts = hosts
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._work = threading.Lock()      # one diff at a time (worker thread, tests, forget_cluster)
        self._pending: Set[str] = set(MAP_TYPES) | {'servers'}
        self._clog: List[Dict[str, Any]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._state: Dict[str, Any] = {}
        self._state_dirty = False
        self._osd_states: Optional[Dict[int, Any]] = None
        self._osd_hosts: Dict[str, str] = {}
        self._last_tick = 0.0
        self.last_diff_seconds = 0.0

    # -- called on the mgr's finisher thread: O(1) ----------------------------------------------
    def notify(self, notify_type: str, notify_id: Any) -> None:
        if notify_type == 'clog':
            if isinstance(notify_id, dict) and notify_id.get('priority') in ('[WRN]', '[ERR]'):
                with self._lock:
                    if len(self._clog) < MAX_PENDING_CLOG:
                        self._clog.append(notify_id)
                self._wake.set()
        elif notify_type in MAP_TYPES:
            with self._lock:
                self._pending.add(notify_type)
            self._wake.set()

    # -- worker -----------------------------------------------------------------------------------
    def start(self) -> None:
        self.log.set_listener(self._wake.set)
        self._thread = threading.Thread(target=self._run, name='calamari-events', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.process()
                if self._clock() - self._last_tick >= TICK_SECONDS:
                    self.tick()
                self.flush()
            except Exception:
                logging.getLogger(__name__).exception('event generator failed; continuing')
            self._stop.wait(0.2)          # coalesce bursts of notifications

    def flush(self) -> None:
        self.log.flush()
        if self._state_dirty:
            self._state_dirty = False
            try:
                self._store.set_json(STATE_KEY, self._state)
            except Exception:
                self._state_dirty = True
                log.exception('could not persist the event state')

    def _emit(self, specs: List[Any]) -> None:
        for spec in specs:
            self.log.emit(*spec)

    def _set_state(self, key: str, value: Any) -> None:
        if self._state.get(key) != value:
            self._state[key] = value
            self._state_dirty = True

    def load_state(self, fsid: str) -> None:
        """The previous mgr's summary, if it was about this cluster."""
        state = self._store.get_json(STATE_KEY, {}) or {}
        self._state = state if state.get('fsid') == fsid else {'fsid': fsid}
        if 'osds' in self._state:
            self._osd_states = views.unpack_osd_states(self._state['osds'])

    def process(self) -> None:
        with self._work:
            self._process()

    def _process(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, set()
            clog, self._clog = self._clog, []
        if not pending and not clog:
            return
        cluster = self._cluster
        fsid, name = cluster.fsid, cluster.name
        if not self._state:
            self.load_state(fsid)
        started = time.perf_counter()
        if 'osd_map' in pending:
            self._diff_osd_map(cluster.source('osd_map') or {}, name, fsid)
        if pending & {'mon_map', 'health'}:
            quorum = views.quorum_summary(cluster.source('mon_status'))
            old = self._state.get('quorum')
            if old is not None and quorum[0]:
                self._emit(views.diff_quorum((old[0], old[1]), quorum, name, fsid, self._mon_host))
            if quorum[0]:
                self._set_state('quorum', [quorum[0], quorum[1]])
        if 'health' in pending:
            status = views.health_status(cluster.source('health'))
            self._emit(views.diff_health(self._state.get('health'), status, name, fsid))
            if status:
                self._set_state('health', status)
        if pending & {'mon_map', 'fs_map', 'servers'}:
            self.check_servers(fsid)        # and every tick: the host inventory is not rebuilt per OSD epoch
        self.last_diff_seconds = time.perf_counter() - started
        log.debug('event pass for %s took %.1f ms', ','.join(sorted(pending)), self.last_diff_seconds * 1000)
        for entry in clog:
            spec = views.clog_event(entry, fsid, self._daemon_host)
            if spec:
                self.log.emit(*spec)

    def _diff_osd_map(self, osd_map: Dict[str, Any], name: str, fsid: str) -> None:
        if not osd_map:
            return
        states = views.osd_states(osd_map)
        if self._osd_states is not None and states != self._osd_states:
            self._emit(views.diff_osds(self._osd_states, states, name, fsid, self._osd_host))
        if states != self._osd_states:
            self._osd_states = states
            self._set_state('osds', views.pack_osd_states(states))
        pools = views.pool_names(osd_map)
        if 'pools' in self._state:
            self._emit(views.diff_pools(self._state['pools'], pools, name, fsid))
        self._set_state('pools', pools)

    def _osd_host(self, osd_id: str) -> Optional[str]:
        meta = (self._cluster.source('osd_metadata') or {}).get(osd_id) or {}
        host = meta.get('hostname')
        if host:
            self._osd_hosts[osd_id] = host      # remembered for OSDs whose metadata is gone (removed)
            return host
        return self._osd_hosts.get(osd_id)

    def _mon_host(self, mon_name: str) -> Optional[str]:
        return ((self._cluster.source('mon_metadata') or {}).get(mon_name) or {}).get('hostname')

    def _daemon_host(self, kind: str, ident: str) -> Optional[str]:
        if kind == 'osd':
            return self._osd_host(ident)
        if kind == 'mon':
            return self._mon_host(ident)
        return None

    def check_servers(self, fsid: str) -> None:
        """``Added server`` for hosts whose daemons report for the first time."""
        hosts = self._hosts.hosts()
        known = set(self._state.get('servers') or [])
        new = sorted(fqdn for fqdn, host in hosts.items() if host.reporting and fqdn not in known)
        if not new:
            return
        self._hosts.register(new)
        for fqdn in new:
            self.log.emit(*views.server_added(fqdn, [s.type for s in hosts[fqdn].services], fsid))
        self._set_state('servers', sorted(known | set(new)))

    def forget_server(self, fqdn: str) -> None:
        """DELETE server: if its daemons report again it is announced again, as Calamari did."""
        with self._work:
            self._set_state('servers', [s for s in self._state.get('servers') or [] if s != fqdn])

    def tick(self) -> None:
        """Late reporting / regained contact for servers and the cluster."""
        with self._work:
            self._tick()

    def _tick(self) -> None:
        self._last_tick = now = self._clock()
        cluster = self._cluster
        fsid, name = cluster.fsid, cluster.name
        if not self._state:
            self.load_state(fsid)
        late = now - cluster.update_timestamp > CLUSTER_LATE_SECONDS
        if late != bool(self._state.get('cluster_late')):
            self.log.emit(*(views.cluster_late(name, fsid) if late else views.cluster_regained(name, fsid)))
            self._set_state('cluster_late', late)
        contacts = self._hosts.last_contacts()
        hosts = self._hosts.hosts()
        late_servers = set(self._state.get('late_servers') or [])
        for fqdn, host in hosts.items():
            stamp = contacts.get(fqdn)
            if not self._hosts.managed(host) or stamp is None:
                continue
            if now - stamp > SERVER_LATE_SECONDS and fqdn not in late_servers:
                when = str(datetime.fromtimestamp(stamp, timezone.utc))
                self.log.emit(*views.server_late(fqdn, when, fsid))
                late_servers.add(fqdn)
            elif now - stamp <= SERVER_LATE_SECONDS and fqdn in late_servers:
                self.log.emit(*views.server_regained(fqdn, fsid))
                late_servers.discard(fqdn)
        self._set_state('late_servers', sorted(late_servers))
        self.check_servers(fsid)
