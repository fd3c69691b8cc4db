"""Real responses of every GET endpoint match the OpenAPI document's schemas (generated from routes.py and
schemas.py), so the document cannot drift from what the module serves."""
from typing import Any, Dict

import jsonschema
import pytest

from calamari_api.openapi import build_document


def inline(schema: Any, components: Dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        if '$ref' in schema:
            return inline(components[schema['$ref'].split('/')[-1]], components)
        return {k: inline(v, components) for k, v in schema.items()}
    if isinstance(schema, list):
        return [inline(v, components) for v in schema]
    return schema


@pytest.fixture(scope='module')
def document():
    return build_document()


def urls(client, fsid):
    fqdn = client.get('/api/v2/server').json()[0]['fqdn']
    pool_id = client.get(f'/api/v2/cluster/{fsid}/pool').json()[0]['id']
    mon = client.get(f'/api/v2/cluster/{fsid}/mon').json()[0]['name']
    c = f'/api/v2/cluster/{fsid}'
    return {
        '/api/v2/cluster': '/api/v2/cluster', '/api/v2/cluster/{fsid}': c, '/api/v2/info': '/api/v2/info',
        '/api/v2/user': '/api/v2/user', '/api/v2/user/{user_id}': '/api/v2/user/me',
        '/api/v2/request': '/api/v2/request', '/api/v2/cluster/{fsid}/request': f'{c}/request',
        '/api/v2/cluster/{fsid}/crush_rule': f'{c}/crush_rule', '/api/v2/cluster/{fsid}/crush_rule/{rule_id}':
        f'{c}/crush_rule/0', '/api/v2/cluster/{fsid}/crush_node': f'{c}/crush_node',
        '/api/v2/cluster/{fsid}/crush_node/{node_id}': f'{c}/crush_node/-1',
        '/api/v2/cluster/{fsid}/crush_type': f'{c}/crush_type', '/api/v2/cluster/{fsid}/crush_type/{type_id}':
        f'{c}/crush_type/0', '/api/v2/cluster/{fsid}/pool/{pool_id}': f'{c}/pool/{pool_id}',
        '/api/v2/cluster/{fsid}/osd': f'{c}/osd', '/api/v2/cluster/{fsid}/osd/{osd_id}': f'{c}/osd/0',
        '/api/v2/cluster/{fsid}/osd_config': f'{c}/osd_config', '/api/v2/cluster/{fsid}/mon': f'{c}/mon',
        '/api/v2/cluster/{fsid}/mon/{mon_id}': f'{c}/mon/{mon}', '/api/v2/server': '/api/v2/server',
        '/api/v2/server/{fqdn}': f'/api/v2/server/{fqdn}', '/api/v2/cluster/{fsid}/server': f'{c}/server',
        '/api/v2/cluster/{fsid}/server/{fqdn}': f'{c}/server/{fqdn}', '/api/v2/cluster/{fsid}/config':
        f'{c}/config', '/api/v2/cluster/{fsid}/config/{key}': f'{c}/config/osd_pool_default_size',
        '/api/v2/key': '/api/v2/key', '/api/v2/key/{minion_id}': f'/api/v2/key/{fqdn}',
        '/api/v2/event': '/api/v2/event', '/api/v2/cluster/{fsid}/event': f'{c}/event',
        '/api/v2/server/{fqdn}/event': f'/api/v2/server/{fqdn}/event', '/api/v2/cluster/{fsid}/log': f'{c}/log',
        '/api/v2/cluster/{fsid}/pool/stats': f'{c}/pool/stats',
        '/api/v2/cluster/{fsid}/pool/{pool_id}/stats': f'{c}/pool/{pool_id}/stats',
        '/api/v2/cluster/{fsid}/stats': f'{c}/stats',
    }


def test_every_typed_get_matches_its_schema(client, fsid, document):
    components = document['components']['schemas']
    checked = 0
    for template, url in urls(client, fsid).items():
        operation = document['paths'][template]['get']
        schema = operation['responses']['200']['content']['application/json']['schema']
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        try:
            jsonschema.validate(response.json(), inline(schema, components))
        except jsonschema.ValidationError as e:
            raise AssertionError(f'{url}: {e.message} at {list(e.absolute_path)}')
        checked += 1
    assert checked >= 30
