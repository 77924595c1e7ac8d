// Shared queues: a root context registers a queue and hears onQueueReady when an item
// arrives; any VM (its own streams included) may resolve it by vm_id and name and enqueue.
import { proxy_dequeue_shared_queue, proxy_enqueue_shared_queue, proxy_register_shared_queue, proxy_resolve_shared_queue } from "./abi/imports";
import { Status } from "./abi/types";
import { OUT_LEN, OUT_PTR, clearOut, takeBytes, utf8 } from "./abi/memory";

const TOKEN_PTR: usize = memory.data(4, 4);

export namespace queues {
  /** Registers the queue `name` for this VM's vm_id, owned by the calling root context; its id (0 on failure). */
  export function register(name: string): u32 {
    const bytes = utf8(name);
    store<u32>(TOKEN_PTR, 0);
    return proxy_register_shared_queue(changetype<usize>(bytes), bytes.byteLength, TOKEN_PTR) == Status.Ok ? load<u32>(TOKEN_PTR) : 0;
  }

  /** The id of the queue `name` registered under `vmId`, or 0 when there is none. */
  export function resolve(vmId: string, name: string): u32 {
    const vm = utf8(vmId), bytes = utf8(name);
    store<u32>(TOKEN_PTR, 0);
    const status = proxy_resolve_shared_queue(changetype<usize>(vm), vm.byteLength, changetype<usize>(bytes), bytes.byteLength, TOKEN_PTR);
    return status == Status.Ok ? load<u32>(TOKEN_PTR) : 0;
  }

  export function enqueue(queueId: u32, data: ArrayBuffer): Status {
    return proxy_enqueue_shared_queue(queueId, changetype<usize>(data), data.byteLength);
  }

  export function enqueueText(queueId: u32, text: string): Status {
    return enqueue(queueId, utf8(text));
  }

  /** The oldest item, or null when the queue is empty (or unknown). */
  export function dequeue(queueId: u32): ArrayBuffer | null {
    clearOut();
    return proxy_dequeue_shared_queue(queueId, OUT_PTR, OUT_LEN) == Status.Ok ? takeBytes() : null;
  }

  export function dequeueText(queueId: u32): string | null {
    const item = dequeue(queueId);
    return item != null ? String.UTF8.decode(item) : null;
  }
}
