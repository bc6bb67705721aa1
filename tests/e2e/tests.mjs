// The dashboard's end-to-end tests (issue 13), in order, on one stack and one page (tests/e2e/run).
// Each test can run alone (--only): it sets the API key through the page when the page has none.
import { numbersIn, progressOf, settle, tid, PROGRESS_FN } from './lib/browser.mjs';
import { check, checkEq, eventually } from './lib/runner.mjs';

export const PROSPECTS = 1000;
// Sites of the fixture corpus: five that a dry run fills, one behind a reCAPTCHA (a hand-off).
const DRY_SITES = ['cf7-studio', 'django-robotics', 'rails-bakery', 'laravel-saas', 'webflow-studio'];
const CAPTCHA_SITE = 'recaptcha-v2';
export const STACK_OPTS = {
  // Every answer of the sites delayed, so that a run lasts a few seconds: long enough to be
  // watched live on the job's page. Two delays, so that the five targets end at two moments and
  // the bar shows a step between 0 and 100 %.
  siteGroups: [
    { sites: [...DRY_SITES.slice(0, 3), CAPTCHA_SITE], delayMs: 400 },
    { sites: DRY_SITES.slice(3), delayMs: 1500 },
  ],
  // a site whose home page answers 503 until told otherwise: a dead letter (test g)
  flakySite: true,
};
const TEMPLATE = 'Hello {{company|there}}, may we show you our engines?';

// ---- helpers ------------------------------------------------------------------------------------

async function open(t, path = '/') {
  const { page, stack } = t;
  if (!page.url().startsWith(stack.url)) await page.goto(stack.url + path);
  else if (new URL(page.url()).pathname !== path) {
    // an in-app navigation when the nav has a link for it, else a load
    const nav = { '/': 'nav-prospects', '/prospects': 'nav-prospects', '/campaigns': 'nav-campaigns', '/run': 'nav-run',
      '/jobs': 'nav-jobs', '/handoffs': 'nav-handoffs', '/workers': 'nav-workers', '/enrichment': 'nav-enrichment' }[path];
    if (nav) await tid(page, nav).click();
    else await page.goto(stack.url + path);
  }
}

// The text of the first element with this data-testid now, null when there is none (no wait).
async function textOf(page, id) {
  const l = tid(page, id);
  return (await l.count()) ? (await l.first().textContent()) ?? '' : null;
}

// Types the key into the page's key field and saves it (what a person does).
async function enterKey(page, key) {
  const input = tid(page, 'api-key-input');
  if (!(await input.isVisible())) {
    // the field may sit behind a button (a settings popover)
    const opener = page.getByRole('button', { name: /api key|key|settings/i }).first();
    if (await opener.count()) await opener.click();
  }
  await input.fill(key);
  await tid(page, 'api-key-save').click();
}

async function ensureKey(t) {
  const { page, stack } = t;
  await open(t, '/');
  const stored = await page.evaluate(() => localStorage.getItem('pa.apiKey'));
  if (stored === t.stack.apiKey || stored === JSON.stringify(stack.apiKey)) return;
  await enterKey(page, stack.apiKey);
  await eventually('the key is taken (no api-banner)', async () => !(await tid(page, 'api-banner').isVisible()), {
    describe: async () => `api-banner: ${await textOf(page, 'api-banner')}`,
  });
}

// The last request the page made to GET /api/prospects, and its answer.
function watchProspects(page) {
  const seen = [];
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/api/prospects' && r.request().method() === 'GET') seen.push({ url: u, status: r.status(), response: r });
  });
  return seen;
}

async function rowIds(page) {
  return tid(page, 'prospects-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
}

// The rows and the total the page shows equal the API's answer to the page's own last query
// (same search, filters, sort, limit and cursor).
async function matchesApi(t, seen, want) {
  const { page, stack } = t;
  let last;
  await eventually('the table shows the API\'s answer to the page\'s query', async () => {
    const q = seen.at(-1);
    if (!q) return false;
    const p = q.url.searchParams;
    const sets = (k) => (p.get(k) || '').split(',').filter(Boolean).sort();
    if (want.search !== undefined && (p.get('search') || '') !== want.search) return false;
    if (want.industry && JSON.stringify(sets('industry')) !== JSON.stringify([...want.industry].sort())) return false;
    if (want.status && JSON.stringify(sets('status')) !== JSON.stringify([...want.status].sort())) return false;
    if (want.sort !== undefined && (p.get('sort') || '') !== want.sort) return false;
    if (want.cursor === false && p.get('cursor')) return false;
    if (want.cursor && p.get('cursor') !== want.cursor) return false;
    const api = await stack.api('GET', q.url.pathname + q.url.search);
    const ids = await rowIds(page);
    const total = Number(api.headers.get('x-total-count'));
    const totalText = (await textOf(page, 'prospects-total')) || '';
    last = { query: q.url.search, apiIds: api.json.map((x) => x.id), ids, total, totalText, link: api.headers.get('link') };
    return api.status === 200 && JSON.stringify(ids) === JSON.stringify(last.apiIds) && numbersIn(totalText).includes(total) && last;
  }, { timeoutMs: 15000, describe: () => `last seen: ${JSON.stringify(last || { requests: seen.map((s) => s.url.search) })}` });
  return last;
}

// Sets a multi-select filter to exactly these values ([]: none): a <select multiple>, or a
// drop-down of checkboxes (opened by its button, closed with Escape).
async function chooseMany(page, testid, values) {
  const el = tid(page, testid);
  if ((await el.evaluate((e) => e.tagName)) === 'SELECT') {
    await el.selectOption(values);
    return;
  }
  const want = new Set(values.map((v) => v.toLowerCase()));
  let boxes = el.getByRole('checkbox');
  if (!(await boxes.count())) {
    await el.getByRole('button').first().click();
    boxes = el.getByRole('checkbox');
    await boxes.first().waitFor({ timeout: 5000 }).catch(() => {});
  }
  const names = await boxes.evaluateAll((bs) => bs.map((b) => (b.closest('label')?.textContent || b.getAttribute('aria-label') || '').trim()));
  for (const v of want) check(names.some((n) => n.toLowerCase() === v), `${testid} offers no "${v}" (it offers ${names.join(', ')})`);
  for (let i = 0; i < names.length; i++) {
    const b = boxes.nth(i);
    if ((await b.isChecked()) !== want.has(names[i].toLowerCase())) await b.click();
  }
  await page.keyboard.press('Escape');
}

// Records, from now on, every change of the job page's progress and status (a MutationObserver),
// and marks the window: a reload would lose the mark.
async function recordJob(page) {
  await page.evaluate((fnSrc) => {
    const progressOf = new Function(`return (${fnSrc})`)();
    window.__e2eMark = 'no reload';
    const tl = (window.__e2eTimeline = []);
    let prev = '';
    const look = () => {
      const bar = document.querySelector('[data-testid="job-progress"]');
      const st = document.querySelector('[data-testid="job-status"]');
      if (!bar && !st) return;
      const e = { pct: progressOf(bar), status: st ? st.textContent.trim() : null };
      const k = JSON.stringify(e);
      if (k !== prev) {
        prev = k;
        tl.push({ t: performance.now(), ...e });
      }
    };
    new MutationObserver(look).observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
  }, PROGRESS_FN);
}

async function startRun(t, { targets, dryRun }) {
  const { page } = t;
  await open(t, '/run');
  await tid(page, 'run-targets').fill(targets.join('\n'));
  await tid(page, 'run-template').fill(TEMPLATE);
  const dry = tid(page, 'run-dry-run');
  if (dryRun) await dry.check();
  else await dry.uncheck();
  const enrich = tid(page, 'run-enrich');
  if (await enrich.count()) await enrich.uncheck();
  await recordJob(page);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/automation/contact-forms/run' && r.request().method() === 'POST'),
    tid(page, 'run-start').click(),
  ]);
  const body = await resp.json().catch(() => ({}));
  check(resp.status() === 202, `POST /api/automation/contact-forms/run answered ${resp.status()}: ${JSON.stringify(body)}`);
  return body.job_id;
}

async function watchCompleted(t, jobId, { timeoutMs = 60000 } = {}) {
  const { page } = t;
  await page.waitForURL(new RegExp(`/jobs/${jobId}$`), { timeout: 10000 });
  await eventually('the job page shows status completed', async () => /completed/i.test((await textOf(page, 'job-status')) || ''), {
    timeoutMs,
    describe: async () => `job-status: ${await textOf(page, 'job-status')}; API: ${JSON.stringify((await t.stack.api('GET', `/api/jobs/${jobId}`)).json)}`,
  });
  return page.evaluate(() => ({ mark: window.__e2eMark, timeline: window.__e2eTimeline }));
}

// ---- the tests -----------------------------------------------------------------------------------

export const TESTS = [
  {
    name: 'a. API key; prospects filtered (search, industry, status), paged and sorted as the API answers',
    async fn(t) {
      const { page, stack } = t;
      const seen = watchProspects(page);
      await t.step('open / without a key: the page asks for one', async () => {
        await page.goto(stack.url + '/');
        await tid(page, 'api-key-input').waitFor({ state: 'attached' });
        await eventually('api-banner asks for a key', async () => /key/i.test((await textOf(page, 'api-banner')) || ''), {
          describe: async () => `api-banner: ${await textOf(page, 'api-banner')}`,
        });
      });
      await t.step('type the key and save it: the rows appear, the key is in localStorage', async () => {
        await enterKey(page, stack.apiKey);
        await tid(page, 'prospects-row').first().waitFor();
        const stored = await page.evaluate(() => localStorage.getItem('pa.apiKey'));
        check(stored === stack.apiKey || stored === JSON.stringify(stack.apiKey), `localStorage pa.apiKey is ${stored}`);
        check(seen.some((s) => s.status === 200), 'no GET /api/prospects answered 200');
        await matchesApi(t, seen, { search: '' });
      });
      // Filter values from the data: the two most common industries, two statuses.
      const all = (await stack.api('GET', '/api/prospects?limit=1000')).json;
      const count = (k) => Object.entries(all.reduce((m, p) => ((m[p[k]] = (m[p[k]] || 0) + 1), m), {})).sort((a, b) => b[1] - a[1]);
      const industries = count('industry').filter(([v]) => v !== 'null').slice(0, 2).map(([v]) => v);
      const statuses = count('status').slice(0, 2).map(([v]) => v);
      let first;
      await t.step(`filter industry ${industries.join(', ')} and status ${statuses.join(', ')}`, async () => {
        await chooseMany(page, 'prospects-filter-industry', industries);
        await chooseMany(page, 'prospects-filter-status', statuses);
        first = await matchesApi(t, seen, { industry: industries, status: statuses, cursor: false });
        check(first.total > 0 && first.total < all.length, `the filters match ${first.total} of ${all.length}`);
        for (const p of all.filter((x) => first.ids.includes(x.id)))
          check(industries.includes(p.industry) && statuses.includes(p.status), `row ${p.id} (${p.industry}, ${p.status}) does not fit the filters`);
      });
      if (first.link) {
        await t.step('next page: the rows of the API\'s next page (its Link cursor), then back', async () => {
          const cursor = new URL(/<([^>]+)>/.exec(first.link)[1], stack.url).searchParams.get('cursor');
          await tid(page, 'prospects-next').click();
          const second = await matchesApi(t, seen, { industry: industries, status: statuses, cursor });
          check(!second.ids.some((id) => first.ids.includes(id)), 'the next page repeats rows of the first');
          await tid(page, 'prospects-prev').click();
          await matchesApi(t, seen, { industry: industries, status: statuses, cursor: false });
        });
      }
      await t.step('sort by company, then descending: rows in the API\'s order for sort=company and sort=-company', async () => {
        // the column header (data-testid prospects-sort-company, else the header's button)
        let h = tid(page, 'prospects-sort-company');
        if (!(await h.count())) h = page.getByRole('columnheader', { name: /company/i }).getByRole('button');
        await h.first().click();
        const asc = await matchesApi(t, seen, { industry: industries, status: statuses, sort: 'company', cursor: false });
        await h.first().click();
        const desc = await matchesApi(t, seen, { industry: industries, status: statuses, sort: '-company', cursor: false });
        const names = async (ids) => ids.map((id) => all.find((p) => p.id === id)?.company);
        const a = await names(asc.ids), d = await names(desc.ids);
        check(a.length > 1 && a[0].localeCompare(a.at(-1)) <= 0 && d[0].localeCompare(d.at(-1)) >= 0, `not sorted: ${a.slice(0, 3)} … / ${d.slice(0, 3)} …`);
        await h.first().click(); // the third click: no sort
        await matchesApi(t, seen, { industry: industries, status: statuses, sort: '', cursor: false });
      });
      await t.step('search as well: rows and total still match the API', async () => {
        // a search term that keeps some of the filtered rows but not all
        const names = all.filter((p) => industries.includes(p.industry) && statuses.includes(p.status)).map((p) => p.name.toLowerCase());
        const term = ['an', 'er', 'ar', 'el', 'in', 'a'].find((s) => {
          const n = names.filter((x) => x.includes(s)).length;
          return n > 0 && n < names.length;
        }) || 'a';
        await tid(page, 'prospects-search').fill(term);
        const r = await matchesApi(t, seen, { search: term, industry: industries, status: statuses, cursor: false });
        check(r.total > 0 && r.total <= first.total, `search ${term}: ${r.total} of ${first.total}`);
      });
    },
  },
  {
    name: 'b. import a CSV with one bad row: progress bar, created count, the rejected line; found by search',
    async fn(t) {
      const { page, stack } = t;
      await ensureKey(t);
      const tag = `Kittiwake${Date.now() % 100000}`;
      const rows = 2000, badAt = 1234; // the data row whose email is malformed
      const lines = ['name,company,email,industry,status'];
      for (let i = 0; i < rows; i++) {
        const email = i === badAt ? 'not-an-email' : `e2e.${tag.toLowerCase()}.${i}@kittiwake.example`;
        lines.push(`Ada ${tag} ${i},${tag} Holdings ${i % 17},${email},Logistics,new`);
      }
      const csv = lines.join('\n') + '\n';
      const badLine = badAt + 2; // line 1 is the header
      await open(t, '/');
      const cdp = await t.context.newCDPSession(page);
      let upload;
      await t.step('choose the file and start: the progress bar appears while it uploads', async () => {
        let input = tid(page, 'import-file');
        if (!(await input.count())) {
          const opener = page.getByRole('button', { name: /import/i }).first();
          if (await opener.count()) await opener.click();
        }
        // a slow upload (about 2 s), so that the bar is there to be seen
        await cdp.send('Network.enable');
        await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: Math.ceil(csv.length / 2) });
        await tid(page, 'import-file').setInputFiles({ name: 'e2e-import.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
        upload = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/prospects/import', { timeout: 60000 });
        await page.evaluate((fnSrc) => {
          const progressOf = new Function(`return (${fnSrc})`)();
          const seen = (window.__e2eImport = []);
          new MutationObserver(() => {
            const v = progressOf(document.querySelector('[data-testid="import-progress"]'));
            if (v !== null && seen.at(-1) !== v) seen.push(v);
          }).observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
        }, PROGRESS_FN);
        const start = tid(page, 'import-start');
        if (await start.count()) await start.click();
        await tid(page, 'import-progress').waitFor({ state: 'visible', timeout: 5000 });
      });
      await t.step('the import answers: the result shows the created count and the rejected row with its line', async () => {
        const resp = await upload;
        await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
        const seen = await page.evaluate(() => window.__e2eImport);
        t.log(`import-progress values seen: ${seen.map((v) => Math.round(v)).join(', ')}`);
        check(seen.some((v) => v > 0 && v < 100), `import-progress never showed a value between 0 and 100 %: ${JSON.stringify(seen)}`);
        const body = await resp.json();
        checkEq([resp.status(), body.imported, body.rejected_total, body.rejected?.[0]?.line], [200, rows - 1, 1, badLine], 'the import\'s answer (status, imported, rejected_total, rejected line)');
        await tid(page, 'import-result').waitFor();
        const text = await tid(page, 'import-result').textContent();
        check(numbersIn(text).includes(rows - 1), `import-result does not show ${rows - 1} created: "${text}"`);
        const rej = tid(page, 'import-rejected');
        await rej.first().waitFor();
        const rt = (await rej.allTextContents()).join(' | ');
        check(numbersIn(rt).includes(badLine), `import-rejected does not show line ${badLine}: "${rt}"`);
        check(/email/i.test(rt), `import-rejected does not say what is wrong (email): "${rt}"`);
      });
      await t.step(`search "${tag}" (no filter): the new prospects are found`, async () => {
        await chooseMany(page, 'prospects-filter-industry', []);
        await chooseMany(page, 'prospects-filter-status', []);
        await tid(page, 'prospects-search').fill(tag);
        await eventually(`prospects-total shows ${rows - 1}`, async () => numbersIn((await textOf(page, 'prospects-total')) || '').includes(rows - 1), {
          describe: async () => `prospects-total: ${await textOf(page, 'prospects-total')}`,
        });
        const ids = await rowIds(page);
        check(ids.length > 0, 'no row');
        const texts = await tid(page, 'prospects-row').allTextContents();
        check(texts.every((x) => x.includes(tag)), `a row without ${tag}: ${texts.find((x) => !x.includes(tag))}`);
        await tid(page, 'prospects-search').fill('');
      });
    },
  },
  {
    name: 'c. a dry-run campaign from the Run page, watched live to completed on the job page',
    async fn(t) {
      const { page, stack } = t;
      await ensureKey(t);
      let sse = [];
      page.on('request', (r) => {
        if (/\/api\/jobs\/[^/]+\/events/.test(r.url())) sse.push(r.url());
      });
      let jobId;
      await t.step(`paste ${DRY_SITES.length} fixture sites, template, dry run; start`, async () => {
        jobId = await startRun(t, { targets: DRY_SITES.map((s) => stack.siteUrl(s)), dryRun: true });
      });
      let seen;
      await t.step('the job page follows it live (SSE) to 100 % and completed, without a reload', async () => {
        seen = await watchCompleted(t, jobId);
        check(sse.some((u) => u.includes(jobId)), `no request to /api/jobs/${jobId}/events: ${JSON.stringify(sse)}`);
        check(seen.mark === 'no reload', 'the page was reloaded');
        const tl = seen.timeline;
        t.log(`timeline (ms, %, status): ${tl.map((e) => `${Math.round(e.t)} ${e.pct === null ? '-' : Math.round(e.pct)} ${e.status}`).join(' | ')}`);
        check(tl.some((e) => e.pct !== null && e.pct > 0 && e.pct < 100), `the progress was never seen between 0 and 100 %: ${JSON.stringify(tl)}`);
        const lastPct = await progressOf(tid(page, 'job-progress'));
        check(Math.round(lastPct) === 100, `job-progress shows ${lastPct} %`);
        const firstDone = tl.findIndex((e) => /completed/i.test(e.status || ''));
        check(firstDone > 0, `completed was there from the start: ${JSON.stringify(tl)}`);
      });
      await t.step('counts and task rows match the API', async () => {
        const job = (await stack.api('GET', `/api/jobs/${jobId}`)).json;
        checkEq([job.status, job.counts.succeeded], ['completed', DRY_SITES.length], 'the job (API)');
        const n = await tid(page, 'job-count-succeeded').textContent();
        check(numbersIn(n).includes(DRY_SITES.length), `job-count-succeeded shows "${n}"`);
        await eventually(`${DRY_SITES.length} task rows`, async () => (await tid(page, 'job-task-row').count()) === DRY_SITES.length);
        const rows = (await tid(page, 'job-task-row').allTextContents()).join('\n');
        check(/dry.?run/i.test(rows), `no task row says dry run: ${rows.slice(0, 500)}`);
      });
    },
  },
  {
    name: 'd. a hand-off: a run against a CAPTCHA site, copied values, marked done',
    async fn(t) {
      const { page, stack, context } = t;
      await ensureKey(t);
      let jobId;
      await t.step(`run against ${CAPTCHA_SITE} (not a dry run): the job completes with one captcha_required`, async () => {
        jobId = await startRun(t, { targets: [stack.siteUrl(CAPTCHA_SITE)], dryRun: false });
        await watchCompleted(t, jobId);
        const job = (await stack.api('GET', `/api/jobs/${jobId}`)).json;
        checkEq(job.counts.captcha_required, 1, 'captcha_required tasks (API)');
      });
      const api = (await stack.api('GET', '/api/handoffs')).json;
      check(api.items?.length === 1, `GET /api/handoffs: ${JSON.stringify(api).slice(0, 500)}`);
      const h = api.items[0];
      const visible = h.fields.filter((f) => f.value && !['hidden', 'captcha', 'honeypot'].includes(f.kind));
      await t.step('the Hand-offs page lists it with its prefilled values', async () => {
        await open(t, '/handoffs');
        await tid(page, 'handoff-row').first().waitFor();
        checkEq(await tid(page, 'handoff-row').count(), 1, 'handoff-row count');
        // its text and the values of its fields (inputs, text areas)
        const text = await tid(page, 'handoff-row').evaluate((r) => [r.textContent, ...[...r.querySelectorAll('input, textarea')].map((i) => i.value)].join('\n'));
        for (const f of visible) check(text.includes(f.value), `the row does not show ${f.name} = "${f.value}": ${text.slice(0, 600)}`);
      });
      await t.step('a copy button puts its value on the clipboard', async () => {
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
        const copies = await tid(page, 'handoff-row').locator('[data-testid^="handoff-copy-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
        check(copies.length > 0, 'no handoff-copy-* button');
        // the e-mail field's button, by field name or kind, else the first
        const key = (s) => s.replace(/^handoff-copy-/, '');
        const pick = copies.find((c) => h.fields.some((f) => f.kind === 'email' && (f.name === key(c) || f.kind === key(c)))) || copies[0];
        const field = h.fields.find((f) => f.name === key(pick) || f.kind === key(pick));
        check(field, `${pick} names no field of the hand-off (${h.fields.map((f) => f.name).join(', ')})`);
        await page.evaluate(() => navigator.clipboard.writeText('(nothing yet)'));
        await tid(page, pick).first().click();
        await eventually(`the clipboard holds ${field.name}'s value`, async () => (await page.evaluate(() => navigator.clipboard.readText())) === field.value, {
          describe: async () => `clipboard: ${await page.evaluate(() => navigator.clipboard.readText())}`,
        });
      });
      await t.step('"open" opens the form\'s page in a new tab', async () => {
        const a = tid(page, 'handoff-open').first();
        const href = await a.getAttribute('href');
        const target = await a.getAttribute('target');
        check(href === h.page_url || href === h.target, `handoff-open href ${href}, page_url ${h.page_url}`);
        check(target === '_blank', `handoff-open target ${target}`);
        const rel = (await a.getAttribute('rel')) || '';
        check(/noopener|noreferrer/.test(rel), `handoff-open rel "${rel}"`);
      });
      await t.step('mark done: the row goes, GET /api/handoffs is empty, the task says done', async () => {
        page.once('dialog', (d) => d.accept());
        await tid(page, 'handoff-done').first().click();
        await eventually('the hand-off row disappears', async () => (await tid(page, 'handoff-row').count()) === 0);
        const after = await stack.api('GET', '/api/handoffs');
        checkEq([after.json.total, after.json.items.length], [0, 0], 'GET /api/handoffs total and items');
        const tasks = (await stack.api('GET', `/api/jobs/${jobId}/tasks`)).json;
        checkEq(tasks[0]?.handoff?.status, 'done', 'the task\'s handoff status');
      });
    },
  },
  {
    name: 'h. edit a prospect: a refused e-mail shown at its field, then a saved change the API returns',
    async fn(t) {
      const { page, stack } = t;
      await ensureKey(t);
      await open(t, '/');
      const row = tid(page, 'prospects-row').first();
      await row.waitFor();
      const id = await row.getAttribute('data-id');
      const before = (await stack.api('GET', `/api/prospects/${id}`)).json;
      const newStatus = before.status === 'qualified' ? 'replied' : 'qualified';
      await t.step(`open ${id}'s editor, a malformed e-mail: the field says why, nothing is saved`, async () => {
        await row.locator('[data-testid="prospect-edit-open"]').click();
        await tid(page, 'prospect-edit-dialog').waitFor();
        await tid(page, 'prospect-edit-email').fill('not-an-email');
        await tid(page, 'prospect-edit-save').click();
        await eventually('prospect-edit-error-email says what is wrong', async () => /email|address/i.test((await textOf(page, 'prospect-edit-error-email')) || ''), {
          describe: async () => `field error: ${await textOf(page, 'prospect-edit-error-email')}; error: ${await textOf(page, 'prospect-edit-error')}`,
        });
        checkEq((await stack.api('GET', `/api/prospects/${id}`)).json.email, before.email, 'the e-mail stored');
      });
      await t.step(`status ${newStatus}, a title: saved, the dialog closes, the API and the row have them`, async () => {
        await tid(page, 'prospect-edit-email').fill(before.email || '');
        await tid(page, 'prospect-edit-status').selectOption(newStatus);
        await tid(page, 'prospect-edit-title').fill('Chief E2E Officer');
        const [resp] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith(`/api/prospects/${id}`) && r.request().method() === 'PATCH'),
          tid(page, 'prospect-edit-save').click(),
        ]);
        checkEq(resp.status(), 200, `PATCH /api/prospects/${id}`);
        await tid(page, 'prospect-edit-dialog').waitFor({ state: 'detached' });
        const after = (await stack.api('GET', `/api/prospects/${id}`)).json;
        checkEq([after.status, after.title, after.email, after.name], [newStatus, 'Chief E2E Officer', before.email, before.name], 'the prospect (API)');
        const r2 = page.locator(`[data-testid="prospects-row"][data-id="${id}"]`);
        await eventually('the row shows the new status and title', async () => {
          const x = (await r2.textContent()) || '';
          return x.includes(newStatus) && x.includes('Chief E2E Officer');
        }, { describe: async () => `row: ${await r2.textContent()}` });
      });
    },
  },
  {
    name: 'e. a wrong key is refused with a message; an unreachable API shows the banner, then recovers',
    async fn(t) {
      const { page, stack } = t;
      await ensureKey(t);
      await t.step('a wrong key: a message says the key is refused', async () => {
        await enterKey(page, 'wrong-key-0123456789abcdef');
        await eventually('api-banner says the key is refused', async () => /refus|invalid|wrong|unauthori[sz]ed|401/i.test((await textOf(page, 'api-banner')) || ''), {
          describe: async () => `api-banner: ${await textOf(page, 'api-banner')}`,
        });
      });
      await t.step('the right key again: the message goes, the rows come back', async () => {
        await enterKey(page, stack.apiKey);
        await tid(page, 'prospects-row').first().waitFor();
        await eventually('api-banner gone', async () => !(await tid(page, 'api-banner').isVisible()));
      });
      await t.step('the gateway stopped: an in-app navigation shows "API unreachable"', async () => {
        await stack.stopGateway();
        await tid(page, 'nav-jobs').click();
        await eventually('api-banner says unreachable', async () => /unreachable/i.test((await textOf(page, 'api-banner')) || ''), {
          timeoutMs: 20000,
          describe: async () => `api-banner: ${await textOf(page, 'api-banner')}`,
        });
      });
      await t.step('the gateway back: retry clears the banner', async () => {
        await stack.restartGateway();
        const retry = tid(page, 'api-banner').getByRole('button', { name: /retry|try again/i });
        if (await retry.count()) await retry.first().click();
        await eventually('api-banner gone', async () => !(await tid(page, 'api-banner').isVisible()), { timeoutMs: 20000 });
      });
    },
  },
  {
    name: 'g. Workers & queues: live workers and queue depths as the API says; a dead letter requeued',
    async fn(t) {
      const { page, stack } = t;
      await ensureKey(t);
      stack.flaky.failing = true;
      let dead;
      await t.step('a run against a site that answers 503 ends in a dead letter (API)', async () => {
        const r = await stack.api('POST', '/api/automation/contact-forms/run', { message_template: TEMPLATE, targets: [stack.flaky.url], options: { enrich: false } });
        checkEq(r.status, 202, `POST run: ${r.text}`);
        dead = await eventually('GET /api/dead lists the task', async () => (await stack.api('GET', '/api/dead')).json?.items?.find((d) => d.job_id === r.json.job_id), { timeoutMs: 30000 });
      });
      await t.step('the Workers page: a row per live worker, the queue depths, the dead letter', async () => {
        await open(t, '/workers');
        await tid(page, 'workers-table').waitFor();
        const workers = (await stack.api('GET', '/api/workers')).json.workers.map((w) => w.id || w.worker_id).filter(Boolean).sort();
        await eventually('workers-table names every live worker', async () => {
          const text = await tid(page, 'workers-table').textContent();
          return workers.every((w) => text.includes(w));
        }, { describe: async () => `API: ${workers.join(', ')}; table: ${await textOf(page, 'workers-table')}` });
        await tid(page, 'queues-table').waitFor();
        const q = (await stack.api('GET', '/api/queues')).json;
        check(q.dead >= 1, `GET /api/queues: ${JSON.stringify(q)}`);
        await eventually(`queues-table shows ${q.dead} dead`, async () => numbersIn((await textOf(page, 'queues-table')) || '').includes(q.dead));
        const row = page.locator(`[data-testid="dead-row"][data-task="${dead.task_id}"], [data-testid="dead-row"]:has-text("${dead.task_id}")`).first();
        await row.waitFor();
        check(/fail/i.test(await row.textContent()), `the dead row does not say failed: ${await row.textContent()}`);
      });
      await t.step('the site back, Requeue: the task goes round again and ends skipped (no form)', async () => {
        stack.flaky.failing = false;
        const row = page.locator(`[data-testid="dead-row"][data-task="${dead.task_id}"], [data-testid="dead-row"]:has-text("${dead.task_id}")`).first();
        const [resp] = await Promise.all([
          page.waitForResponse((r) => r.url().includes(`/api/tasks/${dead.task_id}/requeue`)),
          row.locator('[data-testid="dead-requeue"]').click(),
        ]);
        checkEq(resp.status(), 200, `POST /api/tasks/${dead.task_id}/requeue`);
        const [jobId, task] = [dead.job_id, dead.task_id.slice(dead.job_id.length + 1)];
        await eventually('the task ends skipped (API)', async () => {
          const tasks = (await stack.api('GET', `/api/jobs/${jobId}/tasks`)).json;
          return tasks.find((x) => x.id === task)?.state === 'skipped';
        }, { timeoutMs: 30000, describe: async () => JSON.stringify((await stack.api('GET', `/api/jobs/${jobId}/tasks`)).json).slice(0, 600) });
        await eventually('the dead row shows the task\'s state now (skipped), without Requeue', async () => /skipped/i.test(await row.textContent()) && !(await row.locator('[data-testid="dead-requeue"]').isEnabled().catch(() => false)), {
          timeoutMs: 10000,
          describe: async () => `row: ${await row.textContent()}`,
        });
      });
    },
  },
  {
    name: 'f. every page renders (deep links too) without page errors or CSP violations',
    async fn(t) {
      const { page, stack } = t;
      await ensureKey(t);
      const violations = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      const errorsBefore = t.runner.pageErrors.length;
      const jobs = (await stack.api('GET', '/api/jobs?limit=1')).json;
      const job = (Array.isArray(jobs) ? jobs : jobs?.items || [])[0];
      const paths = ['/prospects', '/campaigns', '/run', '/jobs', '/handoffs', '/workers', '/enrichment'];
      if (job) paths.push(`/jobs/${job.id || job.job_id}`);
      for (const p of paths) {
        await t.step(`load ${p}`, async () => {
          const r = await page.goto(stack.url + p);
          checkEq(r.status(), 200, `GET ${p}`);
          await page.locator('main h1, main h2').first().waitFor();
          await settle(page);
          const bodyText = await page.locator('body').innerText();
          check(bodyText.trim().length > 0, `${p} renders nothing`);
          const banner = await textOf(page, 'api-banner');
          check(banner === null, `${p} shows api-banner: ${banner}`);
        });
      }
      check(violations.length === 0, `CSP violations: ${violations.join(' | ')}`);
      const errs = t.runner.pageErrors.slice(errorsBefore);
      check(errs.length === 0, `page errors: ${errs.join(' | ')}`);
    },
  },
];
