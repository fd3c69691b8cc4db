"""OptionCache: module options kept between the mgr's change notifications (ceph-mgr's get_module_option takes a
lock of the mgr's and lets go of the GIL: costly from several worker threads at once, bench/option-cost)."""
from calamari_api.option_cache import OptionCache


class Reads:
    def __init__(self, values):
        self.values = values
        self.names = []

    def __call__(self, name):
        self.names.append(name)
        return self.values.get(name)


def test_a_value_is_read_once_until_forgotten():
    reads = Reads({'session_idle_timeout': 3600})
    cache = OptionCache(reads, clock=lambda: 0.0)
    assert [cache('session_idle_timeout') for _ in range(5)] == [3600] * 5
    assert reads.names == ['session_idle_timeout']
    reads.values['session_idle_timeout'] = 60
    cache.forget()
    assert cache('session_idle_timeout') == 60
    assert reads.names == ['session_idle_timeout'] * 2


def test_a_value_older_than_max_age_is_read_again():
    now = [100.0]
    reads = Reads({'x': 1})
    cache = OptionCache(reads, clock=lambda: now[0], max_age=1.0)
    cache('x')
    now[0] += 0.9
    cache('x')
    assert len(reads.names) == 1
    reads.values['x'] = 2
    now[0] += 0.2
    assert cache('x') == 2
    assert len(reads.names) == 2


def test_none_is_kept_too():
    reads = Reads({})
    cache = OptionCache(reads, clock=lambda: 0.0)
    assert cache('unset') is None and cache('unset') is None
    assert reads.names == ['unset']


def test_a_read_under_way_when_forgotten_does_not_keep_the_old_value():
    values = {'x': 'old'}
    cache = None

    def read(name):
        value = values[name]
        values[name] = 'new'
        cache.forget()              # the notification arrives while the old value is on its way back
        return value

    cache = OptionCache(read, clock=lambda: 0.0)
    assert cache('x') == 'old'
    assert cache('x') == 'new'      # not the old value kept past the notification


def test_the_module_reads_an_option_once_for_many_requests_and_again_after_a_change(module, services, make_client):
    client = make_client('readonly')
    fsid = module.maps['mon_map']['fsid']
    reads = []
    read = module._ceph_get_module_option

    def counting(mod, key, prefix=''):
        reads.append(key)
        return read(mod, key, prefix)

    module._ceph_get_module_option = counting
    for _ in range(20):
        assert client.get(f'/api/v2/cluster/{fsid}/osd').status_code == 200
    assert reads.count('session_idle_timeout') <= 1
    module.options['session_idle_timeout'] = 1          # (the fake notifies as ceph-mgr does: config_notify)
    assert module.services.auth.session_idle_timeout() == 1.0
