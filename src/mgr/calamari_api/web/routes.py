"""THE route table: every URL x method the API serves, the controller action behind it and what the OpenAPI
document says of it.

One row per (method, URL pattern, controller.action), with its documentation: the success status and body, the
error statuses of its own, the query parameters and the request body (openapi.py builds the document from these
rows alone).  Patterns are relative to ``/api/<version>/``, or to ``/``
for the routes outside the API (version ROOT: graphite and the Calamari web apps);
``{name}`` placeholders use the regexes in PARAMS (Calamari's URL conf), and a trailing ``*`` marks
Calamari's unanchored patterns, which match any suffix (so ``auth/login/`` works).  The CherryPy
RoutesDispatcher and the OpenAPI document are both built from this table; nothing else decides which
URLs exist.  To find an endpoint's code: ``controllers/<controller>.py``, method ``<action>``.
"""
import re
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Union

from ..cluster import OSD_MAP_DEPS, RULE_DEPS
from ..schemas import any_case

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


class Fields(NamedTuple):
    """A request body of one resource's fields (schemas.py): create, modify (any subset) or replace (PUT)."""
    resource: str
    mode: str


class Body(NamedTuple):
    """Any other request body: whether it is required, its schema and media type."""
    required: bool
    schema: Dict[str, Any]
    media: str = 'application/json'


# A query parameter: (name, required, schema, description).
Query = Tuple[str, bool, Dict[str, Any], str]
# An empty value of these parameters means the default, as a parameter left out (Calamari's paginator ignored it).
EMPTY = {'type': 'string', 'maxLength': 0}
PAGE: Tuple[Query, ...] = (
    ('page', False, {'anyOf': [{'type': 'integer', 'minimum': 1}, {'type': 'string', 'enum': ['last', '']}]},
     'page number (1-based) or "last"; past the last page is a 400; empty: the first'),
    ('page_size', False, {'anyOf': [{'type': 'integer', 'minimum': 1, 'maximum': 1000}, EMPTY]},
     'items per page (default 10, also when empty)'))
SEVERITY: Query = ('severity', False, {'type': 'string', 'pattern': any_case('', 'CRITICAL', 'ERROR', 'WARNING',
                                                                             'RECOVERY', 'INFO')},
                   'this severity or worse (any letter case; default INFO)')
EVENT_QUERY = PAGE + (SEVERITY,)
REQUEST_QUERY = PAGE + (('state', False, {'type': 'string', 'enum': ['submitted', 'complete']}, ''),)
LINES: Tuple[Query, ...] = (('lines', False, {'type': 'integer', 'minimum': 1, 'maximum': 10000}, 'default 40'),)
OSD_QUERY: Tuple[Query, ...] = (
    ('pool', False, {'anyOf': [{'type': 'integer'}, EMPTY]},
     'only OSDs this pool\'s CRUSH rule can use (empty: every OSD)'),
    ('id__in[]', False, {'type': 'array', 'items': {'type': 'integer'}}, 'only these OSD ids'))
POOL_QUERY: Tuple[Query, ...] = (
    ('defaults', False, {}, 'a presence flag: the defaults for a new pool instead of the pools'),)
# Request bodies that are not one resource's fields.
KEY_IDS = Body(True, {'type': 'array', 'items': {'type': 'object', 'required': ['id'],
                                                 'properties': {'id': {'type': 'string'}}}})
KEY_STATUSES = Body(True, {'type': 'array', 'items': {
    'type': 'object', 'required': ['id', 'status'], 'properties': {
        'id': {'type': 'string'}, 'status': {'type': 'string', 'enum': ['accepted', 'rejected']}}}})
IGNORED_JSON = Body(False, {'description': 'any JSON (Calamari\'s UI sends {"id": N}); ignored'})
TEXT = Body(True, {'type': 'string'}, 'text/plain')

# What cached responses depend on (besides cluster.OSD_MAP_DEPS and RULE_DEPS).
UPDATE_SOURCES = ('osd_map', 'mon_map', 'health', 'pg_summary', 'fs_map', 'config')    # a cluster's update_time
# Server objects come from the maps, daemon metadata, key states ('keys') and last-contact times (which move
# with the daemons' reports, every few seconds: 'keys' has a short maximum age in cluster.MAX_AGE).
SERVER_DEPS = ('osd_map', 'osd_metadata', 'mon_map', 'mon_metadata', 'fs_map', 'mds_metadata', 'servers',
               'mgr_map', 'keys')
STATS_DEPS = ('osd_map', 'pool_stats', 'df')


class Route(NamedTuple):
    method: str       # GET, POST, PUT, PATCH or DELETE (HEAD and OPTIONS follow GET implicitly)
    pattern: str      # relative to /api/<version>/
    action: str       # "<controller module>.<method>"
    public: bool = False            # reachable without a session
    versions: Tuple[str, ...] = ('v2',)
    # -- the OpenAPI operation --
    status: int = 200               # on success
    # The success body: a resource name (schemas.py), "[resource]" for a list, "page[resource]" for the pagination
    # envelope, "any" for pass-through JSON, "request_id" for a tracked request, None for an empty body.
    body: Optional[str] = 'any'
    # Error statuses of its own, besides those every operation may answer (openapi.COMMON, AUTHENTICATED, a 404 for
    # an unknown path value): 304 (nothing to change), 404 (no such object; "404-empty": with an empty body), 409
    # (conflict), 415 (wrong media type), "503-empty" (another host's logs), 429 (auth/login's lockout), ...
    errors: str = ''
    query: Tuple[Query, ...] = ()
    request: Union[Fields, Body, None] = None
    # -- the response cache --
    # A GET whose response depends only on these ClusterState sources (and the URL): the dispatcher serves the
    # rendered JSON from the cache (response_cache.py), with an ETag, until one of them changes.
    cache: Tuple[str, ...] = ()
    # -- access --
    # The least role the action needs (auth.ROLES, weakest first), beyond what every role may do (readonly: the safe
    # methods): the access gate (gate.py) refuses the others with a 403.
    role: Optional[str] = None

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
    _r('POST', 'auth/login*', 'auth.login', public=True, versions=V1_V2, errors='401 429',
       request=Fields('login', 'create')),
    _r('GET', 'auth/logout*', 'auth.logout', public=True, versions=V1_V2),
    _r('POST', 'auth/logout*', 'auth.logout', public=True, versions=V1_V2),
    _r('GET', 'info*', 'info.get', public=True, body='info'),
    _r('GET', 'openapi.json', 'info.openapi', public=True),
    _r('GET', '', 'info.api_root', versions=V1_V2),
    _r('GET', 'grains*', 'grains.local'),
    _r('GET', 'user', 'user.list', versions=V1_V2, body='[user]'),      # v1: the same views (the UIs read v1 user/me)
    _r('POST', 'user', 'user.create', versions=V1_V2, status=201, body='user', request=Fields('user', 'create'),
       role='superuser'),
    _r('GET', 'user/{user_id}', 'user.get', versions=V1_V2, body='user', errors='404'),
    _r('PUT', 'user/{user_id}', 'user.update', versions=V1_V2, body='user', errors='404',
       request=Fields('user', 'replace')),
    _r('PATCH', 'user/{user_id}', 'user.update', versions=V1_V2, body='user', errors='404',
       request=Fields('user', 'modify')),
    _r('DELETE', 'user/{user_id}', 'user.delete', versions=V1_V2, status=204, body=None, errors='404',
       role='superuser'),
    # -- clusters --------------------------------------------------------------------------------
    _r('GET', 'cluster', 'cluster.list', body='[cluster]', cache=UPDATE_SOURCES),
    _r('GET', C, 'cluster.get', body='cluster', errors='404-empty'),
    _r('DELETE', C, 'cluster.forget', status=204, body=None, errors='404-empty'),
    # -- requests --------------------------------------------------------------------------------
    _r('GET', 'request', 'request.list', body='page[request]', query=REQUEST_QUERY),
    _r('GET', 'request/{request_id}', 'request.get', body='request', errors='404'),
    _r('POST', 'request/{request_id}/cancel', 'request.cancel', body='request', errors='404'),
    _r('GET', C + '/request', 'request.list', body='page[request]', query=REQUEST_QUERY),
    _r('GET', C + '/request/{request_id}', 'request.get', body='request', errors='404'),
    # -- CRUSH -----------------------------------------------------------------------------------
    _r('GET', C + '/crush_map', 'crush.map_text', cache=OSD_MAP_DEPS),
    # text/plain body; 200 (not 202) as in Calamari
    _r('POST', C + '/crush_map', 'crush.replace_map', body='request_id', errors='415', request=TEXT),
    _r('GET', C + '/crush_rule_set', 'crush.rule_sets', cache=RULE_DEPS),
    _r('GET', C + '/crush_rule', 'crush.rules', body='[crush_rule]', cache=RULE_DEPS),
    _r('GET', C + '/crush_rule/{rule_id}', 'crush.rule', body='crush_rule', errors='404', cache=RULE_DEPS),
    _r('POST', C + '/crush_rule', 'crush.create_rule', status=202, body='request_id', errors='409',
       request=Fields('crush_rule', 'create')),
    _r('PATCH', C + '/crush_rule/{rule_id}', 'crush.update_rule', status=202, body='request_id', errors='304 404 409',
       request=Fields('crush_rule', 'modify')),
    _r('DELETE', C + '/crush_rule/{rule_id}', 'crush.delete_rule', status=202, body='request_id', errors='404 409'),
    _r('GET', C + '/crush_node', 'crush.nodes', body='[crush_node]', cache=OSD_MAP_DEPS),
    _r('GET', C + '/crush_node/{node_id}', 'crush.node', body='crush_node', errors='404', cache=OSD_MAP_DEPS),
    _r('POST', C + '/crush_node', 'crush.create_node', status=202, body='request_id', errors='404 409',
       request=Fields('crush_node', 'create')),
    _r('PATCH', C + '/crush_node/{node_id}', 'crush.update_node', status=202, body='request_id', errors='304 404 409',
       request=Fields('crush_node', 'modify')),
    _r('DELETE', C + '/crush_node/{node_id}', 'crush.delete_node', status=202, body='request_id', errors='404 409'),
    _r('GET', C + '/crush_type', 'crush.types', body='[crush_type]', cache=OSD_MAP_DEPS),
    _r('GET', C + '/crush_type/{type_id}', 'crush.type', body='crush_type', errors='404', cache=OSD_MAP_DEPS),
    # -- pools -----------------------------------------------------------------------------------
    _r('GET', C + '/pool', 'pool.list', query=POOL_QUERY, cache=OSD_MAP_DEPS + ('config',)),    # (?defaults)
    _r('POST', C + '/pool', 'pool.create', status=202, body='request_id', errors='409',
       request=Fields('pool', 'create')),
    # Calamari master: usage from the PG map
    _r('GET', C + '/pool/stats', 'stats.pools', body='[pool_stats]', cache=STATS_DEPS),
    _r('GET', C + '/pool/{pool_id}/stats', 'stats.pool', body='pool_stats', errors='404', cache=STATS_DEPS),
    _r('GET', C + '/stats', 'stats.totals', body='cluster_stats', cache=STATS_DEPS),
    _r('GET', C + '/pool/{pool_id}', 'pool.get', body='pool', errors='404', cache=OSD_MAP_DEPS),
    _r('PATCH', C + '/pool/{pool_id}', 'pool.update', status=202, body='request_id', errors='404 409',
       request=Fields('pool', 'modify')),
    _r('DELETE', C + '/pool/{pool_id}', 'pool.delete', status=202, body='request_id', errors='404',
       request=IGNORED_JSON),
    # -- OSDs ------------------------------------------------------------------------------------
    _r('GET', C + '/osd', 'osd.list', body='[osd]', query=OSD_QUERY, cache=OSD_MAP_DEPS),
    _r('GET', C + '/osd/command', 'osd.implemented_commands'),
    _r('GET', C + '/osd /command', 'osd.implemented_commands'),    # Calamari 1.2's spelling (sic)
    _r('GET', C + '/osd/{osd_id}', 'osd.get', body='osd', errors='404', cache=OSD_MAP_DEPS),
    _r('PATCH', C + '/osd/{osd_id}', 'osd.update', status=202, body='request_id', errors='304 404',
       request=Fields('osd', 'modify')),
    _r('GET', C + '/osd/{osd_id}/command', 'osd.valid_commands', errors='404', cache=OSD_MAP_DEPS),
    _r('GET', C + '/osd/{osd_id}/command/{command}', 'osd.validate_command', errors='404'),
    _r('POST', C + '/osd/{osd_id}/command/{command}', 'osd.apply_command', status=202, body='request_id'),
    _r('GET', C + '/osd_config', 'osd_config.get', body='osd_config', cache=OSD_MAP_DEPS),
    _r('PATCH', C + '/osd_config', 'osd_config.update', status=202, body='request_id', errors='304',
       request=Fields('osd_config', 'modify')),
    # -- mons, sync objects, config, log, CLI ----------------------------------------------------
    _r('GET', C + '/mon', 'mon.list', body='[mon]'),
    _r('GET', C + '/mon/{mon_id}', 'mon.get', body='mon', errors='404'),
    _r('GET', C + '/mon/{mon_id}/status', 'mon.status', errors='404'),
    _r('GET', C + '/sync_object', 'sync_object.list'),
    _r('GET', C + '/sync_object/{sync_type}', 'sync_object.get', errors='404'),
    _r('GET', C + '/config', 'config.list', body='[config_setting]'),
    _r('GET', C + '/config/{key}', 'config.get', body='config_setting', errors='404'),
    _r('GET', C + '/log', 'log.cluster_tail', body='log_tail', query=LINES),
    _r('POST', C + '/cli', 'cli.run', body='cli_result', request=Fields('cli_command', 'create'), role='superuser'),
    # -- servers, keys, events -------------------------------------------------------------------
    _r('GET', 'server', 'server.list', body='[server]', cache=SERVER_DEPS),
    _r('GET', 'server/{fqdn}', 'server.get', body='server', errors='404', cache=SERVER_DEPS),
    _r('DELETE', 'server/{fqdn}', 'server.forget', status=204, body=None, errors='404'),
    _r('GET', 'server/{fqdn}/grains', 'grains.server', errors='404-empty'),
    _r('POST', 'server/{fqdn}/debug_job*', 'debug_job.submit', status=202, body='request_id',
       request=Fields('debug_job', 'create'), role='superuser'),
    _r('GET', 'server/{fqdn}/log', 'log.server_files', errors='503-empty', role='read/write'),
    _r('GET', 'server/{fqdn}/log/{log_path}', 'log.server_tail', body='log_tail', errors='404 503-empty', query=LINES,
       role='read/write'),
    _r('GET', C + '/server', 'server.cluster_list', body='[cluster_server]', cache=SERVER_DEPS),
    _r('GET', C + '/server/{fqdn}', 'server.cluster_get', body='cluster_server', errors='404', cache=SERVER_DEPS),
    _r('GET', 'key', 'key.list', body='[key]'),
    _r('PATCH', 'key', 'key.bulk_update', status=204, body=None, errors='404', request=KEY_STATUSES),
    _r('DELETE', 'key', 'key.bulk_delete', status=204, body=None, errors='404', request=KEY_IDS),
    _r('GET', 'key/{minion_id}*', 'key.get', body='key', errors='404'),
    _r('PATCH', 'key/{minion_id}*', 'key.update', status=204, body=None, errors='404', request=Fields('key', 'modify')),
    _r('DELETE', 'key/{minion_id}*', 'key.delete', status=204, body=None, errors='404'),
    _r('GET', 'event', 'event.list', body='page[event]', query=EVENT_QUERY, cache=('events',)),
    _r('GET', C + '/event', 'event.cluster_list', body='page[event]', query=EVENT_QUERY, cache=('events',)),
    _r('GET', 'server/{fqdn}/event', 'event.server_list', body='page[event]', query=EVENT_QUERY, cache=('events',)),
    # -- Calamari 1.3's v1 API, which its dashboard and admin apps use (V1-DASHBOARD.md §5); POST/PUT/DELETE
    # on cluster and cluster/<fsid> are 405 as in 1.3 ----------------------------------------------
    _r('GET', 'cluster', 'cluster.v1_list', versions=V1, cache=UPDATE_SOURCES),
    _r('GET', C, 'cluster.v1_get', versions=V1, cache=UPDATE_SOURCES),
    _r('GET', C + '/health', 'health.report', versions=V1, cache=UPDATE_SOURCES),
    _r('GET', C + '/health_counters', 'health.counters', versions=V1, cache=UPDATE_SOURCES + ('mon_status',)),
    _r('GET', 'cluster/{any_fsid}/space', 'stats.space', versions=V1, cache=('df',)),
    _r('GET', C + '/osd', 'osd.v1_list', versions=V1, errors='202-no-pgs', cache=OSD_MAP_DEPS + ('pg_summary',)),
    _r('GET', C + '/osd/{osd_id}', 'osd.v1_get', versions=V1, errors='404', cache=OSD_MAP_DEPS),
    _r('GET', C + '/pool', 'pool.v1_list', versions=V1, cache=('osd_map', 'pool_stats')),
    _r('GET', C + '/pool/{pool_id}', 'pool.v1_get', versions=V1, errors='404', cache=('osd_map', 'pool_stats')),
    _r('GET', 'cluster/{any_fsid}/server', 'server.v1_cluster_list', versions=V1, cache=SERVER_DEPS),
    # -- graphite's render and find (V1-DASHBOARD.md §6): the dashboard's charts, from the module's history --
    _r('GET', 'graphite/render*', 'graphite.render', versions=ROOT),
    _r('GET', 'graphite/metrics*', 'graphite.find', versions=ROOT),
    # -- Calamari's web apps from a calamari-clients tree (option ui_path), and its redirects -------------
    _r('GET', '', 'ui.root', public=True, versions=ROOT, status=302, body=None),
    _r('GET', '{ui_app}*', 'ui.app', public=True, versions=ROOT),
]


# Measuring devices, never part of the API: routed only when the module starts with its option ``bench_fixed_body``
# on (bench/bench.py turns it on), and outside the OpenAPI document.
BENCH_ROUTES: List[Route] = [
    _r('GET', 'bench/fixed', 'info.bench_fixed'),    # a fixed body through the full path (the benchmark's contrast)
]
