"""The OpenAPI 3 document, generated from the route table (routes.py) and the field declarations
(schemas.py), so it cannot drift from what the dispatcher serves.

    python3 -m calamari_api.openapi > openapi.json     (from src/mgr, for packaging)
"""
import inspect
import json
import sys
from typing import Any, Dict, List, Optional, Tuple

from . import routes as route_table
from .schemas import MODIFY_NEEDS_BODY, RESOURCES, any_case, request_schema, response_schema
from .version import VERSION

# What each action answers with: (success status, body, the error statuses of its own).  ``body`` is a resource name,
# "[resource]" for a list, "page[resource]" for the pagination envelope, "any" for pass-through JSON, None for an
# empty body.  Own statuses: 304 (nothing to change), 404 (no such object; "404-empty": with an empty body),
# 409 (conflict), 415 (wrong media type), "503-empty" (another host's logs: Calamari's empty 503), 429 (auth/login's
# lockout); every action answering a request id may also answer "429-in-flight".
# Every operation may also answer the statuses in COMMON, every authenticated one those in AUTHENTICATED, every one
# with path parameters a 404 (an unknown fsid, or a value outside the parameter's pattern).
OPERATIONS: Dict[str, Tuple[int, Optional[str], str]] = {
    'auth.login_form': (200, 'any', ''), 'auth.login': (200, 'any', '401 429'), 'auth.logout': (200, 'any', ''),
    'info.get': (200, 'info', ''), 'info.openapi': (200, 'any', ''), 'info.api_root': (200, 'any', ''),
    'grains.local': (200, 'any', ''), 'grains.server': (200, 'any', '404-empty'),
    'user.list': (200, '[user]', ''), 'user.create': (201, 'user', ''), 'user.get': (200, 'user', '404'),
    'user.update': (200, 'user', '404'), 'user.delete': (204, None, '404'),
    'cluster.list': (200, '[cluster]', ''), 'cluster.get': (200, 'cluster', '404-empty'),
    'cluster.forget': (204, None, '404-empty'),
    'request.list': (200, 'page[request]', ''), 'request.get': (200, 'request', '404'),
    'request.cancel': (200, 'request', '404'),
    'crush.map_text': (200, 'any', ''), 'crush.rule_sets': (200, 'any', ''), 'crush.rules': (200, '[crush_rule]', ''),
    'crush.rule': (200, 'crush_rule', '404'), 'crush.nodes': (200, '[crush_node]', ''),
    'crush.node': (200, 'crush_node', '404'), 'crush.types': (200, '[crush_type]', ''),
    'crush.type': (200, 'crush_type', '404'),
    'crush.create_node': (202, 'request_id', '404 409'), 'crush.update_node': (202, 'request_id', '304 404 409'),
    'crush.delete_node': (202, 'request_id', '404 409'), 'crush.create_rule': (202, 'request_id', '409'),
    'crush.update_rule': (202, 'request_id', '304 404 409'), 'crush.delete_rule': (202, 'request_id', '404 409'),
    'crush.replace_map': (200, 'request_id', '415'),
    'pool.list': (200, 'any', ''), 'pool.create': (202, 'request_id', '409'), 'pool.get': (200, 'pool', '404'),
    'pool.update': (202, 'request_id', '404 409'), 'pool.delete': (202, 'request_id', '404'),
    'stats.pools': (200, '[pool_stats]', ''), 'stats.pool': (200, 'pool_stats', '404'),
    'stats.totals': (200, 'cluster_stats', ''),
    'osd.list': (200, '[osd]', ''), 'osd.implemented_commands': (200, 'any', ''), 'osd.get': (200, 'osd', '404'),
    'osd.update': (202, 'request_id', '304 404'), 'osd.valid_commands': (200, 'any', '404'),
    'osd.validate_command': (200, 'any', '404'), 'osd.apply_command': (202, 'request_id', ''),
    'osd_config.get': (200, 'osd_config', ''), 'osd_config.update': (202, 'request_id', '304'),
    'mon.list': (200, '[mon]', ''), 'mon.get': (200, 'mon', '404'), 'mon.status': (200, 'any', '404'),
    'sync_object.list': (200, 'any', ''), 'sync_object.get': (200, 'any', '404'),
    'config.list': (200, '[config_setting]', ''), 'config.get': (200, 'config_setting', '404'),
    'log.cluster_tail': (200, 'log_tail', ''), 'log.server_files': (200, 'any', '503-empty'),
    'log.server_tail': (200, 'log_tail', '404 503-empty'),
    'cli.run': (200, 'cli_result', ''),
    'server.list': (200, '[server]', ''), 'server.get': (200, 'server', '404'), 'server.forget': (204, None, '404'),
    'server.cluster_list': (200, '[cluster_server]', ''), 'server.cluster_get': (200, 'cluster_server', '404'),
    'debug_job.submit': (202, 'request_id', ''),
    'key.list': (200, '[key]', ''), 'key.bulk_update': (204, None, '404'), 'key.bulk_delete': (204, None, '404'),
    'key.get': (200, 'key', '404'), 'key.update': (204, None, '404'), 'key.delete': (204, None, '404'),
    'event.list': (200, 'page[event]', ''), 'event.cluster_list': (200, 'page[event]', ''),
    'event.server_list': (200, 'page[event]', ''),
    # v1 (Calamari 1.3, for its dashboard and admin apps): shapes in views/v1.py; the OSD list is 202 [] while the
    # mgr has no PG states yet, as Calamari answered
    'cluster.v1_list': (200, 'any', ''), 'cluster.v1_get': (200, 'any', ''), 'health.report': (200, 'any', ''),
    'health.counters': (200, 'any', ''), 'stats.space': (200, 'any', ''), 'osd.v1_list': (200, 'any', '202-no-pgs'),
    'osd.v1_get': (200, 'any', '404'), 'pool.v1_list': (200, 'any', ''), 'pool.v1_get': (200, 'any', '404'),
    'server.v1_cluster_list': (200, 'any', ''),
    # outside /api (routes.ROOT), so not in the document: graphite's render and find, the web apps
    'graphite.render': (200, 'any', ''), 'graphite.find': (200, 'any', ''), 'ui.root': (302, None, ''),
    'ui.app': (200, 'any', ''),
}
# Request bodies: action -> (resource, create | modify | replace); PUT of a user replaces it (both fields required).
BODIES: Dict[str, Tuple[str, str]] = {
    'auth.login': ('login', 'create'), 'user.create': ('user', 'create'), 'user.update': ('user', 'modify'),
    'pool.create': ('pool', 'create'), 'pool.update': ('pool', 'modify'), 'osd.update': ('osd', 'modify'),
    'osd_config.update': ('osd_config', 'modify'), 'cli.run': ('cli_command', 'create'),
    'debug_job.submit': ('debug_job', 'create'), 'key.update': ('key', 'modify'),
    'crush.create_node': ('crush_node', 'create'), 'crush.update_node': ('crush_node', 'modify'),
    'crush.create_rule': ('crush_rule', 'create'), 'crush.update_rule': ('crush_rule', 'modify'),
}
KEY_ITEM = {'type': 'object', 'required': ['id'], 'properties': {'id': {'type': 'string'}}}
# Bodies that are not one resource's fields.
OTHER_BODIES: Dict[str, Tuple[bool, Dict[str, Any]]] = {
    'key.bulk_update': (True, {'type': 'array', 'items': {
        'type': 'object', 'required': ['id', 'status'], 'properties': {
            'id': {'type': 'string'}, 'status': {'type': 'string', 'enum': ['accepted', 'rejected']}}}}),
    'key.bulk_delete': (True, {'type': 'array', 'items': KEY_ITEM}),
    'pool.delete': (False, {'description': 'any JSON (Calamari\'s UI sends {"id": N}); ignored'}),
}
# An empty value of these parameters means the default, as a parameter left out (Calamari's paginator ignored it).
EMPTY = {'type': 'string', 'maxLength': 0}
PAGE = [('page', False, {'anyOf': [{'type': 'integer', 'minimum': 1}, {'type': 'string', 'enum': ['last', '']}]},
         'page number (1-based) or "last"; past the last page is a 400; empty: the first'),
        ('page_size', False, {'anyOf': [{'type': 'integer', 'minimum': 1, 'maximum': 1000}, EMPTY]},
         'items per page (default 10, also when empty)')]
SEVERITY = ('severity', False, {'type': 'string', 'pattern': any_case('', 'CRITICAL', 'ERROR', 'WARNING', 'RECOVERY',
                                                                      'INFO')},
            'this severity or worse (any letter case; default INFO)')
QUERY: Dict[str, List[Tuple[str, bool, Dict[str, Any], str]]] = {
    'request.list': PAGE + [('state', False, {'type': 'string', 'enum': ['submitted', 'complete']}, '')],
    'event.list': PAGE + [SEVERITY], 'event.cluster_list': PAGE + [SEVERITY], 'event.server_list': PAGE + [SEVERITY],
    'log.cluster_tail': [('lines', False, {'type': 'integer', 'minimum': 1, 'maximum': 10000}, 'default 40')],
    'log.server_tail': [('lines', False, {'type': 'integer', 'minimum': 1, 'maximum': 10000}, 'default 40')],
    'osd.list': [('pool', False, {'anyOf': [{'type': 'integer'}, EMPTY]},
                  'only OSDs this pool\'s CRUSH rule can use (empty: every OSD)'),
                 ('id__in[]', False, {'type': 'array', 'items': {'type': 'integer'}}, 'only these OSD ids')],
    'pool.list': [('defaults', False, {}, 'a presence flag: the defaults for a new pool instead of the pools')],
}

DETAIL = {'$ref': '#/components/schemas/detail'}
ERROR = {'$ref': '#/components/schemas/error'}
ERROR_SCHEMAS = {
    'detail': {'type': 'object', 'required': ['detail'], 'properties': {'detail': {'type': 'string'}}},
    'error': {'description': 'Calamari\'s error bodies: {"detail": message}, {field: message or [messages]}, or a '
                             'bare JSON string such as "Object of type osd with id 9 not found"',
              'anyOf': [{'type': 'string'}, {'type': 'object', 'minProperties': 1}]},
}


def _error(description: str, schema: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    response: Dict[str, Any] = {'description': description}
    if schema is not None:
        response['content'] = {'application/json': {'schema': schema}}
    return response


RESPONSES: Dict[str, Dict[str, Any]] = {
    '202-no-pgs': _error('The mgr has no PG states yet: an empty list, as Calamari answered',
                         {'type': 'array', 'maxItems': 0}),
    '304': {'description': 'Nothing to change'},
    '400': _error('Malformed request (request line, headers, framing, query, JSON) or invalid input', ERROR),
    '401': _error('Bearer token missing, malformed, unknown, revoked or expired (WWW-Authenticate: Bearer); '
                  'POST auth/login: wrong username or password', {'type': 'object'}),
    '403': _error('Not logged in, CSRF token missing or wrong, or the role forbids it; cli: a command that reveals '
                  'or changes cluster secrets (option allow_secret_commands)', ERROR),
    '404': _error('No such object', ERROR),
    '404-empty': {'description': 'No such object (an empty body, as in Calamari)'},
    '408': _error('The client did not send its request in time', DETAIL),
    '409': _error('Conflict with the current state (a name taken, an object in use, a concurrent change)', ERROR),
    '413': _error('Request headers or body too large', DETAIL),
    '415': _error('The body is not text/plain', DETAIL),
    '429': _error('Too many failed logins for this user from this address, or from this address (Retry-After)',
                  DETAIL),
    '429-in-flight': _error('This user or token has as many unfinished requests as max_requests_in_flight allows '
                            '(Retry-After)', DETAIL),
    '503': _error('The cluster cannot answer right now, or this mgr is a standby', ERROR),
    '503-empty': {'description': 'Only the host of the active mgr serves its logs (an empty body, as in Calamari '
                                 'when no minion could)'},
}
COMMON = ('400', '408', '413', '503')
AUTHENTICATED = ('401', '403')        # a valid token or session is never throttled
SESSION_READ = {'session': []}
SESSION_WRITE = {'session': [], 'csrfCookie': [], 'xsrf': []}
BEARER = {'bearerAuth': []}
SECURITY_SCHEMES = {
    'session': {'type': 'apiKey', 'in': 'cookie', 'name': 'calamari_sessionid',
                'description': 'the session cookie POST auth/login sets'},
    'csrfCookie': {'type': 'apiKey', 'in': 'cookie', 'name': 'XSRF-TOKEN',
                   'description': 'the CSRF cookie of the session (POST auth/login sets it), needed on unsafe methods'},
    'xsrf': {'type': 'apiKey', 'in': 'header', 'name': 'X-XSRF-TOKEN',
             'description': 'the XSRF-TOKEN cookie\'s value (also accepted as X-CSRFToken), needed on unsafe '
                            'methods; over HTTPS a same-origin Referer too'},
    'bearerAuth': {'type': 'http', 'scheme': 'bearer',
                   'description': 'an API token from "ceph calamari-api token-create" (no cookie, no XSRF header)'},
}
# OpenAPI links: from what a creating operation answers to the operations that read, change or delete what it made
# (a write answers with the id of its tracked request).
REQUEST_LINKS = {'GetRequest': ('request.get', {'request_id': '$response.body#/request_id'}),
                 'CancelRequest': ('request.cancel', {'request_id': '$response.body#/request_id'})}
LINKS: Dict[str, Dict[str, Tuple[str, Dict[str, str]]]] = dict(
    {action: REQUEST_LINKS for action, (_, body, _own) in OPERATIONS.items() if body == 'request_id'},
    **{'user.create': {'GetUser': ('user.get', {'user_id': '$response.body#/id'}),
                       'UpdateUser': ('user.update', {'user_id': '$response.body#/id'}),
                       'DeleteUser': ('user.delete', {'user_id': '$response.body#/id'})}})


def openapi_path(version: str, pattern: str) -> str:
    """The URL of a route: unanchored patterns without their suffix; the API root with its slash."""
    return f'/api/{version}/' + pattern.rstrip('*').rstrip('/')


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


def operation_id(version: str, route: route_table.Route) -> str:
    """``pool.update:patch``, ``v1:user.get:get``; where one action serves two URLs, the cluster-scoped one gets
    ``@cluster`` and Calamari 1.2's ``osd /command`` spelling ``@legacy``."""
    suffix = ''
    if ' ' in route.pattern:
        suffix = '@legacy'
    elif route.pattern.startswith('cluster/') and any(
            r.action == route.action and r.method == route.method and not r.pattern.startswith('cluster/')
            for r in route_table.ROUTES):
        suffix = '@cluster'
    return ('' if version == 'v2' else f'{version}:') + f'{route.action}:{route.method.lower()}{suffix}'


def _responses(route: route_table.Route) -> Dict[str, Any]:
    status, body, own = OPERATIONS[route.action]
    success: Dict[str, Any] = {'description': 'Success' if status < 300 else 'Accepted as a tracked request'}
    schema = _body_schema(body)
    if schema is not None:
        success['content'] = {'application/json': {'schema': schema}}
    codes = list(COMMON) + ([] if route.public else list(AUTHENTICATED)) + own.split()
    if body == 'request_id':
        codes.append('429-in-flight')     # every write that becomes a tracked request (requests.TooManyInFlight)
    if route.param_names and '404-empty' not in codes:
        codes.append('404')         # an unknown fsid; any path value outside its pattern matches no route
    responses: Dict[str, Any] = {str(status): success}
    for code in sorted(set(codes)):
        responses[code[:3]] = dict(RESPONSES[code])
    return responses


def _links(route: route_table.Route, version: str) -> Dict[str, Any]:
    links: Dict[str, Any] = {}
    for name, (action, parameters) in LINKS.get(route.action, {}).items():
        for target in route_table.ROUTES:
            if target.action == action and version in target.versions:
                suffix = '' if target.method in ('GET', 'POST', 'DELETE') else target.method.title()
                link = {'operationId': operation_id(version, target), 'parameters': parameters}
                links.setdefault(name + suffix, link)       # the first URL of an action (not cluster-scoped)
    return links


def _operation(route: route_table.Route, version: str, controllers: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    responses = _responses(route)
    links = _links(route, version)
    if links:
        responses[str(OPERATIONS[route.action][0])]['links'] = links
    operation: Dict[str, Any] = {'operationId': operation_id(version, route), 'summary': route.action,
                                 'tags': [route.controller], 'responses': responses}
    description = _description(controllers, route)
    if description:
        operation['description'] = description
    params = [{'name': name, 'in': 'path', 'required': True,
               'schema': {'type': 'string', 'pattern': f'^(?:{route_table.PARAMS[name]})$'}}
              for name in route.param_names]
    params += [dict({'name': name, 'in': 'query', 'required': required, 'schema': schema},
                    **({'description': text} if text else {}))
               for name, required, schema, text in QUERY.get(route.action, [])]
    if params:
        operation['parameters'] = params
    if route.action in BODIES:
        resource, mode = BODIES[route.action]
        if route.method == 'PUT':
            mode = 'replace'
        operation['requestBody'] = {'required': mode != 'modify' or resource in MODIFY_NEEDS_BODY,
                                    'content': {'application/json': {'schema': request_schema(resource, mode)}}}
    elif route.action in OTHER_BODIES:
        required, schema = OTHER_BODIES[route.action]
        operation['requestBody'] = {'required': required, 'content': {'application/json': {'schema': schema}}}
    elif route.action == 'crush.replace_map':
        operation['requestBody'] = {'required': True, 'content': {'text/plain': {'schema': {'type': 'string'}}}}
    if route.public:
        operation['security'] = []
    elif route.method not in ('GET', 'HEAD', 'OPTIONS'):
        operation['security'] = [SESSION_WRITE, BEARER]
    return operation


def build_document(controllers: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    paths: Dict[str, Dict[str, Any]] = {}
    for route in route_table.ROUTES:
        for version in api_versions(route):
            item = paths.setdefault(openapi_path(version, route.pattern), {})
            item[route.method.lower()] = _operation(route, version, controllers)
    schemas = {name: response_schema(name) for name in RESOURCES}
    schemas.update(ERROR_SCHEMAS)
    return {
        'openapi': '3.1.0',
        'info': {'title': 'Calamari REST API v2 (calamari_api ceph-mgr module)', 'version': VERSION,
                 'description': 'Log in with GET then POST /api/v2/auth/login (cookies calamari_sessionid and '
                                'XSRF-TOKEN); send the XSRF-TOKEN value in X-XSRF-TOKEN (or X-CSRFToken) on '
                                'POST/PUT/PATCH/DELETE. Writes answer 202 {"request_id"}: poll '
                                '/api/v2/request/<id> until state is "complete". Scripts may instead send '
                                '"Authorization: Bearer <token>" (ceph calamari-api token-create). Anonymous '
                                'requests get 403; a bad token 401.'},
        'servers': [{'url': '/'}],
        'security': [SESSION_READ, BEARER],
        'components': {'securitySchemes': SECURITY_SCHEMES, 'schemas': schemas},
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
