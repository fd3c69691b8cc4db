"""Every difference between the Ceph releases this module runs on, in one place.  The rest of the code reads
as if there were one Ceph.  Supported: Pacific 16.2 and Tentacle 20.2 (each item says which release needs it)."""
import os
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import mgr_module

# -- CLI command registration ------------------------------------------------------------------------------
# Pacific: one registry for every module in the process (``CLIReadCommand``/``CLIWriteCommand`` decorators, the
# global ``CLICommand`` class).  Tentacle: each module makes its own registry with
# ``CLICommandBase.make_registry_subtype()`` and names it in its MgrModule class as ``CLICommand``.
if hasattr(mgr_module, 'CLICommandBase'):                                   # Tentacle
    CLICommand: Any = mgr_module.CLICommandBase.make_registry_subtype('CalamariApiCLICommand')
    cli_read_command: Callable[[str], Any] = CLICommand.Read
    cli_write_command: Callable[[str], Any] = CLICommand.Write
else:                                                                       # Pacific
    CLICommand = mgr_module.CLICommand
    cli_read_command = mgr_module.CLIReadCommand
    cli_write_command = mgr_module.CLIWriteCommand


# -- CRUSH rules --------------------------------------------------------------------------------------------
# Pacific: a rule carries ``ruleset`` (its id) and ``min_size``/``max_size``.  Reef and later (Tentacle) dropped
# all three from CRUSH (the sizes were never enforced); crushtool still accepts size lines in a text map and drops
# them.  The API keeps Calamari's fields there: ``ruleset`` is the id, the sizes are the ones last set through
# the API (kept by the module, see derived.crush_rules), else what every rule had before Reef.
RULE_SIZE_DEFAULTS = {'min_size': 1, 'max_size': 10}


def crush_has_rule_sizes(crush: Any) -> bool:
    """Whether this CRUSH map's rules have min_size/max_size (Pacific) or not (Tentacle)."""
    rules = (crush or {}).get('rules') or []
    return not rules or 'min_size' in rules[0]


# -- perf counters ------------------------------------------------------------------------------------------
def latest_counter(mgr: mgr_module.MgrModule, svc_type: str, svc_id: str, path: str) -> Optional[Tuple[float, ...]]:
    """The newest (timestamp, value[, count]) the mgr holds for one daemon's counter, or None.

    Pacific: ``get_latest_counter(type, id, path)``.  Tentacle: that name takes labeled counters (five
    arguments); plain counters are ``get_latest_unlabeled_counter(type, id, path)``."""
    if hasattr(mgr, 'get_latest_unlabeled_counter'):                        # Tentacle
        data = mgr.get_latest_unlabeled_counter(svc_type, svc_id, path)
    else:                                                                   # Pacific
        data = mgr.get_latest_counter(svc_type, svc_id, path)
    value = (data or {}).get(path)
    return tuple(value) if value else None


# -- the cluster log's tail -----------------------------------------------------------------------------------
# Pacific 16.2: the mon answers ``log last N`` with N+1 entries (its loop over the channel's tail stops one entry
# late).  Tentacle 20.2: N entries, but counted before the level filter, so it can answer fewer than asked while
# the log has more.  Every release: the newest ``num`` of what the mon gave, oldest first as the CLI prints them.
def log_last_newest(entries: List[Any], num: int) -> List[Any]:
    """The newest ``num`` entries of a ``log last`` answer (Pacific's extra oldest one dropped)."""
    return entries[-num:] if num > 0 else []


# -- the JSON of mgr-served commands (mgr_commands.py) -------------------------------------------------------
class CliShape(NamedTuple):
    """How a release's ``ceph`` CLI prints the mgr-served commands, where releases differ."""
    pg_dump_ping_times: bool    # ``pg dump`` shows each OSD's ``network_ping_times`` in osd_stats


CLI_SHAPES = {
    'pacific': CliShape(pg_dump_ping_times=True),
    'tentacle': CliShape(pg_dump_ping_times=False),     # Tentacle's pg dump leaves them out
}
RUNNING_CLI_SHAPE = CLI_SHAPES['tentacle' if hasattr(mgr_module, 'CLICommandBase') else 'pacific']


def network_ping_times(entry: Optional[Dict[str, Any]]) -> List[Any]:
    """An OSD's ``network_ping_times`` as Pacific's ``pg dump`` shows it, from its get('osd_ping_times') entry."""
    return list((entry or {}).get('network_ping_times') or [])


def osd_perf_stats(perf_stat: Dict[str, Any]) -> Dict[str, Any]:
    """An OSD's ``perf_stats`` in ``osd perf``, from the ``perf_stat`` of its get('osd_stats') entry."""
    return {key: perf_stat.get(key, 0) for key in
            ('commit_latency_ms', 'apply_latency_ms', 'commit_latency_ns', 'apply_latency_ns')}


# -- the restful module ---------------------------------------------------------------------------------------
# Pacific ships the mgr ``restful`` module beside mgr_module.py (it owns the ``restful ...`` commands, enabled or
# not); Tentacle removed it, so this module registers those commands there.
RESTFUL_MODULE_SHIPPED = os.path.isdir(os.path.join(os.path.dirname(os.path.abspath(mgr_module.__file__)), 'restful'))


def all_perf_counters(mgr: mgr_module.MgrModule) -> Any:
    """Every daemon's (unlabeled) perf counters, {"osd.0": {path: schema + value}}, as restful's ``/perf`` gave them.

    Pacific: ``get_all_perf_counters()``.  Tentacle: ``get_unlabeled_perf_counters()`` (the same shape;
    ``get_perf_counters`` there is the labeled kind)."""
    if hasattr(mgr, 'get_unlabeled_perf_counters'):                         # Tentacle
        return mgr.get_unlabeled_perf_counters()
    return mgr.get_all_perf_counters()                                      # Pacific
