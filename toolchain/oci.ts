// A Wasm module as an OCI image, in the two forms Istio pulls (its image fetcher tries both):
//
// - compat: an ordinary OCI image whose single layer (tar+gzip) holds `plugin.wasm`; any
//   registry and any OCI client take it.
// - artifact ("oci" variant of the Wasm image spec): two layers, the runtime config JSON
//   (application/vnd.module.wasm.config.v1+json) and the raw module
//   (application/vnd.module.wasm.content.layer.v1+wasm); the config blob is the same JSON.
//
// Written as an OCI image layout (oci-layout, index.json, blobs/sha256/…), each variant a
// manifest named in index.json, and optionally as a tar of that layout (skopeo's
// `oci-archive:`). Everything is deterministic: the same module gives the same digests.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const MEDIA = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  imageConfig: "application/vnd.oci.image.config.v1+json",
  tarGzipLayer: "application/vnd.oci.image.layer.v1.tar+gzip",
  wasmConfig: "application/vnd.module.wasm.config.v1+json",
  wasmContent: "application/vnd.module.wasm.content.layer.v1+wasm",
} as const;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const sha256 = (data: Uint8Array) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** A POSIX tar of `files` (name → bytes), owned by root, dated `mtime`: the same input gives the same bytes. */
export function tarOf(files: [name: string, data: Uint8Array][], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of files) {
    if (Buffer.byteLength(name) > 100) throw new Error(`tar: name longer than 100 bytes: ${name}`);
    const header = Buffer.alloc(512);
    const octal = (value: number, at: number, width: number) => header.write(`${value.toString(8).padStart(width - 1, "0")}\0`, at, "ascii");
    header.write(name, 0, "utf8");
    octal(0o644, 100, 8);
    octal(0, 108, 8);
    octal(0, 116, 8);
    octal(data.length, 124, 12);
    octal(mtime, 136, 12);
    header.fill(" ", 148, 156); // the checksum counts its own field as spaces
    header.write("0", 156, "ascii"); // a regular file
    header.write("ustar\0", 257, "ascii");
    header.write("00", 263, "ascii");
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
    parts.push(header, Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024)); // two empty records end the archive
  return Buffer.concat(parts);
}

export interface ImageInput {
  module: Uint8Array;
  /** The plugin's root ids (the runtime config names them). */
  rootIds: string[];
  /** org.opencontainers.image.* annotations (title, version, source, …). */
  annotations: Record<string, string>;
}

export interface Layout {
  /** Blob digest → contents. */
  blobs: Map<string, Uint8Array>;
  /** The manifests, each with its ref name (the tag in `oci:<dir>:<tag>`). */
  manifests: { ref: string; descriptor: Descriptor }[];
}

function addBlob(layout: Layout, mediaType: string, data: Uint8Array, annotations?: Record<string, string>): Descriptor {
  const digest = sha256(data);
  layout.blobs.set(digest, data);
  return { mediaType, digest, size: data.length, ...(annotations ? { annotations } : {}) };
}

function addManifest(layout: Layout, ref: string, config: Descriptor, layers: Descriptor[], annotations: Record<string, string>): void {
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.manifest, config, layers, annotations }));
  const descriptor = addBlob(layout, MEDIA.manifest, manifest, { "org.opencontainers.image.ref.name": ref });
  layout.manifests.push({ ref, descriptor });
}

/** Both variants of the image for `input`, tagged `tag` (compat) and `tag-artifact`. */
export function wasmImage(input: ImageInput, tag: string): Layout {
  const layout: Layout = { blobs: new Map(), manifests: [] };
  const wasm = Buffer.from(input.module);
  const title = { "org.opencontainers.image.title": "plugin.wasm" };

  const tar = tarOf([["plugin.wasm", wasm]]);
  const layer = addBlob(layout, MEDIA.tarGzipLayer, gzipSync(tar, { level: 9 }));
  const imageConfig = Buffer.from(JSON.stringify({
    architecture: "wasm", os: "wasip1", config: {}, rootfs: { type: "layers", diff_ids: [sha256(tar)] }, history: [{ created_by: "proxy-wasm-as package" }],
  }));
  addManifest(layout, tag, addBlob(layout, MEDIA.imageConfig, imageConfig), [layer], input.annotations);

  const runtimeConfig = Buffer.from(JSON.stringify({ type: "envoy_proxy", abiVersions: ["v0.2.1"], config: { rootIds: input.rootIds } }));
  const configLayer = addBlob(layout, MEDIA.wasmConfig, runtimeConfig, { "org.opencontainers.image.title": "runtime-config.json" });
  const content = addBlob(layout, MEDIA.wasmContent, wasm, title);
  addManifest(layout, `${tag}-artifact`, { ...configLayer, annotations: undefined }, [configLayer, content], input.annotations);
  return layout;
}

/** The layout's files: oci-layout, index.json, blobs/sha256/<hex>. */
export function layoutFiles(layout: Layout): [name: string, data: Uint8Array][] {
  const index = { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: layout.manifests.map((m) => m.descriptor) };
  return [
    ["oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" }))],
    ["index.json", Buffer.from(JSON.stringify(index))],
    ...[...layout.blobs].map(([digest, data]): [string, Uint8Array] => [`blobs/sha256/${digest.slice("sha256:".length)}`, data]),
  ];
}

/** Writes the layout as a directory. */
export function writeLayout(dir: string, layout: Layout): void {
  for (const [name, data] of layoutFiles(layout)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), data);
  }
}
