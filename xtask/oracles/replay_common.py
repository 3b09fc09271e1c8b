"""The replay loop every oracle shares: the last N first-parent commits
from START, each against its first parent, through ci-matrix and the
oracle; per commit the packages the oracle marks that ci-matrix does not
(misses), then the mean matrix size of both."""
import json, subprocess

def git(repo, *args):
    return subprocess.run(['git', '-C', repo, *args], capture_output=True, text=True, check=True).stdout

def owners_of(dirs, changed):
    """The packages (`dirs`: package to directory) owning `changed` files:
    for each file, the one with the deepest directory holding it."""
    owners = set()
    for f in changed:
        best = max((p for p, d in dirs.items() if f.startswith(d + '/')), key=lambda p: len(dirs[p]), default=None)
        if best:
            owners.add(best)
    return owners

def closure(owners, edges):
    """The owners and their dependents over `(dependent, dependency,
    test_only)` edges; a package reached only by a test-only edge is
    marked but goes no further."""
    marked, carried, todo = set(owners), set(owners), list(owners)
    while todo:
        cur = todo.pop()
        for a, b, test in edges:
            if b == cur:
                marked.add(a)
                if not test and a not in carried:
                    carried.add(a)
                    todo.append(a)
    return marked

def replay(repo, n, ci_matrix, start, oracle, key='path'):
    """`oracle(changed_files)` returns the set of what it marks, as the
    report's `key` field (`path` or `name`) names packages."""
    rows = misses_n = jobs_o = jobs_c = 0
    for c in git(repo, 'rev-list', '--first-parent', f'-{n}', start).split():
        parents = git(repo, 'rev-list', '--parents', '-n1', c).split()
        if len(parents) < 2:
            continue
        changed = [l for l in git(repo, 'diff', '--name-only', parents[1], c).splitlines() if l]
        marked = oracle(changed)
        out = subprocess.run([ci_matrix, '--root', repo, '--base', parents[1], '--head', c, '--format', 'json'],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(c[:10], 'ci-matrix failed:', out.stderr.strip()[-200:])
            continue
        ours = {p[key] for p in json.loads(out.stdout)['affected']}
        misses = sorted(marked - ours)
        rows += 1; misses_n += bool(misses); jobs_o += len(marked); jobs_c += len(ours)
        print(f"{c[:10]} files={len(changed):4} oracle={len(marked):3} ci-matrix={len(ours):3} misses={misses[:4]}")
    print(f"commits={rows} with-misses={misses_n} jobs/commit ci-matrix={jobs_c/max(rows,1):.2f} oracle={jobs_o/max(rows,1):.2f}")
