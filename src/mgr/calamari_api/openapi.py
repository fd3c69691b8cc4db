"""The OpenAPI 3 document, generated from the route table (web/routes.py: each row says its statuses, bodies and
query parameters) and the field declarations (schemas.py), so it cannot drift from what the dispatcher serves.
Every operation may also answer the statuses in COMMON, every authenticated one those in AUTHENTICATED, every one
with path parameters a 404 (an unknown fsid, or a value outside the parameter's pattern), and every one answering a
request id a "429-in-flight".

    python3 -m calamari_api.openapi > openapi.json     (from src/mgr, for packaging)
"""
import inspect
import json
import sys
from typing import Any, Dict, List, Optional, Tuple

from .web import routes as route_table
from .hub import MERGED, MISSING_HEADER
from .schemas import MODIFY_NEEDS_BODY, RESOURCES, request_schema, response_schema
from .version import VERSION

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
    '503': _error('The cluster cannot answer right now, this mgr is a standby, or a member cluster (see '
                  '"Several clusters" in the README) did not answer in time', ERROR),
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
    {route.action: REQUEST_LINKS for route in route_table.ROUTES if route.body == 'request_id'},
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
    status, body, own = route.status, route.body, route.errors
    success: Dict[str, Any] = {'description': 'Success' if status < 300 else 'Accepted as a tracked request'}
    schema = _body_schema(body)
    if schema is not None:
        success['content'] = {'application/json': {'schema': schema}}
    codes = list(COMMON) + ([] if route.public else list(AUTHENTICATED)) + own.split()
    if body == 'request_id':
        codes.append('429-in-flight')     # every write that becomes a tracked request (requests.TooManyInFlight)
    if route.param_names and '404-empty' not in codes:
        codes.append('404')         # an unknown fsid; any path value outside its pattern matches no route
    if route.action in MERGED:
        success['headers'] = {MISSING_HEADER: {
            'description': 'with member clusters: the fsids (comma-separated) of the members that could not be '
                           'asked, whose items are missing', 'schema': {'type': 'string'}}}
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
        responses[str(route.status)]['links'] = links
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
               for name, required, schema, text in route.query]
    if params:
        operation['parameters'] = params
    if isinstance(route.request, route_table.Fields):
        resource, mode = route.request
        operation['requestBody'] = {'required': mode != 'modify' or resource in MODIFY_NEEDS_BODY,
                                    'content': {'application/json': {'schema': request_schema(resource, mode)}}}
    elif isinstance(route.request, route_table.Body):
        required, schema, media = route.request
        operation['requestBody'] = {'required': required, 'content': {media: {'schema': schema}}}
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
