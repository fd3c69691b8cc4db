"""The OpenAPI document is generated from the route table and is valid OpenAPI 3."""
from openapi_spec_validator import validate

from calamari_api import routes
from calamari_api.openapi import OPERATIONS, all_paths, build_document


def test_document_is_valid():
    validate(build_document())


def test_every_route_is_documented_and_nothing_else():
    document = build_document()
    documented = {(path, method) for path, item in document['paths'].items() for method in item}
    assert documented == set(all_paths())
    assert set(OPERATIONS) == {route.action for route in routes.ROUTES}


def test_served_without_login(anon):
    response = anon.get('/api/v2/openapi.json')
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert '/api/v2/cluster/{fsid}/osd/{osd_id}' in document['paths']
    assert document['paths']['/api/v2/info']['get']['security'] == []
