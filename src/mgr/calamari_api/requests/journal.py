"""Group commit of request records: whoever must not go on before its record is durable hands it in, and the
records handed in while a store write is under way are written together by the next one (one mon round-trip
for a burst of submits rather than one each).

A batch is one KV key ``request-batch/<writer>-<n>`` holding ``{request id: record}``.  The request engine
later writes each request's own key (``request/<id>``) and then ``settled()`` drops the batch keys whose records
all have an own key at least as new (records carry a ``rev`` that grows with every change; load keeps the
newest of the two).
"""
import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

if TYPE_CHECKING:
    from ..store import KVStore

BATCH_PREFIX = 'request-batch/'
MAX_KEY_BYTES = 60000       # the mons refuse a config-key value over 64 KiB: a bigger batch takes several keys


class NotStored(Exception):
    """The batch could not be written: nothing it held may be acknowledged or sent."""


class GroupCommit:
    """A writer thread (started when records wait, gone when none do) writes everything queued meanwhile as one
    batch; callers wait for their batch with a deadline.  Records whose caller gave up before their batch was
    written are handed to ``on_late`` once it is (the caller told its client they were not stored)."""

    def __init__(self, store: 'KVStore', on_late: Callable[[Dict[str, Dict[str, Any]]], None] = lambda records: None
                 ) -> None:
        self._store = store
        self._on_late = on_late
        self._writer = uuid.uuid4().hex[:12]     # keys of different mgrs never collide
        self._cond = threading.Condition(threading.Lock())
        self._queue: Dict[str, Dict[str, Any]] = {}
        self._queued_batch = 1                  # the number the queued records will be written under
        self._durable = 0                       # every batch up to this one is written (or failed)
        self._writing = False
        self._failed: Dict[int, str] = {}
        self._given_up: Set[str] = set()         # ids whose caller stopped waiting
        self._open: List[Tuple[str, Set[str]]] = []      # written batch keys and the ids not yet own-keyed
        self.writes = 0                          # store writes made (for tests and the benchmark)

    def commit(self, records: Dict[str, Dict[str, Any]], timeout: Optional[float] = None) -> None:
        """Return once ``records`` are in the store; raise NotStored if the write failed or took over ``timeout``
        seconds (the mons are out of reach: a mgr's store write waits for them)."""
        if not records:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._queue.update(records)
            mine = self._queued_batch
            if not self._writing:
                self._writing = True
                threading.Thread(target=self._write_loop, name='calamari-group-commit', daemon=True).start()
            while self._durable < mine:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    self._given_up.update(records)
                    raise NotStored(f'the mons did not store it within {timeout:.0f} s')
                self._cond.wait(left)
            problem = self._failed.pop(mine, None)
        if problem is not None:
            raise NotStored(problem)

    def _write_loop(self) -> None:
        with self._cond:
            while self._queue:
                late = self._write_queued()
                if late:
                    self._cond.release()
                    try:
                        self._on_late(late)
                    finally:
                        self._cond.acquire()
            self._writing = False

    def _write_queued(self) -> Dict[str, Dict[str, Any]]:
        """Write the queued batch outside the lock (condition lock held on entry and exit); the records of it whose
        callers gave up, if it was written."""
        batch, self._queue = self._queue, {}
        number, self._queued_batch = self._queued_batch, self._queued_batch + 1
        self._cond.release()
        problem: Optional[str] = None
        written: List[Tuple[str, Set[str]]] = []
        try:
            for part, chunk in enumerate(_chunks(batch)):
                key = f'{BATCH_PREFIX}{self._writer}-{number}' + (f'.{part}' if part else '')
                self._store.set_json(key, chunk)
                written.append((key, set(chunk)))
        except Exception as e:          # the mgr raises its own error types when the mons do not answer
            problem = f'{type(e).__name__}: {e}'
        finally:
            self._cond.acquire()
        self.writes += max(1, len(written))
        self._open.extend(written)
        late = {rid: rec for rid, rec in batch.items() if rid in self._given_up}
        self._given_up -= set(batch)
        if problem is not None and len(late) < len(batch):
            self._failed[number] = problem
        self._durable = number
        self._cond.notify_all()
        return late if problem is None else {}

    def settled(self, ids: Iterable[str]) -> List[str]:
        """``ids`` now have their own keys (or were deleted): the batch keys left with nothing to keep."""
        done = set(ids)
        with self._cond:
            for _, waiting in self._open:
                waiting -= done
            empty = [key for key, waiting in self._open if not waiting]
            self._open = [(key, waiting) for key, waiting in self._open if waiting]
        return empty


def _chunks(batch: Dict[str, Dict[str, Any]]) -> List[Dict[str, Dict[str, Any]]]:
    chunks: List[Dict[str, Dict[str, Any]]] = [{}]
    size = 0
    for rid, rec in batch.items():
        length = len(json.dumps(rec, separators=(',', ':'))) + len(rid) + 6
        if chunks[-1] and size + length > MAX_KEY_BYTES:
            chunks.append({})
            size = 0
        chunks[-1][rid] = rec
        size += length
    return chunks


def load_batches(store: 'KVStore') -> Tuple[Dict[str, Dict[str, Any]], List[str]]:
    """Every record in batch keys (the newest ``rev`` of each id) and the batch keys themselves."""
    records: Dict[str, Dict[str, Any]] = {}
    keys: List[str] = []
    for key, batch in store.prefix_json(BATCH_PREFIX).items():
        keys.append(BATCH_PREFIX + key)
        if not isinstance(batch, dict):
            continue
        for rid, rec in batch.items():
            if isinstance(rec, dict) and newer(rec, records.get(rid)):
                records[rid] = rec
    return records, keys


def newer(rec: Dict[str, Any], than: Optional[Dict[str, Any]]) -> bool:
    return than is None or int(rec.get('rev', 0)) > int(than.get('rev', 0))
