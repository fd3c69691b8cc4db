"""The WSGI application: a CherryPy RoutesDispatcher built from ``routes.ROUTES``, and one place that turns
every request into the access gate's checks (gate.py) + a controller call + a JSON response."""
import json
import logging
import traceback
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs

import cherrypy
from cherrypy import _cplogging

from . import routes as route_table
from ..audit import bare, principal_name
from ..cluster import MAX_AGE
from ..controllers import load_controllers
from ..hub import Hub
from ..requests.engine import TooManyInFlight
from ..requests.steps import Operation
from .endpoint import Endpoint, Handler
from .fast_path import FastPath
from .gate import AccessGate
from .http import ApiError, ApiRequest, RawResponse, Response, SAFE_METHODS, bad_request, detail, render_json
from .render import Renderer, cached_response
from .response_cache import Rendered, ResponseCache, cache_key
from .route_index import Resolved, RouteIndex

log = logging.getLogger(__name__)

IN_FLIGHT_RETRY_SECONDS = 5


def to_routes_path(version: str, pattern: str) -> str:
    """'cluster/{fsid}/osd' -> '/api/v2/cluster/{fsid:[a-zA-Z0-9-]+}/osd'; a trailing '*' matches any suffix."""
    unanchored = pattern.endswith('*')
    pattern = pattern.rstrip('*')
    for name, regex in route_table.PARAMS.items():
        pattern = pattern.replace('{%s}' % name, '{%s:%s}' % (name, regex))
    path = f'/api/{version}/{pattern}' if version else f'/{pattern}'      # version '': outside the API
    if unanchored:
        path += '{_suffix:.*}'
    return path


def _prepare_body() -> None:
    """Before CherryPy touches a request body: a POST/DELETE with no body at all (no Content-Length, no
    Transfer-Encoding) is an empty body, as Calamari took it (e.g. ``curl -X POST .../osd/0/command/scrub``), not
    CherryPy's 411; and no body is parsed by CherryPy (``build_request`` reads the bytes, ``ApiRequest.json``
    decodes JSON and form bodies): its form and multipart parsers raised on a malformed ``Content-Type`` (a
    ``multipart/form-data`` without a boundary was a 500)."""
    request = cherrypy.serving.request
    if 'Content-Length' not in request.headers and 'Transfer-Encoding' not in request.headers:
        request.process_request_body = False
    elif request.body is not None:
        request.body.processors = {}        # CherryPy still wraps the stream: size limit, chunked trailers


def read_body(request: Any) -> bytes:
    """The request body's bytes; a body the client sent broken (bad chunked framing, too large) is a 4xx."""
    if request.body is None or not request.process_request_body or getattr(request.body, 'fp', None) is None:
        return b''
    try:
        return request.body.fp.read()
    except cherrypy.HTTPError as e:                 # CherryPy's own verdicts, e.g. 413 past the size limit
        raise detail(e.status, e._message)
    except TimeoutError:                            # (socket.timeout) the client stopped sending its body
        raise detail(408, 'Request Timeout')
    except (ValueError, OSError) as e:              # cheroot: bad chunk size, chunk without CRLF, ...
        if 'Too Large' in str(e):
            raise detail(413, 'Request Entity Too Large')
        raise bad_request(f'Malformed request body: {e}')


class QuietLogManager(_cplogging.LogManager):
    """The application's log without an access-log line per request: inside ceph-mgr each would land in the mgr
    log (Tentacle's main interpreter attributes them to whichever module's handler is installed) and cost about
    0.1 ms.  CherryPy's errors still reach the mgr log."""

    def __init__(self, appid: Any, logger_root: str) -> None:
        super().__init__(appid, logger_root)
        self.screen = False

    def access(self) -> None:
        return None


class OwnConfigDispatcher(cherrypy.dispatch.RoutesDispatcher):
    """A RoutesDispatcher whose requests are configured by this application's config alone.

    CherryPy starts each request's config from the process-wide ``cherrypy.config``.  From Tentacle 20.2.2 on, the
    mgr runs modules in one interpreter, where that object is shared with the dashboard and prometheus modules:
    whatever they (or a later release of theirs) put there would switch tools, headers or error pages on for our
    requests.  So the config is rebuilt from our own sections: ``/`` and each prefix of the path."""

    def find_handler(self, path_info: str) -> Any:
        handler = super().find_handler(path_info)
        request = cherrypy.serving.request
        app_config = request.app.config
        config: Dict[str, Any] = dict(app_config.get('/', {}))
        section = ''
        for atom in [a for a in path_info.split('/') if a]:
            section += '/' + atom
            if section in app_config:
                config.update(app_config[section])
                if 'tools.staticdir.dir' in app_config[section]:
                    config['tools.staticdir.section'] = section
        request.config = config
        return handler


class CalamariApp:
    """Builds the dispatcher and runs requests against the controllers with the shared services."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self.controllers = load_controllers(services)
        self.responses = ResponseCache(services.cluster.generations, MAX_AGE)
        self.hub = Hub(services)
        self.gate = AccessGate(services.auth, services.tokens, lambda: services.cluster.fsid, self.hub.member_fsid)
        self.route_index = RouteIndex()
        self.endpoints: List[Endpoint] = []
        self.dispatcher = OwnConfigDispatcher()
        self._build()
        self.full_path = cherrypy.Application(None, '', config=self._config())
        self.full_path.log = QuietLogManager(id(self.full_path), cherrypy.log.logger_root)
        self.server_header = f'CherryPy/{cherrypy.__version__}'     # (the full path's, for the fast path too)
        self.fast_path = FastPath(self.full_path, self.route_index, self.gate, self.responses,
                                  Renderer(self.server_header), self.hub)
        self.wsgi = self.fast_path          # what the server runs: cached GETs fast, the rest through CherryPy

    def _build(self) -> None:
        by_path: Dict[Tuple[str, str], Endpoint] = {}
        bench = route_table.BENCH_ROUTES if self.services.option('bench_fixed_body') else []
        for route in route_table.ROUTES + bench:
            controller = self.controllers[route.controller]
            handler = getattr(controller, route.method_name)
            for version in route.versions:
                endpoint = by_path.get((version, route.pattern))
                if endpoint is None:
                    endpoint = by_path[(version, route.pattern)] = Endpoint(route.pattern, version, self.respond)
                    self.endpoints.append(endpoint)
                endpoint.bind(route, handler)
        for i, endpoint in enumerate(self.endpoints):
            self.dispatcher.connect(f'r{i}', to_routes_path(endpoint.version, endpoint.pattern),
                                    controller=endpoint, action='handle')
        # Anything else is a JSON 404 (CherryPy's own error page would be padded HTML-ish text).
        self.dispatcher.connect('unknown', '/{_any:.*}', controller=self, action='unknown_url')

    @cherrypy.expose
    def unknown_url(self, **_params: Any) -> bytes:
        cherrypy.response.status = 404
        cherrypy.response.headers['Content-Type'] = 'application/json'
        return render_json({'detail': 'Not found'})

    def _config(self) -> Dict[str, Any]:
        return {'/': {
            'request.dispatch': self.dispatcher,
            'error_page.default': self._error_page,
            'request.show_tracebacks': False,
            'request.show_mismatched_params': False,
            'request.methods_with_bodies': ('POST', 'PUT', 'PATCH', 'DELETE'),   # bulk key / pool DELETE bodies
            'hooks.before_request_body': _prepare_body,
            'tools.encode.on': False,
            'log.screen': False,
            'log.access_file': '',
            'log.error_file': '',
        }}

    @staticmethod
    def _error_page(status: str, message: str, traceback: str, version: str) -> str:
        """CherryPy-level errors (no route, body too large, ...) in Calamari's JSON shape."""
        cherrypy.response.headers['Content-Type'] = 'application/json'
        code = int(str(status).split()[0])
        text = 'Not found' if code == 404 else message
        return json.dumps({'detail': text})

    # -- request handling -----------------------------------------------------------------------
    def build_request(self) -> ApiRequest:
        req = cherrypy.request
        query = parse_qs(req.query_string or '', keep_blank_values=True)
        body = read_body(req)
        host = req.headers.get('Host') or f'{req.local.name or req.local.ip}:{req.local.port}'
        scheme = req.scheme
        api_request = ApiRequest(method=req.method, path=req.path_info, query=query,
                                 headers=dict(req.headers), body=body,
                                 base_url=f'{scheme}://{host}', scheme=scheme,
                                 remote_addr=req.remote.ip or '')
        api_request.cookies = {k: m.value for k, m in req.cookie.items()}
        return api_request

    def respond(self, endpoint: Endpoint) -> bytes:
        response = cherrypy.response
        request: Optional[ApiRequest] = None
        try:
            request = self.build_request()
            result = self.run(endpoint, request)
        except ApiError as e:
            result = Response(e.status, e.body, headers=e.headers, empty=e.body is None)
        except Exception:
            log.error('unhandled error on %s %s:\n%s', cherrypy.request.method, cherrypy.request.path_info,
                      traceback.format_exc())
            result = Response(500, {'detail': 'Internal server error (the mgr log has the details)'})
        if isinstance(result, Rendered):
            return self._send_rendered(result, request)
        if not isinstance(result, Response):
            result = Response(200, result)
        if request is not None and self.is_write(endpoint, request):
            self.audit_write(request, result)
        if request is not None:
            self.services.auth.finish_response(request, response, endpoint)
        response.status = result.status
        for name, value in result.headers.items():
            response.headers[name] = value
        if isinstance(result, RawResponse):
            response.headers['Content-Type'] = result.content_type
            return result.raw
        if result.empty:
            response.headers.pop('Content-Type', None)
            return b''
        response.headers['Content-Type'] = 'application/json'
        return render_json(result.body)

    @staticmethod
    def is_write(endpoint: Endpoint, request: ApiRequest) -> bool:
        """An authenticated POST/PUT/PATCH/DELETE on a route that is not public (login and logout are not writes)."""
        if request.user is None or request.method in SAFE_METHODS or endpoint.public:
            return False
        action = endpoint.actions.get(request.method)
        return action is None or not action[0].public

    def audit_write(self, request: ApiRequest, result: Response) -> None:
        """The write's line on the cluster log's audit channel (audit.py); a tracked request's id with it."""
        fields = dict(request.audit)
        if isinstance(result.body, dict) and isinstance(result.body.get('request_id'), str):
            fields['request'] = bare(result.body['request_id'])
        self.services.audit.http(request.user, request.remote_addr, request.method, request.path, result.status,
                                 fields)

    def _send_rendered(self, rendered: Rendered, request: Optional[ApiRequest]) -> bytes:
        response = cherrypy.response
        status, headers, body = cached_response(rendered, request)
        response.status = status
        response.headers.pop('Content-Type', None)
        for name, value in headers:
            response.headers[name] = value
        return body

    def run(self, endpoint: Endpoint, request: ApiRequest) -> Any:
        method = request.method
        params = {name: cherrypy.request.params[name] for name in endpoint.param_names}
        user = self.gate.admit(request, endpoint, params)
        cherrypy.response.headers['Allow'] = endpoint.allow(user)
        if method == 'OPTIONS':
            return {'name': endpoint.pattern, 'description': '',
                    'renders': ['application/json'], 'parses': ['application/json']}
        action = endpoint.action(method)
        if action is None:
            raise detail(405, f"Method '{method}' not allowed.")
        route, handler = action
        member = self.hub.member_fsid(params) or self.hub.graphite_member(route, request)
        if member is not None:
            return self.hub.forward(member, request, route)     # another cluster's: it answers (hub.py)
        if self.hub.merges(route):
            return self.hub.merged(route, request, params, lambda req: self.call(route, handler, req, params))
        deps = route.cache
        if deps and method in ('GET', 'HEAD'):
            if method == 'GET':
                self.route_index.record(request.path, Resolved(endpoint, route, handler, params))
            return self.responses.get(cache_key(route.action, request), deps, lambda: handler(request, **params))
        return self.call(route, handler, request, params)

    def call(self, route: route_table.Route, handler: Handler, request: ApiRequest, params: Dict[str, str]) -> Any:
        """The handler's answer; a write's operation becomes a tracked request, answered with the route's status."""
        result = handler(request, **params)
        if isinstance(result, Operation):
            return Response(route.status, {'request_id': self.submit(request, result)})
        return result

    def submit(self, request: ApiRequest, operation: Operation) -> str:
        """Every write's way into the request engine: the request id, with who asked and from where (the audit
        line of its end, the per-principal cap on requests in flight: 429 beyond it)."""
        try:
            return self.services.requests.submit(operation, principal=principal_name(request.user),
                                                 client=request.remote_addr)
        except TooManyInFlight as e:
            raise ApiError(429, {'detail': str(e)}, headers={'Retry-After': str(IN_FLIGHT_RETRY_SECONDS)})
