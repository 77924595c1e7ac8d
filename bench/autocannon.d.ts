// The part of autocannon's API the benchmark uses (the package ships no types).
declare module "autocannon" {
  interface Options { url: string; connections?: number; duration?: number; pipelining?: number }
  interface Result {
    requests: { average: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  }
  function autocannon(options: Options, done: (err: Error | null, result: Result) => void): unknown;
  export default autocannon;
}
