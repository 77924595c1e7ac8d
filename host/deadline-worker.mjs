// The instrumentation behind deadlines (host/deadline.ts), in plain JavaScript run by a worker
// thread with no loader hooks: binaryen is 13 MB of JavaScript, which Node loads in about half
// a second but the TypeScript loader would transform for seconds, and instrumenting off the
// main thread keeps the proxy's event loop free meanwhile.
//
// Every loop header, and the entry of every function that calls another of the module's
// functions, gets: fuel -= 1; if (fuel <= 0) fuel = check(); where fuel is a new mutable
// global and check a new import the host answers (it throws past the deadline of the call
// under way, else answers the next fuel). A function that calls none of the module's functions
// (a leaf) runs straight-line code between the ticks of its own loops, and each call to it is
// made by a ticking caller's body, so between two ticks the work stays bounded: leaves need no
// entry tick, and they are most of the calls a module makes.
import { parentPort } from "node:worker_threads";
import binaryenModule from "binaryen";

const B = binaryenModule;
const FUEL = "__proxy_wasm_as_fuel";
const CHECK = "__proxy_wasm_as_check";

/** The child-expression getters of each kind of expression the walker knows. */
const CHILDREN = new Map([
  [B.BlockId, (e) => Array.from({ length: B.Block.getNumChildren(e) }, (_, i) => B.Block.getChildAt(e, i))],
  [B.IfId, (e) => [B.If.getCondition(e), B.If.getIfTrue(e), B.If.getIfFalse(e)]],
  [B.LoopId, (e) => [B.Loop.getBody(e)]],
  [B.BreakId, (e) => [B.Break.getCondition(e), B.Break.getValue(e)]],
  [B.SwitchId, (e) => [B.Switch.getCondition(e), B.Switch.getValue(e)]],
  [B.CallId, (e) => Array.from({ length: B.Call.getNumOperands(e) }, (_, i) => B.Call.getOperandAt(e, i))],
  [B.CallIndirectId, (e) => [B.CallIndirect.getTarget(e), ...Array.from({ length: B.CallIndirect.getNumOperands(e) }, (_, i) => B.CallIndirect.getOperandAt(e, i))]],
  [B.LocalGetId, null], [B.GlobalGetId, null], [B.ConstId, null], [B.NopId, null], [B.UnreachableId, null],
  [B.MemorySizeId, null], [B.DataDropId, null], [B.AtomicFenceId, null], [B.PopId, null], [B.RefNullId, null],
  [B.RefFuncId, null], [B.TableSizeId, null], [B.RethrowId, null],
  [B.LocalSetId, (e) => [B.LocalSet.getValue(e)]],
  [B.GlobalSetId, (e) => [B.GlobalSet.getValue(e)]],
  [B.LoadId, (e) => [B.Load.getPtr(e)]],
  [B.StoreId, (e) => [B.Store.getPtr(e), B.Store.getValue(e)]],
  [B.UnaryId, (e) => [B.Unary.getValue(e)]],
  [B.BinaryId, (e) => [B.Binary.getLeft(e), B.Binary.getRight(e)]],
  [B.SelectId, (e) => [B.Select.getIfTrue(e), B.Select.getIfFalse(e), B.Select.getCondition(e)]],
  [B.DropId, (e) => [B.Drop.getValue(e)]],
  [B.ReturnId, (e) => [B.Return.getValue(e)]],
  [B.MemoryGrowId, (e) => [B.MemoryGrow.getDelta(e)]],
  [B.MemoryInitId, (e) => [B.MemoryInit.getDest(e), B.MemoryInit.getOffset(e), B.MemoryInit.getSize(e)]],
  [B.MemoryCopyId, (e) => [B.MemoryCopy.getDest(e), B.MemoryCopy.getSource(e), B.MemoryCopy.getSize(e)]],
  [B.MemoryFillId, (e) => [B.MemoryFill.getDest(e), B.MemoryFill.getValue(e), B.MemoryFill.getSize(e)]],
  [B.AtomicRMWId, (e) => [B.AtomicRMW.getPtr(e), B.AtomicRMW.getValue(e)]],
  [B.AtomicCmpxchgId, (e) => [B.AtomicCmpxchg.getPtr(e), B.AtomicCmpxchg.getExpected(e), B.AtomicCmpxchg.getReplacement(e)]],
  [B.AtomicWaitId, (e) => [B.AtomicWait.getPtr(e), B.AtomicWait.getExpected(e), B.AtomicWait.getTimeout(e)]],
  [B.AtomicNotifyId, (e) => [B.AtomicNotify.getPtr(e), B.AtomicNotify.getNotifyCount(e)]],
  [B.SIMDExtractId, (e) => [B.SIMDExtract.getVec(e)]],
  [B.SIMDReplaceId, (e) => [B.SIMDReplace.getVec(e), B.SIMDReplace.getValue(e)]],
  [B.SIMDShuffleId, (e) => [B.SIMDShuffle.getLeft(e), B.SIMDShuffle.getRight(e)]],
  [B.SIMDTernaryId, (e) => [B.SIMDTernary.getA(e), B.SIMDTernary.getB(e), B.SIMDTernary.getC(e)]],
  [B.SIMDShiftId, (e) => [B.SIMDShift.getVec(e), B.SIMDShift.getShift(e)]],
  [B.SIMDLoadId, (e) => [B.SIMDLoad.getPtr(e)]],
  [B.SIMDLoadStoreLaneId, (e) => [B.SIMDLoadStoreLane.getPtr(e), B.SIMDLoadStoreLane.getVec(e)]],
  [B.RefIsNullId, (e) => [B.RefIsNull.getValue(e)]],
  [B.RefEqId, (e) => [B.RefEq.getLeft(e), B.RefEq.getRight(e)]],
  [B.TableGetId, (e) => [B.TableGet.getIndex(e)]],
  [B.TableSetId, (e) => [B.TableSet.getIndex(e), B.TableSet.getValue(e)]],
  [B.TableGrowId, (e) => [B.TableGrow.getValue(e), B.TableGrow.getDelta(e)]],
  [B.TupleMakeId, (e) => Array.from({ length: B.TupleMake.getNumOperands(e) }, (_, i) => B.TupleMake.getOperandAt(e, i))],
  [B.TupleExtractId, (e) => [B.TupleExtract.getTuple(e)]],
]);

/** The loops of a function body, and whether it calls any of the module's own functions (iteratively: trees nest deeply). */
function scan(root, defined) {
  const loops = [];
  let calls = false;
  const stack = [root];
  while (stack.length) {
    const expr = stack.pop();
    const id = B.getExpressionId(expr);
    const children = CHILDREN.get(id);
    if (children === undefined) throw new Error(`it uses an instruction this host cannot instrument (binaryen expression id ${id})`);
    if (id === B.LoopId) loops.push(expr);
    else if (id === B.CallIndirectId || (id === B.CallId && defined.has(B.Call.getTarget(expr)))) calls = true;
    if (children) for (const child of children(expr)) if (child) stack.push(child);
  }
  return { loops, calls };
}

function instrument(bytes, ticksPerCheck) {
  const m = B.readBinaryWithFeatures(bytes, B.Features.All);
  try {
    m.addFunctionImport(CHECK, "proxy-wasm-as:guard", "check", B.none, B.i32);
    m.addGlobal(FUEL, B.i32, true, m.i32.const(ticksPerCheck));
    const tick = () => m.block(null, [
      m.global.set(FUEL, m.i32.sub(m.global.get(FUEL, B.i32), m.i32.const(1))),
      m.if(m.i32.le_s(m.global.get(FUEL, B.i32), m.i32.const(0)), m.global.set(FUEL, m.call(CHECK, [], B.i32))),
    ], B.none);
    const functions = Array.from({ length: m.getNumFunctions() }, (_, i) => m.getFunctionByIndex(i));
    const defined = new Set(functions.filter((fn) => B.Function.getBody(fn)).map((fn) => B.Function.getName(fn)));
    let loops = 0;
    for (const fn of functions) {
      const body = B.Function.getBody(fn);
      if (!body) continue; // an import
      const found = scan(body, defined);
      for (const loop of found.loops) {
        B.Loop.setBody(loop, m.block(null, [tick(), B.Loop.getBody(loop)], B.auto));
        loops++;
      }
      if (found.calls) B.Function.setBody(fn, m.block(null, [tick(), body], B.auto));
    }
    B.setDebugInfo(true); // keep the name section: trap stacks name the module's functions
    return { bytes: m.emitBinary(), loops };
  } finally {
    m.dispose();
  }
}

parentPort.on("message", ({ id, bytes, ticksPerCheck }) => {
  try {
    const out = instrument(bytes, ticksPerCheck);
    parentPort.postMessage({ id, bytes: out.bytes, loops: out.loops }, [out.bytes.buffer]);
  } catch (e) {
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
    // binaryen may be left in a bad state by what it could not read: the next module gets a fresh worker.
    parentPort.close();
  }
});
