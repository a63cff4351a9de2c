// Prints "N passed, N failed[, N skipped]" from vitest's JSON report; exits non-zero when a test
// failed, when no test ran, or when there is no report at all (e.g. the typecheck failed first).
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-results.json';
if (!existsSync(file)) {
  console.log('0 passed, 1 failed');
  console.error(`ci: no test report at ${file}; the test command stopped before the tests ran (see above).`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const passed = report.numPassedTests ?? 0;
const failed = report.numFailedTests ?? 0;
// A test file that failed to load (a syntax error, a failing beforeAll) has no failed test of its own: count it.
const suitesFailed = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).every((a) => a.status !== 'failed')).length;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const totalFailed = failed + suitesFailed;
console.log(`${passed} passed, ${totalFailed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(totalFailed > 0 || passed === 0 ? 1 : 0);
