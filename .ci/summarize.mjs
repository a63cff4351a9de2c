// Prints one line per run ("ci: Node v20.20.2: passed 655, failed 0"), then one combined plain line
// "N passed, N failed[, N skipped]" over all runs, from vitest's JSON reports. Arguments: LABEL=FILE
// (or just FILE). Exits non-zero when a test failed, when a run ran no test, or when a run has no
// report at all (e.g. its typecheck failed first: that run counts as one failure).
import { existsSync, readFileSync } from 'node:fs';

/** @returns {{ passed: number, failed: number, skipped: number, missing?: boolean }} */
function countReport(file) {
  if (!existsSync(file)) return { passed: 0, failed: 1, skipped: 0, missing: true };
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const failed = report.numFailedTests ?? 0;
  // A test file that failed to load (a syntax error, a failing beforeAll) has no failed test of its own: count it.
  const suitesFailed = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).every((a) => a.status !== 'failed')).length;
  return { passed: report.numPassedTests ?? 0, failed: failed + suitesFailed, skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0) };
}

const runs = (process.argv.length > 2 ? process.argv.slice(2) : ['.vitest-results.json']).map((arg) => {
  const at = arg.lastIndexOf('=');
  return at > 0 ? { label: arg.slice(0, at), file: arg.slice(at + 1) } : { label: arg, file: arg };
});
const total = { passed: 0, failed: 0, skipped: 0 };
let empty = false;
for (const { label, file } of runs) {
  const counts = countReport(file);
  if (counts.missing) console.error(`ci: no test report at ${file}; the test command stopped before the tests ran (see above).`);
  if (counts.passed === 0) empty = true;
  console.log(`ci: ${label}: passed ${counts.passed}, failed ${counts.failed}${counts.skipped ? `, skipped ${counts.skipped}` : ''}`);
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
}
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed > 0 || empty ? 1 : 0);
