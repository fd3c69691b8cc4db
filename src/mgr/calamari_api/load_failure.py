"""What ceph-mgr loads when the module itself cannot be imported (a missing package, a release difference not yet
handled): a Module that says why, so ``ceph mgr module ls``/``enable`` give the reason and the mgr log the
traceback, instead of ceph-mgr's bare "Class not found in module 'calamari_api'"."""
from typing import Any, Tuple

from mgr_module import MgrModule

from .compat import CLICommand


def failed_module(trace: str) -> type:
    reason = trace.strip().splitlines()[-1] if trace.strip() else 'unknown error'

    class Module(MgrModule):
        CLICommand = CLICommand     # (Tentacle) every MgrModule names a CLI registry, empty here

        @staticmethod
        def can_run() -> Tuple[bool, str]:
            return False, f'calamari_api failed to load: {reason} (the mgr log has the traceback)'

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.log.error('calamari_api failed to load:\n%s', trace)

    return Module
