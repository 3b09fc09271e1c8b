#!/usr/bin/env python3
"""An oracle for .NET solutions whose references use a root-relative
property, written apart from ci-matrix's evaluator: projects are the
solution's (`.slnx` Path attributes); `$(SourceRoot)` and
`$(RepositoryRoot)` are the repository root (what the root
Directory.Build.props sets), other paths are relative to the project;
ProjectReferences in a Directory.Build.targets apply to every project
below it. A change under a project's directory marks it; a change to a
Directory.Build.props/targets marks every project below it; then
dependents, transitively."""
import json, os, re, subprocess, sys

def graph(repo):
    slnx = [f for f in os.listdir(repo) if f.endswith('.slnx')][0]
    projects = [p.replace('\\', '/') for p in re.findall(r'Path="([^"]+\.(?:cs|fs|vb)proj)"', open(os.path.join(repo, slnx)).read())]
    projects = [os.path.normpath(p) for p in projects]
    targets_refs = []
    for dirpath, _, files in os.walk(repo):
        if 'Directory.Build.targets' in files:
            rel = os.path.relpath(dirpath, repo)
            text = open(os.path.join(dirpath, 'Directory.Build.targets')).read()
            for inc in re.findall(r'<ProjectReference\s+Include="([^"]+)"', text):
                targets_refs.append((rel, inc))
    def resolve(project, inc):
        inc = inc.replace('\\', '/')
        for prop in ('$(SourceRoot)', '$(RepositoryRoot)'):
            if inc.startswith(prop):
                return os.path.normpath(inc[len(prop):].lstrip('/'))
        return os.path.normpath(os.path.join(os.path.dirname(project), inc))
    known = set(projects)
    edges = set()
    for p in projects:
        text = open(os.path.join(repo, p), encoding='utf-8-sig').read()
        incs = re.findall(r'<ProjectReference\s+Include="([^"]+)"', text)
        pdir = os.path.dirname(p)
        incs += [inc for d, inc in targets_refs if d == '.' or pdir == d or pdir.startswith(d + '/')]
        for inc in incs:
            for one in inc.split(';'):
                t = resolve(p, one.strip())
                if t in known and t != p:
                    edges.add((p, t))
    return projects, edges

def affected(projects, edges, changed):
    owners = set()
    for f in changed:
        name = os.path.basename(f)
        if name in ('Directory.Build.props', 'Directory.Build.targets'):
            d = os.path.dirname(f)
            owners.update(p for p in projects if d == '' or p.startswith(d + '/'))
            continue
        cands = [p for p in projects if f.startswith(os.path.dirname(p) + '/')]
        if cands:
            owners.add(max(cands, key=lambda p: len(os.path.dirname(p))))
    marked, todo = set(owners), list(owners)
    while todo:
        cur = todo.pop()
        for a, b in edges:
            if b == cur and a not in marked:
                marked.add(a); todo.append(a)
    return marked

if __name__ == '__main__':
    from replay_common import replay
    repo, n, ci_matrix, start = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    projects, edges = graph(repo)
    print(f"oracle: {len(projects)} projects, {len(edges)} edges")
    replay(repo, n, ci_matrix, start, lambda changed: {os.path.dirname(p) for p in affected(projects, edges, changed)})
