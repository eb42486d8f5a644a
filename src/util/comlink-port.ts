// A comlink Endpoint over a Node.js MessagePort (comlink's own node adapter ships as .mjs without
// matching types; this is the same dozen lines). Control plane only: the data plane uses raw postMessage.
import type { MessagePort } from 'node:worker_threads';
import type { Endpoint } from 'comlink';

type Listener = (ev: { data: unknown }) => void;

export function portEndpoint(port: MessagePort): Endpoint {
  const wrapped = new WeakMap<object, (data: unknown) => void>();
  const endpoint = {
    postMessage(message: unknown, transfer?: readonly unknown[]): void {
      port.postMessage(message, transfer as never);
    },
    addEventListener(_type: string, listener: unknown): void {
      const fn = (data: unknown): void => {
        if (typeof listener === 'function') (listener as Listener)({ data });
        else (listener as { handleEvent: Listener }).handleEvent({ data });
      };
      wrapped.set(listener as object, fn);
      port.on('message', fn);
    },
    removeEventListener(_type: string, listener: unknown): void {
      const fn = wrapped.get(listener as object);
      if (fn) port.off('message', fn);
    },
    start(): void {
      port.start();
    },
  };
  return endpoint as unknown as Endpoint;
}
