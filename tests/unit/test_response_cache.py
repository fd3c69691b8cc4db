"""Cached GET responses: ETag, 304, gzip, and never stale after a map change."""
import gzip


def test_etag_and_not_modified(client):
    first = client.get('/api/v2/cluster')
    etag = first.headers['ETag']
    assert client.get('/api/v2/cluster').headers['ETag'] == etag
    again = client.get('/api/v2/cluster', headers={'If-None-Match': etag})
    assert again.status_code == 304 and again.content == b''


def test_new_map_is_never_served_stale(client, module, services):
    before = client.get('/api/v2/cluster').json()[0]
    module.maps['config']['cluster'] = 'renamed'
    services.cluster.invalidate_all()
    after = client.get('/api/v2/cluster').json()[0]
    assert before['name'] == 'ceph' and after['name'] == 'renamed'


def test_gzip_when_accepted_and_large(client, app):
    from calamari_api.web.response_cache import Rendered
    rendered = Rendered(list(range(2000)))
    assert gzip.decompress(rendered.gzipped) == rendered.body
    small = client.get('/api/v2/cluster', headers={'Accept-Encoding': 'gzip'})
    assert 'Content-Encoding' not in small.headers      # below the threshold


def test_concurrent_misses_build_once():
    import threading
    import time as _time

    from calamari_api.web.response_cache import ResponseCache
    builds = []

    def build():
        builds.append(1)
        _time.sleep(0.05)
        return {'n': len(builds)}

    cache = ResponseCache(lambda deps: (1,), {})
    threads = [threading.Thread(target=cache.get, args=('k', ('osd_map',), build)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1
    assert cache.get('k', ('osd_map',), build).body == b'{"n": 1}'
