"""``POST cluster/<fsid>/cli``: CLI words -> a mon command dict with the real parser, run through the mgr.

The words are parsed exactly as the ``ceph`` tool does: the mon's command descriptions
(``get_command_descriptions``, fetched once and cached) -> ``ceph_argparse.parse_json_funcsigs`` ->
``ceph_argparse.validate_command``.  The answer is what the CLI would print: ``{out, err, status}``.  Commands
the mgr itself serves (``pg dump``, ``df``, ...) are answered from the mgr's data (mgr_commands.py), in JSON
formats; the rest go to the mon."""
import contextlib
import errno
import io
import shlex
import threading
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from .. import mgr_commands
from ..command_policy import refusal
from ..derived import mon_query
from ..web.http import bad_request, detail

if TYPE_CHECKING:
    from ..services import Services

FORMAT_FLAGS = ('--format', '-f')
SHORTHANDS = {'-s': 'status', '--status': 'status'}     # the ceph tool's own spellings


def command_words(body: Dict[str, Any]) -> List[str]:
    """The body's ``command`` as CLI words, without a leading ``ceph`` (400 with Calamari's messages)."""
    if 'command' not in body or body['command'] is None:
        raise bad_request("'command' field is required")
    command = body['command']
    if isinstance(command, str):
        try:
            words = shlex.split(command)
        except ValueError as e:
            raise bad_request(f'Error in cli command: {e}')
    elif isinstance(command, list) and all(isinstance(w, (str, int, float)) and not isinstance(w, bool)
                                           for w in command):
        words = [str(w) for w in command]
    else:
        raise bad_request("'command' must be a string or list")
    if words and words[0] == 'ceph':
        words = words[1:]
    return [SHORTHANDS.get(w, w) for w in words[:1]] + words[1:]


def split_format(words: List[str]) -> Tuple[List[str], Optional[str]]:
    """Take ``--format X`` / ``--format=X`` / ``-f X`` out of the words (the CLI handles them itself)."""
    rest: List[str] = []
    fmt = None
    i = 0
    while i < len(words):
        word = words[i]
        if word in FORMAT_FLAGS and i + 1 < len(words):
            fmt = words[i + 1]
            i += 2
            continue
        if word.startswith('--format='):
            fmt = word.split('=', 1)[1]
        else:
            rest.append(word)
        i += 1
    return rest, fmt


class CliRunner:
    def __init__(self, services: 'Services', timeout: float = 60.0) -> None:
        self._services = services
        self._timeout = timeout
        self._lock = threading.Lock()
        self._signatures: Optional[Dict[str, Any]] = None

    def run(self, words: List[str], allow_secrets: bool = False) -> Dict[str, Any]:
        """What the CLI would print; 403 (Calamari's error shape) for a command the policy refuses."""
        command, answer = self.parse(words)
        if command is None:
            return answer
        message = refusal(command, allow_secrets)
        if message:
            raise detail(403, message)
        return self.execute(command)

    def parse(self, words: List[str]) -> Tuple[Optional[Dict[str, Any]], Dict[str, Any]]:
        """(the command dict, {}) or (None, the CLI's error answer)."""
        words, fmt = split_format(words)
        sigdict = self._command_signatures()
        if sigdict is None:
            return None, {'out': '', 'err': 'Error: could not read the command descriptions from the mons',
                          'status': -errno.EIO}
        command, message = self._parse(sigdict, words)
        if not command:
            return None, {'out': '', 'err': message + 'Error EINVAL: invalid command', 'status': -errno.EINVAL}
        command.pop('target', None)
        if fmt:
            command['format'] = fmt
        return command, {}

    def execute(self, command: Dict[str, Any]) -> Dict[str, Any]:
        r, outb, outs = mgr_commands.answer(self._services, command) or self._mon_command(command)
        return {'out': outb, 'err': outs, 'status': r}

    def _parse(self, sigdict: Dict[str, Any], words: List[str]) -> Tuple[Dict[str, Any], str]:
        import ceph_argparse
        captured = io.StringIO()
        with self._lock, contextlib.redirect_stderr(captured):     # validate_command explains on stderr
            try:
                command = ceph_argparse.validate_command(sigdict, words)
            except Exception as e:
                return {}, f'{e}\n'
        return dict(command or {}), captured.getvalue()

    def _command_signatures(self) -> Optional[Dict[str, Any]]:
        if self._signatures is None:
            import ceph_argparse
            r, outb, _ = self._mon_command({'prefix': 'get_command_descriptions'})
            if r != 0 or not outb:
                return None
            try:
                self._signatures = ceph_argparse.parse_json_funcsigs(outb, 'cli')
            except Exception:
                return None
        return self._signatures

    def _mon_command(self, command: Dict[str, Any]) -> Tuple[int, str, str]:
        """Blocking (HTTP threads may), with a timeout; sent by the module's query thread."""
        return mon_query(self._services, command, self._timeout)
