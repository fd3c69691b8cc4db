"""Pool and cluster usage (Calamari master's ``pool/stats``, ``pool/<id>/stats`` and ``stats``).

Calamari ran librados ``ioctx.get_stats()`` and ``get_cluster_stats()`` on a mon host; the same numbers come
from the mgr's PG map: ``get('pool_stats')`` (each pool's ``pool_stat_t``) and ``get('df')``.  The conversions
follow librados (``rados_ioctx_pool_stat`` and ``rados_cluster_stat``), so the figures match ``rados df``.
"""
from typing import Any, Dict, Iterable, List, Mapping, Optional

POOL_STAT_FIELDS = ('num_objects_unfound', 'num_objects_missing_on_primary', 'num_object_clones', 'num_objects',
                    'num_object_copies', 'num_bytes', 'num_rd_kb', 'num_wr_kb', 'num_kb', 'num_wr',
                    'num_objects_degraded', 'num_rd')


def _kb_round_up(num_bytes: int) -> int:
    return (num_bytes + 1023) >> 10


def per_pool_accounting(df: Optional[Mapping[str, Any]]) -> bool:
    """librados reports allocated bytes when every OSD keeps per-pool statistics (BlueStore), else the
    logical ``num_bytes``."""
    stats = (df or {}).get('stats') or {}
    return bool(stats.get('num_osds')) and stats.get('num_per_pool_osds') == stats.get('num_osds')


def pool_stat_object(name: str, entry: Mapping[str, Any], per_pool: bool) -> Dict[str, Any]:
    """One pool, in the field order of Calamari's serializer, plus the pool's ``name`` first."""
    total = entry.get('stat_sum') or {}
    if per_pool:
        num_bytes = int((entry.get('store_stats') or {}).get('allocated', 0))
    else:
        num_bytes = int(total.get('num_bytes', 0)) + int(total.get('num_bytes_hit_set_archive', 0))
    values = {
        'num_objects_unfound': total.get('num_objects_unfound', 0),
        'num_objects_missing_on_primary': total.get('num_objects_missing_on_primary', 0),
        'num_object_clones': total.get('num_object_clones', 0),
        'num_objects': total.get('num_objects', 0),
        'num_object_copies': total.get('num_object_copies', 0),
        'num_bytes': num_bytes,
        'num_rd_kb': total.get('num_read_kb', 0),
        'num_wr_kb': total.get('num_write_kb', 0),
        'num_kb': _kb_round_up(num_bytes),
        'num_wr': total.get('num_write', 0),
        # librados adds the misplaced objects in (its own "FIXME: this is imprecise")
        'num_objects_degraded': total.get('num_objects_degraded', 0) + total.get('num_objects_misplaced', 0),
        'num_rd': total.get('num_read', 0),
    }
    return {'name': name, **{key: values[key] for key in POOL_STAT_FIELDS}}


def pool_stat_objects(pools: Iterable[Mapping[str, Any]], pool_stats: Optional[Mapping[str, Any]],
                      df: Optional[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """Every pool of the OSD map, by id; a pool the PG map has not reported yet shows zeros."""
    by_id = {entry.get('poolid'): entry for entry in (pool_stats or {}).get('pool_stats', [])}
    per_pool = per_pool_accounting(df)
    return [pool_stat_object(pool['pool_name'], by_id.get(pool['pool'], {}), per_pool)
            for pool in sorted(pools, key=lambda p: p['pool'])]


def cluster_stats(df: Mapping[str, Any], pool_stats: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """librados ``get_cluster_stats()``: sizes in KiB (rounded down, as Ceph's statfs does) and the object count."""
    stats = df.get('stats') or {}
    num_objects = sum(int((entry.get('stat_sum') or {}).get('num_objects', 0))
                      for entry in (pool_stats or {}).get('pool_stats', []))
    return {
        'kb': int(stats.get('total_bytes', 0)) >> 10,
        'num_objects': num_objects,
        'kb_avail': int(stats.get('total_avail_bytes', 0)) >> 10,
        'kb_used': int(stats.get('total_used_raw_bytes', stats.get('total_used_bytes', 0))) >> 10,
    }
