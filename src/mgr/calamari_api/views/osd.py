"""OSDs, OSD flags (osd_config) and OSD commands; ``OsdMapView`` bundles every OSD-map derived index.

``OsdMapView`` is built once per map change (see ``derived.py``) from the OSD map, the OSD tree,
the CRUSH dump and the OSD metadata; requests then only look things up in it.
"""
from typing import Any, Dict, List, Mapping, Optional

from .crush import CrushIndex
from .pool import pool_object

OSD_COMMANDS = ['scrub', 'deep_scrub', 'repair']
# Calamari's nine OSD flags, in the order of its example response.
OSD_FLAGS = ('pause', 'nobackfill', 'noout', 'nodeep-scrub', 'noscrub', 'noin', 'noup', 'norecover', 'nodown')


def valid_commands(osd: Mapping[str, Any]) -> List[str]:
    """Scrub, deep-scrub and repair are possible on an OSD that is up."""
    return list(OSD_COMMANDS) if osd.get('up') else []


def osd_flags(osd_map: Optional[Mapping[str, Any]]) -> Dict[str, bool]:
    """osd_config: the nine flags as booleans; ``pause`` means both ``pauserd`` and ``pausewr``."""
    osd_map = osd_map or {}
    flags = set(osd_map.get('flags_set') or [f for f in (osd_map.get('flags') or '').split(',') if f])
    present = set(flags)
    if {'pauserd', 'pausewr'} <= flags:
        present.add('pause')
    return {flag: flag in present for flag in OSD_FLAGS}


def address(text: Any) -> str:
    """An "ip:port/nonce" from the OSD map; an OSD that never booted has none (Ceph prints
    "(unrecognized address family 0)/0"), which Calamari showed as ""."""
    if not text or str(text).startswith('(unrecognized') or str(text) == '-':
        return ''
    return str(text)


def osd_object(osd: Mapping[str, Any], reweight: float, server: Optional[str], pools: List[int],
               ancestry: List[List[int]], metadata: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    metadata = metadata or {}
    up = bool(osd.get('up'))
    return {
        'uuid': osd.get('uuid'),
        'up': up,
        'in': bool(osd.get('in')),
        'id': osd['osd'],
        'reweight': float(reweight),
        'server': server,
        'pools': pools,
        'valid_commands': list(OSD_COMMANDS) if up else [],
        'public_addr': address(osd.get('public_addr')),
        'cluster_addr': address(osd.get('cluster_addr')),
        'crush_node_ancestry': ancestry,
        'backend_partition_path': metadata.get('backend_filestore_partition_path') or None,
        'backend_device_node': metadata.get('backend_filestore_dev_node') or None,
        'osd_data': metadata.get('osd_data') or None,
        'osd_journal': metadata.get('osd_journal') or None,
    }


def osds_by_pool(osd_map: Mapping[str, Any], crush: CrushIndex) -> Dict[int, List[int]]:
    """The OSDs each pool can place data on: those of the pool's CRUSH rule (Pacific's ``crush_rule`` is a
    rule id); when the rule does not exist, every OSD (as Calamari did when no rule matched)."""
    all_osds = sorted(o['osd'] for o in osd_map.get('osds', []))
    result: Dict[int, List[int]] = {}
    for pool in osd_map.get('pools', []):
        rule_id = pool.get('crush_rule', pool.get('crush_ruleset'))
        osds = crush.osds_by_rule_id.get(rule_id)
        result[pool['pool']] = osds if osds is not None else all_osds
    return result


def invert(by_pool: Mapping[int, List[int]]) -> Dict[int, List[int]]:
    """pool -> OSDs  becomes  OSD -> sorted pools (one pass over the pairs)."""
    out: Dict[int, List[int]] = {}
    for pool_id in sorted(by_pool):
        for osd_id in by_pool[pool_id]:
            out.setdefault(osd_id, []).append(pool_id)
    return out


class OsdMapView:
    """Every Calamari object derived from one OSD map epoch, with the lookups controllers need."""

    def __init__(self, osd_map: Optional[Mapping[str, Any]], tree: Optional[Mapping[str, Any]],
                 crush: Optional[Mapping[str, Any]], metadata: Optional[Mapping[str, Any]]) -> None:
        osd_map = osd_map or {}
        metadata = metadata or {}
        self.osd_map = osd_map
        self.epoch = osd_map.get('epoch')
        self.crush = CrushIndex(dict(crush) if crush else None)
        self.rules = self.crush.rule_objects()
        self.rule_by_id = {r['id']: r for r in self.rules}
        self.rulesets = self.crush.rulesets()
        self.nodes = self.crush.node_objects()
        self.types = self.crush.type_objects()
        self.pools = [pool_object(p) for p in sorted(osd_map.get('pools', []), key=lambda p: p['pool'])]
        self.pool_by_id = {p['id']: p for p in self.pools}
        self.pool_by_name = {p['name']: p for p in self.pools}
        self.osds_by_pool = osds_by_pool(osd_map, self.crush)
        pools_by_osd = invert(self.osds_by_pool)
        reweights = {n['id']: n.get('reweight', 0.0) for n in (tree or {}).get('nodes', []) if n.get('id', -1) >= 0}
        self.osds: List[Dict[str, Any]] = []
        for osd in sorted(osd_map.get('osds', []), key=lambda o: o['osd']):
            osd_id = osd['osd']
            meta = metadata.get(str(osd_id))
            self.osds.append(osd_object(
                osd, reweights.get(osd_id, 0.0), (meta or {}).get('hostname') or None,
                pools_by_osd.get(osd_id, []), self.crush.ancestry(osd_id), meta))
        self.osd_by_id = {o['id']: o for o in self.osds}
        self.flags = osd_flags(osd_map)

    def osds_for_pool(self, pool_id: int) -> List[Dict[str, Any]]:
        return [self.osd_by_id[i] for i in self.osds_by_pool.get(pool_id, []) if i in self.osd_by_id]
