"""restful's route table: every URL x method of restful's API and the controller action behind it.  Patterns are
paths from the listener's root; ``{name}`` placeholders match PARAMS.  Nothing else decides which URLs exist, and
none of them is in the Calamari API's route table or OpenAPI document."""
import re
from typing import Dict, List, NamedTuple, Pattern

PARAMS: Dict[str, str] = {
    'key': r'[^/]+',
    'name': r'[^/]+',
    'osd_id': r'\d+',
    'pool_id': r'\d+',
    'request_id': r'[^/]+',
    'fqdn': r'[^/]+',
}


class Route(NamedTuple):
    method: str
    pattern: str
    action: str                 # a method of controllers.Controllers
    public: bool = False        # no key needed (restful's / and /doc)

    @property
    def regex(self) -> Pattern[str]:
        path = re.escape(self.pattern.rstrip('/'))
        for name, regex in PARAMS.items():
            path = path.replace(re.escape('{%s}' % name), f'(?P<{name}>{regex})')
        return re.compile(f'^{path}/?$')

    @property
    def doc_path(self) -> str:
        """The path as restful's /doc wrote it (``/osd/<arg>``)."""
        return re.sub(r'{\w+}', '<arg>', self.pattern)


ROUTES: List[Route] = [
    Route('GET', '/', 'root', public=True),
    Route('GET', '/doc', 'doc', public=True),
    Route('GET', '/config/cluster', 'config_cluster'),
    Route('GET', '/config/cluster/{key}', 'config_cluster_key'),
    Route('GET', '/config/osd', 'config_osd'),
    Route('PATCH', '/config/osd', 'config_osd_patch'),
    Route('GET', '/crush/rule', 'crush_rules'),
    Route('GET', '/mon', 'mons'),
    Route('GET', '/mon/{name}', 'mon'),
    Route('GET', '/osd', 'osds'),
    Route('GET', '/osd/{osd_id}', 'osd'),
    Route('PATCH', '/osd/{osd_id}', 'osd_patch'),
    Route('GET', '/osd/{osd_id}/command', 'osd_commands'),
    Route('POST', '/osd/{osd_id}/command', 'osd_command'),
    Route('GET', '/perf', 'perf'),
    Route('GET', '/pool', 'pools'),
    Route('POST', '/pool', 'pool_create'),
    Route('GET', '/pool/{pool_id}', 'pool'),
    Route('PATCH', '/pool/{pool_id}', 'pool_patch'),
    Route('DELETE', '/pool/{pool_id}', 'pool_delete'),
    Route('GET', '/request', 'requests'),
    Route('POST', '/request', 'request_submit'),
    Route('DELETE', '/request', 'requests_clean'),
    Route('GET', '/request/{request_id}', 'request'),
    Route('DELETE', '/request/{request_id}', 'request_delete'),
    Route('GET', '/server', 'servers'),
    Route('GET', '/server/{fqdn}', 'server'),
]
