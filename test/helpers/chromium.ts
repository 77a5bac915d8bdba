import fs from 'node:fs';

/** Debian's chromium (`apt-get install chromium`), or Ubuntu's name for it. */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

/** node:test `skip` for a browser test: skipped on a machine without
 * Chromium, except under CI (CI set, as .ci/run installs it), where a missing
 * browser must fail the test instead of skipping it unseen. */
export function browserSkip(): string | false {
  if (CHROMIUM || process.env['CI']) return false;
  return 'chromium not installed (apt-get install chromium; see docs/development.md)';
}

/** The browser, or a failure that says why (CI without Chromium). */
export function requireChromium(): string {
  if (!CHROMIUM) throw new Error('CI is set but chromium is not installed: .ci/run installs it (apt-get install -y chromium)');
  return CHROMIUM;
}
