// Typed JSON in a filter that leaves json-as out (it uses only types the SDK's reader builds
// itself, so the SDK's transform drops json-as from its build): what the reader decodes, read
// back. Each request body is a Decoded; the reply lists its fields, or the error with status
// 400. Driven by tests/json.test.ts, which also checks the module links no json-as.
import { RootContext, HttpContext, DataAction, registerRootContext, request, sendLocalReply, safeJson } from "proxy-wasm-as/sdk";

@json
class Named {
  id: string = "";
  @optional level: i32 = 3;
}

// A class with no argument-free constructor: the reader starts from its field initializers.
@json
class Pair {
  left: i32 = 0;
  @optional right: i32 = 9;
  constructor(left: i32) {
    this.left = left;
  }
}

@json
class Decoded extends Named {
  @optional small: i8 = -7;
  @optional least: i64 = 1;
  @optional most: u64 = 2;
  @optional ratio: f64 = 0.5;
  @optional tiny: f32 = 0.25;
  @optional text: string = "default";
  @optional lists: Map<string, Array<i64>> = new Map<string, Array<i64>>();
  @optional flag: bool = true;
  @optional pair: Pair | null = null;
}

function describe(d: Decoded): string {
  const keys = d.lists.keys();
  const lists: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const list = d.lists.get(keys[i]);
    let items = ""; // (not join(): it writes i64.MIN_VALUE as 0)
    for (let j = 0; j < list.length; j++) items += (j ? "," : "") + list[j].toString();
    lists.push(`${keys[i]}:[${items}]`);
  }
  const pair = d.pair;
  return `id=${d.id} level=${d.level} small=${d.small} least=${d.least} most=${d.most} ratio=${d.ratio} tiny=${d.tiny} ` +
    `text=${d.text} lists=${lists.join(";")} flag=${d.flag} pair=${pair != null ? `${pair.left},${pair.right}` : "none"}`;
}

class Lean extends HttpContext {
  onRequestBody(size: u32, endOfStream: bool): DataAction {
    if (!endOfStream) return DataAction.StopIterationAndBuffer;
    const decoded = safeJson.tryParse<Decoded>(request.body.getText());
    if (decoded != null) sendLocalReply(200, describe(decoded));
    else sendLocalReply(400, safeJson.error());
    return DataAction.StopIterationNoBuffer;
  }
}

class LeanRoot extends RootContext {
  newHttpContext(id: u32): HttpContext | null {
    return new Lean(id, this);
  }
}

registerRootContext((id: u32): RootContext => new LeanRoot(id), "");
