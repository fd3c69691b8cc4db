"""Cluster configuration as Calamari showed it: ``{key, value}`` pairs with string values.

Calamari served a mon's ``config show``.  A mgr module cannot ask a mon for its running configuration
(``config show`` needs mgr caps the mgr's own key lacks), so the values are built from:
1. the active mgr's running configuration (``MgrModule.get('config')``): compiled-in defaults, the mgr's
   ceph.conf, and the mon config DB sections that apply to the mgr (global, mgr), kept current by the mons;
2. for every option the mon config DB sets (``config dump``), the value the DB gives a mon
   (``get_foreign_ceph_option('mon.<name>', key)``: sections global/mon/mon.<name>, masks, defaults), which is
   what the mons act on for pool defaults and ``mon_max_pool_pg_num``.  Ceph lets a daemon's ceph.conf win
   over the DB: when the mgr's own value differs from what the DB gives the mgr, its ceph.conf sets the option
   and the mons' copy of the file is assumed to do the same, so the mgr's value is kept.
"""
from typing import Any, Dict, List, Mapping, Optional


def option_text(value: Any) -> str:
    """A typed option value as ``config show`` prints it."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return '' if value is None else str(value)


def mon_value(local: Any, db_for_mgr: Any, db_for_mon: Any) -> Optional[Any]:
    """The value a mon uses for an option the config DB sets, or None to keep the mgr's own value:
    ``local`` is the mgr's running value, ``db_for_mgr``/``db_for_mon`` what the DB (or the default) gives
    the mgr / a mon."""
    if local != db_for_mgr:         # the mgr's ceph.conf (or command line) overrides the DB
        return None
    return None if db_for_mon == local else db_for_mon


def effective_config(mgr_config: Optional[Mapping[str, Any]],
                     mon_values: Optional[Mapping[str, Any]] = None) -> Optional[Dict[str, str]]:
    """The mgr's configuration with ``mon_values`` (typed, from ``mon_value``) laid over it."""
    if mgr_config is None:
        return None
    merged = {str(k): option_text(v) for k, v in mgr_config.items()}
    for key, value in (mon_values or {}).items():
        merged[key] = option_text(value)
    return merged


def db_option_names(config_dump: Optional[List[Mapping[str, Any]]]) -> List[str]:
    """Options the config DB sets in a section a mon reads (global, mon, mon.<id>); module options
    (``mgr/...``) excluded."""
    names = set()
    for entry in config_dump or []:
        section, name = entry.get('section') or '', entry.get('name')
        if name and '/' not in name and (section == 'global' or section == 'mon' or section.startswith('mon.')):
            names.add(name)
    return sorted(names)


def config_objects(config: Mapping[str, str]) -> List[Dict[str, str]]:
    return [{'key': key, 'value': config[key]} for key in sorted(config)]
