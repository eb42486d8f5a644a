// INFO stats' instantaneous_ops_per_sec, instantaneous_input_kbps and instantaneous_output_kbps
// (src/resp/instantaneous.ts): Redis's rates over its last 16 samples, one every 100 ms; and the fields INFO has
// beside them, in Redis 7.0's order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimpleConn } from '../../bench/resp-proto.js';
import { InstantaneousMetrics, SAMPLES } from '../../src/resp/instantaneous.js';
import { fixed2 } from '../../src/util/printf.js';
import { encode, infoFields, raw, serve } from './helpers.js';

test('a rate is the mean of the last 16 samples of the increase per second, as Redis computes it', () => {
  let now = 1000;
  const c = { ops: 0, bytes: 0 };
  const m = new InstantaneousMetrics(() => ({ ...c }), () => now);
  assert.equal(m.value('ops'), 0, 'no sample yet');
  // One sample of 50 commands in 100 ms: 500/s, and 15 samples of 0: 500 / 16 rounded down.
  c.ops = 50;
  now += 100;
  m.sample();
  assert.equal(m.value('ops'), 31);
  // A sample over 300 ms (a late timer): 30 commands in it are 100/s, counted as Redis counts (ops * 1000 / t).
  c.ops += 30;
  now += 300;
  m.sample();
  assert.equal(m.value('ops'), Math.trunc((500 + 100) / 16));
  // 7 commands in 3 ms: 2333.33/s rounded down to 2333 per sample.
  c.ops += 7;
  now += 3;
  m.sample();
  assert.equal(m.value('ops'), Math.trunc((500 + 100 + 2333) / 16));
  // No time passed: the sample is 0, and the counter is taken as read.
  c.ops += 1000;
  m.sample();
  assert.equal(m.value('ops'), Math.trunc((500 + 100 + 2333) / 16));
  // A full window of 1000 commands and 102 400 bytes per 100 ms: 10 000/s and 1 024 000 B/s; older samples gone.
  for (let i = 0; i < SAMPLES; i++) {
    c.ops += 1000;
    c.bytes += 102_400;
    now += 100;
    m.sample();
  }
  assert.equal(m.value('ops'), 10_000);
  assert.equal(m.value('bytes'), 1_024_000);
  assert.equal(m.kbps('bytes'), '1000.00', 'INFO\'s KiB/s');
  // One idle sample takes 1/16 of the rate off; a whole idle window, all of it.
  now += 100;
  m.sample();
  assert.equal(m.value('ops'), Math.trunc((15 * 10_000) / 16));
  assert.equal(m.kbps('bytes'), '937.50');
  for (let i = 1; i < SAMPLES; i++) {
    now += 100;
    m.sample();
  }
  assert.equal(m.value('ops'), 0);
  // RESETSTAT zeroes the counters: reset() forgets the samples and reads them again, so the next rate is not negative.
  c.ops += 200;
  now += 100;
  m.sample();
  assert.equal(m.value('ops'), Math.trunc(2000 / 16));
  c.ops = 0;
  m.reset();
  assert.equal(m.value('ops'), 0);
  c.ops = 16;
  now += 100;
  m.sample();
  assert.equal(m.value('ops'), 10);
});

test('INFO stats: the rates of the commands and bytes of the last 1.6 s; CONFIG RESETSTAT forgets them', async () => {
  const s = await serve({ nodes: 1 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  const r = await raw(s.port);
  try {
    // 2000 commands in one pipeline, 4 MB in and nothing out (CLIENT REPLY OFF), then wait for a sample that counted them.
    const big = 'x'.repeat(2048);
    r.socket.write(Buffer.concat([encode('CLIENT', 'REPLY', 'OFF'), ...Array.from({ length: 2000 }, () => encode('PING', big))]));
    // Polled (at most 10 s) until a sample (every 100 ms) after the last of them: the window then holds them, or
    // as many of them as the last 1.6 s saw on a machine slow enough to spread them wider. Waiting on the sampler's
    // own clock, not a fixed sleep, so a late timer on a busy machine makes the test slower, never wrong.
    let stats = await infoFields(c, 'stats');
    let processed = 0;
    for (let i = 0; i < 200; i++) {
      if (processed >= 2001 && Number(stats.get('instantaneous_input_kbps')) > 100) break;
      await new Promise((res) => setTimeout(res, 50));
      stats = await infoFields(c, 'stats');
      if (processed < 2001) processed = Number(stats.get('total_commands_processed'));
    }
    const ops = Number(stats.get('instantaneous_ops_per_sec'));
    const total = Number(stats.get('total_commands_processed'));
    // Each command is in one sample at most, counted at least per 100 ms: at most total * 10 / 16 per second.
    assert.ok(ops > 0 && ops <= (total * 10) / 16 + 1, `instantaneous_ops_per_sec ${ops} after ${total} commands`);
    for (const f of ['instantaneous_input_kbps', 'instantaneous_output_kbps']) assert.match(stats.get(f)!, /^\d+\.\d\d$/, `${f}: KiB/s with two decimals`);
    // 4 MB in; out, only the INFO replies.
    assert.ok(Number(stats.get('instantaneous_input_kbps')) > 100, `instantaneous_input_kbps ${stats.get('instantaneous_input_kbps')}`);
    assert.ok(Number(stats.get('instantaneous_input_kbps')) > 10 * Number(stats.get('instantaneous_output_kbps')), 'input is the PINGs\'');
    assert.deepEqual([...stats.keys()].slice(0, 7), ['total_connections_received', 'total_commands_processed', 'instantaneous_ops_per_sec',
      'total_net_input_bytes', 'total_net_output_bytes', 'instantaneous_input_kbps', 'instantaneous_output_kbps']);
    assert.equal(await c.call(['CONFIG', 'RESETSTAT']), 'OK');
    // The window is emptied: what it holds now is at most a sample taken since, of CONFIG RESETSTAT and INFO
    // themselves (a few dozen bytes), where the 4 MB of PINGs just gave more than 100 KiB/s.
    const reset = await infoFields(c, 'stats');
    assert.ok(Number(reset.get('instantaneous_input_kbps')) < 10, `instantaneous_input_kbps ${reset.get('instantaneous_input_kbps')} after CONFIG RESETSTAT`);
    // The next samples count from the counters reset, never below 0.
    await new Promise((res) => setTimeout(res, 250));
    const later = await infoFields(c, 'stats');
    assert.match(later.get('instantaneous_ops_per_sec')!, /^\d+$/);
    assert.match(later.get('instantaneous_input_kbps')!, /^\d+\.\d\d$/);
  } finally {
    r.socket.destroy();
    c.close();
    await s.stop();
  }
});

/** Redis 7.0.15's fields of these sections, in its order (`redis-cli info everything`). */
const REDIS_FIELDS: Record<string, string[]> = {
  memory: ['used_memory', 'used_memory_human', 'used_memory_rss', 'used_memory_rss_human', 'used_memory_peak', 'used_memory_peak_human',
    'used_memory_peak_perc', 'used_memory_overhead', 'used_memory_startup', 'used_memory_dataset', 'used_memory_dataset_perc',
    'allocator_allocated', 'allocator_active', 'allocator_resident', 'total_system_memory', 'total_system_memory_human',
    'used_memory_lua', 'used_memory_vm_eval', 'used_memory_lua_human', 'used_memory_scripts_eval', 'number_of_cached_scripts',
    'number_of_functions', 'number_of_libraries', 'used_memory_vm_functions', 'used_memory_vm_total', 'used_memory_vm_total_human',
    'used_memory_functions', 'used_memory_scripts', 'used_memory_scripts_human', 'maxmemory', 'maxmemory_human', 'maxmemory_policy',
    'allocator_frag_ratio', 'allocator_frag_bytes', 'allocator_rss_ratio', 'allocator_rss_bytes', 'rss_overhead_ratio', 'rss_overhead_bytes',
    'mem_fragmentation_ratio', 'mem_fragmentation_bytes', 'mem_not_counted_for_evict', 'mem_replication_backlog', 'mem_total_replication_buffers',
    'mem_clients_slaves', 'mem_clients_normal', 'mem_cluster_links', 'mem_aof_buffer', 'mem_allocator', 'active_defrag_running',
    'lazyfree_pending_objects', 'lazyfreed_objects'],
  clients: ['connected_clients', 'cluster_connections', 'maxclients', 'client_recent_max_input_buffer', 'client_recent_max_output_buffer',
    'blocked_clients', 'tracking_clients', 'clients_in_timeout_table'],
  replication: ['role', 'connected_slaves', 'master_failover_state', 'master_replid', 'master_replid2', 'master_repl_offset',
    'second_repl_offset', 'repl_backlog_active', 'repl_backlog_size', 'repl_backlog_first_byte_offset', 'repl_backlog_histlen'],
  cluster: ['cluster_enabled'],
};

test('INFO: total_system_memory, master_repl_offset (ROLE\'s offset) and the Cluster section, where Redis has them', async () => {
  const s = await serve();
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    await c.call(['SET', 'k', 'v']);
    for (const [name, theirs] of Object.entries(REDIS_FIELDS)) {
      const ours = [...(await infoFields(c, name)).keys()];
      const shared = theirs.filter((f) => ours.includes(f));
      assert.deepEqual(ours.filter((f) => theirs.includes(f)), shared, `${name}: the fields Redis has too, in its order`);
    }
    const memory = await infoFields(c, 'memory');
    assert.ok(Number(memory.get('total_system_memory')) > 0);
    assert.match(memory.get('total_system_memory_human')!, /^\d+\.\d\d[KMGTPE]?$/);
    // The peak: the largest used_memory INFO reported; the fragmentation ratio: the RSS over used_memory.
    const used = Number(memory.get('used_memory'));
    const rss = Number(memory.get('used_memory_rss'));
    const peak = Number(memory.get('used_memory_peak'));
    assert.ok(used > 0 && peak >= used, `used_memory ${used}, used_memory_peak ${peak}`);
    assert.equal(memory.get('used_memory_peak_perc'), `${fixed2(used * 100, peak)}%`, 'C\'s %.2f');
    assert.equal(memory.get('mem_fragmentation_ratio'), fixed2(rss, used));
    assert.equal(memory.get('mem_fragmentation_bytes'), String(rss - used));
    const later = await infoFields(c, 'memory');
    assert.equal(later.get('used_memory_peak'), String(Math.max(peak, Number(later.get('used_memory')))), 'the peak only grows');
    // CONFIG RESETSTAT forgets it, as Redis's: the next INFO's peak is its own used_memory.
    assert.equal(await c.call(['CONFIG', 'RESETSTAT']), 'OK');
    const reset = await infoFields(c, 'memory');
    assert.equal(reset.get('used_memory_peak'), reset.get('used_memory'));
    assert.equal(reset.get('used_memory_peak_perc'), '100.00%');
    const [, offset] = (await c.call(['ROLE'])) as [string, number];
    assert.equal((await infoFields(c, 'replication')).get('master_repl_offset'), String(offset));
    assert.ok(offset > 0);
    assert.deepEqual([...(await infoFields(c, 'cluster'))], [['cluster_enabled', '0']]);
    // The default sections end as Redis's: ..., Errorstats, Cluster, Keyspace.
    const heads = [...String(await c.call(['INFO'])).matchAll(/^# (\w+)\r$/gm)].map((m) => m[1]);
    assert.deepEqual(heads.slice(-3), ['Errorstats', 'Cluster', 'Keyspace']);
    const everything = [...String(await c.call(['INFO', 'everything'])).matchAll(/^# (\w+)\r$/gm)].map((m) => m[1]);
    assert.deepEqual(everything.slice(-5), ['Commandstats', 'Errorstats', 'Latencystats', 'Cluster', 'Keyspace']);
  } finally {
    c.close();
    await s.stop();
  }
});
