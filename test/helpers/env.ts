/** Runs `fn` with the environment variable `name` set to `value` (read per call by the native ops), then removes it. */
export function withEnv<R>(name: string, value: string, fn: () => R): R {
  process.env[name] = value;
  try {
    return fn();
  } finally {
    delete process.env[name];
  }
}
