"""restful's views of the cluster maps, as pure functions of them (the maps are never changed: copies are)."""
import copy
from typing import Any, Dict, List, Optional, Set

OSD_FLAGS = ('pause', 'noup', 'nodown', 'noout', 'noin', 'nobackfill', 'norecover', 'noscrub', 'nodeep-scrub')
OSD_COMMANDS = ['scrub', 'deep-scrub', 'repair']
POOL_PROPERTIES_1 = ('size', 'min_size', 'pg_num', 'crush_rule', 'hashpspool')
POOL_PROPERTIES_2 = ('pgp_num',)
POOL_QUOTAS = (('quota_max_bytes', 'max_bytes'), ('quota_max_objects', 'max_objects'))
POOL_ARGS = POOL_PROPERTIES_1 + POOL_PROPERTIES_2 + tuple(name for name, _ in POOL_QUOTAS)


def mons(mon_map: Dict[str, Any], mon_status: Optional[Dict[str, Any]],
         mon_metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
    quorum = list((mon_status or {}).get('quorum') or [])
    out = []
    for mon in mon_map.get('mons', []):
        mon = copy.deepcopy(dict(mon))
        mon['in_quorum'] = mon.get('rank') in quorum
        mon['server'] = (mon_metadata.get(mon.get('name')) or {}).get('hostname')
        mon['leader'] = bool(quorum) and mon.get('rank') == quorum[0]
        out.append(mon)
    return out


def rule_osds(crush: Dict[str, Any], rule: Dict[str, Any]) -> Set[int]:
    """The OSDs under the items a rule takes (what restful counted as the rule's OSDs)."""
    buckets = {b['id']: b for b in crush.get('buckets', [])}

    def leaves(item: int, seen: Set[int]) -> Set[int]:
        if item >= 0:
            return {item}
        if item in seen or item not in buckets:
            return set()
        seen.add(item)
        result: Set[int] = set()
        for child in buckets[item].get('items', []):
            result |= leaves(child['id'], seen)
        return result

    osds: Set[int] = set()
    for step in rule.get('steps', []):
        if step.get('op') == 'take' and 'item' in step:
            osds |= leaves(step['item'], set())
    return osds


def crush_rules(crush: Dict[str, Any]) -> List[Dict[str, Any]]:
    out = []
    for rule in crush.get('rules', []):
        rule = copy.deepcopy(dict(rule))
        rule['osd_count'] = len(rule_osds(crush, rule))
        out.append(rule)
    return out


def _rule_fits(rule: Dict[str, Any], size: int) -> bool:
    """Pacific's rules have min_size/max_size; Tentacle's have none (every size fits)."""
    return rule.get('min_size', size) <= size <= rule.get('max_size', size)


def pools_by_osd(osd_map: Dict[str, Any], crush: Dict[str, Any]) -> Dict[int, List[int]]:
    by_osd: Dict[int, List[int]] = {osd['osd']: [] for osd in osd_map.get('osds', [])}
    for pool in osd_map.get('pools', []):
        for rule in crush.get('rules', []):
            if rule.get('rule_id') == pool.get('crush_rule') and _rule_fits(rule, pool.get('size', 0)):
                for osd in sorted(rule_osds(crush, rule)):
                    if osd in by_osd and pool['pool'] not in by_osd[osd]:
                        by_osd[osd].append(pool['pool'])
    return by_osd


def osds(osd_map: Dict[str, Any], osd_metadata: Dict[str, Any], tree: Dict[str, Any], crush: Dict[str, Any],
         pool_id: Optional[int] = None, ids: Optional[List[int]] = None) -> List[Dict[str, Any]]:
    pools = pools_by_osd(osd_map, crush)
    reweight = {node.get('id'): node.get('reweight') for node in tree.get('nodes', [])}
    out = []
    for osd in osd_map.get('osds', []):
        if ids is not None and osd['osd'] not in ids:
            continue
        osd = copy.deepcopy(dict(osd))
        osd['pools'] = pools.get(osd['osd'], [])
        osd['server'] = (osd_metadata.get(str(osd['osd'])) or {}).get('hostname')
        osd['reweight'] = reweight.get(osd['osd'], 0.0)
        osd['valid_commands'] = list(OSD_COMMANDS) if osd.get('up') else []
        if pool_id is None or pool_id in osd['pools']:
            out.append(osd)
    return out


def find_osd(osd_map: Dict[str, Any], osd_id: int) -> Optional[Dict[str, Any]]:
    return next((o for o in osd_map.get('osds', []) if o['osd'] == osd_id), None)


def pool(raw: Dict[str, Any]) -> Dict[str, Any]:
    """restful's pool: the OSD map's, with ``pg_placement_num`` called ``pgp_num``."""
    out = copy.deepcopy(dict(raw))
    if 'pg_placement_num' in out:
        out['pgp_num'] = out.pop('pg_placement_num')
    return out


def find_pool(osd_map: Dict[str, Any], pool_id: int) -> Optional[Dict[str, Any]]:
    return next((p for p in osd_map.get('pools', []) if p['pool'] == pool_id), None)


def osd_flags(osd_map: Dict[str, Any]) -> List[str]:
    return str(osd_map.get('flags', '')).replace('pauserd,pausewr', 'pause').split(',')


def _val(value: Any) -> str:
    """A value as the mon's string argument (JSON true -> 'true')."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def pool_update_waves(pool_name: str, args: Dict[str, Any]) -> List[List[Dict[str, Any]]]:
    """restful's two waves of ``osd pool set``/``set-quota`` for a pool change (pgp_num follows pg_num)."""
    args = dict(args)
    if 'pg_num' in args and 'pgp_num' not in args:
        args['pgp_num'] = args['pg_num']
    first: List[Dict[str, Any]] = [{'prefix': 'osd pool set', 'pool': pool_name, 'var': var, 'val': _val(args[var])}
                                   for var in POOL_PROPERTIES_1 if var in args]
    first += [{'prefix': 'osd pool set-quota', 'pool': pool_name, 'field': field, 'val': _val(args[var])}
              for var, field in POOL_QUOTAS if var in args]
    second = [{'prefix': 'osd pool set', 'pool': pool_name, 'var': var, 'val': _val(args[var])}
              for var in POOL_PROPERTIES_2 if var in args]
    return [first, second]
