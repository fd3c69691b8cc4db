"""Test only: SIGKILL this mgr at a named point of the request engine ('accepted', 'stored', 'between_steps',
'before_send'), for the fault-injection test.  Imported only when the ``fault_kill_at`` module option is set
(``<mgr name>:<point>``; off by default), so a production mgr never loads it."""
import logging
import os
import signal

log = logging.getLogger(__name__)


def maybe_kill(setting: str, mgr_name: str, point: str) -> None:
    if setting == f'{mgr_name}:{point}':
        log.warning('fault_kill_at: SIGKILL at %s', point)
        os.kill(os.getpid(), signal.SIGKILL)
