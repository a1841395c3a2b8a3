// `npm audit --omit=dev` for CI: fails on any advisory against a production dependency. When the
// registry's audit endpoint can't be reached (this project's sandboxed CI gets 405 from a
// registry mirror that serves packages only), it says so loudly and passes: an audit that
// could not run is reported, not mistaken for a clean one or for a vulnerable one.
import { spawnSync } from 'node:child_process';

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
let report: {
  statusCode?: number;
  message?: string;
  metadata?: { vulnerabilities?: Record<string, number> };
};
try {
  report = JSON.parse(run.stdout);
} catch {
  console.error(`npm audit printed no JSON (exit ${run.status}):\n${run.stdout}${run.stderr}`);
  process.exit(1);
}
if (report.metadata?.vulnerabilities) {
  const counts = report.metadata.vulnerabilities;
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  if (total > 0) {
    console.error(`npm audit: ${total} advisories against production dependencies`);
    console.error(spawnSync('npm', ['audit', '--omit=dev'], { encoding: 'utf8' }).stdout);
    process.exit(1);
  }
  console.log('npm audit: no advisories against production dependencies');
} else {
  console.warn(
    `WARNING: npm audit could not run (${report.statusCode ?? '?'}: ${report.message ?? 'no report'}); ` +
      'the production dependencies were NOT audited in this run.',
  );
}
