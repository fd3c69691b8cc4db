"""Every route of the seed's endpoint table (API-REFERENCE.md §3) is in routes.py, with the same methods.
The CRUSH routes (crush_map, crush_rule/<id>, crush_node, crush_type) and the stats routes are listed too: DESIGN.md
calls them Calamari master's extras; routes.py serves all of them."""
from calamari_api.web.routes import ROUTES

C = 'cluster/{fsid}'
SEED = [
    ('auth/login', 'GET POST'), ('auth/logout', 'GET POST'), ('info', 'GET'), ('grains', 'GET'),
    ('user', 'GET POST'), ('user/{user_id}', 'GET PUT PATCH DELETE'),
    ('cluster', 'GET'), (C, 'GET DELETE'),
    ('request', 'GET'), ('request/{request_id}', 'GET'), ('request/{request_id}/cancel', 'POST'),
    (C + '/request', 'GET'), (C + '/request/{request_id}', 'GET'),
    (C + '/crush_map', 'GET POST'), (C + '/crush_rule_set', 'GET'), (C + '/crush_rule', 'GET POST'),
    (C + '/crush_rule/{rule_id}', 'GET PATCH DELETE'), (C + '/crush_node', 'GET POST'),
    (C + '/crush_node/{node_id}', 'GET PATCH DELETE'), (C + '/crush_type', 'GET'), (C + '/crush_type/{type_id}', 'GET'),
    (C + '/pool/stats', 'GET'), (C + '/pool/{pool_id}/stats', 'GET'), (C + '/stats', 'GET'),
    (C + '/pool', 'GET POST'), (C + '/pool/{pool_id}', 'GET PATCH DELETE'),
    (C + '/osd', 'GET'), (C + '/osd/{osd_id}', 'GET PATCH'), (C + '/osd/command', 'GET'), (C + '/osd /command', 'GET'),
    (C + '/osd/{osd_id}/command', 'GET'), (C + '/osd/{osd_id}/command/{command}', 'GET POST'),
    (C + '/osd_config', 'GET PATCH'),
    (C + '/mon', 'GET'), (C + '/mon/{mon_id}', 'GET'), (C + '/mon/{mon_id}/status', 'GET'),
    (C + '/sync_object', 'GET'), (C + '/sync_object/{sync_type}', 'GET'),
    ('server/{fqdn}/debug_job', 'POST'),
    ('key', 'GET PATCH DELETE'), ('key/{minion_id}', 'GET PATCH DELETE'),
    ('server', 'GET'), ('server/{fqdn}', 'GET DELETE'), ('server/{fqdn}/grains', 'GET'),
    (C + '/server', 'GET'), (C + '/server/{fqdn}', 'GET'),
    (C + '/config', 'GET'), (C + '/config/{key}', 'GET'),
    ('event', 'GET'), (C + '/event', 'GET'), ('server/{fqdn}/event', 'GET'),
    (C + '/log', 'GET'), ('server/{fqdn}/log', 'GET'), ('server/{fqdn}/log/{log_path}', 'GET'),
    (C + '/cli', 'POST'), ('', 'GET'),
]
UNANCHORED = {'auth/login', 'auth/logout', 'info', 'grains', 'key/{minion_id}', 'server/{fqdn}/debug_job'}


def test_every_seed_route_is_in_the_route_table():
    table = {}
    for route in ROUTES:
        if 'v2' in route.versions:
            table.setdefault(route.pattern, set()).add(route.method)
    for pattern, methods in SEED:
        key = pattern + '*' if pattern in UNANCHORED else pattern
        assert key in table, f'missing route {key}'
        assert set(methods.split()) <= table[key], (key, methods, table[key])


def test_calamari_ui_logs_in_and_out_through_v1():
    v1 = {(r.method, r.pattern) for r in ROUTES if 'v1' in r.versions}
    assert {('GET', 'auth/login*'), ('POST', 'auth/login*'), ('GET', 'auth/logout*')} <= v1
