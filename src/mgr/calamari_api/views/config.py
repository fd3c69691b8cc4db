"""Cluster configuration as Calamari showed it: ``{key, value}`` pairs with string values.

Sources (merged by ``effective_config``):
1. the active mgr's running configuration (``MgrModule.get('config')``): compiled-in defaults, the local
   ceph.conf and the mon config DB sections that apply to the mgr (global, mgr), kept current by the mons;
2. the mon config DB (``config dump``) entries aimed at the mons (section ``mon`` or ``mon.<id>`` without a
   mask): those are the values the mons act on (pool defaults, ``mon_max_pool_pg_num``) and the mgr does not
   see them in its own configuration.  In Ceph a ceph.conf value beats the config DB; when the mgr's value
   differs from a ``global`` DB entry for the same key, its ceph.conf sets that key and the mons' copy of the
   file is assumed to do the same, so the mgr's value is kept.
"""
from typing import Any, Dict, List, Mapping, Optional


def effective_config(mgr_config: Optional[Mapping[str, Any]],
                     config_dump: Optional[List[Mapping[str, Any]]]) -> Optional[Dict[str, str]]:
    if mgr_config is None:
        return None
    merged = {str(k): '' if v is None else str(v) for k, v in mgr_config.items()}
    global_db: Dict[str, str] = {}
    mon_db: Dict[str, str] = {}
    # section "mon" before "mon.<id>", so a per-mon value wins
    for entry in sorted(config_dump or [], key=lambda e: len(e.get('section') or '')):
        if entry.get('mask'):
            continue
        section, name, value = entry.get('section', ''), entry.get('name'), entry.get('value')
        if name is None or value is None:
            continue
        if section == 'global':
            global_db[name] = str(value)
        elif section == 'mon' or section.startswith('mon.'):
            mon_db[name] = str(value)
    for name, value in global_db.items():
        merged.setdefault(name, value)
    for name, value in mon_db.items():
        file_override = name in global_db and merged.get(name) != global_db[name]
        if not file_override:
            merged[name] = value
    return merged


def config_objects(config: Mapping[str, str]) -> List[Dict[str, str]]:
    return [{'key': key, 'value': config[key]} for key in sorted(config)]
