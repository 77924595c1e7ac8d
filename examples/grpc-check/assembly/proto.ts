// Just enough protobuf for this example's two messages (no protobuf library in AssemblyScript):
//   CheckRequest  { string path = 1; string user = 2; }
//   CheckResponse { bool allowed = 1; string reason = 2; }

class Writer {
  bytes: u8[] = [];
  varint(value: u64): void {
    while (value >= 0x80) {
      this.bytes.push(<u8>(value & 0x7f) | 0x80);
      value >>= 7;
    }
    this.bytes.push(<u8>value);
  }
  string(field: u32, text: string): void {
    const data = Uint8Array.wrap(String.UTF8.encode(text));
    this.varint((field << 3) | 2);
    this.varint(data.length);
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]);
  }
  finish(): ArrayBuffer {
    const out = new Uint8Array(this.bytes.length);
    for (let i = 0; i < this.bytes.length; i++) out[i] = this.bytes[i];
    return out.buffer;
  }
}

export function encodeCheckRequest(path: string, user: string): ArrayBuffer {
  const w = new Writer();
  w.string(1, path);
  if (user.length > 0) w.string(2, user);
  return w.finish();
}

export class CheckResponse {
  allowed: bool = false;
  reason: string = "";
  /** False when the bytes are not a well-formed CheckResponse. */
  valid: bool = true;
}

export function decodeCheckResponse(buffer: ArrayBuffer): CheckResponse {
  const data = Uint8Array.wrap(buffer);
  const out = new CheckResponse();
  let at = 0;
  while (at < data.length) {
    // key
    let key: u64 = 0, shift: u64 = 0;
    while (true) {
      if (at >= data.length) { out.valid = false; return out; }
      const b = data[at++];
      key |= (<u64>(b & 0x7f)) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    const field = <u32>(key >> 3), wire = <u32>(key & 7);
    let value: u64 = 0;
    shift = 0;
    if (wire == 0 || wire == 2) {
      while (true) {
        if (at >= data.length) { out.valid = false; return out; }
        const b = data[at++];
        value |= (<u64>(b & 0x7f)) << shift;
        if (b < 0x80) break;
        shift += 7;
      }
    } else {
      out.valid = false; // fixed-width fields are not part of CheckResponse
      return out;
    }
    if (wire == 0 && field == 1) out.allowed = value != 0;
    else if (wire == 2) {
      const end = at + <i32>value;
      if (end > data.length) { out.valid = false; return out; }
      if (field == 2) out.reason = String.UTF8.decode(buffer.slice(at, end));
      at = end;
    }
  }
  return out;
}
