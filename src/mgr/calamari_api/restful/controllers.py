"""restful's controllers: one method per route (see routes.py), each taking the Call and the path parameters and
returning the JSON body (200) or raising RestfulError.  restful answered bad input with 500 and a ``message``;
here the same message comes with a 4xx (400 bad input, 404 unknown object)."""
import re
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ..audit import cli_summary, quoted
from ..command_policy import refusal
from ..compat import all_perf_counters
from . import views
from .commands import is_read_only
from .requests import RestfulRequest, TooBusy
from .routes import ROUTES

if TYPE_CHECKING:
    from ..services import Services
    from .app import Call
    from .requests import RestfulRequests

DOCS: Dict[str, List[str]] = {
    'root': ['Show the basic information for the REST API', 'This includes values like api version or auth method'],
    'doc': ['Show documentation information'],
    'config_cluster': ['Show all cluster configuration options'],
    'config_cluster_key': ['Show specific configuration option'],
    'config_osd': ['Show OSD configuration options'],
    'config_osd_patch': ['Modify OSD configuration options'],
    'crush_rules': ['Show crush rules'],
    'mons': ['Show the information for all the monitors'],
    'mon': ['Show the information for the monitor name'],
    'osds': ['Show the information for all the OSDs'],
    'osd': ['Show the information for the OSD id'],
    'osd_patch': ['Modify the state (up, in) of the OSD id or reweight it'],
    'osd_commands': ['Show implemented commands for the OSD id'],
    'osd_command': ['Run the implemented command for the OSD id'],
    'perf': ['List all the available performance counters', '', 'Options:',
             " - 'daemon' -- filter by daemon, accepts Python regexp"],
    'pools': ['Show the information for all the pools'],
    'pool_create': ['Create a new pool', 'Requires name and pg_num dict arguments'],
    'pool': ['Show the information for the pool id'],
    'pool_patch': ['Modify the information for the pool id'],
    'pool_delete': ['Remove the pool data for the pool id'],
    'requests': ['List all the available requests'],
    'request_submit': ['Pass through method to create any request'],
    'requests_clean': ['Remove all the finished requests'],
    'request': ['Show the information for the request id'],
    'request_delete': ['Remove the request id from the database'],
    'servers': ['Show the information for all the servers'],
    'server': ['Show the information for the server fqdn'],
}
BATCH_FORMAT = 'The request format should be [[{c1},{c2}]]'
PAGE_SIZE = 100


class RestfulError(Exception):
    def __init__(self, status: int, message: str, headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def bad(message: str) -> RestfulError:
    return RestfulError(400, message)


def paginate(items: Any, page: Optional[str]) -> Any:
    """restful's ``?page=N``: 100 items a page, 0 the first, -1 the last."""
    if page is None or not isinstance(items, list):
        return items
    try:
        number = int(page) + 1
    except ValueError:
        raise bad('The requested page is not an integer')
    end = number * PAGE_SIZE if number > 0 else len(items) - number * PAGE_SIZE
    return items[max(end - PAGE_SIZE, 0):max(end, 0)]


def _object(body: Any) -> Dict[str, Any]:
    if not isinstance(body, dict):
        raise bad('Bad request: the body must be a JSON object')
    return body


def _command(value: Any) -> Dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get('prefix'), str) or not value['prefix'].strip():
        raise bad('Bad request: a command is a JSON object with a "prefix" string')
    return value


class Controllers:
    def __init__(self, services: 'Services', requests: 'RestfulRequests') -> None:
        self.services = services
        self.objects = requests
        self.cluster = services.cluster

    # -- requests ---------------------------------------------------------------------------------
    def submit(self, call: 'Call', waves: List[List[Dict[str, Any]]]) -> Dict[str, Any]:
        """A request of these waves of commands; with ``?wait=1`` answered once finished."""
        if call.role == 'readonly' and not all(is_read_only(c) for wave in waves for c in wave):
            raise RestfulError(403, 'auth: this key is read-only (it may run read-only commands only)')
        commands = [c for wave in waves for c in wave]
        call.audit['cmd'] = quoted('; '.join(cli_summary(c) for c in commands))
        allow = bool(self.services.option('allow_secret_commands'))
        for command in commands:        # the command policy (command_policy.py), before any command runs
            refused = refusal(command, allow)
            if refused is not None:
                raise RestfulError(403, refused)
        wait = (call.arg('wait') or '').lower() not in ('', '0', 'false', 'no')
        try:
            request = self.objects.submit(waves, wait=wait)
        except TooBusy:
            raise RestfulError(503, 'Too many requests running; retry later or use ?wait=1',
                               headers={'Retry-After': '5'})
        return request.to_json()

    def requests_list(self, call: 'Call') -> Any:
        return paginate([r.to_json() for r in self.objects.list()], call.arg('page'))

    # -- actions ----------------------------------------------------------------------------------
    def root(self, call: 'Call') -> Any:
        return {'api_version': 1,
                'auth': 'Use "ceph restful create-key <key>" to create a key pair, '
                        'pass it as HTTP Basic auth to authenticate',
                'doc': 'See /doc endpoint',
                'info': 'Ceph Manager RESTful API server'}

    def doc(self, call: 'Call') -> Any:
        out: Dict[str, Dict[str, List[str]]] = {}
        for route in ROUTES:
            out.setdefault(route.doc_path, {})[route.method] = DOCS[route.action]
        return out

    def config_cluster(self, call: 'Call') -> Any:
        return self.cluster.source('config')

    def config_cluster_key(self, call: 'Call', key: str) -> Any:
        return (self.cluster.source('config') or {}).get(key)

    def config_osd(self, call: 'Call') -> Any:
        return views.osd_flags(self.cluster.source('osd_map'))

    def config_osd_patch(self, call: 'Call') -> Any:
        args = _object(call.json())
        commands = [{'prefix': 'osd set' if args[flag] else 'osd unset', 'key': flag}
                    for flag in views.OSD_FLAGS if flag in args]
        return self.submit(call, [commands])

    def crush_rules(self, call: 'Call') -> Any:
        return views.crush_rules(self.cluster.source('osd_map_crush'))

    def _mons(self) -> List[Dict[str, Any]]:
        return views.mons(self.cluster.source('mon_map'), self.cluster.source('mon_status'),
                          self.cluster.source('mon_metadata'))

    def mons(self, call: 'Call') -> Any:
        return self._mons()

    def mon(self, call: 'Call', name: str) -> Any:
        found = [m for m in self._mons() if m.get('name') == name]
        if len(found) != 1:
            raise RestfulError(404, f'Failed to identify the monitor node "{name}"')
        return found[0]

    def _osds(self, pool_id: Optional[int] = None, ids: Optional[List[int]] = None) -> List[Dict[str, Any]]:
        c = self.cluster
        return views.osds(c.source('osd_map'), c.source('osd_metadata') or {}, c.source('osd_map_tree') or {},
                          c.source('osd_map_crush') or {}, pool_id=pool_id, ids=ids)

    def osds(self, call: 'Call') -> Any:
        pool = call.arg('pool')
        if pool:
            try:
                return self._osds(pool_id=int(pool))
            except ValueError:
                raise bad(f'The pool id "{pool}" is not an integer')
        return self._osds()

    def _osd(self, osd_id: str) -> Dict[str, Any]:
        osd = views.find_osd(self.cluster.source('osd_map'), int(osd_id))
        if osd is None:
            raise RestfulError(404, f'Failed to identify the OSD id "{osd_id}"')
        return osd

    def osd(self, call: 'Call', osd_id: str) -> Any:
        self._osd(osd_id)
        return self._osds(ids=[int(osd_id)])[0]

    def osd_patch(self, call: 'Call', osd_id: str) -> Any:
        args = _object(call.json())
        self._osd(osd_id)
        ids = [str(int(osd_id))]
        commands: List[Dict[str, Any]] = []
        if 'in' in args:
            commands.append({'prefix': 'osd in' if args['in'] else 'osd out', 'ids': ids})
        if 'up' in args:
            if args['up']:
                raise bad('It is not valid to set a down OSD to be up')
            commands.append({'prefix': 'osd down', 'ids': ids})
        if 'reweight' in args:
            weight = args['reweight']
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
                raise bad('reweight must be a number from 0 to 1')
            commands.append({'prefix': 'osd reweight', 'id': int(osd_id), 'weight': float(weight)})
        return self.submit(call, [commands])

    def osd_commands(self, call: 'Call', osd_id: str) -> Any:
        return list(views.OSD_COMMANDS) if self._osd(osd_id).get('up') else []

    def osd_command(self, call: 'Call', osd_id: str) -> Any:
        command = _object(call.json()).get('command')
        osd = self._osd(osd_id)
        if not osd.get('up') or command not in views.OSD_COMMANDS:
            raise bad(f'Command "{command}" not available')
        return self.submit(call, [[{'prefix': f'osd {command}', 'who': str(int(osd_id))}]])

    def perf(self, call: 'Call') -> Any:
        daemon = call.arg('daemon')
        try:
            pattern = re.compile(daemon) if daemon is not None else None
        except re.error as e:
            raise bad(f'daemon is not a valid regular expression: {e}')
        counters = all_perf_counters(self.services.mgr)
        if pattern is not None:
            counters = {k: v for k, v in counters.items() if pattern.match(k)}
        return paginate(counters, call.arg('page'))

    def pools(self, call: 'Call') -> Any:
        return [views.pool(p) for p in self.cluster.source('osd_map').get('pools', [])]

    @staticmethod
    def _pool_args(args: Dict[str, Any]) -> None:
        invalid = [name for name in args if name not in views.POOL_ARGS]
        if invalid:
            raise bad(f'Invalid arguments found: "{invalid}"')

    def pool_create(self, call: 'Call') -> Any:
        args = dict(_object(call.json()))
        name = args.pop('name', None)
        if name is None:
            raise bad('You need to specify the pool "name" argument')
        pg_num = args.pop('pg_num', None)
        if pg_num is None:
            raise bad('You need to specify the "pg_num" argument')
        if not isinstance(name, str) or not name:
            raise bad('The pool "name" must be a non-empty string')
        if isinstance(pg_num, bool) or not isinstance(pg_num, int) or pg_num < 1:
            raise bad('"pg_num" must be a positive integer')
        self._pool_args(args)
        create = {'prefix': 'osd pool create', 'pool': name, 'pg_num': pg_num}
        return self.submit(call, [[create]] + views.pool_update_waves(name, args))

    def _pool(self, pool_id: str) -> Dict[str, Any]:
        pool = views.find_pool(self.cluster.source('osd_map'), int(pool_id))
        if pool is None:
            raise RestfulError(404, f'Failed to identify the pool id "{pool_id}"')
        return pool

    def pool(self, call: 'Call', pool_id: str) -> Any:
        return views.pool(self._pool(pool_id))

    def pool_patch(self, call: 'Call', pool_id: str) -> Any:
        args = _object(call.json())
        pool = self._pool(pool_id)
        self._pool_args(args)
        return self.submit(call, views.pool_update_waves(pool['pool_name'], args))

    def pool_delete(self, call: 'Call', pool_id: str) -> Any:
        name = self._pool(pool_id)['pool_name']
        return self.submit(call, [[{'prefix': 'osd pool delete', 'pool': name, 'pool2': name,
                                    'yes_i_really_really_mean_it': True}]])

    def requests(self, call: 'Call') -> Any:
        return self.requests_list(call)

    def request_submit(self, call: 'Call') -> Any:
        body = call.json()
        if isinstance(body, list):
            if not all(isinstance(wave, list) for wave in body):
                raise bad(BATCH_FORMAT)
            return self.submit(call, [[_command(c) for c in wave] for wave in body])
        return self.submit(call, [[_command(body)]])

    def requests_clean(self, call: 'Call') -> Any:
        return self.objects.clean()

    def _request(self, request_id: str) -> RestfulRequest:
        request = self.objects.get(request_id)
        if request is None:
            raise RestfulError(404, f'Unknown request id "{request_id}"')
        return request

    def request(self, call: 'Call', request_id: str) -> Any:
        return self._request(request_id).to_json()

    def request_delete(self, call: 'Call', request_id: str) -> Any:
        request = self.objects.pop(request_id)
        if request is None:
            raise RestfulError(404, 'No such request id')
        return request.to_json()

    def servers(self, call: 'Call') -> Any:
        return self.cluster.source('servers')

    def server(self, call: 'Call', fqdn: str) -> Any:
        return self.services.mgr.get_server(fqdn)
