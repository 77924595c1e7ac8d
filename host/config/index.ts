// Reading the proxy's configuration: an Envoy bootstrap file, or the command line's shorthand.
import { readFile } from "node:fs/promises";
import { type ParsedConfig, parseEnvoyConfig } from "./envoy.ts";
import { ConfigError } from "./reader.ts";

export { ConfigError } from "./reader.ts";
export { shorthandConfig, type Shorthand } from "./shorthand.ts";
export type * from "./model.ts";

export async function loadConfigFile(file: string): Promise<ParsedConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the configuration: ${(e as Error).message}`);
  }
  return parseEnvoyConfig(text, file);
}
