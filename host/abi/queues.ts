// Shared queues: proxy_register_shared_queue, proxy_resolve_shared_queue,
// proxy_enqueue_shared_queue, proxy_dequeue_shared_queue; on_queue_ready goes to the owner.
import type { SharedQueues } from "../state/shared.ts";
import type { AbiHost, HostFunctions } from "./host.ts";
import { LogLevel, Status } from "./types.ts";

export function queueFunctions(host: AbiHost, queues: SharedQueues): HostFunctions {
  const { vm } = host;
  let reportedFull = false;
  return {
    proxy_register_shared_queue(namePtr: number, nameLen: number, tokenPtr: number): number {
      const name = vm.string(namePtr, nameLen);
      if (name === null) return Status.InvalidMemoryAccess;
      const token = queues.register(host.vmId, name, host.queueOwner);
      return vm.setU32(tokenPtr, token) ? Status.Ok : Status.InvalidMemoryAccess;
    },
    proxy_resolve_shared_queue(vmIdPtr: number, vmIdLen: number, namePtr: number, nameLen: number, tokenPtr: number): number {
      const vmId = vm.string(vmIdPtr, vmIdLen), name = vm.string(namePtr, nameLen);
      if (vmId === null || name === null) return Status.InvalidMemoryAccess;
      const token = queues.resolve(vmId, name);
      if (token === undefined) {
        host.log(LogLevel.Debug, `proxy_resolve_shared_queue: no queue "${name}" under vm_id "${vmId}"`);
        return Status.NotFound;
      }
      return vm.setU32(tokenPtr, token) ? Status.Ok : Status.InvalidMemoryAccess;
    },
    proxy_enqueue_shared_queue(token: number, dataPtr: number, dataLen: number): number {
      const data = vm.bytes(dataPtr, dataLen);
      if (data === null) return Status.InvalidMemoryAccess;
      const result = queues.enqueue(token >>> 0, data.slice());
      if (result === "ok") return Status.Ok;
      if (result === "full") {
        // Bounded (SharedLimits.maxQueueDepth, maxQueueBytes): the queue never grows past it.
        if (!reportedFull) host.log(LogLevel.Warn, `proxy_enqueue_shared_queue: queue ${token >>> 0} is full; answering InternalFailure (logged once)`);
        reportedFull = true;
        return Status.InternalFailure;
      }
      host.log(LogLevel.Debug, `proxy_enqueue_shared_queue: no queue with token ${token >>> 0}`);
      return Status.NotFound;
    },
    proxy_dequeue_shared_queue(token: number, dataPtrPtr: number, dataLenPtr: number): number {
      const item = queues.dequeue(token >>> 0);
      if (item === undefined) {
        host.log(LogLevel.Debug, `proxy_dequeue_shared_queue: no queue with token ${token >>> 0}`);
        return Status.NotFound;
      }
      if (item === null) return Status.Empty;
      return vm.giveOut(item, dataPtrPtr, dataLenPtr) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
}
