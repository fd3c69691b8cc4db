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
import uuid
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

BATCH_PREFIX = 'request-batch/'
MAX_KEY_BYTES = 60000       # the mons refuse a config-key value over 64 KiB: a bigger batch takes several keys


class NotStored(Exception):
    """The batch could not be written: nothing it held may be acknowledged or sent."""


class GroupCommit:
    def __init__(self, store: Any) -> None:
        self._store = store
        self._writer = uuid.uuid4().hex[:12]     # keys of different mgrs never collide
        self._cond = threading.Condition(threading.Lock())
        self._queue: Dict[str, Dict[str, Any]] = {}
        self._queued_batch = 1                  # the number the queued records will be written under
        self._durable = 0                       # every batch up to this one is written (or failed)
        self._writing = False
        self._failed: Dict[int, str] = {}
        self._open: List[Tuple[str, Set[str]]] = []      # written batch keys and the ids not yet own-keyed
        self.writes = 0                          # store writes made (for tests and the benchmark)

    def commit(self, records: Dict[str, Dict[str, Any]]) -> None:
        """Return once ``records`` are in the store (raise NotStored if the write failed)."""
        if not records:
            return
        with self._cond:
            self._queue.update(records)
            mine = self._queued_batch
            while self._durable < mine:
                if self._writing:
                    self._cond.wait()
                    continue
                self._write_queued()
            problem = self._failed.pop(mine, None) if mine in self._failed else None
        if problem is not None:
            raise NotStored(problem)

    def _write_queued(self) -> None:
        """Leader: write the queued batch outside the lock (condition lock held on entry and exit)."""
        batch, self._queue = self._queue, {}
        number, self._queued_batch = self._queued_batch, self._queued_batch + 1
        self._writing = True
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
        if problem is not None:
            self._failed[number] = problem
        self._durable = number
        self._writing = False
        self._cond.notify_all()

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


def load_batches(store: Any) -> Tuple[Dict[str, Dict[str, Any]], List[str]]:
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
