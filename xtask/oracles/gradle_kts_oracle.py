#!/usr/bin/env python3
"""An oracle for Gradle builds with per-project Kotlin scripts, type-safe
`projects.` accessors and convention plugins in `build-logic`, written
apart from ci-matrix's reader: projects from the settings' include calls;
edges from `dependencies { ... }` blocks of each project's script
(`project(":x")` and `projects.a.b`, camel case); a project applying a
convention plugin (`alias(libs.plugins.X)`, resolved through
gradle/libs.versions.toml and the build-logic registrations to its class)
gets the literal `project(":x")` references of that class, and of the
plugins the class applies. Changes to build-logic, gradle/, settings and
root scripts mark every project."""
import json, os, re, subprocess, sys, tomllib

sys.path.insert(0, os.path.dirname(__file__))
from gradle_oracle import strip, block_end  # noqa: E402
from replay_common import closure, owners_of  # noqa: E402

def camel(seg):
    parts = re.split(r'[-_]', seg)
    return parts[0] + ''.join(p[:1].upper() + p[1:] for p in parts[1:])

def graph(repo):
    settings = strip(open(os.path.join(repo, 'settings.gradle.kts')).read())
    projects = set(re.findall(r'include\(\s*"(:[\w\-:]+)"\s*\)', settings))
    dirs = {p: p.lstrip(':').replace(':', '/') for p in projects}
    accessors = {'.'.join(camel(s) for s in p.lstrip(':').split(':')): p for p in projects}
    catalog = tomllib.loads(open(os.path.join(repo, 'gradle/libs.versions.toml')).read())
    plugin_ids = {k.replace('-', '.').replace('_', '.'): (v['id'] if isinstance(v, dict) else v.split(':')[0])
                  for k, v in catalog.get('plugins', {}).items()}
    logic = os.path.join(repo, 'build-logic/convention')
    reg = strip(open(os.path.join(logic, 'build.gradle.kts')).read())
    classes = {}
    for m in re.finditer(r'register\("\w+"\)\s*\{(.*?)\}', reg, re.S):
        alias = re.search(r'libs\.plugins\.([\w.]+?)(?:\.asProvider\(\))?\.get\(\)', m.group(1))
        cls = re.search(r'implementationClass\s*=\s*"([\w.]+)"', m.group(1))
        if alias and cls:
            classes[plugin_ids.get(alias.group(1), alias.group(1))] = cls.group(1).split('.')[-1]
    def class_refs(cls, seen):
        path = os.path.join(logic, 'src/main/kotlin', cls + '.kt')
        if cls in seen or not os.path.exists(path): return set()
        seen.add(cls)
        text = strip(open(path).read())
        refs = set(re.findall(r'project\("(:[\w\-:]+)"\)', text))
        for applied in re.findall(r'apply\(\s*"([\w.\-]+)"\s*\)|apply\(plugin\s*=\s*"([\w.\-]+)"\)', text):
            pid = applied[0] or applied[1]
            if pid in classes: refs |= class_refs(classes[pid], seen)
        for alias in re.findall(r'libs\.plugins\.([\w.]+)', text):
            pid = plugin_ids.get(alias.replace('.get', ''), None)
            if pid in classes: refs |= class_refs(classes[pid], seen)
        return refs
    edges = set()
    for p, d in dirs.items():
        f = os.path.join(repo, d, 'build.gradle.kts')
        if not os.path.exists(f): continue
        text = strip(open(f).read())
        for m in re.finditer(r'\bdependencies\s*\{', text):
            body = text[m.end():block_end(text, m.end() - 1)]
            for line in body.splitlines():
                test = line.strip().lower().startswith(('test', 'androidtest'))
                for q in re.findall(r'project\("(:[\w\-:]+)"\)', line): edges.add((p, q, test))
                for a in re.findall(r'projects\.([\w.]+)', line):
                    chain = a
                    while chain and chain not in accessors: chain = chain.rpartition('.')[0]
                    if chain: edges.add((p, accessors[chain], test))
        for alias in re.findall(r'alias\(libs\.plugins\.([\w.]+)\)', text):
            pid = plugin_ids.get(alias)
            if pid in classes:
                for q in class_refs(classes[pid], set()): edges.add((p, q, False))
    return dirs, {(a, b, t) for a, b, t in edges if a in dirs and b in dirs and a != b}

def affected(dirs, edges, changed):
    if any(f.startswith(('build-logic/', 'gradle/')) or f in ('settings.gradle.kts', 'build.gradle.kts', 'gradle.properties') for f in changed):
        return set(dirs)
    return closure(owners_of(dirs, changed), edges)

if __name__ == '__main__':
    from replay_common import replay
    repo, n, ci_matrix, start = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    dirs, edges = graph(repo)
    print(f"oracle: {len(dirs)} projects, {len(edges)} edges")
    replay(repo, n, ci_matrix, start, lambda changed: {dirs[p] for p in affected(dirs, edges, changed)})
