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
import re
from typing import Any, Dict, List, Mapping, Optional

# Options whose value is a secret (verified against `ceph-conf -D` of Pacific 16.2 and Tentacle 20.2): a cephx key
# given inline, keystone/barbican/KMIP passwords and tokens, the STS key and client secret, SSE encryption keys.
# Their values are never shown (options naming a *file* that holds a secret, e.g. ``keyfile`` or
# ``rgw_keystone_admin_password_path``, are paths and stay visible).
SECRET_OPTIONS = frozenset({'key', 'rgw_crypt_default_encryption_key', 'rgw_crypt_s3_kms_encryption_keys',
                            'rgw_sts_key'})
SECRET_OPTION_NAME = re.compile(r'_(password|secret|token)$')       # and any later option named like these
REDACTED = '<redacted>'


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


def is_secret_option(name: str) -> bool:
    return name in SECRET_OPTIONS or bool(SECRET_OPTION_NAME.search(name))


def shown_value(name: str, value: str) -> str:
    """An option's value as the API shows it: a set secret is REDACTED."""
    return REDACTED if value and is_secret_option(name) else value


def redacted(config: Optional[Mapping[str, str]]) -> Optional[Dict[str, str]]:
    """The whole configuration as the API shows it (sync_object/config)."""
    return None if config is None else {key: shown_value(key, value) for key, value in config.items()}


def config_objects(config: Mapping[str, str]) -> List[Dict[str, str]]:
    return [{'key': key, 'value': shown_value(key, config[key])} for key in sorted(config)]
