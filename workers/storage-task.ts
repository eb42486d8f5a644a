// The storage pool's task file (piscina): ONE thread per node, which owns the node's LMDB store and
// runs its synchronous transactions off the node's event loop. Replies carry errors as plain data.
import { Piscina } from 'piscina';
import { Dispatcher } from '../src/adaptor/dispatch.js';
import type { Task } from '../src/adaptor/protocol.js';
import { loadStore } from '../src/storage/open.js';

// The pool serves an LMDB store (a memory store stays on its node's thread): its module is loaded before the first task.
await loadStore('lmdb');

const dispatcher = new Dispatcher();

export default function storageTask(task: Task): unknown {
  const { reply, transfer } = dispatcher.handle(task);
  if (transfer.length === 0) return reply;
  // A transferable wrapper marked movable: piscina sends `reply` with `transfer` moved, not copied.
  return Piscina.move({
    get [Piscina.transferableSymbol]() {
      return transfer;
    },
    get [Piscina.valueSymbol]() {
      return reply;
    },
  } as unknown as ArrayBuffer);
}
