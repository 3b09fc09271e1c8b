#!/usr/bin/env python3
"""Replays the last N commits of a repository through ci-matrix and an
oracle written apart from ci-matrix's readers.

Oracles:
  uv:    the repository's own uv.lock at each commit: members are entries
         with a local source; a changed file belongs to the deepest member
         directory holding it (the root project, if any, holds the rest);
         affected = owners, then dependents over the lock's edges, where a
         `dev-dependencies` edge reaches the dependent but goes no further.
  cargo: `cargo metadata --no-deps --offline` at each commit, the same
         closure over path dependencies (dev-dependencies end at the
         dependent).
Prints per commit the packages the oracle marks that ci-matrix does not
(misses) and the sizes of both answers.
"""
import json, os, subprocess, sys, tomllib

from replay_common import closure

def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout

def uv_graph(repo):
    lock = tomllib.loads(open(os.path.join(repo, "uv.lock")).read())
    dirs, edges = {}, []
    for e in lock.get("package", []):
        src = e.get("source", {})
        for k in ("editable", "virtual", "directory"):
            if k in src:
                p = os.path.normpath(src[k])
                if k == "virtual" and p == ".":
                    continue
                dirs[e["name"]] = p
    for e in lock.get("package", []):
        if e["name"] not in dirs:
            continue
        for d in e.get("dependencies", []):
            if d["name"] in dirs: edges.append((e["name"], d["name"], "normal"))
        for group in e.get("optional-dependencies", {}).values():
            for d in group:
                if d["name"] in dirs: edges.append((e["name"], d["name"], "normal"))
        for group in e.get("dev-dependencies", {}).values():
            for d in group:
                if d["name"] in dirs: edges.append((e["name"], d["name"], "test"))
    return dirs, edges

def cargo_graph(repo):
    out = subprocess.run(["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1",
                          "--manifest-path", os.path.join(repo, "Cargo.toml")],
                         capture_output=True, text=True, check=True).stdout
    meta = json.loads(out)
    root = os.path.realpath(repo)
    dirs = {p["name"]: os.path.relpath(os.path.dirname(p["manifest_path"]), root) for p in meta["packages"]}
    by_dir = {v: k for k, v in dirs.items()}
    edges = []
    for p in meta["packages"]:
        for d in p["dependencies"]:
            if d.get("path"):
                to = by_dir.get(os.path.relpath(d["path"], root))
                if to and to != p["name"]:
                    edges.append((p["name"], to, "test" if d.get("kind") == "dev" else "normal"))
    return dirs, edges

def affected(dirs, edges, changed):
    owners = set()
    for f in changed:
        best, best_len = None, -1
        for name, d in dirs.items():
            if d == "." or f == d or f.startswith(d + "/"):
                l = 0 if d == "." else len(d)
                if l > best_len:
                    best, best_len = name, l
        if best: owners.add(best)
    return closure(owners, [(a, b, kind == 'test') for a, b, kind in edges])

if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(__file__))
    from replay_common import replay
    repo, kind, n, ci_matrix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    start = sys.argv[5] if len(sys.argv) > 5 else 'HEAD'
    # The graph of the work tree (the newest commit) for every commit: a
    # snapshot lacks large files, so older commits cannot be checked out.
    dirs, edges = (uv_graph if kind == 'uv' else cargo_graph)(repo)
    replay(repo, n, ci_matrix, start, lambda changed: affected(dirs, edges, changed), key='name')
