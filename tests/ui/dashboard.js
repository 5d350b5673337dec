// Drives the coordinator's dashboard in Debian's chromium (headless) with
// playwright-core: the job graph has a node per operator, the numbers
// change without a reload, a task row opens its details, the workers and
// events pages list what they should; saves a screenshot.
// Run by dashboard_ui.py, which starts the cluster:
//   node dashboard.js URL JOB OPERATORS_JSON TASKS SCREENSHOT
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [url, job, operatorsJson, tasksArg, screenshot] = process.argv.slice(2);
const operators = JSON.parse(operatorsJson);
const nTasks = Number(tasksArg);

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok: ' + what);
}

async function recordsIn(page) {
  return page.$$eval('tr.task td.records-in', (tds) =>
    tds.reduce((a, td) => a + Number(td.textContent || 0), 0));
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-ui-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1500, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const external = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('request', (r) => {
      if (!r.url().startsWith(url)) external.push(r.url());
    });
    page.on('pageerror', (e) => { throw e; });
    await page.goto(url + '/#/jobs/' + encodeURIComponent(job));
    await page.evaluate(() => { window.__weirNoReload = true; });

    // the graph: one node per operator of the topology, topics, edges
    await page.waitForFunction((n) =>
      document.querySelectorAll('svg.job-graph g.node.op').length === n,
      operators.length, { timeout: 20000 });
    const titles = await page.$$eval('svg.job-graph g.node.op title',
      (ts) => ts.map((t) => t.textContent.split('\n')[0]));
    for (const op of operators) check(titles.includes(op), 'graph node for operator ' + op);
    check(titles.length === operators.length, operators.length + ' operator nodes');
    const topics = await page.$$eval('svg.job-graph g.node.topic', (n) => n.length);
    check(topics > 0, topics + ' topic nodes');
    const edges = await page.$$eval('svg.job-graph path.edge', (n) => n.length);
    check(edges >= operators.length, edges + ' edges');
    const boxes = await page.$$eval('svg.job-graph g.subtopology', (n) => n.length);
    check(boxes >= 2, boxes + ' subtopology boxes');

    // task rows, and numbers that change without a reload
    await page.waitForFunction((n) =>
      document.querySelectorAll('tr.task').length === n, nTasks, { timeout: 20000 });
    check(true, nTasks + ' task rows');
    const before = await recordsIn(page);
    const deadline = Date.now() + 30000;
    let after = before;
    while (after <= before && Date.now() < deadline) {
      await page.waitForTimeout(500);
      after = await recordsIn(page);
    }
    check(after > before, 'records in grew from ' + before + ' to ' + after);
    await page.waitForFunction(() => [...document.querySelectorAll('tr.task td.in-rate')]
      .some((td) => /[1-9]/.test(td.textContent)), null, { timeout: 20000 });
    check(true, 'a task shows a non-zero input rate');
    check(await page.evaluate(() => window.__weirNoReload === true), 'the page never reloaded');

    // click into a task
    const row = page.locator('tr.task').first();
    const name = await row.getAttribute('data-task');
    await row.click();
    await page.waitForSelector('#detail:not([hidden]) #task-title', { timeout: 10000 });
    const title = await page.textContent('#task-title');
    check(title.includes(name), 'detail panel of task ' + name + ': ' + title);
    check(page.url().includes('/tasks/' + name), 'the task is in the URL');
    const dd = await page.$$eval('#detail dt', (dts) => dts.map((d) => d.textContent));
    for (const k of ['owner', 'commit latency p99', 'restore', 'last commit'])
      check(dd.includes(k), 'detail shows ' + k);

    // workers and events pages
    await page.click('nav a[data-nav=workers]');
    await page.waitForSelector('tr[data-worker=w1]', { timeout: 10000 });
    await page.waitForSelector('tr[data-worker=w2]', { timeout: 10000 });
    check(true, 'workers page lists w1 and w2');
    await page.click('nav a[data-nav=events]');
    await page.waitForSelector('tr[data-event=submit]', { timeout: 10000 });
    await page.waitForSelector('tr[data-event=rebalance]', { timeout: 10000 });
    check(true, 'events page lists the submit and a rebalance');

    // back to the task, and a picture of it all
    await page.goBack();
    await page.goBack();
    await page.waitForSelector('#detail:not([hidden]) #task-title', { timeout: 10000 });
    await page.waitForTimeout(1500);
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    check(external.length === 0, 'no request left the coordinator ' + JSON.stringify(external));
    console.log('screenshot: ' + screenshot);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
