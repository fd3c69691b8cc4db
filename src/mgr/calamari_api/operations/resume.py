"""The table of resumers the request engine settles a previous mgr's unfinished requests with (``Resume.kind``
-> ``f(args, maybe_sent, cluster) -> steps left``)."""
from typing import TYPE_CHECKING, Any, Callable, Dict, List

from . import crush_node, crush_rule, osd, pool, selftest
from ..requests.steps import Commands, Step

if TYPE_CHECKING:
    from ..cluster import ClusterState
    from ..store import KVStore


def rerun(args: Dict[str, Any], maybe_sent: bool, cluster: 'ClusterState') -> List[Step]:
    """Commands with no trace in the maps and no harm in running again (scrub, repair)."""
    return [Commands(args['commands'])]


def resumers(store: 'KVStore', cluster: 'ClusterState') -> Dict[str, Callable[..., List[Step]]]:
    """``store``/``cluster``: for what a resumed CRUSH rule write keeps (Tentacle's rule sizes)."""
    def rule_write(args: Dict[str, Any], maybe_sent: bool, maps: Any) -> List[Step]:
        return crush_rule.resume_write(args, maybe_sent, maps,
                                       lambda rule: crush_rule.store_sizes(store, cluster, rule))
    return {
        'pool_create': pool.resume_create,
        'pool_update': pool.resume_update,
        'pool_delete': pool.resume_delete,
        'osd_update': osd.resume_update,
        'osd_flags': osd.resume_flags,
        'commands': rerun,
        'crush_rule_write': rule_write,
        'crush_rule_delete': crush_rule.resume_delete,
        'crush_node_create': crush_node.resume_create,
        'crush_node_update': crush_node.resume_update,
        'crush_node_delete': crush_node.resume_delete,
        'selftest': selftest.resume,
    }
