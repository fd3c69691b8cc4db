"""The floor inside ceph-mgr: bare cheroot in the mgr's own Python and process, with calamari_api's thread count
and server settings (``floor.BenchFloor``); ``GET /<n>`` answers n bytes.  Option ``port`` (0: off).  Also the
command ``calamari-bench option-cost`` (``option_cost.report``, run by bench/option-cost)."""
import logging
import threading
from typing import Any, Dict, List, Optional, Tuple

from mgr_module import MgrModule, Option

from calamari_api.web.server import ServerConfigError

from .floor import BenchFloor
from .option_cost import report

log = logging.getLogger(__name__)
RETRY_SECONDS = 3.0


class Module(MgrModule):
    NOTIFY_TYPES: List[Any] = []       # none (without the member Pacific's mgr logs an error at every start)
    MODULE_OPTIONS = [
        Option(name='port', type='int', default=0, min=0, max=65535, desc='serve the floor on this port (0: off)'),
        Option(name='addr', type='str', default='::', desc='address to listen on'),
    ]

    COMMANDS = [{'cmd': 'calamari-bench option-cost name=threads,type=CephInt,range=1|64,req=false '
                        'name=count,type=CephInt,range=1|1000000,req=false',
                 'desc': 'time reading a calamari_api option from threads at once (bench/option-cost)', 'perm': 'r'}]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop = threading.Event()
        self._restart = threading.Event()

    def _threads(self) -> int:
        """calamari_api's server_threads, so the floor runs with the thread count of the server it is the floor of."""
        value = self.get_module_option_ex('calamari_api', 'server_threads', 4)
        return int(value or 4)

    def serve(self) -> None:
        while not self._stop.is_set():
            floor = self._start()
            failed = floor is None and bool(self.get_module_option('port'))        # e.g. the port is taken: retry
            self._restart.wait(RETRY_SECONDS if failed else None)
            self._restart.clear()
            if floor:
                floor.stop()

    def _start(self) -> Optional[BenchFloor]:
        port = int(self.get_module_option('port') or 0)
        if not port:
            return None
        floor = BenchFloor(str(self.get_module_option('addr')), port, self._threads())
        try:
            floor.start()
        except ServerConfigError as e:
            log.error('%s', e)
            return None
        return floor

    def handle_command(self, inbuf: str, cmd: Dict[str, Any]) -> Tuple[int, str, str]:
        if cmd.get('prefix') != 'calamari-bench option-cost':
            return -22, '', f"unknown command {cmd.get('prefix')!r}"
        return 0, report(self, int(cmd.get('threads') or 1), int(cmd.get('count') or 20000)), ''

    def config_notify(self) -> None:
        self._restart.set()

    def shutdown(self) -> None:
        self._stop.set()
        self._restart.set()
        super().shutdown()
