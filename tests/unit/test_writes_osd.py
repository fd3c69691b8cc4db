"""OSD PATCH, OSD commands and OSD flags (osd_config PATCH) over the fake mgr."""
import pytest
from tests.unit.drained_requests import drained, sent  # noqa: F401


@pytest.fixture
def osd_url(fsid):
    return lambda osd_id: f'/api/v2/cluster/{fsid}/osd/{osd_id}'


@pytest.fixture
def flags_url(fsid):
    return f'/api/v2/cluster/{fsid}/osd_config'


def headline(client, response):
    return client.get(f"/api/v2/request/{response.json()['request_id']}").json()['headline']


def test_mark_out(client, module, osd_url):
    response = client.patch(osd_url(0), {'in': False})
    assert response.status_code == 202
    assert sent(module) == [{'prefix': 'osd out', 'ids': ['0']}]
    assert headline(client, response) == 'Marking ceph-osd.0 out'


def test_mark_down(client, module, osd_url):
    response = client.patch(osd_url(1), {'up': False})
    assert sent(module) == [{'prefix': 'osd down', 'ids': ['1']}]
    assert headline(client, response) == 'Marking ceph-osd.1 down'


def test_reweight(client, module, osd_url):
    response = client.patch(osd_url(2), {'reweight': 0.5})
    assert sent(module) == [{'prefix': 'osd reweight', 'id': 2, 'weight': 0.5}]
    assert headline(client, response) == 'Re-weighting ceph-osd.2 to 50.0%'


def test_several_fields(client, module, osd_url):
    response = client.patch(osd_url(0), {'in': False, 'reweight': 0.5})
    assert [c['prefix'] for c in sent(module)] == ['osd out', 'osd reweight']
    assert headline(client, response) == 'Modifying ceph-osd.0 (in=False, reweight=0.5)'


def test_mark_in_an_out_osd(client, module, osd_url):
    module.maps['osd_map']['osds'][0].update({'in': 0, 'weight': 0.0})
    response = client.patch(osd_url(0), {'in': True})
    assert sent(module) == [{'prefix': 'osd in', 'ids': ['0']}]
    assert headline(client, response) == 'Marking ceph-osd.0 in'


@pytest.mark.parametrize('body', [{'in': True}, {'up': True}, {'reweight': 1.0}, {}])
def test_no_op_is_304_with_an_empty_body(client, module, osd_url, body):
    response = client.patch(osd_url(0), body)
    assert response.status_code == 304
    assert response.content == b''
    assert sent(module) == []


def test_up_true_on_a_down_osd_is_400(client, module, osd_url):
    module.maps['osd_map']['osds'][1]['up'] = 0
    response = client.patch(osd_url(1), {'up': True})
    assert response.status_code == 400
    assert 'cannot be marked up' in response.json()['up'][0]


@pytest.mark.parametrize('body,field', [({'reweight': 1.5}, 'reweight'), ({'reweight': -0.1}, 'reweight'),
                                        ({'reweight': 'heavy'}, 'reweight'), ({'reweight': 'nan'}, 'reweight'),
                                        ({'in': 'maybe'}, 'in'),
                                        ({'uuid': 'x'}, 'uuid')])
def test_bad_osd_patch_is_400(client, osd_url, body, field):
    response = client.patch(osd_url(0), body)
    assert response.status_code == 400
    assert field in response.json()


def test_not_allowed_field_message(client, osd_url):
    assert client.patch(osd_url(0), {'id': 0}).json() == {'id': 'Not allowed during PATCH'}


def test_unknown_osd_patch_is_404(client, osd_url):
    response = client.patch(osd_url(12345), {'in': False})
    assert response.status_code == 404
    assert response.json() == 'Object of type osd with id 12345 not found'


@pytest.mark.parametrize('command,prefix,verb', [('scrub', 'osd scrub', 'scrub'),
                                                 ('deep_scrub', 'osd deep-scrub', 'deep-scrub'),
                                                 ('repair', 'osd repair', 'repair')])
def test_osd_commands(client, module, osd_url, services, command, prefix, verb):
    response = client.post(f'{osd_url(1)}/command/{command}')
    assert response.status_code == 202
    assert sent(module) == [{'prefix': prefix, 'who': '1'}]
    request = client.get(f"/api/v2/request/{response.json()['request_id']}").json()
    assert request['headline'] == f'Initiating {verb} on ceph-osd.1'
    assert request['status'] == 'Completed successfully'
    assert [r['id'] for r in services.requests.list(fsid=module.maps['mon_map']['fsid'])] == []


def test_osd_command_on_a_down_or_unknown_osd_is_403(client, module, osd_url):
    module.maps['osd_map']['osds'][2]['up'] = 0
    module.notify('osd_map', '')        # (the maps may be cached already: the module's threads read them at start)
    for url, command, osd_id in [(osd_url(2), 'scrub', 2), (osd_url(12345), 'scrub', 12345),
                                 (osd_url(0), 'frobnicate', 0)]:
        response = client.post(f'{url}/command/{command}')
        assert response.status_code == 403
        assert response.json() == f'{command} not valid on {osd_id}'
    assert sent(module) == []


def test_set_and_unset_flags(client, module, flags_url):
    module.maps['osd_map']['flags'] += ',noscrub'
    response = client.patch(flags_url, {'noout': True, 'noscrub': False, 'noin': False})
    assert response.status_code == 202
    assert sent(module) == [{'prefix': 'osd set', 'key': 'noout'}, {'prefix': 'osd unset', 'key': 'noscrub'}]
    assert headline(client, response) == 'Modifying OSD config ceph (noout=True, noscrub=False, noin=False)'


def test_pause_is_both_pauserd_and_pausewr(client, module, flags_url):
    module.maps['osd_map']['flags'] += ',pauserd,pausewr'
    assert client.patch(flags_url, {'pause': True}).status_code == 304
    client.patch(flags_url, {'pause': False, 'nodeep-scrub': True})
    assert sent(module) == [{'prefix': 'osd unset', 'key': 'pause'}, {'prefix': 'osd set', 'key': 'nodeep-scrub'}]


def test_flags_no_op_is_304(client, module, flags_url):
    response = client.patch(flags_url, {'noout': False})
    assert response.status_code == 304 and response.content == b''
    assert client.patch(flags_url, {}).status_code == 304


def test_unknown_flag_is_403(client, flags_url):
    response = client.patch(flags_url, {'foo': True, 'noout': True})
    assert response.status_code == 403
    assert response.json() == {'foo': 'Not allowed during PATCH'}


def test_non_boolean_flag_is_400(client, flags_url):
    response = client.patch(flags_url, {'noout': 'sometimes'})
    assert response.status_code == 400
    assert list(response.json()) == ['noout']
