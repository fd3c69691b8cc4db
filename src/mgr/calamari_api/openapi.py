"""The OpenAPI 3 document, generated from the route table (routes.py) and the field declarations
(schemas.py), so it cannot drift from what the dispatcher serves.

    python3 -m calamari_api.openapi > openapi.json     (from src/mgr, for packaging)
"""
import inspect
import json
import sys
from typing import Any, Dict, List, Optional, Tuple

from . import routes as route_table
from .schemas import RESOURCES, request_schema, response_schema
from .version import VERSION

# What each action answers with: (success status, body), where body is a resource name, "[resource]" for a list,
# "page[resource]" for the pagination envelope, "any" for pass-through JSON, None for an empty body.
OPERATIONS: Dict[str, Tuple[int, Optional[str]]] = {
    'auth.login_form': (200, 'any'), 'auth.login': (200, 'any'), 'auth.logout': (200, 'any'),
    'info.get': (200, 'info'), 'info.openapi': (200, 'any'), 'info.api_root': (200, 'any'),
    'info.bench_fixed': (200, 'any'),
    'grains.local': (200, 'any'), 'grains.server': (200, 'any'),
    'user.list': (200, '[user]'), 'user.create': (201, 'user'), 'user.get': (200, 'user'),
    'user.update': (200, 'user'), 'user.delete': (204, None),
    'cluster.list': (200, '[cluster]'), 'cluster.get': (200, 'cluster'), 'cluster.forget': (204, None),
    'request.list': (200, 'page[request]'), 'request.get': (200, 'request'), 'request.cancel': (200, 'request'),
    'crush.map_text': (200, 'any'), 'crush.rule_sets': (200, 'any'), 'crush.rules': (200, '[crush_rule]'),
    'crush.rule': (200, 'crush_rule'), 'crush.nodes': (200, '[crush_node]'), 'crush.node': (200, 'crush_node'),
    'crush.types': (200, '[crush_type]'), 'crush.type': (200, 'crush_type'),
    'crush.create_node': (202, 'request_id'), 'crush.update_node': (202, 'request_id'),
    'crush.delete_node': (202, 'request_id'), 'crush.create_rule': (202, 'request_id'),
    'crush.update_rule': (202, 'request_id'), 'crush.delete_rule': (202, 'request_id'),
    'crush.replace_map': (200, 'request_id'),
    'pool.list': (200, 'any'), 'pool.create': (202, 'request_id'), 'pool.get': (200, 'pool'),
    'pool.update': (202, 'request_id'), 'pool.delete': (202, 'request_id'),
    'stats.pools': (200, '[pool_stats]'), 'stats.pool': (200, 'pool_stats'), 'stats.totals': (200, 'cluster_stats'),
    'osd.list': (200, '[osd]'), 'osd.implemented_commands': (200, 'any'), 'osd.get': (200, 'osd'),
    'osd.update': (202, 'request_id'), 'osd.valid_commands': (200, 'any'), 'osd.validate_command': (200, 'any'),
    'osd.apply_command': (202, 'request_id'),
    'osd_config.get': (200, 'osd_config'), 'osd_config.update': (202, 'request_id'),
    'mon.list': (200, '[mon]'), 'mon.get': (200, 'mon'), 'mon.status': (200, 'any'),
    'sync_object.list': (200, 'any'), 'sync_object.get': (200, 'any'),
    'config.list': (200, '[config_setting]'), 'config.get': (200, 'config_setting'),
    'log.cluster_tail': (200, 'log_tail'), 'log.server_files': (200, 'any'), 'log.server_tail': (200, 'log_tail'),
    'cli.run': (200, 'cli_result'),
    'server.list': (200, '[server]'), 'server.get': (200, 'server'), 'server.forget': (204, None),
    'server.cluster_list': (200, '[cluster_server]'), 'server.cluster_get': (200, 'cluster_server'),
    'debug_job.submit': (202, 'request_id'),
    'key.list': (200, '[key]'), 'key.bulk_update': (204, None), 'key.bulk_delete': (204, None),
    'key.get': (200, 'key'), 'key.update': (204, None), 'key.delete': (204, None),
    'event.list': (200, 'page[event]'), 'event.cluster_list': (200, 'page[event]'),
    'event.server_list': (200, 'page[event]'),
    # v1 (Calamari 1.3, for its dashboard and admin apps): shapes in views/v1.py
    'cluster.v1_list': (200, 'any'), 'cluster.v1_get': (200, 'any'), 'health.report': (200, 'any'),
    'health.counters': (200, 'any'), 'stats.space': (200, 'any'), 'osd.v1_list': (200, 'any'),
    'osd.v1_get': (200, 'any'), 'pool.v1_list': (200, 'any'), 'pool.v1_get': (200, 'any'),
    'server.v1_cluster_list': (200, 'any'),
    # outside /api (routes.ROOT), so not in the document: graphite's render and find, the web apps
    'graphite.render': (200, 'any'), 'graphite.find': (200, 'any'), 'ui.root': (302, None), 'ui.app': (200, 'any'),
}
# Request bodies: action -> (resource, is_create)
BODIES: Dict[str, Tuple[str, bool]] = {
    'auth.login': ('login', True), 'user.create': ('user', True), 'user.update': ('user', False),
    'pool.create': ('pool', True), 'pool.update': ('pool', False), 'osd.update': ('osd', False),
    'osd_config.update': ('osd_config', False), 'cli.run': ('cli_command', True),
    'debug_job.submit': ('debug_job', True), 'key.update': ('key', False),
    'crush.create_node': ('crush_node', True), 'crush.update_node': ('crush_node', False),
    'crush.create_rule': ('crush_rule', True), 'crush.update_rule': ('crush_rule', False),
}
ERRORS = {
    '400': 'Invalid input: {"detail": ...} or {field: message or [messages]}',
    '403': 'Not logged in, CSRF token missing or wrong, or the role forbids it: {"detail": ...}',
    '404': 'No such object: a JSON string "Object of type X with id Y not found" or {"detail": "Not found"}',
    '405': 'Method not allowed on this URL: {"detail": "Method \'X\' not allowed."}',
    '503': 'The cluster cannot answer right now: {"detail": ...} or a JSON string',
}

# API tokens (tokens.py): the bearer scheme beside the session schemes, and what a bearer request may also get.
BEARER_SCHEME = {'type': 'http', 'scheme': 'bearer',
                 'description': 'an API token from "ceph calamari-api token-create" (no cookie, no XSRF header)'}
BEARER_ERRORS = {
    '401': {'description': 'Bearer token missing, malformed, unknown, revoked or expired (WWW-Authenticate: Bearer)',
            'content': {'application/json': {'schema': {}}}},
    '429': {'description': 'Too many failed token attempts from this address (Retry-After)',
            'content': {'application/json': {'schema': {}}}},
}


def openapi_path(version: str, pattern: str) -> str:
    return f'/api/{version}/{pattern.rstrip("*")}'.rstrip('/') or '/'


def _body_schema(body: Optional[str]) -> Optional[Dict[str, Any]]:
    if body is None:
        return None
    if body == 'any':
        return {}
    if body.startswith('page['):
        item = {'$ref': f'#/components/schemas/{body[5:-1]}'}
        return {'type': 'object', 'required': ['count', 'next', 'previous', 'results'],
                'properties': {'count': {'type': 'integer'}, 'next': {'type': ['string', 'null']},
                               'previous': {'type': ['string', 'null']},
                               'results': {'type': 'array', 'items': item}}}
    if body.startswith('['):
        return {'type': 'array', 'items': {'$ref': f'#/components/schemas/{body[1:-1]}'}}
    return {'$ref': f'#/components/schemas/{body}'}


def _description(controllers: Optional[Dict[str, Any]], route: route_table.Route) -> str:
    if not controllers or route.controller not in controllers:
        return ''
    return inspect.getdoc(getattr(controllers[route.controller], route.method_name)) or ''


def _operation(route: route_table.Route, controllers: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    status, body = OPERATIONS[route.action]
    success: Dict[str, Any] = {'description': 'Success' if status < 300 else 'Accepted as a tracked request'}
    schema = _body_schema(body)
    if schema is not None:
        success['content'] = {'application/json': {'schema': schema}}
    responses: Dict[str, Any] = {str(status): success}
    if route.action in ('osd.update', 'osd_config.update', 'crush.update_node', 'crush.update_rule'):
        responses['304'] = {'description': 'Nothing to change'}
    for code, text in ERRORS.items():
        responses[code] = {'description': text, 'content': {'application/json': {'schema': {}}}}
    operation: Dict[str, Any] = {'summary': route.action, 'tags': [route.controller], 'responses': responses}
    description = _description(controllers, route)
    if description:
        operation['description'] = description
    params = [{'name': name, 'in': 'path', 'required': True,
               'schema': {'type': 'string', 'pattern': f'^(?:{route_table.PARAMS[name]})$'}}
              for name in route.param_names]
    if params:
        operation['parameters'] = params
    if route.action in BODIES:
        resource, create = BODIES[route.action]
        body_schema = request_schema(resource, create)
        if body_schema:
            operation['requestBody'] = {'required': create, 'content': {'application/json': {'schema': body_schema}}}
    if route.action == 'crush.replace_map':
        operation['requestBody'] = {'required': True, 'content': {'text/plain': {'schema': {'type': 'string'}}}}
        responses['415'] = {'description': 'The body is not text/plain'}
    if route.public:
        operation['security'] = []
    else:
        responses.update(BEARER_ERRORS)
    return operation


def build_document(controllers: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    paths: Dict[str, Dict[str, Any]] = {}
    for route in route_table.ROUTES:
        for version in api_versions(route):
            item = paths.setdefault(openapi_path(version, route.pattern), {})
            operation = _operation(route, controllers)
            operation['operationId'] = f'{version}_{route.method.lower()}_{len(paths)}_{route.action}'
            item[route.method.lower()] = operation
    schemas = {name: response_schema(name) for name in RESOURCES}
    return {
        'openapi': '3.1.0',
        'info': {'title': 'Calamari REST API v2 (calamari_api ceph-mgr module)', 'version': VERSION,
                 'description': 'Log in with GET then POST /api/v2/auth/login (cookies calamari_sessionid and '
                                'XSRF-TOKEN); send the XSRF-TOKEN value in X-XSRF-TOKEN (or X-CSRFToken) on '
                                'POST/PUT/PATCH/DELETE. Writes answer 202 {"request_id"}: poll '
                                '/api/v2/request/<id> until state is "complete". Scripts may instead send '
                                '"Authorization: Bearer <token>" (ceph calamari-api token-create).'},
        'servers': [{'url': '/'}],
        'security': [{'session': [], 'xsrf': []}, {'bearerAuth': []}],
        'components': {
            'securitySchemes': {
                'session': {'type': 'apiKey', 'in': 'cookie', 'name': 'calamari_sessionid'},
                'xsrf': {'type': 'apiKey', 'in': 'header', 'name': 'X-XSRF-TOKEN',
                         'description': 'the XSRF-TOKEN cookie value; needed on unsafe methods'},
                'bearerAuth': BEARER_SCHEME,
            },
            'schemas': schemas,
        },
        'paths': paths,
    }


def api_versions(route: route_table.Route) -> Tuple[str, ...]:
    """The API versions a route is documented under: none for routes outside /api (graphite, the web apps)."""
    return tuple(v for v in route.versions if v)


def all_paths() -> List[Tuple[str, str]]:
    return [(openapi_path(v, r.pattern), r.method.lower()) for r in route_table.ROUTES for v in api_versions(r)]


if __name__ == '__main__':
    json.dump(build_document(), sys.stdout, indent=1)
    sys.stdout.write('\n')
