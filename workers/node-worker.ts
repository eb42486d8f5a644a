// Thread entry point of one Raft node: builds the transport from the transferred ports, opens a
// NodeHost, and wires the data plane (raw postMessage) and the control plane (comlink).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { NodeHost } from '../src/node/host.js';
import { openHostStorage, realRuntime } from '../src/node/runtime.js';
import type { NodeOptions } from '../src/node/config.js';
import type { FromNode, ToNode } from '../src/node/protocol.js';
import type { Value } from '../src/storage/command.js';
import type { LeaseReadForTest, NodeControl } from '../src/node/control.js';
import { PortTransport } from '../src/transport/port.js';
import { portEndpoint } from '../src/util/comlink-port.js';
import { createLogger } from '../src/util/logger.js';
import { mulberry32 } from '../src/util/random.js';

interface WorkerInit {
  options: NodeOptions;
  peers: Array<[number, MessagePort]>;
  control: MessagePort;
}

const init = workerData as WorkerInit;
const port = parentPort!;
const toMain = (msg: FromNode, transfer?: ArrayBuffer[]): void => port.postMessage(msg, transfer);
const log = createLogger(init.options.logLevel, init.options.logFile, { node: init.options.id });

let host: NodeHost | undefined;
const early: ToNode[] = [];

// Test-only lease reads sent straight to this node: negative ids, answered to the control plane, never to the coordinator.
const testReads = new Map<number, (r: LeaseReadForTest) => void>();
let lastTestReadId = 0;
function answerTestRead(msg: FromNode): boolean {
  if ((msg.t !== 'read-ok' && msg.t !== 'read-failed') || msg.id >= 0) return false;
  const done = testReads.get(msg.id);
  testReads.delete(msg.id);
  done?.(msg.t === 'read-ok' ? { ok: true, value: msg.values?.[0] as Value | undefined } : { ok: false, error: msg.error });
  return true;
}

const transport = new PortTransport(mulberry32(init.options.seed ^ 0x5f3759df), (from, err) => host?.badFrame(from, err));
for (const [peer, p] of init.peers) transport.setPort(peer, p);

port.on('message', (msg: ToNode) => {
  if (msg.t === 'peer') return transport.setPort(msg.id, msg.port);
  if (!host) {
    early.push(msg);
    return;
  }
  host.onMain(msg);
});

const control: NodeControl = {
  status: () => host!.status(),
  metrics: () => host!.metrics(),
  resetMetrics: () => host!.resetMetrics(),
  setInstrument: (on) => host!.setInstrument(on),
  setFaults: (f) => host!.setFaults(f),
  transferLeadership: (to) => host!.transferLeadership(to),
  campaign: () => host!.campaign(),
  proposeConfChange: (change) => host!.proposeConfChange(change),
  requestSnapshot: () => host!.requestSnapshot(),
  inject: (from, frames) => {
    for (const f of frames) transport.inject(from, f);
    return transport.stats.badFrames;
  },
  stallForTest: (ms) => host!.stallForTest(ms),
  leaseReadForTest: (key) =>
    new Promise<LeaseReadForTest>((resolve) => {
      const id = --lastTestReadId;
      testReads.set(id, resolve);
      host!.onMain({ t: 'read', id, mode: 'lease', queries: [{ q: 'get', key }] });
    }),
  stop: async () => {
    await host?.stop();
    toMain({ t: 'stopped', id: init.options.id });
  },
};
Comlink.expose(control, portEndpoint(init.control));

try {
  host = await NodeHost.open(init.options, {
    runtime: realRuntime,
    transport,
    openStorage: () => openHostStorage(init.options),
    toMain: (msg, transfer) => {
      if (answerTestRead(msg)) return;
      toMain(msg, transfer);
      // After a fatal error the host stops itself (storage work in flight completes); then this thread ends.
      if (msg.t === 'fatal') void host?.whenStopped().then(() => process.exit(1));
    },
    log,
  });
  for (const m of early.splice(0)) host.onMain(m);
  host.start();
} catch (err) {
  const e = err as { message?: string; code?: string; stack?: string };
  toMain({ t: 'fatal', id: init.options.id, error: { message: String(e.message ?? err), ...(e.code ? { code: e.code } : {}), ...(e.stack ? { stack: e.stack } : {}) } });
}
