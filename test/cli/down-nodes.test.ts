// threadraft serve's report of nodes that go down (src/cli/down-nodes.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from '../../src/index.js';
import { reportDownNodes } from '../../src/cli/down-nodes.js';

test('reportDownNodes: a node that goes down while serving is reported once with its error, again after a restart and a second crash, and nothing while the cluster stops', async (t) => {
  const c = await Cluster.start({ nodes: 3, storage: 'memory' });
  const lines: string[] = [];
  const stop = reportDownNodes(c, (line) => lines.push(line), 20);
  const until = async (what: string, ok: () => boolean): Promise<void> => {
    for (let i = 0; i < 250 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(ok(), `${what}: ${JSON.stringify(lines)}`);
  };
  try {
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(lines, [], 'every node is up');
    await c.crash(2);
    await until('the crash is reported', () => lines.length === 1);
    assert.match(lines[0]!, /^node 2 is down: \S/);
    t.diagnostic(lines[0]!);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(lines.length, 1, 'once');
    await c.restart(2);
    await new Promise((r) => setTimeout(r, 100)); // seen up again
    await c.crash(2);
    await until('the second crash is reported', () => lines.length === 2);
    assert.match(lines[1]!, /^node 2 is down: /);
  } finally {
    await c.stop();
  }
  await new Promise((r) => setTimeout(r, 100));
  stop();
  assert.equal(lines.length, 2, `nothing while stopping: ${JSON.stringify(lines)}`);
});
