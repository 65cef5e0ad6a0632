/** Reads TensorBoard event files with a reader that is not ours (test helper). */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// The reader is Debian's python3 with python3-protobuf (scripts/setup.sh installs both): Google's
// protobuf decoder plus a CRC-32C written in Python, sharing nothing with the TypeScript writer.
const PYTHON = '/usr/bin/python3';
const READER = join(import.meta.dirname, '../fixtures/tfevents/read_events.py');

export interface ReadBack {
  crc32c_check: number;
  events: { wall_time: number; step: number; file_version?: string; scalars?: Record<string, number>; session_status?: number }[];
}

/** Decodes `path` (throws on a framing or CRC error). */
export function readEventsIndependently(path: string): ReadBack {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run scripts/setup.sh (installs python3 and python3-protobuf)`);
  return JSON.parse(execFileSync(PYTHON, [READER, path], { encoding: 'utf8' })) as ReadBack;
}

