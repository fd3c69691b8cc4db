"""Pools: Pacific OSD-map pool entries -> Calamari pool objects, and ``pool?defaults``."""
from typing import Any, Dict, List, Mapping, Optional

POOL_TYPES = {1: 'replicated', 3: 'erasure'}
FLAG_HASHPSPOOL = 1
FLAG_FULL = 2
# Pacific has no crash_replay_interval; a value a client sets is kept with the pool as application metadata
# (``application_metadata["calamari"]["crash_replay_interval"]``) so it reads back.  It has no effect.
CALAMARI_APP = 'calamari'
CRASH_REPLAY_KEY = 'crash_replay_interval'


class NoCrushRules(Exception):
    """No CRUSH rule exists, so no pool could be created."""


def crash_replay_interval(pool: Mapping[str, Any]) -> int:
    value = ((pool.get('application_metadata') or {}).get(CALAMARI_APP) or {}).get(CRASH_REPLAY_KEY)
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def pool_object(pool: Mapping[str, Any]) -> Dict[str, Any]:
    """Calamari's pool object (1.3 field order, plus master's ``type`` and ``erasure_code_profile``)."""
    flags = pool.get('flags', 0) or 0
    return {
        'name': pool['pool_name'],
        'id': pool['pool'],
        'size': pool.get('size'),
        'pg_num': pool.get('pg_num'),
        'crush_ruleset': pool.get('crush_rule', pool.get('crush_ruleset')),
        'min_size': pool.get('min_size'),
        'crash_replay_interval': crash_replay_interval(pool),
        'pgp_num': pool.get('pg_placement_num', pool.get('pgp_num')),
        'hashpspool': bool(flags & FLAG_HASHPSPOOL),
        'full': bool(flags & FLAG_FULL),
        'quota_max_objects': pool.get('quota_max_objects', 0),
        'quota_max_bytes': pool.get('quota_max_bytes', 0),
        'type': POOL_TYPES.get(pool.get('type'), pool.get('type')),
        'erasure_code_profile': pool.get('erasure_code_profile', ''),
    }


def pool_objects(osd_map: Optional[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    pools = (osd_map or {}).get('pools', [])
    return [pool_object(p) for p in sorted(pools, key=lambda p: p['pool'])]


def _int_or_none(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_bool(value: Any) -> bool:
    return str(value).strip().lower() in ('true', '1', 'yes', 'on')


def pool_defaults(config: Mapping[str, str], rulesets: List[int]) -> Dict[str, Any]:
    """``GET pool?defaults``: a new pool's defaults from the cluster's config.

    crush_ruleset: ``osd_pool_default_crush_rule`` if it names an existing ruleset (Pacific's -1 means
    "pick one"), else ``osd_pool_default_crush_replicated_ruleset`` (pre-Luminous name) if it does, else the
    lowest existing ruleset.  ``min_size`` is the raw config value (not clamped), as Calamari did.
    Raises NoCrushRules when there is no rule at all.
    """
    if not rulesets:
        raise NoCrushRules()
    ruleset = None
    for key in ('osd_pool_default_crush_rule', 'osd_pool_default_crush_replicated_ruleset'):
        candidate = _int_or_none(config.get(key))
        if candidate is not None and candidate in rulesets:
            ruleset = candidate
            break
    if ruleset is None:
        ruleset = min(rulesets)
    return {
        'name': None,
        'id': None,
        'size': _int_or_none(config.get('osd_pool_default_size')),
        'pg_num': None,
        'crush_ruleset': ruleset,
        'min_size': _int_or_none(config.get('osd_pool_default_min_size')),
        'crash_replay_interval': 0,
        'pgp_num': None,
        'hashpspool': _as_bool(config.get('osd_pool_default_flag_hashpspool', 'true')),
        'full': None,
        'quota_max_objects': 0,
        'quota_max_bytes': 0,
        'type': None,
        'erasure_code_profile': None,
    }
