"""Metric history for graphite's ``render``: one preallocated ring of doubles per series and archive, like a
whisper file with Calamari's retention (``60s:1d,15m:7d``).

* The fine archive holds FINE_POINTS samples one interval apart (1440: a day at the default 60 s), the coarse
  archive COARSE_POINTS points COARSE_FACTOR intervals apart (672 x 15 min: 7 days), each the average of the
  samples in its bucket.  The archives are counted in points, so a shorter interval keeps a shorter history.
* Memory is fixed per series (FINE_POINTS + COARSE_POINTS doubles, about 17 KiB) and the number of series is
  capped (MAX_SERIES), so the store is bounded whatever the number of pools.  A series with no value for the
  whole coarse retention (a deleted pool) is dropped.
* Coarse points survive a mgr failover: each finished bucket is one KV write (key ``history/<slot>.<chunk>``,
  slot = bucket number mod COARSE_POINTS, so keys are overwritten in place rather than deleted), compressed
  JSON, split into chunks only when it would pass the KV store's 64 KiB limit.
"""
import base64
import json
import math
import threading
import zlib
from array import array
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

from .render import Series

FINE_POINTS = 1440
COARSE_FACTOR = 15
COARSE_POINTS = 672
MAX_SERIES = 2000
KEY_PREFIX = 'history/'
KV_LIMIT = 60 * 1024            # under mon_config_key_max_entry_size (64 KiB)
NAN = float('nan')


class _Series:
    __slots__ = ('fine', 'coarse', 'total', 'count', 'last_seen')

    def __init__(self, fine_points: int, coarse_points: int) -> None:
        self.fine = array('d', [NAN]) * fine_points
        self.coarse = array('d', [NAN]) * coarse_points
        self.total = 0.0
        self.count = 0
        self.last_seen = 0.0


class HistoryStore:
    """Thread-safe: the sampler calls ``record``; HTTP threads call ``names`` and ``fetch``."""

    def __init__(self, step: int, fine_points: int = FINE_POINTS, coarse_factor: int = COARSE_FACTOR,
                 coarse_points: int = COARSE_POINTS, max_series: int = MAX_SERIES) -> None:
        self.step = int(step)
        self.coarse_step = self.step * coarse_factor
        self.fine_points, self.coarse_points, self.max_series = fine_points, coarse_points, max_series
        self._lock = threading.Lock()
        self._series: Dict[str, _Series] = {}
        self._aliases: Dict[str, Tuple[str, float]] = {}
        self._fine_times = array('q', [-1]) * fine_points
        self._coarse_times = array('q', [-1]) * coarse_points
        self._bucket: Optional[int] = None           # the coarse bucket being filled
        self.refused = 0                             # series not kept because of MAX_SERIES (last record)

    @property
    def retention(self) -> int:
        return self.coarse_step * self.coarse_points

    def _add(self, names: Iterable[str]) -> int:
        refused = 0
        for name in names:
            if name not in self._series:
                if len(self._series) >= self.max_series:
                    refused += 1
                    continue
                self._series[name] = _Series(self.fine_points, self.coarse_points)
        return refused

    # -- writing --------------------------------------------------------------------------------
    def record(self, timestamp: float, values: Mapping[str, float]) -> Optional[Tuple[int, Dict[str, float]]]:
        """One sample of every series (a missing or NaN value is a gap).  Returns the coarse bucket this sample
        closed, as (bucket start, {name: average}), for the caller to persist; None while the bucket fills.
        New names beyond MAX_SERIES are not kept (in the order given: callers put what matters first)."""
        step = self.step
        bucket = int(timestamp // step) * step
        coarse_bucket = int(timestamp // self.coarse_step) * self.coarse_step
        finished = None
        with self._lock:
            self.refused = self._add(values)
            if self._bucket is not None and coarse_bucket != self._bucket:
                finished = self._finish(timestamp)
            self._bucket = coarse_bucket
            slot = (bucket // step) % self.fine_points
            self._fine_times[slot] = bucket
            for name, series in self._series.items():
                value = values.get(name, NAN)
                series.fine[slot] = value
                if value == value:
                    series.total += value
                    series.count += 1
                    series.last_seen = timestamp
        return finished

    def _finish(self, now: float) -> Tuple[int, Dict[str, float]]:
        bucket = self._bucket
        assert bucket is not None
        slot = (bucket // self.coarse_step) % self.coarse_points
        self._coarse_times[slot] = bucket
        averages: Dict[str, float] = {}
        for name, series in self._series.items():
            value = series.total / series.count if series.count else NAN
            series.coarse[slot] = value
            series.total, series.count = 0.0, 0
            if value == value:
                averages[name] = value
        for name in [n for n, s in self._series.items() if s.last_seen < now - self.retention]:
            del self._series[name]
        return bucket, averages

    def load(self, bucket: int, values: Mapping[str, float]) -> None:
        """A persisted coarse point (after a failover); ignored when older than what the slot holds."""
        slot = (bucket // self.coarse_step) % self.coarse_points
        with self._lock:
            if bucket % self.coarse_step or self._coarse_times[slot] >= bucket:
                return
            self._add(values)
            self._coarse_times[slot] = bucket
            for name, series in self._series.items():
                value = values.get(name, NAN)
                series.coarse[slot] = value
                if value == value:
                    series.last_seen = max(series.last_seen, float(bucket))

    def set_aliases(self, aliases: Mapping[str, Tuple[str, float]]) -> None:
        """Names served as another series times a factor (graphite's legacy KB names of ``ceph df``)."""
        with self._lock:
            self._aliases = dict(aliases)

    # -- reading --------------------------------------------------------------------------------
    def names(self) -> List[str]:
        with self._lock:
            return list(self._series) + [a for a, (source, _) in self._aliases.items() if source in self._series]

    def fetch(self, names: Iterable[str], start: float, end: float, now: float) -> List[Series]:
        """Whisper's rules: the finest archive that covers ``start`` (else the coarsest, with ``start`` moved to its
        oldest point); points at ``step`` boundaries after ``start`` up to the one holding ``end``."""
        if now - start <= self.step * self.fine_points:
            step, points, times, fine = self.step, self.fine_points, self._fine_times, True
        else:
            step, points, times, fine = self.coarse_step, self.coarse_points, self._coarse_times, False
            start = max(start, now - self.retention)
        first = int(start - start % step) + step
        last = min(int(end - end % step) + step, first + points * step)
        result = []
        with self._lock:
            for name in names:
                source, factor = self._aliases.get(name, (name, 1.0))
                series = self._series.get(source)
                if series is None:
                    continue
                ring = series.fine if fine else series.coarse
                values: List[Optional[float]] = []
                for ts in range(first, max(first, last), step):
                    slot = (ts // step) % points
                    if times[slot] == ts:
                        value = ring[slot]
                    elif not fine and ts == self._bucket and series.count:
                        value = series.total / series.count         # the bucket being filled
                    else:
                        value = NAN
                    values.append(None if math.isnan(value) else value * factor)
                result.append(Series(name, first, max(first, last), step, values))
        return result

    def usage(self) -> Dict[str, int]:
        """Series kept and the bytes their rings take (the figures README quotes)."""
        with self._lock:
            count = len(self._series)
        ring_bytes = count * (self.fine_points + self.coarse_points) * 8
        return {'series': count, 'ring_bytes': ring_bytes + (self.fine_points + self.coarse_points) * 8,
                'step': self.step, 'coarse_step': self.coarse_step}


# -- persistence format ------------------------------------------------------------------------------

def slot_of(bucket: int, coarse_step: int, coarse_points: int = COARSE_POINTS) -> str:
    """The KV slot of a coarse bucket: its number modulo the ring's length (keys are reused in place)."""
    return f'{(bucket // coarse_step) % coarse_points:04d}'


def slot_key(slot: str, chunk: int) -> str:
    return f'{KEY_PREFIX}{slot}.{chunk}'


def encode_bucket(bucket: int, coarse_step: int, values: Mapping[str, float], limit: int = KV_LIMIT) -> List[str]:
    """One finished coarse bucket as KV values: normally one; split in halves until each fits under ``limit``."""
    def pack(items: List[Tuple[str, float]]) -> str:
        packed = zlib.compress(json.dumps(dict(items), separators=(',', ':')).encode(), 6)
        return json.dumps({'t': bucket, 'step': coarse_step, 'z': base64.b64encode(packed).decode()})
    pending = [sorted(values.items())]
    chunks: List[str] = []
    while pending:
        items = pending.pop(0)
        text = pack(items)
        if len(text) > limit and len(items) > 1:
            pending[:0] = [items[:len(items) // 2], items[len(items) // 2:]]
        else:
            chunks.append(text)
    return chunks


def decode_bucket(stored: Mapping[str, object]) -> Tuple[int, int, Dict[str, float]]:
    """(bucket start, coarse step, values) of a stored chunk; ValueError if it is not one."""
    try:
        values = json.loads(zlib.decompress(base64.b64decode(str(stored['z']))))
        return int(stored['t']), int(stored['step']), {str(k): float(v) for k, v in values.items()}  # type: ignore
    except (KeyError, TypeError, AttributeError, zlib.error) as e:
        raise ValueError(f'not a history chunk: {e}')
