// kafkajs (pure JavaScript Kafka client) against weir-broker.
//
//   node broker_clients_kafkajs.js <case> <bootstrap>
//
// Run by broker_clients_kafkajs.py, which starts the broker, runs one case
// and checks the topics it wrote with a second, independent client. Prints
// one JSON object (the case's observations) on the last stdout line; exits
// non-zero on any failure. kafkajs' own ERROR log lines are reported in
// the JSON ("errors") so the driver can fail on unexpected ones.
'use strict';

const { Kafka, logLevel } = require('kafkajs');

const [caseName, bootstrap] = process.argv.slice(2);
const PARTS = 3;
const errors = [];

const kafka = new Kafka({
  clientId: 'weir-test-kafkajs',
  brokers: [bootstrap],
  connectionTimeout: 5000,
  requestTimeout: 15000,
  retry: { retries: 5, initialRetryTime: 100 },
  logLevel: logLevel.WARN,
  logCreator: () => ({ level, log }) => {
    if (level <= logLevel.ERROR) {
      errors.push(`${log.logger || ''} ${log.message} ${log.error || ''}`.trim());
    }
  },
});

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

function deadline(ms, what) {
  let timer;
  const p = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return { p, cancel: () => clearTimeout(timer) };
}

async function createTopics(topics) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: PARTS })),
      waitForLeaders: true,
      timeout: 10000,
    });
    check(created === true, `createTopics ${topics} returned ${created}`);
    const md = await admin.fetchTopicMetadata({ topics });
    for (const t of md.topics) {
      check(t.partitions.length === PARTS, `${t.name} partitions`);
      for (const p of t.partitions) check(p.leader === 1, `${t.name} leader`);
    }
  } finally {
    await admin.disconnect();
  }
}

function records(tag, n) {
  const out = [];
  for (let p = 0; p < PARTS; p++) {
    for (let i = 0; i < n; i++) {
      out.push({ partition: p, key: `${tag}-${p}`, value: `${tag}-${p}-${i}` });
    }
  }
  return out;
}

async function seedInput(topic, n) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const res = await producer.send({ topic, acks: -1, messages: records('in', n) });
    check(res.every((r) => r.errorCode === 0), 'seed errors');
  } finally {
    await producer.disconnect();
  }
}

function offsetsFor(topic, offset) {
  const partitions = [];
  for (let p = 0; p < PARTS; p++) partitions.push({ partition: p, offset: String(offset) });
  return [{ topic, partitions }];
}

async function groupOffsets(groupId, topic) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] });
    const out = {};
    for (const t of res) {
      for (const p of t.partitions) out[p.partition] = Number(p.offset);
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

// Transactional produce + sendOffsets: commit, abort, commit.
async function caseTxn() {
  await createTopics(['js-in', 'js-out']);
  await seedInput('js-in', 10);
  const producer = kafka.producer({
    transactionalId: 'js-tx',
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 30000,
  });
  await producer.connect();
  const plan = [
    ['c1', 5, 'commit'],
    ['a2', 8, 'abort'],
    ['c3', 10, 'commit'],
  ];
  const offsetsAfter = {};
  for (const [tag, offset, end] of plan) {
    const txn = await producer.transaction();
    await txn.send({ topic: 'js-out', messages: records(tag, 4) });
    await txn.sendOffsets({
      consumerGroupId: 'js-group',
      topics: offsetsFor('js-in', offset),
    });
    if (end === 'commit') await txn.commit();
    else await txn.abort();
    offsetsAfter[tag] = await groupOffsets('js-group', 'js-in');
  }
  await producer.disconnect();
  return { offsetsAfter };
}

// A second producer with the same transactionalId fences the first.
async function caseFencing() {
  await createTopics(['js-fx']);
  const opts = { transactionalId: 'js-fx-tx', idempotent: true, maxInFlightRequests: 1 };
  const p1 = kafka.producer(opts);
  await p1.connect();
  const t1 = await p1.transaction();
  await t1.send({ topic: 'js-fx', messages: records('zombie', 2) });
  const p2 = kafka.producer(opts);
  await p2.connect();
  const t2 = await p2.transaction();
  let zombieError = null;
  try {
    await t1.commit();
  } catch (e) {
    zombieError = e.type || e.name;
  }
  await t2.send({ topic: 'js-fx', messages: records('ok', 2) });
  await t2.commit();
  await p1.disconnect().catch(() => {});
  await p2.disconnect();
  return { zombieError };
}

// A read_committed consumer in a group reads back what a transactional
// producer committed, never what it aborted, and commits its offsets.
async function caseConsume() {
  await createTopics(['js-rc']);
  const producer = kafka.producer({
    transactionalId: 'js-rc-tx',
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  for (const [tag, end] of [['c1', 'commit'], ['a2', 'abort'], ['c3', 'commit']]) {
    const txn = await producer.transaction();
    await txn.send({ topic: 'js-rc', messages: records(tag, 3) });
    if (end === 'commit') await txn.commit();
    else await txn.abort();
  }
  // A fourth transaction stays open while the consumer reads: the last
  // stable offset holds the consumer before it until it commits.
  const open = await producer.transaction();
  await open.send({ topic: 'js-rc', messages: records('o4', 3) });

  const consumer = kafka.consumer({
    groupId: 'js-rc-group',
    readUncommitted: false,
    maxWaitTimeInMs: 200,
    sessionTimeout: 10000,
    heartbeatInterval: 500,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: ['js-rc'], fromBeginning: true });
  const got = [];
  let want = 2 * PARTS * 3;
  let reached = null;
  consumer.run({
    autoCommit: true,
    eachMessage: async ({ partition, message }) => {
      got.push({ partition, offset: Number(message.offset), value: message.value.toString() });
      if (reached && got.length >= want) reached();
    },
  });
  const waitCount = async (what) => {
    const dl = deadline(30000, `${want} records via the kafkajs consumer (${what})`);
    const p = new Promise((resolve) => {
      reached = resolve;
      if (got.length >= want) resolve();
    });
    try {
      await Promise.race([p, dl.p]);
    } finally {
      dl.cancel();
    }
  };
  await waitCount('before the open transaction commits');
  // Nothing more may arrive while the transaction is open.
  await new Promise((r) => setTimeout(r, 1000));
  const beforeCommit = got.length;
  await open.commit();
  await producer.disconnect();
  want += PARTS * 3;
  await waitCount('after it commits');
  await new Promise((r) => setTimeout(r, 500));
  await consumer.stop();
  await consumer.disconnect();
  const committed = await groupOffsets('js-rc-group', 'js-rc');
  return { got, committed, beforeCommit };
}

// Transactions while the broker injects faults (its --admin API): lost
// answers, retriable errors, dropped connections, delays and a pause.
// Every transaction is retried until it commits; the driver then checks
// that each one is visible exactly once.
async function caseFaults() {
  const adminUrl = process.argv[4];
  check(adminUrl, 'admin URL argument');
  const fault = async (path) => {
    const r = await fetch(adminUrl + path, { method: 'POST' });
    check(r.ok, `${path}: HTTP ${r.status}`);
  };
  await createTopics(['js-fi']);
  const opts = {
    transactionalId: 'js-fi-tx',
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 8, initialRetryTime: 100 },
  };
  let producer = kafka.producer(opts);
  await producer.connect();
  const plan = [
    [null, null],
    ['before', '/fault/lose?api=Produce&count=1'],
    ['before', '/fault/fail?api=Produce&count=2&error=7'],
    ['before', '/fault/lose?api=AddPartitionsToTxn&count=1'],
    ['before', '/fault/fail?api=AddPartitionsToTxn&count=2&error=51'],
    ['before', '/fault/lose?api=AddOffsetsToTxn&count=1'],
    ['before', '/fault/lose?api=TxnOffsetCommit&count=1'],
    ['before', '/fault/lose?api=EndTxn&count=1'],
    ['before', '/fault/fail?api=EndTxn&count=2&error=51'],
    ['sent', '/fault/drop'],
    ['sent', '/fault/pause?ms=700'],
    ['before', '/fault/delay?api=Produce&ms=300'],
    ['before', '/fault/lose?api=FindCoordinator&count=1'],
  ];
  const attempts = [];
  for (let i = 0; i < plan.length; i++) {
    const [when, path] = plan[i];
    const tag = `t${i}`;
    let n = 0;
    for (;;) {
      n++;
      check(n <= 4, `transaction ${tag} (${path}) never committed`);
      if (when === 'before' && n === 1) await fault(path);
      let txn = null;
      try {
        txn = await producer.transaction();
        await txn.send({ topic: 'js-fi', messages: records(tag, 2) });
        if (when === 'sent' && n === 1) await fault(path);
        await txn.sendOffsets({
          consumerGroupId: 'js-fi-group',
          topics: [{ topic: 'js-fi', partitions: [{ partition: 0, offset: String(i + 1) }] }],
        });
        await txn.commit();
        attempts.push({ tag, path, n, result: 'committed' });
        break;
      } catch (e) {
        attempts.push({ tag, path, n, result: `${e.name}: ${e.type || ''} ${e.message}` });
        await fault('/fault/clear');
        // The answer may have been lost after the transaction committed:
        // the offset it sent tells (as an exactly-once application does).
        const off = (await groupOffsets('js-fi-group', 'js-fi'))[0];
        if (off === i + 1) {
          attempts.push({ tag, path, n, result: 'committed (answer lost)' });
          await producer.disconnect().catch(() => {});
          producer = kafka.producer(opts);
          await producer.connect();
          break;
        }
        // Abort and retry; a producer whose transaction cannot be aborted
        // is replaced (the new one's InitProducerId aborts what was open).
        try {
          if (txn) await txn.abort();
        } catch (e2) {
          attempts.push({ tag, path, n, result: `abort: ${e2.name}: ${e2.type || ''} ${e2.message}` });
          await producer.disconnect().catch(() => {});
          producer = kafka.producer(opts);
          await producer.connect();
        }
      } finally {
        await fault('/fault/clear');
      }
    }
  }
  await producer.disconnect();
  const committed = await groupOffsets('js-fi-group', 'js-fi');
  return { attempts, committed, transactions: plan.length };
}

// After a broker restart (the driver ran "txn" before it): the group's
// offsets are still there, and the same transactionalId carries on.
async function caseAfterRestart() {
  const before = await groupOffsets('js-group', 'js-in');
  const producer = kafka.producer({
    transactionalId: 'js-tx',
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const txn = await producer.transaction();
  await txn.send({ topic: 'js-out', messages: records('c4', 4) });
  await txn.sendOffsets({ consumerGroupId: 'js-group', topics: offsetsFor('js-in', 12) });
  await txn.commit();
  await producer.disconnect();
  const after = await groupOffsets('js-group', 'js-in');
  return { before, after };
}

// Reads <count> records of a one-partition topic written by another client
// (argv: topic count) with a read_committed kafkajs group consumer.
async function caseRead() {
  const [topic, countArg] = process.argv.slice(4);
  const want = Number(countArg);
  const consumer = kafka.consumer({ groupId: `js-read-${topic}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const got = [];
  const dl = deadline(30000, `${want} records of ${topic}`);
  const done = new Promise((resolve) => {
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push({ partition, offset: Number(message.offset), value: message.value.toString() });
        if (got.length >= want) resolve();
      },
    });
  });
  try {
    await Promise.race([done, dl.p]);
  } finally {
    dl.cancel();
  }
  await new Promise((r) => setTimeout(r, 1000));
  await consumer.disconnect();
  return { got };
}

// Two kafkajs consumers in one group (its RoundRobinAssigner) share a
// topic's partitions; when one leaves, the other gets them all.
async function caseGroup() {
  await createTopics(['js-g']);
  const producer = kafka.producer();
  await producer.connect();
  const batch = (from, to) => {
    const msgs = [];
    for (let i = from; i < to; i++) msgs.push({ partition: i % PARTS, value: `m${i}` });
    return msgs;
  };
  await producer.send({ topic: 'js-g', acks: -1, messages: batch(0, 30) });
  const seen = { c1: [], c2: [] };
  const parts = { c1: [], c2: [] };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const waitFor = async (cond, what) => {
    for (let i = 0; i < 120; i++) {
      if (cond()) return;
      await sleep(250);
    }
    throw new Error(`timed out: ${what} (${JSON.stringify(parts)})`);
  };
  const member = async (name) => {
    const c = kafka.consumer({
      groupId: 'js-g-group',
      sessionTimeout: 10000,
      heartbeatInterval: 300,
      rebalanceTimeout: 10000,
      maxWaitTimeInMs: 200,
    });
    c.on(c.events.GROUP_JOIN, (e) => {
      parts[name] = (e.payload.memberAssignment['js-g'] || []).slice().sort();
    });
    await c.connect();
    await c.subscribe({ topics: ['js-g'], fromBeginning: true });
    await c.run({
      eachMessage: async ({ message }) => {
        seen[name].push(message.value.toString());
      },
    });
    return c;
  };
  const c1 = await member('c1');
  await waitFor(() => parts.c1.length === PARTS && seen.c1.length >= 30, 'c1 alone');
  const c2 = await member('c2');
  await waitFor(() => parts.c1.length + parts.c2.length === PARTS && parts.c1.length > 0 &&
    parts.c2.length > 0, 'c1 and c2 sharing');
  const split = { c1: parts.c1, c2: parts.c2 };
  await producer.send({ topic: 'js-g', acks: -1, messages: batch(30, 60) });
  await waitFor(() => new Set([...seen.c1, ...seen.c2]).size >= 60, 'all 60 records');
  await c2.disconnect();
  await waitFor(() => parts.c1.length === PARTS, 'c1 owning all after c2 left');
  await producer.send({ topic: 'js-g', acks: -1, messages: batch(60, 90) });
  await waitFor(() => new Set([...seen.c1, ...seen.c2]).size >= 90, 'all 90 records');
  await c1.disconnect();
  await producer.disconnect();
  return { split, seen: [...new Set([...seen.c1, ...seen.c2])], byC2: seen.c2.length };
}

// A transaction left open past its transactionTimeout is aborted by the
// broker (epoch bump): the late commit fails as fenced, a new producer with
// the same transactionalId goes on.
async function caseTxnTimeout() {
  await createTopics(['js-to']);
  const opts = { transactionalId: 'js-to-tx', idempotent: true, maxInFlightRequests: 1 };
  const p1 = kafka.producer({ ...opts, transactionTimeout: 1500 });
  await p1.connect();
  const t1 = await p1.transaction();
  await t1.send({ topic: 'js-to', messages: records('late', 1) });
  await new Promise((r) => setTimeout(r, 4000));
  let lateCommit = 'committed';
  try {
    await t1.commit();
  } catch (e) {
    lateCommit = e.type || e.name;
  }
  await p1.disconnect().catch(() => {});
  const p2 = kafka.producer(opts);
  await p2.connect();
  const t2 = await p2.transaction();
  await t2.send({ topic: 'js-to', messages: records('fresh', 1) });
  await t2.commit();
  await p2.disconnect();
  return { lateCommit };
}

// Exactly-once consume-transform-produce in kafkajs (eachBatch +
// transaction + sendOffsets, the group's offsets committed only inside the
// transaction) while the broker loses answers and drops connections. A
// transaction whose outcome is unknown is resolved by the group offset,
// as an exactly-once application does.
async function caseEos() {
  const adminUrl = process.argv[4];
  const n = Number(process.argv[5]);
  const group = 'js-eos-group';
  const fault = async (path) => {
    const r = await fetch(adminUrl + path, { method: 'POST' });
    check(r.ok, `${path}: HTTP ${r.status}`);
  };
  await createTopics(['js-eos-in', 'js-eos-out']);
  {
    // Small record batches, so that the consumer sees many eachBatch calls.
    const seeder = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await seeder.connect();
    const all = records('in', n);
    for (let i = 0; i < n; i += 5) {
      const msgs = all.filter((m) => {
        const idx = Number(m.value.split('-')[2]);
        return idx >= i && idx < i + 5;
      });
      await seeder.send({ topic: 'js-eos-in', acks: -1, messages: msgs });
    }
    await seeder.disconnect();
  }
  const opts = { transactionalId: 'js-eos-tx', idempotent: true, maxInFlightRequests: 1 };
  let producer = kafka.producer(opts);
  await producer.connect();
  const faults = [
    '/fault/lose?api=Produce&count=1',
    '/fault/lose?api=EndTxn&count=1',
    '/fault/lose?api=TxnOffsetCommit&count=1',
    '/fault/lose?api=AddPartitionsToTxn&count=1',
    '/fault/drop',
    '/fault/lose?api=Fetch&count=1',
  ];
  const outcomes = [];
  const committedOffset = async (partition) => {
    const offs = await groupOffsets(group, 'js-eos-in');
    return offs[partition] === undefined ? -1 : offs[partition];
  };
  const consumer = kafka.consumer({
    groupId: group,
    readUncommitted: false,
    maxWaitTimeInMs: 200,
    maxBytesPerPartition: 400,
    sessionTimeout: 10000,
    heartbeatInterval: 500,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: ['js-eos-in'], fromBeginning: true });
  let batches = 0;
  const processed = {};
  const done = new Promise((resolve, reject) => {
    consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        if (batch.messages.length === 0) return;
        const last = Number(batch.messages[batch.messages.length - 1].offset);
        const next = last + 1;
        batches++;
        if (batches % 2 === 0 && batches / 2 <= faults.length) await fault(faults[batches / 2 - 1]);
        for (let attempt = 1; ; attempt++) {
          check(attempt <= 5, `batch ${batch.partition}@${last} never committed`);
          let txn = null;
          try {
            txn = await producer.transaction();
            await txn.send({
              topic: 'js-eos-out',
              messages: batch.messages.map((m) => ({
                partition: batch.partition,
                key: m.key,
                value: `${m.value.toString().toUpperCase()}|${batch.partition}:${m.offset}`,
              })),
            });
            await txn.sendOffsets({
              consumerGroupId: group,
              topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(next) }] }],
            });
            await txn.commit();
            outcomes.push('committed');
            break;
          } catch (e) {
            await fault('/fault/clear');
            if ((await committedOffset(batch.partition)) >= next) {
              outcomes.push(`committed, answer lost (${e.type || e.name})`);
              await producer.disconnect().catch(() => {});
              producer = kafka.producer(opts);
              await producer.connect();
              break;
            }
            outcomes.push(`retry (${e.type || e.name})`);
            try {
              if (txn) await txn.abort();
            } catch (e2) {
              await producer.disconnect().catch(() => {});
              producer = kafka.producer(opts);
              await producer.connect();
            }
          }
        }
        resolveOffset(String(last));
        processed[batch.partition] = next;
        let total = 0;
        for (const p of Object.keys(processed)) total += processed[p];
        if (total >= PARTS * n) resolve();
      },
    }).catch(reject);
  });
  const dl = deadline(90000, 'every input record processed');
  try {
    await Promise.race([done, dl.p]);
  } finally {
    dl.cancel();
  }
  await consumer.disconnect();
  await producer.disconnect();
  const committed = await groupOffsets(group, 'js-eos-in');
  return { outcomes, committed, batches };
}

// Load for a mixed-client run (argv: topic n): n transactions of 5
// records "J-<txn>-<i>" over the topic's partitions, every third aborted.
async function caseLoad() {
  const [topic, nArg] = process.argv.slice(4);
  const n = Number(nArg);
  const producer = kafka.producer({ transactionalId: `js-load-${topic}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const committed = [];
  for (let t = 0; t < n; t++) {
    const txn = await producer.transaction();
    const msgs = [];
    for (let i = 0; i < 5; i++) msgs.push({ partition: (t + i) % PARTS, value: `J-${t}-${i}` });
    await txn.send({ topic, messages: msgs });
    if (t % 3 === 2) {
      await txn.abort();
    } else {
      await txn.commit();
      committed.push(...msgs.map((m) => m.value));
    }
  }
  await producer.disconnect();
  return { committed };
}

// kafkajs' admin client: topics (create, metadata, offsets, offsets by
// time, delete) and groups (setOffsets, which needs DescribeGroups to see
// the group empty; listGroups; describeGroups of a live group).
async function caseAdmin() {
  await createTopics(['js-adm', 'js-adm-del']);
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  const t0 = Date.now();
  await producer.send({
    topic: 'js-adm',
    acks: -1,
    messages: [
      { partition: 0, value: 'old', timestamp: String(t0 - 60000) },
      { partition: 0, value: 'new', timestamp: String(t0) },
    ],
  });
  await producer.disconnect();
  const out = {};
  out.topics = (await admin.listTopics()).sort();
  out.offsets = await admin.fetchTopicOffsets('js-adm');
  out.byTime = await admin.fetchTopicOffsetsByTimestamp('js-adm', t0 - 30000);
  await admin.setOffsets({
    groupId: 'js-adm-group',
    topic: 'js-adm',
    partitions: [{ partition: 0, offset: '1' }, { partition: 1, offset: '0' }],
  });
  out.groupOffsets = await groupOffsets('js-adm-group', 'js-adm');
  const consumer = kafka.consumer({ groupId: 'js-adm-live', maxWaitTimeInMs: 200 });
  let joined = null;
  const join = new Promise((r) => { joined = r; });
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.connect();
  await consumer.subscribe({ topics: ['js-adm'] });
  await consumer.run({ eachMessage: async () => {} });
  await join;
  const live = (await admin.describeGroups(['js-adm-live'])).groups[0];
  out.live = { state: live.state, protocol: live.protocol, members: live.members.length };
  out.groups = (await admin.listGroups()).groups.map((g) => g.groupId).sort();
  await consumer.disconnect();
  // An empty group keeps its protocol type, as in Kafka.
  out.protocolTypes = {};
  for (const g of (await admin.listGroups()).groups) out.protocolTypes[g.groupId] = g.protocolType;
  await admin.deleteTopics({ topics: ['js-adm-del'] });
  out.topicsAfterDelete = (await admin.listTopics()).sort();
  await admin.disconnect();
  return out;
}

const CASES = { admin: caseAdmin, load: caseLoad, eos: caseEos, txn_timeout: caseTxnTimeout, group: caseGroup, read: caseRead, after_restart: caseAfterRestart, txn: caseTxn, fencing: caseFencing, consume: caseConsume, faults: caseFaults };

async function main() {
  const fn = CASES[caseName];
  if (!fn || !bootstrap) {
    console.error(`usage: node broker_clients_kafkajs.js <${Object.keys(CASES).join('|')}> <bootstrap>`);
    process.exit(2);
  }
  const result = await fn();
  result.errors = errors;
  console.log(JSON.stringify(result));
  // Clients replaced after a failure may still hold retry timers: the
  // case is over, do not wait for them.
  process.exit(0);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  console.error(`kafkajs errors: ${JSON.stringify(errors)}`);
  process.exit(1);
});
