"""Calamari's events (API-REFERENCE §7) as pure functions: map summaries and the events between two of them.

A summary is a small JSON-able dict of what events are about (OSD up/in states, pools, quorum, leader,
health status); ``diff_*`` compare an old and a new summary and return ``EventSpec``s.  No mgr, no store.
"""
import base64
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

HostOf = Callable[[str], Optional[str]]
HEALTH_SEVERITY = {'HEALTH_OK': 5, 'HEALTH_WARN': 3, 'HEALTH_ERR': 2}
SEVERITY_BY_NUMBER = {1: 'CRITICAL', 2: 'ERROR', 3: 'WARNING', 4: 'RECOVERY', 5: 'INFO'}
CLOG_SEVERITY = {'[WRN]': 'WARNING', '[ERR]': 'ERROR'}
SERVICE_NOUNS = (('osd', 'OSD'), ('mon', 'monitor service'), ('mds', 'MDS'))


class EventSpec(NamedTuple):
    severity: str
    message: str
    fsid: Optional[str] = None
    fqdn: Optional[str] = None
    service_type: Optional[str] = None
    service_id: Optional[str] = None


def on_server(fqdn: Optional[str]) -> str:
    return f' (on {fqdn})' if fqdn else ''


# -- OSDs ---------------------------------------------------------------------------------------

OsdStates = Dict[int, Tuple[int, int]]     # id -> (up, in)


def osd_states(osd_map: Dict[str, Any]) -> OsdStates:
    return {o['osd']: (1 if o.get('up') else 0, 1 if o.get('in') else 0) for o in osd_map.get('osds', [])}


def diff_osds(old: OsdStates, new: OsdStates, cluster: str, fsid: str, host_of: HostOf) -> List[EventSpec]:
    if old == new:
        return []
    events = []

    def spec(severity: str, osd_id: int, message: str) -> EventSpec:
        return EventSpec(severity, message, fsid, host_of(str(osd_id)), 'osd', str(osd_id))

    for osd_id in sorted(old.keys() - new.keys()):
        events.append(spec('INFO', osd_id, f'OSD {cluster}.{osd_id}{on_server(host_of(str(osd_id)))} '
                                           'removed from the cluster map'))
    for osd_id in sorted(new.keys() - old.keys()):
        events.append(spec('INFO', osd_id, f'OSD {cluster}.{osd_id}{on_server(host_of(str(osd_id)))} '
                                           'added to the cluster map'))
    for osd_id in sorted(new.keys() & old.keys()):
        (was_up, was_in), (is_up, is_in) = old[osd_id], new[osd_id]
        where = on_server(host_of(str(osd_id))) if (was_up, was_in) != (is_up, is_in) else ''
        if was_up != is_up:
            events.append(spec('RECOVERY', osd_id, f'OSD {cluster}.{osd_id} came up{where}') if is_up else
                          spec('WARNING', osd_id, f'OSD {cluster}.{osd_id} went down{where}'))
        if was_in != is_in:
            events.append(spec('RECOVERY', osd_id, f'OSD {cluster}.{osd_id} marked in{where}') if is_in else
                          spec('WARNING', osd_id, f'OSD {cluster}.{osd_id} marked out{where}'))
    return events


def _bitmap(ids: Iterable[int]) -> str:
    ids = list(ids)
    if not ids:
        return ''
    bits = bytearray(max(ids) // 8 + 1)
    for i in ids:
        bits[i // 8] |= 1 << (i % 8)
    return base64.b64encode(bytes(bits)).decode()


def _unbitmap(text: str) -> List[int]:
    bits = base64.b64decode(text or '')
    return [i * 8 + b for i, byte in enumerate(bits) if byte for b in range(8) if byte & (1 << b)]


def pack_osd_states(states: OsdStates) -> Dict[str, str]:
    """OSD states as three bitmaps (exists/up/in): ~3 bits per OSD, so 10000 OSDs fit in ~5 KB."""
    return {'exists': _bitmap(states), 'up': _bitmap(i for i, s in states.items() if s[0]),
            'in': _bitmap(i for i, s in states.items() if s[1])}


def unpack_osd_states(packed: Dict[str, str]) -> OsdStates:
    up, in_ = set(_unbitmap(packed.get('up', ''))), set(_unbitmap(packed.get('in', '')))
    return {i: (1 if i in up else 0, 1 if i in in_ else 0) for i in _unbitmap(packed.get('exists', ''))}


# -- pools --------------------------------------------------------------------------------------

def pool_names(osd_map: Dict[str, Any]) -> Dict[str, str]:
    return {str(p['pool']): p.get('pool_name', '') for p in osd_map.get('pools', [])}


def diff_pools(old: Dict[str, str], new: Dict[str, str], cluster: str, fsid: str) -> List[EventSpec]:
    events = []
    for pool_id in sorted(old.keys() - new.keys(), key=int):
        events.append(EventSpec('INFO', f'pool {cluster}.{pool_id} removed from cluster {cluster}',
                                fsid, None, 'pool', pool_id))
    for pool_id in sorted(new.keys() - old.keys(), key=int):
        events.append(EventSpec('INFO', f'pool {cluster}.{pool_id} added to cluster {cluster}',
                                fsid, None, 'pool', pool_id))
    return events


# -- mons ---------------------------------------------------------------------------------------

def quorum_summary(mon_status: Optional[Dict[str, Any]]) -> Tuple[List[str], Optional[str]]:
    """(names of the mons in quorum, the leader's name); the leader is the lowest rank in quorum."""
    if not mon_status:
        return [], None
    by_rank = {m['rank']: m['name'] for m in mon_status.get('monmap', {}).get('mons', [])}
    quorum = sorted(mon_status.get('quorum') or [])
    names = sorted(by_rank[r] for r in quorum if r in by_rank)
    return names, by_rank.get(quorum[0]) if quorum else None


def diff_quorum(old: Tuple[List[str], Optional[str]], new: Tuple[List[str], Optional[str]], cluster: str,
                fsid: str, host_of: HostOf) -> List[EventSpec]:
    events = []
    (old_names, old_leader), (new_names, new_leader) = old, new
    for name in sorted(set(new_names) - set(old_names)):
        events.append(EventSpec('RECOVERY', f"Mon '{cluster}.{name}' joined quorum{on_server(host_of(name))}",
                                fsid, host_of(name), 'mon', name))
    for name in sorted(set(old_names) - set(new_names)):
        events.append(EventSpec('WARNING', f"Mon '{cluster}.{name}' left quorum{on_server(host_of(name))}",
                                fsid, host_of(name), 'mon', name))
    if new_leader and old_leader and new_leader != old_leader:
        # Calamari's template has the space before {on_server} (so a trailing one when it is empty).
        events.append(EventSpec('INFO', f"Mon '{cluster}.{new_leader}' now quorum leader "
                                        f"{on_server(host_of(new_leader))}",
                                fsid, host_of(new_leader), 'mon', new_leader))
    return events


# -- health -------------------------------------------------------------------------------------

def health_status(health: Optional[Dict[str, Any]]) -> Optional[str]:
    """Luminous+ health JSON has ``status``; Calamari read ``overall_status``."""
    if not health:
        return None
    return health.get('status') or health.get('overall_status')


def diff_health(old: Optional[str], new: Optional[str], name: str, fsid: str) -> List[EventSpec]:
    if not old or not new or old == new or old not in HEALTH_SEVERITY or new not in HEALTH_SEVERITY:
        return []
    if HEALTH_SEVERITY[new] < HEALTH_SEVERITY[old]:
        return [EventSpec(SEVERITY_BY_NUMBER[HEALTH_SEVERITY[new]],
                          f"Health of cluster '{name}' degraded from {old} to {new}", fsid)]
    return [EventSpec('RECOVERY', f"Health of cluster '{name}' recovered from {old} to {new}", fsid)]


# -- servers ------------------------------------------------------------------------------------

def server_added(fqdn: str, service_types: List[str], fsid: str) -> EventSpec:
    """``Added server <fqdn> with 3 OSDs, 1 monitor service`` (Calamari's wording)."""
    parts = []
    for kind, noun in SERVICE_NOUNS:
        count = service_types.count(kind)
        if count:
            parts.append(f'{count} {noun}{"s" if count > 1 else ""}')
    suffix = ' with ' + ', '.join(parts) if parts else ''
    return EventSpec('INFO', f'Added server {fqdn}{suffix}', fsid, fqdn)


def server_late(fqdn: str, last_contact: str, fsid: str) -> EventSpec:
    return EventSpec('WARNING', f'Server {fqdn} is late reporting in, last report at {last_contact}', fsid, fqdn)


def server_regained(fqdn: str, fsid: str) -> EventSpec:
    return EventSpec('RECOVERY', f'Server {fqdn} regained contact', fsid, fqdn)


def cluster_late(name: str, fsid: str) -> EventSpec:
    return EventSpec('WARNING', f"Cluster '{name}' is late reporting in", fsid)


def cluster_regained(name: str, fsid: str) -> EventSpec:
    return EventSpec('RECOVERY', f"Cluster '{name}' regained contact", fsid)


# -- cluster log --------------------------------------------------------------------------------

def clog_event(entry: Any, fsid: str, host_of_daemon: Callable[[str, str], Optional[str]]) -> Optional[EventSpec]:
    """A cluster-channel [WRN]/[ERR] cluster log entry as an event (others are not events)."""
    if not isinstance(entry, dict) or entry.get('channel', 'cluster') != 'cluster':
        return None
    severity = CLOG_SEVERITY.get(entry.get('priority', ''))
    if not severity:
        return None
    who = str(entry.get('name') or '')
    kind, _, ident = who.partition('.')
    fqdn = host_of_daemon(kind, ident) if kind in ('osd', 'mon', 'mds', 'mgr') and ident else None
    message = f"{who}: {entry.get('message', '')}" if who else str(entry.get('message', ''))
    return EventSpec(severity, message, fsid, fqdn, kind if fqdn else None, ident if fqdn else None)
