"""A tracked request: its states, its API JSON (``to_json``) and its store record (``record``, ``from_record``:
one small KV key per request, read back by the next active mgr)."""
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from ..cluster import isoformat
from .steps import Resume, Step, WaitFor

SUBMITTED = 'submitted'
COMPLETE = 'complete'
STATES = (COMPLETE, SUBMITTED)


@dataclass
class Pending:
    result: Any
    command: Dict[str, Any]
    deadline: float


@dataclass
class UserRequest:
    id: str
    headline: str
    fsid: Optional[str]
    requested: float
    state: str = SUBMITTED
    error: bool = False
    error_message: str = ''
    status: Optional[str] = 'Running'
    completed: Optional[float] = None
    steps: List[Step] = field(default_factory=list)
    changes_maps: bool = True
    next_step: int = 0
    pending: Dict[str, Pending] = field(default_factory=dict)
    wait: Optional[WaitFor] = None
    wake_at: Optional[float] = None     # Delay timer, or the deadline of a WaitFor
    sent: int = 0
    on_result: Optional[Callable[[Dict[str, Any], int, str, str], None]] = None
    resume: Optional[Resume] = None
    rev: int = 0                        # grows with every change of the record (the newest stored copy wins)
    to_settle: bool = False             # loaded unfinished: its resumer decides what is left
    held: bool = False                  # submitted while loaded requests were unsettled: starts after them
    maybe_sent: bool = False            # a write-ahead step was recorded as started (it may have been sent)
    principal: str = '-'                # who asked (audit.principal_name) and from which address
    client: str = ''

    def to_json(self) -> Dict[str, Any]:
        return {
            'id': self.id,
            'state': self.state,
            'error': self.error,
            'error_message': self.error_message,
            'headline': self.headline,
            'status': self.status,
            'requested_at': isoformat(self.requested),
            'completed_at': isoformat(self.completed) if self.completed is not None else None,
        }

    def record(self) -> Dict[str, Any]:
        rec = {'id': self.id, 'headline': self.headline, 'fsid': self.fsid, 'requested': self.requested,
               'state': self.state, 'error': self.error, 'error_message': self.error_message,
               'status': self.status, 'completed': self.completed, 'rev': self.rev,
               'changes_maps': self.changes_maps, 'principal': self.principal, 'client': self.client}
        if self.state != COMPLETE:
            rec['started'] = self.next_step
            rec['maybe_sent'] = self.maybe_sent
            if self.resume is not None:
                rec['resume'] = {'kind': self.resume.kind, 'args': self.resume.args}
        return rec

    @classmethod
    def from_record(cls, rec: Dict[str, Any]) -> 'UserRequest':
        resume = rec.get('resume')
        return cls(id=str(rec['id']), headline=str(rec.get('headline', '')), fsid=rec.get('fsid'),
                   requested=float(rec.get('requested', 0.0)), state=rec.get('state', COMPLETE),
                   error=bool(rec.get('error')), error_message=str(rec.get('error_message') or ''),
                   status=rec.get('status'), completed=rec.get('completed'),
                   changes_maps=bool(rec.get('changes_maps', True)), next_step=int(rec.get('started', 0)),
                   resume=Resume(str(resume['kind']), dict(resume['args'])) if isinstance(resume, dict) else None,
                   rev=int(rec.get('rev', 0)), maybe_sent=bool(rec.get('maybe_sent')),
                   principal=str(rec.get('principal') or '-'), client=str(rec.get('client') or ''))
