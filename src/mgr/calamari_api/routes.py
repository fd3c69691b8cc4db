"""THE route table: every URL x method the API serves, and the controller action behind it.

One line per (method, URL pattern, controller.action).  Patterns are relative to ``/api/<version>/``, or to ``/``
for the routes outside the API (version ROOT: graphite and the Calamari web apps);
``{name}`` placeholders use the regexes in PARAMS (Calamari's URL conf), and a trailing ``*`` marks
Calamari's unanchored patterns, which match any suffix (so ``auth/login/`` works).  The CherryPy
RoutesDispatcher and the OpenAPI document are both built from this table; nothing else decides which
URLs exist.  To find an endpoint's code: ``controllers/<controller>.py``, method ``<action>``.
"""
import re
from typing import Dict, List, NamedTuple, Tuple

# Path parameter regexes, from Calamari's urls/v2.py.
PARAMS: Dict[str, str] = {
    'fsid': r'[a-zA-Z0-9-]+',
    'any_fsid': r'[a-zA-Z0-9-]+',     # an fsid the dispatcher does not check (v1 space, server: unknown → empty)
    'request_id': r'[a-zA-Z0-9-]+',
    'osd_id': r'\d+',
    'pool_id': r'\d+',
    'type_id': r'\d+',
    'node_id': r'-?\d+',
    'rule_id': r'-?\d+',
    'mon_id': r'[a-zA-Z0-9-\.]+',
    'fqdn': r'[a-zA-Z0-9-\.]+',
    'minion_id': r'[a-zA-Z0-9-\.]+',
    'key': r'[a-zA-Z0-9_]+',
    'sync_type': r'[a-zA-Z0-9-_]+',
    'command': r'[a-zA-Z_]+',
    'log_path': r'.+',
    'user_id': r'\d+|me',
    'ui_app': r'login|manage|dashboard|admin',         # Calamari's web apps (option ui_path)
}


class Route(NamedTuple):
    method: str       # GET, POST, PUT, PATCH or DELETE (HEAD and OPTIONS follow GET implicitly)
    pattern: str      # relative to /api/<version>/
    action: str       # "<controller module>.<method>"
    public: bool = False            # reachable without a session
    versions: Tuple[str, ...] = ('v2',)

    @property
    def param_names(self) -> Tuple[str, ...]:
        return tuple(re.findall(r'{(\w+)}', self.pattern))

    @property
    def controller(self) -> str:
        return self.action.split('.')[0]

    @property
    def method_name(self) -> str:
        return self.action.split('.')[1]


def _r(method: str, pattern: str, action: str, **kw) -> Route:
    return Route(method, pattern, action, **kw)


V1 = ('v1',)
ROOT = ('',)        # mounted at /, outside /api/ (and outside the OpenAPI document)
V1_V2 = ('v1', 'v2')
C = 'cluster/{fsid}'

ROUTES: List[Route] = [
    # -- authentication, users, API root, info ---------------------------------------------------
    _r('GET', 'auth/login*', 'auth.login_form', public=True, versions=V1_V2),
    _r('POST', 'auth/login*', 'auth.login', public=True, versions=V1_V2),
    _r('GET', 'auth/logout*', 'auth.logout', public=True, versions=V1_V2),
    _r('POST', 'auth/logout*', 'auth.logout', public=True, versions=V1_V2),
    _r('GET', 'info*', 'info.get', public=True),
    _r('GET', 'openapi.json', 'info.openapi', public=True),
    _r('GET', '', 'info.api_root', versions=V1_V2),
    _r('GET', 'grains*', 'grains.local'),
    _r('GET', 'user', 'user.list', versions=V1_V2),      # v1: the same views (the UIs read v1 user/me)
    _r('POST', 'user', 'user.create', versions=V1_V2),
    _r('GET', 'user/{user_id}', 'user.get', versions=V1_V2),
    _r('PUT', 'user/{user_id}', 'user.update', versions=V1_V2),
    _r('PATCH', 'user/{user_id}', 'user.update', versions=V1_V2),
    _r('DELETE', 'user/{user_id}', 'user.delete', versions=V1_V2),
    # -- clusters --------------------------------------------------------------------------------
    _r('GET', 'cluster', 'cluster.list'),
    _r('GET', C, 'cluster.get'),
    _r('DELETE', C, 'cluster.forget'),
    # -- requests --------------------------------------------------------------------------------
    _r('GET', 'request', 'request.list'),
    _r('GET', 'request/{request_id}', 'request.get'),
    _r('POST', 'request/{request_id}/cancel', 'request.cancel'),
    _r('GET', C + '/request', 'request.list'),
    _r('GET', C + '/request/{request_id}', 'request.get'),
    # -- CRUSH -----------------------------------------------------------------------------------
    _r('GET', C + '/crush_map', 'crush.map_text'),
    _r('POST', C + '/crush_map', 'crush.replace_map'),    # text/plain body; 200 (not 202) as in Calamari
    _r('GET', C + '/crush_rule_set', 'crush.rule_sets'),
    _r('GET', C + '/crush_rule', 'crush.rules'),
    _r('GET', C + '/crush_rule/{rule_id}', 'crush.rule'),
    _r('POST', C + '/crush_rule', 'crush.create_rule'),
    _r('PATCH', C + '/crush_rule/{rule_id}', 'crush.update_rule'),
    _r('DELETE', C + '/crush_rule/{rule_id}', 'crush.delete_rule'),
    _r('GET', C + '/crush_node', 'crush.nodes'),
    _r('GET', C + '/crush_node/{node_id}', 'crush.node'),
    _r('POST', C + '/crush_node', 'crush.create_node'),
    _r('PATCH', C + '/crush_node/{node_id}', 'crush.update_node'),
    _r('DELETE', C + '/crush_node/{node_id}', 'crush.delete_node'),
    _r('GET', C + '/crush_type', 'crush.types'),
    _r('GET', C + '/crush_type/{type_id}', 'crush.type'),
    # -- pools -----------------------------------------------------------------------------------
    _r('GET', C + '/pool', 'pool.list'),
    _r('POST', C + '/pool', 'pool.create'),
    _r('GET', C + '/pool/stats', 'stats.pools'),                # Calamari master: usage from the PG map
    _r('GET', C + '/pool/{pool_id}/stats', 'stats.pool'),
    _r('GET', C + '/stats', 'stats.totals'),
    _r('GET', C + '/pool/{pool_id}', 'pool.get'),
    _r('PATCH', C + '/pool/{pool_id}', 'pool.update'),
    _r('DELETE', C + '/pool/{pool_id}', 'pool.delete'),
    # -- OSDs ------------------------------------------------------------------------------------
    _r('GET', C + '/osd', 'osd.list'),
    _r('GET', C + '/osd/command', 'osd.implemented_commands'),
    _r('GET', C + '/osd /command', 'osd.implemented_commands'),    # Calamari 1.2's spelling (sic)
    _r('GET', C + '/osd/{osd_id}', 'osd.get'),
    _r('PATCH', C + '/osd/{osd_id}', 'osd.update'),
    _r('GET', C + '/osd/{osd_id}/command', 'osd.valid_commands'),
    _r('GET', C + '/osd/{osd_id}/command/{command}', 'osd.validate_command'),
    _r('POST', C + '/osd/{osd_id}/command/{command}', 'osd.apply_command'),
    _r('GET', C + '/osd_config', 'osd_config.get'),
    _r('PATCH', C + '/osd_config', 'osd_config.update'),
    # -- mons, sync objects, config, log, CLI ----------------------------------------------------
    _r('GET', C + '/mon', 'mon.list'),
    _r('GET', C + '/mon/{mon_id}', 'mon.get'),
    _r('GET', C + '/mon/{mon_id}/status', 'mon.status'),
    _r('GET', C + '/sync_object', 'sync_object.list'),
    _r('GET', C + '/sync_object/{sync_type}', 'sync_object.get'),
    _r('GET', C + '/config', 'config.list'),
    _r('GET', C + '/config/{key}', 'config.get'),
    _r('GET', C + '/log', 'log.cluster_tail'),
    _r('POST', C + '/cli', 'cli.run'),
    # -- servers, keys, events -------------------------------------------------------------------
    _r('GET', 'server', 'server.list'),
    _r('GET', 'server/{fqdn}', 'server.get'),
    _r('DELETE', 'server/{fqdn}', 'server.forget'),
    _r('GET', 'server/{fqdn}/grains', 'grains.server'),
    _r('POST', 'server/{fqdn}/debug_job*', 'debug_job.submit'),
    _r('GET', 'server/{fqdn}/log', 'log.server_files'),
    _r('GET', 'server/{fqdn}/log/{log_path}', 'log.server_tail'),
    _r('GET', C + '/server', 'server.cluster_list'),
    _r('GET', C + '/server/{fqdn}', 'server.cluster_get'),
    _r('GET', 'key', 'key.list'),
    _r('PATCH', 'key', 'key.bulk_update'),
    _r('DELETE', 'key', 'key.bulk_delete'),
    _r('GET', 'key/{minion_id}*', 'key.get'),
    _r('PATCH', 'key/{minion_id}*', 'key.update'),
    _r('DELETE', 'key/{minion_id}*', 'key.delete'),
    _r('GET', 'event', 'event.list'),
    _r('GET', C + '/event', 'event.cluster_list'),
    _r('GET', 'server/{fqdn}/event', 'event.server_list'),
    # -- Calamari 1.3's v1 API, which its dashboard and admin apps use (V1-DASHBOARD.md §5); POST/PUT/DELETE
    # on cluster and cluster/<fsid> are 405 as in 1.3 ----------------------------------------------
    _r('GET', 'cluster', 'cluster.v1_list', versions=V1),
    _r('GET', C, 'cluster.v1_get', versions=V1),
    _r('GET', C + '/health', 'health.report', versions=V1),
    _r('GET', C + '/health_counters', 'health.counters', versions=V1),
    _r('GET', 'cluster/{any_fsid}/space', 'stats.space', versions=V1),
    _r('GET', C + '/osd', 'osd.v1_list', versions=V1),
    _r('GET', C + '/osd/{osd_id}', 'osd.v1_get', versions=V1),
    _r('GET', C + '/pool', 'pool.v1_list', versions=V1),
    _r('GET', C + '/pool/{pool_id}', 'pool.v1_get', versions=V1),
    _r('GET', 'cluster/{any_fsid}/server', 'server.v1_cluster_list', versions=V1),
    # -- graphite's render and find (V1-DASHBOARD.md §6): the dashboard's charts, from the module's history --
    _r('GET', 'graphite/render*', 'graphite.render', versions=ROOT),
    _r('GET', 'graphite/metrics*', 'graphite.find', versions=ROOT),
    # -- Calamari's web apps from a calamari-clients tree (option ui_path), and its redirects -------------
    _r('GET', '', 'ui.root', public=True, versions=ROOT),
    _r('GET', '{ui_app}*', 'ui.app', public=True, versions=ROOT),
]


# Measuring devices, never part of the API: routed only when the module starts with its option ``bench_fixed_body``
# on (bench/bench.py turns it on), and outside the OpenAPI document.
BENCH_ROUTES: List[Route] = [
    _r('GET', 'bench/fixed', 'info.bench_fixed'),    # a fixed body through the full path (the benchmark's contrast)
]
