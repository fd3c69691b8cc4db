"""OSD PATCH, OSD flags and OSD commands on the real cluster, checked with the ceph CLI; state restored."""
import pytest

from tests.support.request_polling import finished


@pytest.fixture
def osd_url(fsid):
    return lambda osd_id: f'/api/v2/cluster/{fsid}/osd/{osd_id}'


def osd_dump_entry(cluster, osd_id):
    return next(o for o in cluster.ceph_json('osd', 'dump')['osds'] if o['osd'] == osd_id)


@pytest.fixture
def restore_osds(cluster):
    yield
    for osd in cluster.ceph_json('osd', 'dump')['osds']:
        if not osd['in']:
            cluster.ceph('osd', 'in', str(osd['osd']), check=False)
        if osd['weight'] != 1.0:
            cluster.ceph('osd', 'reweight', str(osd['osd']), '1.0', check=False)


@pytest.fixture
def restore_flags(cluster):
    yield
    flags = cluster.ceph_json('osd', 'dump')['flags'].split(',')
    for flag in ('noout', 'nodeep-scrub'):
        if flag in flags:
            cluster.ceph('osd', 'unset', flag, check=False)


def test_mark_out_and_in(client, cluster, osd_url, restore_osds):
    request = finished(client, client.patch(osd_url(2), {'in': False}))
    assert request['headline'] == 'Marking ceph-osd.2 out'
    assert osd_dump_entry(cluster, 2)['in'] == 0
    assert client.get(osd_url(2)).json()['in'] is False          # right after completion
    request = finished(client, client.patch(osd_url(2), {'in': True, 'reweight': 0.5}))
    assert request['headline'] == 'Modifying ceph-osd.2 (in=True, reweight=0.5)'
    entry = osd_dump_entry(cluster, 2)
    assert entry['in'] == 1 and entry['weight'] == pytest.approx(0.5, abs=1e-3)
    assert client.get(osd_url(2)).json()['reweight'] == pytest.approx(0.5, abs=1e-3)
    request = finished(client, client.patch(osd_url(2), {'reweight': 1.0}))
    assert request['headline'] == 'Re-weighting ceph-osd.2 to 100.0%'
    assert osd_dump_entry(cluster, 2)['weight'] == 1.0


@pytest.mark.parametrize('body', [{'in': True}, {'up': True}, {'reweight': 1.0}])
def test_no_op_patch_is_304(client, osd_url, body):
    response = client.patch(osd_url(0), body)
    assert response.status_code == 304 and response.content == b''


def test_bad_osd_patches(client, osd_url):
    assert client.patch(osd_url(0), {'reweight': 2}).status_code == 400
    assert client.patch(osd_url(0), {'uuid': 'x'}).json() == {'uuid': 'Not allowed during PATCH'}
    assert client.patch(osd_url(12345), {'in': False}).status_code == 404


def test_flags(client, cluster, fsid, restore_flags):
    url = f'/api/v2/cluster/{fsid}/osd_config'
    request = finished(client, client.patch(url, {'noout': True, 'nodeep-scrub': True}))
    assert request['headline'] == 'Modifying OSD config ceph (noout=True, nodeep-scrub=True)'
    flags = cluster.ceph_json('osd', 'dump')['flags'].split(',')
    assert 'noout' in flags and 'nodeep-scrub' in flags
    shown = client.get(url).json()
    assert shown['noout'] is True and shown['nodeep-scrub'] is True
    assert client.patch(url, {'noout': True}).status_code == 304
    assert client.patch(url, {'foo': True}).status_code == 403
    finished(client, client.patch(url, {'noout': False, 'nodeep-scrub': False}))
    assert 'noout' not in cluster.ceph_json('osd', 'dump')['flags'].split(',')
    assert client.get(url).json()['noout'] is False


def test_scrub_is_instructed(client, cluster, osd_url, wait):
    pgs = cluster.ceph_json('pg', 'dump', 'pgs')
    pgs = pgs['pg_stats'] if isinstance(pgs, dict) else pgs
    pg = next(p for p in pgs if p['acting_primary'] >= 0)
    osd_id = pg['acting_primary']
    before = pg['last_scrub_stamp']
    request = finished(client, client.post(f'{osd_url(osd_id)}/command/scrub'))
    assert request['headline'] == f'Initiating scrub on ceph-osd.{osd_id}'

    def scrubbed():
        current = cluster.ceph_json('pg', 'dump', 'pgs')
        current = current['pg_stats'] if isinstance(current, dict) else current
        return next(p for p in current if p['pgid'] == pg['pgid'])['last_scrub_stamp'] != before
    wait(scrubbed, 90, f"PG {pg['pgid']} to be scrubbed")


def test_invalid_osd_command_is_403(client, osd_url):
    response = client.post(f'{osd_url(0)}/command/frobnicate')
    assert (response.status_code, response.json()) == (403, 'frobnicate not valid on 0')
    assert client.post(f'{osd_url(12345)}/command/scrub').status_code == 403
