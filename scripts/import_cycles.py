#!/usr/bin/env python3
"""List the file-level import cycles inside src/ (issue 25, item 4).

Each .rs file under src/ is a node; an edge a -> b means a names b in a path: `use super::b`,
`crate::model::b::Item`, `self::b`, `super::super::b`, or a child module `b::` declared by
`mod b;` in a. Comments and string literals are skipped. A folder's `mod.rs` is the folder's
face (it declares and re-exports its children), so edges into and out of a `mod.rs` are left
out, as are a child's edges to the file that declares it (`collector/tier_stats.rs` naming
`collector.rs`): what this lists are the cycles between sibling files, which make a folder one
tangle.

Usage: python3 scripts/import_cycles.py [src] [--layers]
Prints each strongly connected group of files (two or more files that reach one another) and,
for each, the edges that close it. Exit status 0 either way: it is a report, not a check (the
check is tests/it/layers.rs, which holds the layers between top-level modules).
"""
import os
import re
import sys

IDENT = r'[A-Za-z_][A-Za-z0-9_]*'


def strip(text):
    """Blank out comments, string and char literals, keeping line breaks (so lines still count)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            i = j
            continue
        if text.startswith('/*', i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith('/*', j):
                    depth += 1
                    j += 2
                elif text.startswith('*/', j):
                    depth -= 1
                    j += 2
                else:
                    j += 1
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
            continue
        m = re.match(r'b?r(#*)"', text[i:i + 300])
        if m and (i == 0 or not re.match(r'[A-Za-z0-9_]', text[i - 1])):
            close = '"' + m.group(1)
            j = text.find(close, i + m.end())
            j = n if j < 0 else j + len(close)
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            out.append(re.sub(r'[^\n]', ' ', text[i:j + 1]))
            i = j + 1
            continue
        if c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12])
            if m:
                out.append(' ' * m.end())
                i += m.end()
                continue
        out.append(c)
        i += 1
    return ''.join(out)


def parse_tree(s, i):
    """Parse a use tree or path at s[i:]; returns (list of segment lists, end)."""
    paths = []
    segs = []
    while True:
        while i < len(s) and s[i] in ' \t\n':
            i += 1
        if i < len(s) and s[i] == '{':
            i += 1
            while True:
                while i < len(s) and s[i] in ' \t\n,':
                    i += 1
                if i >= len(s) or s[i] == '}':
                    i += 1
                    break
                sub, i = parse_tree(s, i)
                paths.extend(segs + p for p in sub)
            return paths, i
        m = re.compile(IDENT + r'|\*').match(s, i)
        if not m:
            break
        segs.append(m.group(0))
        i = m.end()
        j = i
        while j < len(s) and s[j] in ' \t\n':
            j += 1
        if s.startswith('::', j):
            i = j + 2
            continue
        break
    if segs:
        paths.append(segs)
    return paths, i


def module_of(path, src):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ('mod', 'lib', 'main'):
        rel = rel[:-1]
    return rel


def file_of(mod, files):
    """The file that defines the longest prefix of the module path `mod`."""
    for k in range(len(mod), 0, -1):
        key = tuple(mod[:k])
        if key in files:
            return files[key]
    return None


def edges_of(path, src, files):
    text = strip(open(path, encoding='utf-8').read())
    me = module_of(path, src)
    is_face = os.path.basename(path) in ('mod.rs', 'lib.rs', 'main.rs')
    own = me if is_face else me
    children = set(re.findall(r'\bmod\s+(' + IDENT + r')\s*;', text))
    start = re.compile(r'(?<![A-Za-z0-9_:$])(' + IDENT + r')\s*::')
    found = []
    for m in start.finditer(text):
        head = m.group(1)
        if head not in ('crate', 'super', 'self') and head not in children:
            continue
        line = text.count('\n', 0, m.start()) + 1
        trees, _ = parse_tree(text, m.start())
        for segs in trees:
            if segs[0] == 'crate':
                target = segs[1:]
            elif segs[0] in ('super', 'self'):
                base = list(own if is_face else own[:-1]) if segs[0] == 'super' else list(own)
                if segs[0] == 'super' and is_face:
                    base = base[:-1]
                k = 1
                while k < len(segs) and segs[k] == 'super':
                    base = base[:-1]
                    k += 1
                target = base + segs[k:]
            else:
                target = own + segs
            f = file_of(target, files)
            if f and module_of(f, src) == me[:len(module_of(f, src))]:
                continue  # the file itself, or the parent that declares it (its face)
            if f:
                found.append((f, line))
    return found


def sccs(nodes, graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    src = args[0] if args else 'src'
    files = {}
    for dp, _, fs in os.walk(src):
        for f in fs:
            if f.endswith('.rs'):
                p = os.path.join(dp, f)
                files[tuple(module_of(p, src))] = p
    faces = {p for p in files.values() if os.path.basename(p) in ('mod.rs', 'lib.rs', 'main.rs')}
    graph = {}
    for p in sorted(files.values()):
        if p in faces:
            continue
        for target, line in edges_of(p, src, files):
            if target in faces:
                continue
            graph.setdefault(p, {}).setdefault(target, line)
    groups = [sorted(c) for c in sccs(sorted(graph), graph) if len(c) > 1]
    groups.sort()
    for g in groups:
        print('cycle: ' + ' <-> '.join(os.path.relpath(p, src) for p in g))
        for a in g:
            for b, line in sorted(graph.get(a, {}).items()):
                if b in g:
                    print(f'    {os.path.relpath(a, src)}:{line} -> {os.path.relpath(b, src)}')
    print(f'{len(groups)} file cycle(s)')


if __name__ == '__main__':
    main()
