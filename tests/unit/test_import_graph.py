"""No import circle in the module: the graph of module-level imports between calamari_api's modules (imports under
``if TYPE_CHECKING:`` and inside functions excluded, as they run later or never) has no cycle."""
import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set

PACKAGE = Path(__file__).resolve().parents[2] / 'src' / 'mgr' / 'calamari_api'


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix('').parts)
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def top_level_imports(tree: ast.Module) -> Iterator[ast.stmt]:
    """Import statements run when the module is imported: top level (also under try/if), and class bodies."""
    pending: List[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and 'TYPE_CHECKING' in ast.unparse(node.test):
            pending.extend(node.orelse)
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            pending.extend(node.body + getattr(node, 'orelse', []) + getattr(node, 'finalbody', [])
                           + [s for h in getattr(node, 'handlers', []) for s in h.body])
        elif isinstance(node, ast.ClassDef):
            pending.extend(node.body)


def import_graph() -> Dict[str, Set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob('*.py')}
    graph: Dict[str, Set[str]] = {}
    for name, path in modules.items():
        here = name.split('.') if path.name == '__init__.py' else name.split('.')[:-1]
        deps: Set[str] = set()
        for node in top_level_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = '.'.join(here[:len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                    if node.level else (node.module or '')
                targets = [f'{base}.{a.name}' if f'{base}.{a.name}' in modules else base for a in node.names]
            deps |= {t for t in targets if t in modules and t != name}
        graph[name] = deps
    return graph


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    found: List[List[str]] = []
    state: Dict[str, int] = {}

    def visit(node: str, stack: List[str]) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                found.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    return found


def test_no_import_circle():
    graph = import_graph()
    assert len(graph) > 50 and 'calamari_api.requests.engine' in graph['calamari_api.services']
    assert cycles(graph) == []


def test_the_check_sees_a_circle():
    assert cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == [['a', 'b', 'c', 'a']]
