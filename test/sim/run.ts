// Replay one simulation: SEED=<n> [NODES=3|5] [STEPS=3000] [CHAOS=1] [SPARES=2] [OVERRIDES='{"maxMsgBytes":1}']
//   [BREAK=commit-old-term|double-vote] npm run sim
import { replayCommand, runSimulation, type SimOptions } from './sim.js';
import type { RaftConfig } from '../../src/raft/index.js';

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${v}`);
  return n;
}

const seed = envInt('SEED', 1);
const nodes = envInt('NODES', 3);
const steps = envInt('STEPS', 3000);
const brk = process.env['BREAK'];
const testBreak = brk === 'commit-old-term' || brk === 'double-vote' ? (brk as RaftConfig['testBreak']) : undefined;
const chaos = Number(process.env['CHAOS'] ?? '1');
const spares = envInt('SPARES', 0);
const overrides = JSON.parse(process.env['OVERRIDES'] ?? '{}') as SimOptions['overrides'];
const opts: SimOptions = { seed, nodes, steps, chaos, ...(spares > 0 ? { spares } : {}), ...(overrides === undefined ? {} : { overrides }), ...(testBreak === undefined ? {} : { testBreak }) };
const started = process.hrtime.bigint();
const s = await runSimulation(opts);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(JSON.stringify({ ...s, ms: Math.round(ms) }, null, 2));
if (!s.ok) {
  console.error(`VIOLATION: ${s.violation?.message ?? 'unknown'}`);
  console.error(`replay: ${replayCommand(opts)}`);
  process.exit(1);
}
