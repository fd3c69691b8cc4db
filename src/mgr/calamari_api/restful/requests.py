"""restful's request objects: waves of commands (the commands of a wave one after the other, the waves in
order; a failed command does not stop the next wave, as in restful), their results, and the list of them.

Kept in memory only, as restful kept them (the writes among their commands are requests of the module's request
engine, which persists them).  ``wait`` runs a request in the caller's thread; otherwise a thread of its own
runs it (at most MAX_RUNNING at once).  Commands are run by ``commands.run``, nothing else."""
import threading
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

from .commands import humanify

Result = Tuple[int, str, str]
MAX_RUNNING = 64


class TooBusy(Exception):
    pass


class Entry:
    def __init__(self, command: Dict[str, Any]) -> None:
        self.command = command
        self.text = humanify(command)
        self.outb = ''
        self.outs = ''

    def to_json(self) -> Dict[str, Any]:
        return {'command': self.text, 'outb': self.outb, 'outs': self.outs}


class RestfulRequest:
    def __init__(self, waves: List[List[Dict[str, Any]]]) -> None:
        self.id = str(uuid.uuid4())
        self._lock = threading.Lock()
        self.waiting = [list(wave) for wave in waves if wave]
        self.running: List[Entry] = []
        self.finished: List[Entry] = []
        self.failed: List[Entry] = []

    def is_finished(self) -> bool:
        with self._lock:
            return not self.running and not self.waiting

    def run(self, execute: Callable[[Dict[str, Any]], Result]) -> None:
        while True:
            with self._lock:
                if not self.waiting:
                    return
                wave = [Entry(command) for command in self.waiting.pop(0)]
                self.running.extend(wave)
            for entry in wave:
                try:
                    r, outb, outs = execute(entry.command)
                except Exception as e:          # (logged by the caller's executor)
                    r, outb, outs = -1, '', f'Internal error {e}'
                with self._lock:
                    entry.outb = outb if isinstance(outb, str) else bytes(outb).decode('utf-8', 'replace')
                    entry.outs = outs if isinstance(outs, str) else bytes(outs).decode('utf-8', 'replace')
                    self.running.remove(entry)
                    (self.finished if r == 0 else self.failed).append(entry)

    def to_json(self) -> Dict[str, Any]:
        with self._lock:
            finished = not self.running and not self.waiting
            failed = bool(self.failed)
            return {
                'id': self.id,
                'running': [e.to_json() for e in self.running],
                'finished': [e.to_json() for e in self.finished],
                'waiting': [[humanify(c) for c in wave] for wave in self.waiting],
                'failed': [e.to_json() for e in self.failed],
                'is_waiting': bool(self.waiting),
                'is_finished': finished,
                'has_failed': failed,
                'state': 'pending' if not finished else 'failed' if failed else 'success',
            }


class RestfulRequests:
    """The requests restful clients made, oldest first; at most ``capacity()`` finished ones are kept."""

    def __init__(self, execute: Callable[[Dict[str, Any]], Result], capacity: Callable[[], int]) -> None:
        self._execute = execute
        self._capacity = capacity
        self._lock = threading.Lock()
        self._requests: List[RestfulRequest] = []
        self._running = 0

    def submit(self, waves: List[List[Dict[str, Any]]], wait: bool) -> RestfulRequest:
        request = RestfulRequest(waves)
        if not wait:
            with self._lock:
                if self._running >= MAX_RUNNING:
                    raise TooBusy()
                self._running += 1
        with self._lock:
            self._requests.append(request)
            self._trim()
        if wait:
            request.run(self._execute)
        else:
            threading.Thread(target=self._run, args=(request,), name='calamari-restful-request', daemon=True).start()
        return request

    def _run(self, request: RestfulRequest) -> None:
        try:
            request.run(self._execute)
        finally:
            with self._lock:
                self._running -= 1

    def _trim(self) -> None:
        finished = [r for r in self._requests if r.is_finished()]
        excess = len(finished) - max(1, int(self._capacity() or 1000))
        if excess > 0:
            drop = set(id(r) for r in finished[:excess])
            self._requests = [r for r in self._requests if id(r) not in drop]

    def list(self) -> List[RestfulRequest]:
        with self._lock:
            return list(self._requests)

    def get(self, request_id: str) -> Optional[RestfulRequest]:
        with self._lock:
            return next((r for r in self._requests if r.id == request_id), None)

    def pop(self, request_id: str) -> Optional[RestfulRequest]:
        with self._lock:
            for i, r in enumerate(self._requests):
                if r.id == request_id:
                    return self._requests.pop(i)
        return None

    def clean(self) -> Dict[str, int]:
        """Forget the finished requests (restful's ``DELETE /request``)."""
        with self._lock:
            before = len(self._requests)
            self._requests = [r for r in self._requests if not r.is_finished()]
            return {'cleaned': before - len(self._requests), 'remaining': len(self._requests)}
