// The crash switch itself: a named point SIGKILLs the process at its Nth visit and nowhere else,
// and a misspelt FLOE_FAULT_AT is refused instead of silently never firing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { parseFaultSpec } from '../../src/fault-points.ts';
import { REPO_ROOT } from '../support/readers.ts';

function run(faultAt: string | undefined): { signal: NodeJS.Signals | null; stdout: string; status: number | null } {
  // Visits append.after-manifest three times, printing before each visit.
  const script = `import { faultPoint } from './src/fault-points.ts';
for (let i = 1; i <= 3; i++) { console.log('visit ' + i); faultPoint('append.after-manifest'); }
console.log('done');`;
  const env = { ...process.env };
  delete env.FLOE_FAULT_AT;
  if (faultAt !== undefined) env.FLOE_FAULT_AT = faultAt;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 60_000 });
  return { signal: r.signal, stdout: r.stdout, status: r.status };
}

describe('fault points', () => {
  test('unset: every point is passed', () => {
    const r = run(undefined);
    assert.equal(r.signal, null);
    assert.equal(r.stdout, 'visit 1\nvisit 2\nvisit 3\ndone\n');
  });
  test('name#N: SIGKILL on the Nth visit, nothing after it runs', () => {
    const r = run('append.after-manifest#2');
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.stdout, 'visit 1\nvisit 2\n');
  });
  test('another point armed: this one is passed', () => {
    assert.equal(run('commit.after-catalog-swap').stdout, 'visit 1\nvisit 2\nvisit 3\ndone\n');
  });
  test('names are checked', () => {
    assert.deepEqual(parseFaultSpec('expire.mid-delete'), { name: 'expire.mid-delete', nth: 1 });
    assert.deepEqual(parseFaultSpec('expire.mid-delete#3'), { name: 'expire.mid-delete', nth: 3 });
    assert.throws(() => parseFaultSpec('append.after-manifests'), /not a fault point/);
    assert.throws(() => parseFaultSpec('expire.mid-delete#0'), /counts from 1/);
  });
});
