"""Calamari 1.3's v1 objects, which its dashboard and admin apps read (V1-DASHBOARD.md §5), from today's maps.

The quirks clients depend on are kept: ``up``/``in`` are the OSD map's integers 0/1, ``cluster_update_time_unix``
is in milliseconds, ``pg_state_counts`` counts OSDs (not PGs), the health report has the pre-Luminous shape
(``overall_status``, ``summary[{severity, summary}]``).
"""
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from ..cluster import isoformat

# Copied from each OSD's `ceph osd dump` entry (Calamari's OSD_FIELDS).
OSD_FIELDS = ('uuid', 'up', 'in', 'up_from', 'public_addr', 'cluster_addr', 'heartbeat_back_addr',
              'heartbeat_front_addr')
# Calamari's PG state classes, tried in this order (views/v1.py HealthCounters).
PG_CLASSES: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ('critical', ('stale', 'down', 'peering', 'inconsistent', 'incomplete', 'inactive')),
    ('warn', ('creating', 'recovery_wait', 'recovering', 'replay', 'splitting', 'degraded', 'remapped',
              'scrubbing', 'repair', 'wait_backfill', 'backfilling', 'backfill_toofull')),
    ('ok', ('active', 'clean')),
)


def update_times(timestamp: float) -> Dict[str, Any]:
    """``cluster_update_time`` (ISO 8601, UTC) and ``cluster_update_time_unix`` (whole seconds, in ms)."""
    return {'cluster_update_time': isoformat(timestamp), 'cluster_update_time_unix': int(timestamp) * 1000}


def cluster_object(fsid: str, name: str, timestamp: float) -> Dict[str, Any]:
    times = update_times(timestamp)
    return {'cluster_update_time': times['cluster_update_time'],
            'cluster_update_time_unix': times['cluster_update_time_unix'], 'id': fsid, 'name': name}


# -- health ---------------------------------------------------------------------------------------

def health_report(health: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """Today's health (``{status, checks, mutes}``) in the shape of ``ceph health detail`` before Luminous:
    ``overall_status``, ``summary`` (one entry per check, muted ones left out as they are out of ``status``)
    and ``detail`` (the checks' detail lines).  None while the mgr has no health report yet."""
    if not health:
        return None
    summary: List[Dict[str, Any]] = []
    detail: List[str] = []
    for name, check in (health.get('checks') or {}).items():
        if check.get('muted'):
            continue
        summary.append({'severity': check.get('severity'),
                        'summary': (check.get('summary') or {}).get('message') or name})
        detail.extend(str(d.get('message', '')) for d in check.get('detail') or [] if isinstance(d, Mapping))
    return {'overall_status': health.get('status') or health.get('overall_status'), 'summary': summary,
            'detail': detail}


def health_object(health: Optional[Mapping[str, Any]], timestamp: float) -> Dict[str, Any]:
    return {'report': health_report(health), **update_times(timestamp)}


def _counter(count: int, states: Dict[str, int]) -> Dict[str, Any]:
    return {'count': count, 'states': {k: v for k, v in states.items() if v} if count else {}}


def osd_counters(osds: Iterable[Mapping[str, Any]]) -> Dict[str, Any]:
    tally = {'up/in': 0, 'up/out': 0, 'down/in': 0, 'down/out': 0}
    for osd in osds:
        tally[('up' if osd.get('up') else 'down') + '/' + ('in' if osd.get('in') else 'out')] += 1
    return {'ok': _counter(tally['up/in'], {'up/in': tally['up/in']}),
            'warn': _counter(tally['up/out'] + tally['down/in'],
                             {'up/out': tally['up/out'], 'down/in': tally['down/in']}),
            'critical': _counter(tally['down/out'], {'down/out': tally['down/out']})}


def mon_counters(mon_status: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """A mon in quorum is ``ok`` (state ``in``); any other is ``critical`` (``out``); ``warn`` is always 0."""
    mon_status = mon_status or {}
    quorum = set(mon_status.get('quorum') or [])
    ranks = [m.get('rank') for m in (mon_status.get('monmap') or {}).get('mons', [])]
    inside = sum(1 for r in ranks if r in quorum)
    outside = len(ranks) - inside
    return {'ok': _counter(inside, {'in': inside}), 'warn': _counter(0, {}),
            'critical': _counter(outside, {'out': outside})}


def mds_counters(fs_map: Optional[Mapping[str, Any]]) -> Dict[str, int]:
    """Calamari's formula over the one MDS map it knew, summed over today's file systems; standbys are MDS
    daemons that are neither up nor in (as they were in the old map's ``info``)."""
    total = up = in_ = 0
    for fs in (fs_map or {}).get('filesystems', []):
        mdsmap = fs.get('mdsmap') or {}
        total += len(mdsmap.get('info') or {})
        up += len(mdsmap.get('up') or {})
        in_ += len(mdsmap.get('in') or [])
    total += len((fs_map or {}).get('standbys') or [])
    return {'total': total, 'up_in': in_, 'up_not_in': up - in_, 'not_up_not_in': total - up}


def pg_counters(pg_states: Optional[Mapping[str, int]]) -> Dict[str, Any]:
    """Each PG state string goes to the first class (critical, warn, ok) one of its tokens belongs to, and each of
    its tokens of that class is counted; a string with no known token is critical, with all its tokens."""
    result = {name: {'count': 0, 'states': {}} for name in ('ok', 'warn', 'critical')}
    for state, count in (pg_states or {}).items():
        tokens = state.lower().split('+')
        for name, members in PG_CLASSES:
            if any(t in members for t in tokens):
                chosen = [t for t in tokens if t in members]
                break
        else:
            name, chosen = 'critical', tokens
        result[name]['count'] += count
        for token in chosen:
            result[name]['states'][token] = result[name]['states'].get(token, 0) + count
    return result


def health_counters(osd_map: Optional[Mapping[str, Any]], mon_status: Optional[Mapping[str, Any]],
                    fs_map: Optional[Mapping[str, Any]], pg_summary: Optional[Mapping[str, Any]],
                    timestamp: float) -> Dict[str, Any]:
    return {'pg': pg_counters((pg_summary or {}).get('all')), 'mds': mds_counters(fs_map),
            'mon': mon_counters(mon_status), 'osd': osd_counters((osd_map or {}).get('osds', [])),
            **update_times(timestamp)}


# -- space, OSDs, pools, servers ------------------------------------------------------------------

def space_object(df: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Calamari read the newest ``ceph df`` figures from graphite; these are the mgr's current ones."""
    stats = (df or {}).get('stats') or {}
    return {'space': {'used_bytes': stats.get('total_used_bytes'), 'capacity_bytes': stats.get('total_bytes'),
                      'free_bytes': stats.get('total_avail_bytes')}}


def split_states(by_state: Mapping[str, int]) -> Dict[str, int]:
    """``{"active+clean": 10}`` → ``{"active": 10, "clean": 10}``."""
    tokens: Dict[str, int] = {}
    for state, count in by_state.items():
        for token in state.split('+'):
            tokens[token] = tokens.get(token, 0) + count
    return tokens


def osd_list(raw_osds: Iterable[Mapping[str, Any]], pgs_by_osd: Optional[Mapping[str, Mapping[str, int]]],
             pool_names_by_osd: Mapping[int, List[str]], fqdn_by_osd: Mapping[int, Optional[str]]
             ) -> Optional[Dict[str, Any]]:
    """``{osds, pg_state_counts}``; None (Calamari's ``202 []``) when there are no OSDs or no PG states.
    ``pgs_by_osd``: the mgr's ``pg_summary["by_osd"]`` (a PG counts on every OSD of its acting set)."""
    pgs_by_osd = pgs_by_osd or {}
    osds = []
    osds_by_token: Dict[str, int] = {}
    for raw in sorted(raw_osds, key=lambda o: o['osd']):
        osd_id = raw['osd']
        states = split_states(pgs_by_osd.get(str(osd_id)) or {})
        for token in states:
            osds_by_token[token] = osds_by_token.get(token, 0) + 1
        fqdn = fqdn_by_osd.get(osd_id)
        osd = {field: raw.get(field) for field in OSD_FIELDS}
        osd.update({'id': osd_id, 'osd': osd_id, 'pg_states': states, 'pools': pool_names_by_osd.get(osd_id, []),
                    'fqdn': fqdn, 'host': fqdn.split('.')[0] if fqdn else None})
        osds.append(osd)
    if not osds or not osds_by_token:
        return None
    return {'osds': osds, 'pg_state_counts': osds_by_token}


def pool_object(pool: Mapping[str, Any], stat_sum: Optional[Mapping[str, Any]], fsid: str) -> Dict[str, Any]:
    """``used_*``: the pool's ``stat_sum`` in the PG map (what Calamari's collector sent to graphite)."""
    return {'pool_id': pool['pool'], 'name': pool['pool_name'],
            'quota_max_bytes': pool.get('quota_max_bytes', 0), 'quota_max_objects': pool.get('quota_max_objects', 0),
            'used_objects': stat_sum.get('num_objects') if stat_sum is not None else None,
            'used_bytes': stat_sum.get('num_bytes') if stat_sum is not None else None,
            'id': pool['pool'], 'cluster': fsid}


def pool_list(pools: Iterable[Mapping[str, Any]], pool_stats: Optional[Mapping[str, Any]],
              fsid: str) -> List[Dict[str, Any]]:
    sums = {e.get('poolid'): e.get('stat_sum') or {} for e in (pool_stats or {}).get('pool_stats', [])}
    return [pool_object(p, sums.get(p['pool']), fsid) for p in sorted(pools, key=lambda p: p['pool'])]


def server_object(fqdn: str, services: Iterable[Tuple[str, str]]) -> Dict[str, Any]:
    """``addr`` is the host's name (Calamari's FQDN, not an IP); ``services`` are (type, id) pairs."""
    hostname = fqdn.split('.')[0]
    return {'addr': fqdn, 'hostname': hostname, 'name': hostname,
            'services': [{'type': t, 'service_id': i, 'name': f'{t}.{i}'} for t, i in services]}
