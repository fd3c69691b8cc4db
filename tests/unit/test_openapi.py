"""The OpenAPI document is generated from the route table and is valid OpenAPI 3."""
from openapi_spec_validator import validate

from calamari_api.web import routes
from calamari_api.openapi import RESPONSES, all_paths, build_document
from calamari_api.schemas import RESOURCES


def test_document_is_valid():
    validate(build_document())


def test_every_route_is_documented_and_nothing_else():
    document = build_document()
    documented = {(path, method) for path, item in document['paths'].items() for method in item}
    assert documented == set(all_paths())
    for route in routes.ROUTES:         # each row's own declaration names known statuses and bodies
        assert all(code in RESPONSES for code in route.errors.split()), route
        body = (route.body or '').replace('page[', '').strip('[]')
        assert body in ('', 'any', 'request_id') or body in RESOURCES, route


def test_served_without_login(anon):
    response = anon.get('/api/v2/openapi.json')
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert '/api/v2/cluster/{fsid}/osd/{osd_id}' in document['paths']
    assert document['paths']['/api/v2/info']['get']['security'] == []


def test_security_schemes_not_parameters():
    document = build_document()
    schemes = document['components']['securitySchemes']
    assert schemes['session'] == {'type': 'apiKey', 'in': 'cookie', 'name': 'calamari_sessionid',
                                  'description': schemes['session']['description']}
    assert (schemes['csrfCookie']['in'], schemes['xsrf']['in']) == ('cookie', 'header')
    for item in document['paths'].values():
        for operation in item.values():
            names = {p['name'] for p in operation.get('parameters', [])}
            assert not names & {'calamari_sessionid', 'XSRF-TOKEN', 'X-XSRF-TOKEN', 'Authorization'}


def test_status_codes_and_bodies():
    paths = build_document()['paths']
    c = '/api/v2/cluster/{fsid}'
    responses = paths[c + '/crush_node/{node_id}']['delete']['responses']
    assert {'202', '400', '401', '403', '404', '409', '429', '503'} <= set(responses)
    assert 'content' not in paths[c]['get']['responses']['404']                  # Calamari's empty 404
    assert 'content' not in paths['/api/v2/server/{fqdn}/log']['get']['responses']['503']
    assert '415' in paths[c + '/crush_map']['post']['responses']
    assert '304' in paths[c + '/osd/{osd_id}']['patch']['responses']
    assert '401' not in paths['/api/v2/info']['get']['responses']


def test_request_schemas_say_what_the_validators_accept():
    import jsonschema
    paths = build_document()['paths']
    pool = paths['/api/v2/cluster/{fsid}/pool']['post']['requestBody']['content']['application/json']['schema']
    assert pool['required'] == ['name', 'pg_num'] and pool['additionalProperties'] is False
    jsonschema.validate({'name': 'p', 'pg_num': 8, 'size': '2'}, pool)
    for bad in ({'name': 'p'}, {'name': 'p', 'pg_num': 0}, {'name': 'p', 'pg_num': 8, 'bogus': 1},
                {'name': 'p', 'pg_num': 8, 'type': 'erasure', 'size': 2}):
        assert not jsonschema.Draft202012Validator(pool).is_valid(bad), bad
    key = paths['/api/v2/key/{minion_id}']['patch']['requestBody']['content']['application/json']['schema']
    assert key['required'] == ['status'] and key['properties']['status']['enum'] == ['accepted', 'rejected']
    events = {p['name']: p for p in paths['/api/v2/event']['get']['parameters']}
    page_size = events['page_size']['schema']         # an integer in bounds, or empty (the default, as Calamari)
    for good in (1, 1000, ''):
        jsonschema.validate(good, page_size)
    for bad in (0, 1001, 'x', ' '):
        assert not jsonschema.Draft202012Validator(page_size).is_valid(bad), bad


def test_empty_paging_parameters_mean_the_defaults(client):
    """What the document says of ``page_size=`` and ``page=``: as if left out (schemathesis checks the other way)."""
    body = client.get('/api/v2/event?page_size=&page=').json()
    assert body == client.get('/api/v2/event').json()
    assert client.get('/api/v2/event?page_size=x').status_code == 400


def test_links_from_writes_to_their_requests():
    paths = build_document()['paths']
    links = paths['/api/v2/cluster/{fsid}/pool']['post']['responses']['202']['links']
    assert links['GetRequest'] == {'operationId': 'request.get:get',
                                   'parameters': {'request_id': '$response.body#/request_id'}}
    assert set(paths['/api/v2/user']['post']['responses']['201']['links']) == {
        'GetUser', 'UpdateUserPut', 'UpdateUserPatch', 'DeleteUser'}
