"""The history sampler: on the module's own schedule (option ``history_interval``, default 60 s, as Diamond's
collection interval) one sample of what the mgr holds, under the metric names Calamari's collectors used:

* ``ceph.cluster.<fsid>.pool.<id|all>.<stat>``: from the PG map's pool stats (``ceph pg dump pools``) and their
  sum (``pg dump summary``); counters (``num_read``, ``num_write``, ``num_read_kb``, ``num_write_kb``) as
  per-second rates, the rest as gauges;
* ``ceph.cluster.<fsid>.df.<stat>``: ``ceph df``'s totals in bytes, and the legacy KB names the dashboard asks for
  (``total_space``, ``total_used``, ``total_avail``), served as the bytes series / 1024;
* ``servers.<mgr host>.<cpu|loadavg|memory|network|iostat|diskspace>.*``: this host, from /proc (host_metrics).

Samples are taken at interval boundaries; the thread waits on an Event between them (``wake()`` after an option
change).  Changing the interval starts a new history.  Finished coarse buckets go to the KV store (history.py).
"""
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Tuple

from . import host_metrics
from .history import KEY_PREFIX, HistoryStore, decode_bucket, encode_bucket, slot_key, slot_of

if TYPE_CHECKING:
    from ..cluster import ClusterState
    from ..store import KVStore

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 60
POOL_COUNTERS = ('num_read', 'num_write', 'num_read_kb', 'num_write_kb')
POOL_GAUGES = ('num_objects', 'num_bytes')
DF_STATS = ('total_bytes', 'total_used_bytes', 'total_avail_bytes', 'total_used_raw_bytes')
DF_LEGACY_KB = {'total_space': 'total_bytes', 'total_used': 'total_used_bytes', 'total_avail': 'total_avail_bytes'}
NAN = float('nan')


class Rates:
    """Diamond's ``derivative``: a counter's change per second since the previous sample; a counter that went down
    (PGs moved, a daemon restarted) gives 0.  A counter's first sample has no rate (a gap)."""

    def __init__(self) -> None:
        self._last: Dict[str, Tuple[float, float]] = {}

    def update(self, now: float, counters: Mapping[str, float]) -> Dict[str, float]:
        rates: Dict[str, float] = {}
        last: Dict[str, Tuple[float, float]] = {}
        for name, value in counters.items():
            previous = self._last.get(name)
            if previous is not None and now > previous[0]:
                rates[name] = max(0.0, (value - previous[1]) / (now - previous[0]))
            last[name] = (now, value)
        self._last = last           # only the names of this sample: bounded
        return rates


def cluster_metrics(fsid: str, pool_stats: Optional[Mapping[str, Any]], pg_summary: Optional[Mapping[str, Any]],
                    df: Optional[Mapping[str, Any]]) -> Tuple[Dict[str, float], Dict[str, float]]:
    """(gauges, counters) of the cluster, in the order the store keeps them under its series cap: df, all pools,
    then each pool by id."""
    prefix = f'ceph.cluster.{fsid}.'
    gauges: Dict[str, float] = {}
    counters: Dict[str, float] = {}
    stats = (df or {}).get('stats') or {}
    if not stats.get('total_bytes'):
        stats = {}              # a mgr that has no OSD stats yet reports a cluster of 0 bytes: a gap, not a 0
    for stat in DF_STATS:
        if stat in stats:
            gauges[f'{prefix}df.{stat}'] = float(stats[stat])
    pools = sorted((pool_stats or {}).get('pool_stats', []), key=lambda e: e.get('poolid', 0))
    sums = [('all', ((pg_summary or {}).get('pg_stats_sum') or {}).get('stat_sum'))]
    sums += [(str(e['poolid']), e.get('stat_sum')) for e in pools]
    for pool, stat_sum in sums:
        if not stat_sum:
            continue
        for stat in POOL_GAUGES:
            gauges[f'{prefix}pool.{pool}.{stat}'] = float(stat_sum.get(stat, 0))
        for stat in POOL_COUNTERS:
            counters[f'{prefix}pool.{pool}.{stat}'] = float(stat_sum.get(stat, 0))
    return gauges, counters


def legacy_aliases(fsid: str) -> Dict[str, Tuple[str, float]]:
    prefix = f'ceph.cluster.{fsid}.df.'
    return {prefix + old: (prefix + new, 1 / 1024) for old, new in DF_LEGACY_KB.items()}


class HistorySampler:
    def __init__(self, cluster: 'ClusterState', store: 'KVStore', local_fqdn: Callable[[], str],
                 option: Callable[[str], Any], clock: Callable[[], float] = time.time,
                 read_host: Callable[[Mapping[str, str]], host_metrics.HostReading] = host_metrics.read_host) -> None:
        self._cluster = cluster
        self._store = store
        self._local_fqdn = local_fqdn
        self._option = option
        self._clock = clock
        self._read_host = read_host
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._history: Optional[HistoryStore] = None
        self._history_lock = threading.Lock()
        self._rates = Rates()
        self._disks: Tuple[float, Dict[str, Tuple[float, ...]]] = (0.0, {})
        self._chunks: Dict[str, int] = {}       # slot -> chunks stored for it
        self._refused_logged = False
        self.sample_seconds = 0.0               # CPU time of the last sample (for history-status)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name='calamari-history', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)

    def wake(self) -> None:
        """An option changed: look at the interval again now."""
        self._wake.set()

    def interval(self) -> int:
        try:
            return max(1, int(self._option('history_interval') or DEFAULT_INTERVAL))
        except (TypeError, ValueError):
            return DEFAULT_INTERVAL

    @property
    def history(self) -> HistoryStore:
        """The current store (made, and filled from the KV store, on first use)."""
        interval = self.interval()
        with self._history_lock:
            if self._history is None or self._history.step != interval:
                self._history = self._load(HistoryStore(interval))
                self._rates = Rates()
            return self._history

    def _run(self) -> None:
        next_at = 0.0
        step = 0
        while not self._stop.is_set():
            try:
                history = self.history
                if history.step != step:          # a new interval: sample at once
                    step, next_at = history.step, self._clock()
                delay = next_at - self._clock()
                if delay > 0:
                    self._wake.wait(delay)
                    self._wake.clear()
                    continue
                self.sample_once(self._clock())
            except Exception:
                log.exception('history sample failed')
            next_at = (self._clock() // step + 1) * step if step else self._clock() + DEFAULT_INTERVAL

    # -- sampling -------------------------------------------------------------------------------
    def sample_once(self, now: float) -> None:
        started = time.thread_time()
        cluster = self._cluster
        if not cluster.source('mon_map'):
            return                          # (a mgr that has no maps yet)
        history = self.history
        values: Dict[str, float] = {}
        counters: Dict[str, float] = {}
        fsid = cluster.fsid
        gauges, cluster_counters = cluster_metrics(fsid, cluster.source('pool_stats'), cluster.source('pg_summary'),
                                                   cluster.source('df'))
        values.update(gauges)
        values.update(dict.fromkeys(cluster_counters, NAN))      # keep the order; rates below
        counters.update(cluster_counters)
        fqdn = self._local_fqdn()
        host = f'servers.{host_metrics.graphite_host(fqdn)}.'
        reading = self._read_host(host_metrics.local_osd_dirs(cluster.source('osd_metadata'), fqdn))
        values.update({host + k: v for k, v in reading.gauges.items()})
        values.update({host + k: NAN for k in reading.counters})
        counters.update({host + k: v for k, v in reading.counters.items()})
        previous_time, previous_disks = self._disks
        values.update({host + k: v for k, v in host_metrics.iostat_values(
            previous_disks, reading.disks, now - previous_time).items()})
        self._disks = (now, reading.disks)
        values.update(self._rates.update(now, counters))
        # the cluster's pools last: when the series cap is reached, pools beyond it are what is not kept
        ordered = {k: v for k, v in values.items() if '.pool.' not in k or '.pool.all.' in k}
        ordered.update(values)
        history.set_aliases(legacy_aliases(fsid))
        finished = history.record(now, ordered)
        if history.refused and not self._refused_logged:
            log.warning('history: %d series not kept (at most %d)', history.refused, history.max_series)
            self._refused_logged = True
        if finished:
            self._persist(history, *finished)
        self.sample_seconds = time.thread_time() - started

    # -- persistence ----------------------------------------------------------------------------
    def _persist(self, history: HistoryStore, bucket: int, averages: Dict[str, float]) -> None:
        """One KV write per finished bucket (more only for a bucket over the 64 KiB limit)."""
        chunks = encode_bucket(bucket, history.coarse_step, averages)
        slot = slot_of(bucket, history.coarse_step, history.coarse_points)
        try:
            for n, text in enumerate(chunks):
                self._store.set(slot_key(slot, n), text)
            for n in range(len(chunks), self._chunks.get(slot, 0)):      # left from a bigger bucket
                self._store.set(slot_key(slot, n), None)
        except Exception:
            log.exception('could not persist the history of %s', bucket)
            return
        self._chunks[slot] = len(chunks)

    def _load(self, history: HistoryStore) -> HistoryStore:
        """The coarse points a previous active mgr persisted, for this interval and within the retention."""
        now = self._clock()
        buckets: Dict[int, Dict[str, float]] = {}
        for key, stored in self._store.prefix_json(KEY_PREFIX).items():
            slot, _, chunk = key.partition('.')
            if chunk.isdigit():
                self._chunks[slot] = max(self._chunks.get(slot, 0), int(chunk) + 1)
            try:
                bucket, step, values = decode_bucket(stored)
            except ValueError:
                log.warning('ignoring unreadable history key %s', key)
                continue
            if step == history.coarse_step and now - history.retention < bucket <= now:
                buckets.setdefault(bucket, {}).update(values)
        for bucket in sorted(buckets):
            history.load(bucket, buckets[bucket])
        return history

    def status(self) -> Dict[str, Any]:
        usage = self.history.usage()
        return dict(usage, interval=self.interval(), last_sample_cpu_ms=round(self.sample_seconds * 1000, 3),
                    fine_retention_s=usage['step'] * self.history.fine_points,
                    coarse_retention_s=self.history.retention)
