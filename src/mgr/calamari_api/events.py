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
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Set

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

    def __init__(self, store: Any, capacity: Callable[[], int], clock: Callable[[], float] = time.time) -> None:
        self._store = store
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
             service_type: Optional[str] = None, service_id: Optional[str] = None) -> Event:
        """Record one event.  ``severity`` is a name (CRITICAL, ERROR, WARNING, RECOVERY, INFO)."""
        number = SEVERITIES[severity] if isinstance(severity, str) else int(severity)
        with self._lock:
            event = Event(self._next_seq, self._clock(), number, str(message)[:MAX_MESSAGE], fsid, fqdn,
                          service_type, None if service_id is None else str(service_id))
            self._next_seq += 1
            self._events.append(event)
            self._dirty.add(event.seq // CHUNK_SIZE)
            excess = len(self._events) - self._limit()
            if excess > 0:
                del self._events[:excess]
        log.debug('event %s %s', severity, message)
        if self._on_emit:
            self._on_emit()
        return event

    def forget_cluster(self, fsid: str) -> None:
        """Drop every event associated with ``fsid`` (DELETE cluster)."""
        with self._lock:
            kept = [e for e in self._events if e.fsid != fsid]
            self._dirty |= {e.seq // CHUNK_SIZE for e in self._events if e.fsid == fsid}
            self._events = kept
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
