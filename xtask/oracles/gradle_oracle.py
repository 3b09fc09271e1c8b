#!/usr/bin/env python3
"""An oracle for Gradle builds configured from their root script, written
apart from ci-matrix's reader: the settings' include list gives projects
(`:a:b` in `a/b`), every `project(':x') { ... }` block of the root script
and every project's own script gives dependency declarations inside
`dependencies { ... }` blocks; a line whose configuration starts with
`test` is a test-only edge. Changes to the root script, settings,
gradle.properties, gradle/ or buildSrc/ mark every project."""
import json, os, re, subprocess, sys

from replay_common import closure, owners_of

def strip(text):
    out, i, quote = [], 0, None
    while i < len(text):
        ch = text[i]
        if quote:
            out.append(ch)
            if ch == '\\' and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = None
            i += 1
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
            i += 1
        elif text.startswith('//', i):
            j = text.find('\n', i)
            i = len(text) if j < 0 else j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = len(text) if j < 0 else j + 2
            out.append(' ' * (j - i))
            i = j
        else:
            out.append(ch)
            i += 1
    return ''.join(out)

def block_end(text, open_at):
    depth, i, quote = 0, open_at, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == '\\':
                i += 1
            elif text.startswith(quote, i):
                i += len(quote) - 1
                quote = None
        elif text.startswith("'" * 3, i) or text.startswith('"' * 3, i):
            quote = text[i:i + 3]
            i += 2
        elif ch in ("'", '"'):
            quote = ch
        elif ch == '{':
            depth += 1
        elif ch == '}':
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text)

def deps_in(text):
    out = []
    for m in re.finditer(r'\bdependencies\s*\{', text):
        end = block_end(text, m.end() - 1)
        body = text[m.end():end]
        for line in body.splitlines():
            for p in re.findall(r"project\(\s*(?:path:\s*)?['\"](:[\w\-:]+)['\"]", line):
                conf = line.strip().split('(')[0].split(' ')[0]
                out.append((p, conf.lower().startswith('test') and not conf.lower().startswith('testfixtures')))
    return out

def graph(repo):
    settings = strip(open(os.path.join(repo, 'settings.gradle')).read())
    projects = set()
    for m in re.finditer(r"\binclude\b([^\n]*(?:\n\s+['\"][^\n]*)*)", settings):
        projects.update(':' + p.lstrip(':') for p in re.findall(r"['\"](:?[\w\-:]+)['\"]", m.group(1)))
    dirs = {p: p.lstrip(':').replace(':', '/') for p in projects}
    edges = set()
    root = strip(open(os.path.join(repo, 'build.gradle')).read())
    for m in re.finditer(r"\bproject\(\s*['\"](:[\w\-:]+)['\"]\s*\)\s*\{", root):
        end = block_end(root, m.end() - 1)
        for to, test in deps_in(root[m.end():end]):
            edges.add((m.group(1), to, test))
    for p, d in dirs.items():
        f = os.path.join(repo, d, 'build.gradle')
        if os.path.exists(f):
            for to, test in deps_in(strip(open(f).read())):
                edges.add((p, to, test))
    return dirs, {(a, b, t) for a, b, t in edges if a in dirs and b in dirs and a != b}

def affected(dirs, edges, changed):
    everything = any(f in ('build.gradle', 'settings.gradle', 'gradle.properties') or f.startswith(('gradle/', 'buildSrc/')) for f in changed)
    if everything: return set(dirs)
    return closure(owners_of(dirs, changed), edges)

if __name__ == '__main__':
    from replay_common import replay
    repo, n, ci_matrix, start = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    dirs, edges = graph(repo)
    print(f"oracle: {len(dirs)} projects, {len(edges)} edges")
    replay(repo, n, ci_matrix, start, lambda changed: {dirs[p] for p in affected(dirs, edges, changed)})
