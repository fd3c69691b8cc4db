"""Mons: the monmap plus quorum membership and leadership."""
from typing import Any, Dict, List, Mapping, Optional


def mon_objects(mon_map: Optional[Mapping[str, Any]], mon_status: Optional[Mapping[str, Any]],
                leader_name: Optional[str], hostnames: Mapping[str, Optional[str]]) -> List[Dict[str, Any]]:
    """Calamari's mon list, sorted by rank.

    ``in_quorum``: the mon's rank is in the quorum, unless fewer than a majority of mons are in it, in which
    case (as Calamari did) every mon is reported out of quorum.  ``leader``: the quorum's leader
    (``leader_name`` from quorum_status, else the lowest rank in the quorum); always false without quorum.
    """
    mons = sorted((mon_map or {}).get('mons', []), key=lambda m: m.get('rank', 0))
    quorum = set((mon_status or {}).get('quorum') or [])
    has_quorum = bool(mons) and len(quorum) > len(mons) // 2
    if has_quorum and not leader_name:
        leader_rank = min(quorum)
        leader_name = next((m['name'] for m in mons if m.get('rank') == leader_rank), None)
    return [{
        'name': mon['name'],
        'rank': mon.get('rank'),
        'in_quorum': has_quorum and mon.get('rank') in quorum,
        'server': hostnames.get(mon['name']) or None,
        'addr': mon.get('addr'),
        'leader': has_quorum and mon['name'] == leader_name,
    } for mon in mons]


def mon_status_of(mon_status: Mapping[str, Any], mon: Mapping[str, Any]) -> Dict[str, Any]:
    """``mon/<name>/status``: the ``mon_status`` the mgr holds (the view of the mon it is connected to), with
    ``name``, ``rank`` and ``state`` describing the mon asked for (``leader``/``peon`` in quorum, else
    ``out of quorum``); the rest (quorum, monmap, features, election epoch) is the cluster-wide view."""
    status = dict(mon_status)
    if status.get('name') != mon['name']:
        status['name'], status['rank'] = mon['name'], mon['rank']
        status['state'] = 'leader' if mon['leader'] else 'peon' if mon['in_quorum'] else 'out of quorum'
    return status
