"""What reading a module option costs inside ceph-mgr, from several threads at once (``calamari-bench option-cost``):
``get_module_option`` lets go of the GIL and takes a lock of the mgr's, which is cheap from one thread and not from
four (the API's worker threads read options on every request).  For contrast, the same reads through calamari_api's
``OptionCache``."""
import threading
import time
from typing import Any, Callable, List

from calamari_api.option_cache import OptionCache

OPTION = 'session_idle_timeout'     # one a session check reads (calamari_api.auth.sessions)


def per_read(read: Callable[[], Any], threads: int, count: int) -> str:
    """``count`` reads from each of ``threads`` threads started together: wall and process CPU µs per read."""
    walls: List[float] = [0.0] * threads
    start = threading.Barrier(threads + 1)

    def loop(i: int) -> None:
        start.wait()
        began = time.perf_counter()
        for _ in range(count):
            read()
        walls[i] = time.perf_counter() - began

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    cpu = time.process_time()
    start.wait()
    for worker in workers:
        worker.join()
    cpu = time.process_time() - cpu
    return f'wall {max(walls) / count * 1e6:7.2f} us/read, process CPU {cpu / (count * threads) * 1e6:7.2f} us/read'


def report(mgr: Any, threads: int, count: int) -> str:
    direct = lambda: mgr.get_module_option_ex('calamari_api', OPTION)        # noqa: E731
    cached = OptionCache(lambda name: mgr.get_module_option_ex('calamari_api', name))
    return '\n'.join([
        f'{threads} thread(s) x {count} reads of calamari_api/{OPTION}:',
        f'  get_module_option: {per_read(direct, threads, count)}',
        f'  OptionCache:       {per_read(lambda: cached(OPTION), threads, count)}'])
