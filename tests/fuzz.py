"""Schema-driven fuzzing of every route: bad path ids, query strings and bodies (wrong JSON types, huge numbers,
unicode, empty, non-JSON, wrong content type), anonymous and logged in.  The only property checked: the API
never answers 5xx.  Used by tests/unit/test_fuzz.py (in-process) and tests/integration/test_zz_fuzz.py (real
cluster), and by `tools/fuzz` (prints tried/5xx counts)."""
import json
import random
import re
from collections import Counter
from urllib.parse import quote
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from calamari_api import routes as route_table
from calamari_api.schemas import RESOURCES

WEIRD_STRINGS = ['', ' ', 'x' * 300, '../../etc/passwd', '%00', '\u2603\u00e9\u4e2d', 'null', 'true', '-1', '0',
                 '1e308', '9' * 40, "'; DROP TABLE", '<script>', 'me', '..', '/']
WEIRD_VALUES: List[Any] = [None, True, False, 0, -1, 1, 2 ** 63, -2 ** 63, 10 ** 40, 1.5, float('1e308'), '',
                           'abc', '64', '\u2603', [], [1, 2], {}, {'a': 1}, ['x'] * 50]
QUERY_KEYS = ['page', 'page_size', 'state', 'severity', 'pool', 'id__in[]', 'lines', 'defaults', 'size', 'format',
              'target', 'from', 'until', 'query', 'jsonp']     # (the last five: graphite's)
# Writes that would change the shared real cluster for good are fuzzed with invalid bodies only.
DESTRUCTIVE = {'cluster.forget', 'server.forget', 'key.bulk_delete', 'key.delete', 'user.delete', 'pool.delete',
               'osd.update', 'osd_config.update', 'osd.apply_command', 'pool.update', 'pool.create',
               'key.update', 'key.bulk_update', 'user.update', 'debug_job.submit', 'cli.run', 'user.create',
               'request.cancel', 'auth.logout', 'crush.create_node', 'crush.update_node', 'crush.delete_node',
               'crush.create_rule', 'crush.update_rule', 'crush.delete_rule', 'crush.replace_map'}
# Calamari answers 503 by design here: another host's log files cannot be read without Salt.
ALLOWED_503 = {'log.server_files', 'log.server_tail'}
BODY_RESOURCE = {'pool.create': 'pool', 'pool.update': 'pool', 'osd.update': 'osd', 'osd_config.update': 'osd_config',
                 'user.create': 'user', 'user.update': 'user', 'key.update': 'key', 'cli.run': 'cli_command',
                 'debug_job.submit': 'debug_job', 'auth.login': 'login', 'crush.create_node': 'crush_node',
                 'crush.update_node': 'crush_node', 'crush.create_rule': 'crush_rule',
                 'crush.update_rule': 'crush_rule'}


class Fuzzer:
    def __init__(self, fsid: str, ids: Dict[str, Sequence[str]], seed: int = 0, safe_writes: bool = False) -> None:
        self.rng = random.Random(seed)
        self.fsid = fsid
        self.ids = ids              # plausible values per path parameter, e.g. {'osd_id': ['0', '1']}
        self.safe_writes = safe_writes

    def path_value(self, name: str) -> str:
        r = self.rng.random()
        if name == 'fsid':
            return self.fsid if r < 0.85 else self.rng.choice(['nope', self.fsid[:-1] + 'x', '0' * 36])
        if r < 0.6 and self.ids.get(name):
            return self.rng.choice(list(self.ids[name]))
        candidates = [s for s in WEIRD_STRINGS + [str(self.rng.randint(-5, 10 ** 6)), '99999999999999999999']
                      if re.fullmatch(f'(?:{route_table.PARAMS[name]})', s)]
        return self.rng.choice(candidates) if candidates else '0'

    def query(self) -> str:
        parts = []
        for _ in range(self.rng.choice([0, 0, 1, 2, 3])):
            key = self.rng.choice(QUERY_KEYS)
            value = self.rng.choice(WEIRD_STRINGS + ['1', '2', '10', 'INFO', 'WARNING', 'complete', 'submitted'])
            parts.append(f'{quote(key, safe="[]")}={quote(value)}')
        return '&'.join(parts)

    def body(self, action: str) -> Tuple[Optional[bytes], Dict[str, str]]:
        headers = {'Content-Type': 'application/json'}
        r = self.rng.random()
        if r < 0.1:
            return None, {}
        if r < 0.2:
            return self.rng.choice([b'{not json', b'\xff\xfe', b'[1,2', b'"str"', b'null', b'12']), headers
        if r < 0.27:
            return b'a=1&b=2', {'Content-Type': self.rng.choice(['application/x-www-form-urlencoded', 'text/plain',
                                                                 'application/xml'])}
        resource = BODY_RESOURCE.get(action)
        fields = [f.name for f in RESOURCES.get(resource, ())] + ['bogus', 'id']
        if action.startswith('key.bulk'):
            doc: Any = [{'id': self.rng.choice(WEIRD_STRINGS), 'status': self.rng.choice(WEIRD_VALUES)}
                        for _ in range(self.rng.randint(0, 3))]
        else:
            doc = {name: self.rng.choice(WEIRD_VALUES) for name in self.rng.sample(fields, min(len(fields), 3))}
            if self.safe_writes and action in DESTRUCTIVE:
                doc['id'] = {'nested': 'invalid'}     # an extra field no write accepts
                doc['bogus'] = [None]
        return json.dumps(doc).encode(), headers

    def requests(self, count: int) -> List[Tuple[str, str, Optional[bytes], Dict[str, str], route_table.Route]]:
        out = []
        for _ in range(count):
            route = self.rng.choice(route_table.ROUTES)
            version = self.rng.choice(route.versions)
            path = route.pattern.rstrip('*')
            for name in route.param_names:
                path = path.replace('{%s}' % name, quote(self.path_value(name), safe='/'), 1)
            if route.pattern.endswith('*') and self.rng.random() < 0.3:
                path += self.rng.choice(['/', 'xyz', '/a/b'])
            url = (f'/api/{version}/{path}' if version else f'/{path}').replace(' ', '%20')    # '': outside /api
            query = self.query()
            if query:
                url += '?' + query
            method = route.method
            if self.rng.random() < 0.05:
                method = self.rng.choice(['PUT', 'DELETE', 'PATCH', 'POST', 'OPTIONS', 'HEAD'])
            body, headers = (None, {}) if method in ('GET', 'HEAD', 'OPTIONS') else self.body(route.action)
            out.append((method, url, body, headers, route))
        return out


def run_fuzz(clients: Dict[str, Any], fsid: str, ids: Dict[str, Sequence[str]], count: int, seed: int = 0,
             safe_writes: bool = False, skip: Callable[[route_table.Route, str], bool] = lambda r, m: False
             ) -> Tuple[int, Counter, List[str]]:
    """Send ``count`` fuzzed requests through the given clients ({'anon': c, 'superuser': c, ...}).
    Returns (tried, status counts, descriptions of 5xx answers)."""
    fuzzer = Fuzzer(fsid, ids, seed, safe_writes)
    names = sorted(clients)
    statuses: Counter = Counter()
    failures: List[str] = []
    tried = 0
    for method, url, body, headers, route in fuzzer.requests(count):
        if skip(route, method):
            continue
        who = fuzzer.rng.choice(names)
        if route.action.startswith('auth.') and 'anon' in clients:
            who = 'anon'            # a logged-in client that logs out would spend the rest of the run as anon
        csrf = fuzzer.rng.random() < 0.8
        try:
            response = clients[who].request(method, url, raw=body, headers=headers, csrf=csrf)
        except OSError as e:           # a hung or dropped connection is a failure too: say which request
            tried += 1
            failures.append(f'{who} {method} {url} {body!r:.200} -> {type(e).__name__}: {e}')
            continue
        tried += 1
        statuses[response.status_code] += 1
        if response.status_code >= 500 and not (response.status_code == 503 and route.action in ALLOWED_503):
            failures.append(f'{who} {method} {url} {body!r:.200} -> {response.status_code} {response.content!r:.300}')
    return tried, statuses, failures
