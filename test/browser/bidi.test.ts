import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchBrowser } from '../helpers/browser.ts';
import { startService } from '../helpers/service.ts';

// Text from users (a sender name, a subject) may carry bidi controls: they must not reorder the
// page's own text next to them.

const ADDRESS = 'sender@example.com';

test('a right-to-left override in the sender name does not reverse the From address', async (t) => {
  const svc = await startService(t, {
    SMTP_FROM_NAME: 'Evil \u202Eliame',
    SMTP_FROM_ADDRESS: ADDRESS,
  });
  const browser = await launchBrowser(t);
  const page = await browser.open(`${svc.url}/`);
  const from = page.locator('.card dd', { hasText: ADDRESS });
  await from.waitFor();
  // Where the address's first and last characters are drawn: left to right when isolated.
  const [first, last] = await from.evaluate((dd, address) => {
    const doc = (dd as any).ownerDocument;
    const walker = doc.createTreeWalker(dd, 4 /* NodeFilter.SHOW_TEXT */);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.textContent.indexOf(address);
      if (at < 0) continue;
      // No named function in here: the test's transpiler would wrap it in a helper the page lacks.
      return [at, at + address.length - 1].map((offset) => {
        const range = doc.createRange();
        range.setStart(node, offset);
        range.setEnd(node, offset + 1);
        return range.getBoundingClientRect().left as number;
      });
    }
    return [NaN, NaN];
  }, ADDRESS);
  await browser.screenshot(page, 'desktop-bidi-from');
  assert.ok(
    first! < last!,
    `the address is drawn reversed (first char at ${first}, last at ${last})`,
  );
  await page.close();
});
