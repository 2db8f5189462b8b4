"""The layering of src/ (issue 14), read from the objects the dev build made.

One file's calls go one way: the graph "a.o uses a symbol b.o defines" (from `nm`) has no
cycle among src/*.c, so each file can be read, tested and replaced knowing only what is
below it.  And no file grows past what a reader holds at once (MAX_LINES).  Objects that
were not built are a failure, not a skip: `make dev` builds them.
"""
import re
import shutil
import subprocess

import pytest

from harness.paths import BUILD, ROOT

SRC = ROOT / "src"
OBJ = BUILD / "dev" / "obj"
MAX_LINES = 800


def _symbols(obj):
    """(defined, undefined) global symbols of one object file."""
    out = subprocess.run(["nm", "-g", str(obj)], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCVW":
            defined.add(parts[2])
    return defined, undefined


def graph(objs):
    """{file: set of files whose symbols it uses}, over the given objects."""
    owner, needs = {}, {}
    for o in objs:
        defined, undefined = _symbols(o)
        for s in defined:
            owner[s] = o.stem
        needs[o.stem] = undefined
    return {f: {owner[s] for s in u if s in owner and owner[s] != f}
            for f, u in needs.items()}


def find_cycle(g):
    """One cycle of ${g} as a list of files (first == last), or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(g):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def _objects():
    if shutil.which("nm") is None:
        pytest.fail("nm is not installed (binutils)")
    objs = [OBJ / f"{c.stem}.o" for c in sorted(SRC.glob("*.c"))]
    missing = [o.name for o in objs if not o.exists()]
    assert not missing, f"not built (make dev): {missing}"
    return objs


def test_no_file_cycle_in_src():
    cycle = find_cycle(graph(_objects()))
    assert cycle is None, "file-level cycle among src/*.c: " + " -> ".join(cycle)


def test_the_check_sees_a_cycle():
    """The detector itself: a cycle two files deep is found, a chain is not."""
    assert find_cycle({"a": {"b"}, "b": {"a"}}) in (["a", "b", "a"], ["b", "a", "b"])
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_graph_reads_real_dependencies():
    """nm sees what it should: the flow uses the session, the session never the flow."""
    g = graph(_objects())
    assert "session" in g["ferry"] and "rds" in g["ferry"]
    assert "ferry" not in g["session"] and "ferry" not in g["restore"]
    assert g["credentials"] <= {"buf"}, g["credentials"]
    assert "rds" not in g["sts"]


def test_readme_layout_names_every_src_file():
    """README's Layout section names every file of src/, and no file that is gone."""
    text = (ROOT / "README.md").read_text()
    layout = text[text.index("## Layout"):]
    layout = layout[:layout.index("```", layout.index("```") + 3)]
    named = set()
    for m in re.finditer(r"src/([a-z0-9_]+)\.(\[ch\]|c|h)", layout):
        exts = ["c", "h"] if m.group(2) == "[ch]" else [m.group(2)]
        named.update(f"{m.group(1)}.{e}" for e in exts)
    files = {p.name for p in SRC.glob("*.[ch]")}
    assert files - named == set(), f"not in README's Layout: {sorted(files - named)}"
    assert named - files == set(), f"in README's Layout but gone: {sorted(named - files)}"


@pytest.mark.parametrize("path", sorted(SRC.glob("*.[ch]")), ids=lambda p: p.name)
def test_no_src_file_over_max_lines(path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.name} has {n} lines (at most {MAX_LINES}: split it)"
