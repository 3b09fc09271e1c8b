#!/usr/bin/env python3
"""An oracle for Maven reactors, written apart from ci-matrix's reader:
modules from `<modules>` (and profiles') recursively; a module is
groupId:artifactId (groupId inherited from `<parent>`); edges are
`<dependencies>` (and `<dependencyManagement>` imports, build plugins)
whose groupId:artifactId is a module's, `${project.groupId}` and
`${project.version}`-style properties interpolated from the module and its
parents; `test` scope ends at the dependent; a child depends on its parent
POM. A change to the root POM marks every module (ci-matrix reads it
precisely: more jobs here, never fewer)."""
import json, os, re, subprocess, sys

from replay_common import closure
import xml.etree.ElementTree as ET

def local(tag): return tag.rsplit('}', 1)[-1]
def child(el, name):
    for c in el:
        if local(c.tag) == name: return c
    return None
def text(el, name):
    c = child(el, name) if el is not None else None
    return (c.text or '').strip() if c is not None and c.text else ''
def children(el, *path):
    out = [el]
    for name in path:
        out = [c for e in out if e is not None for c in e if local(c.tag) == name]
    return out

def read(repo):
    modules = {}  # dir -> dict
    todo = ['.']
    while todo:
        d = todo.pop()
        f = os.path.join(repo, d, 'pom.xml')
        if d in modules or not os.path.exists(f): continue
        root = ET.parse(f).getroot()
        parent = child(root, 'parent')
        props = {}
        for p in children(root, 'properties'):
            for c in p: props[local(c.tag)] = (c.text or '').strip()
        modules[d] = {'root': root, 'group': text(root, 'groupId') or text(parent, 'groupId'),
                      'artifact': text(root, 'artifactId'), 'props': props,
                      'parent_dir': os.path.normpath(os.path.join(d, text(parent, 'relativePath') or '..')) if parent is not None else None}
        subs = [m for m in children(root, 'modules', 'module')] + [m for m in children(root, 'profiles', 'profile', 'modules', 'module')]
        for m in subs:
            todo.append(os.path.normpath(os.path.join(d, (m.text or '').strip())))
    def interp(d, value, depth=0):
        m = modules.get(d)
        for _ in range(10):
            found = re.search(r'\$\{([^}]+)\}', value)
            if not found or m is None: break
            key = found.group(1)
            if key in ('project.groupId', 'pom.groupId'): rep = m['group']
            elif key == 'project.parent.groupId': rep = modules.get(m['parent_dir'], {}).get('group', '')
            else:
                rep, cur = None, d
                while cur in modules and rep is None:
                    rep = modules[cur]['props'].get(key)
                    cur = modules[cur]['parent_dir']
                if rep is None: break
            value = value.replace(found.group(0), rep)
        return value
    coords = {(interp(d, m['group']), m['artifact']): d for d, m in modules.items()}
    edges = set()
    for d, m in modules.items():
        root = m['root']
        for dep in children(root, 'dependencies', 'dependency') + children(root, 'profiles', 'profile', 'dependencies', 'dependency'):
            key = (interp(d, text(dep, 'groupId')), interp(d, text(dep, 'artifactId')))
            if key in coords and coords[key] != d:
                edges.add((d, coords[key], text(dep, 'scope') == 'test'))
        for dep in children(root, 'dependencyManagement', 'dependencies', 'dependency'):
            if text(dep, 'scope') == 'import':
                key = (interp(d, text(dep, 'groupId')), interp(d, text(dep, 'artifactId')))
                if key in coords and coords[key] != d: edges.add((d, coords[key], False))
        for plugin in children(root, 'build', 'plugins', 'plugin') + children(root, 'build', 'pluginManagement', 'plugins', 'plugin'):
            for dep in [plugin] + children(plugin, 'dependencies', 'dependency'):
                g = text(dep, 'groupId') or ('org.apache.maven.plugins' if dep is plugin else '')
                key = (interp(d, g), interp(d, text(dep, 'artifactId')))
                if key in coords and coords[key] != d: edges.add((d, coords[key], False))
        if m['parent_dir'] in modules and m['parent_dir'] != d:
            edges.add((d, m['parent_dir'], False))
    return modules, edges

def affected(modules, edges, changed):
    if 'pom.xml' in changed: return set(modules) - {'.'}
    owners = set()
    for f in changed:
        best = max((d for d in modules if d != '.' and f.startswith(d + '/')), key=len, default=None)
        if best: owners.add(best)
    return closure(owners, edges) - {'.'}

if __name__ == '__main__':
    from replay_common import replay
    repo, n, ci_matrix, start = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    modules, edges = read(repo)
    print(f"oracle: {len(modules)} POMs, {len(edges)} edges")
    replay(repo, n, ci_matrix, start, lambda changed: affected(modules, edges, changed))
