"""Sync objects: the raw cluster maps Calamari mirrored, under Calamari's names, in Ceph's own JSON."""
from typing import Any, Dict, List, Mapping, Optional

from .crush import crush_with_float_weights

# Calamari master's order.  mds_map is Pacific's FSMap (``fs dump``).
SYNC_TYPES = ['mds_map', 'osd_map', 'mon_map', 'mon_status', 'quorum_status', 'pg_summary', 'health', 'config']


def osd_map_object(osd_map: Optional[Mapping[str, Any]], tree: Optional[Mapping[str, Any]],
                   crush: Optional[Mapping[str, Any]], crush_map_text: Optional[str],
                   metadata: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """``osd dump`` plus what Calamari added: ``tree`` (osd tree), ``crush`` (crush dump, weights / 0x10000
    as Calamari showed them), ``crush_map_text`` (decompiled map) and ``osd_metadata`` (a list, each entry
    with its ``osd`` id)."""
    if osd_map is None:
        return None
    out = dict(osd_map)
    out['tree'] = tree
    out['crush'] = crush_with_float_weights(crush)
    out['crush_map_text'] = crush_map_text
    by_id = {int(k): v for k, v in (metadata or {}).items() if kv_is_int(k)}
    out['osd_metadata'] = [dict(by_id[osd_id], osd=osd_id) for osd_id in sorted(by_id)]
    return out


def kv_is_int(text: Any) -> bool:
    try:
        int(text)
        return True
    except (TypeError, ValueError):
        return False


def health_object(health: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """Pacific's health report, plus Calamari's ``overall_status`` (= ``status``) that its clients read."""
    if health is None:
        return None
    out = dict(health)
    if 'overall_status' not in out and 'status' in out:
        out['overall_status'] = out['status']
    return out


def sync_type_names() -> List[str]:
    return list(SYNC_TYPES)
