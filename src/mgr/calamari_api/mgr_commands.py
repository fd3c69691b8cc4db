"""Read commands the mgr itself serves (``pg dump``, ``df``, ``osd perf``, ...), answered as the CLI prints them.

Stub: the real module comes from the restful-clients branch (issue 24); the merge takes theirs."""
from typing import Any, Dict, Optional, Tuple


def answer(services: Any, command: Dict[str, Any]) -> Optional[Tuple[int, str, str]]:
    """(r, outb, outs) the CLI would get for ``command`` when the mgr serves it; None: send it to the mon."""
    return None
