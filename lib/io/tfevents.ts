/**
 * TensorBoard event files written from Node: TFRecord framing (length, masked CRC-32C of the length,
 * payload, masked CRC-32C of the payload) around `tensorflow.Event` protobuf messages, encoded by hand
 * for the few fields used (tensorflow/core/util/event.proto and framework/summary.proto):
 *
 *   Event        { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5;
 *                  SessionLog session_log = 7; }
 *   Summary      { repeated Value value = 1; }
 *   Value        { string tag = 1; float simple_value = 2; }
 *   SessionLog   { SessionStatus status = 1; }   (START = 1: TensorBoard drops the events of earlier
 *                                                files at this step and later — what a resumed run wants)
 *
 * The first record of a file is `file_version: "brain.Event:2"`. Files are named
 * `events.out.tfevents.<unix seconds>.<host>.<pid>.<n>` so `tensorboard --logdir` finds them.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { namingFile } from './write-error.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { maskedCrc32c } from './crc32c.js';

/** Protobuf wire types. */
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

/** A growable byte buffer with the protobuf primitives. */
class ProtoWriter {
  private buf = new Uint8Array(64);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** An unsigned varint (non-negative integers up to 2^53). */
  varint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) throw new RangeError(`protobuf varint: expected a non-negative safe integer, got ${v}`);
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  key(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  double(field: number, v: number): this {
    this.key(field, FIXED64).ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.len, v, true);
    this.len += 8;
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, FIXED32).ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat32(this.len, v, true);
    this.len += 4;
    return this;
  }

  uint(field: number, v: number): this {
    return this.key(field, VARINT).varint(v);
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, LEN).varint(b.length).ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** One scalar of a summary. */
export interface ScalarValue {
  tag: string;
  value: number;
}

/** What one event carries (one of `fileVersion`, `scalars`, `sessionStart`). */
export interface EventContent {
  /** Seconds since the Unix epoch (fractional). */
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars?: readonly ScalarValue[];
  /** A SessionLog START at `step`: TensorBoard discards earlier files' events from this step on. */
  sessionStart?: boolean;
}

/** The protobuf bytes of an `Event`. */
export function encodeEvent(e: EventContent): Uint8Array {
  const w = new ProtoWriter().double(1, e.wallTime);
  if (e.step !== 0) w.uint(2, e.step);
  if (e.fileVersion !== undefined) w.string(3, e.fileVersion);
  if (e.scalars !== undefined) {
    const summary = new ProtoWriter();
    for (const s of e.scalars) {
      if (s.tag.length === 0) throw new RangeError('tfevents: a scalar needs a non-empty tag');
      summary.bytes(1, new ProtoWriter().string(1, s.tag).float(2, s.value).finish());
    }
    w.bytes(5, summary.finish());
  }
  if (e.sessionStart) w.bytes(7, new ProtoWriter().uint(1, 1).finish());
  return w.finish();
}

/** One TFRecord: uint64 length (LE), masked CRC of those 8 bytes, the payload, masked CRC of the payload. */
export function frameRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length + 4);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(payload.length), true);
  dv.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(payload, 12);
  dv.setUint32(12 + payload.length, maskedCrc32c(payload), true);
  return out;
}

let fileCounter = 0;

/**
 * Appends events to a new event file in `dir` (created if needed). Each event is written at once
 * (TensorBoard shows a live run); `close()` syncs and closes the file.
 */
export class EventFileWriter {
  readonly path: string;
  private fd: number | null;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    const host = hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'localhost';
    this.path = join(dir, `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${host}.${process.pid}.${fileCounter++}`);
    this.fd = openSync(this.path, 'wx');
    this.write({ wallTime: Date.now() / 1000, step: 0, fileVersion: 'brain.Event:2' });
  }

  /** Writes one event. */
  write(e: EventContent): void {
    if (this.fd === null) throw new Error(`tfevents: ${this.path} is closed`);
    const rec = frameRecord(encodeEvent(e));
    const fd = this.fd;
    namingFile(this.path, 'appending an event to', () => {
      let off = 0;
      while (off < rec.length) off += writeSync(fd, rec, off, rec.length - off);
    });
  }

  /** Writes the finite values of `scalars` as one summary at `step`. */
  scalars(step: number, scalars: Record<string, number> | readonly ScalarValue[], wallTime = Date.now() / 1000): void {
    const list = Array.isArray(scalars) ? (scalars as readonly ScalarValue[]) : Object.entries(scalars).map(([tag, value]) => ({ tag, value }));
    const finite = list.filter((s) => Number.isFinite(s.value));
    if (finite.length) this.write({ wallTime, step, scalars: finite });
  }

  close(): void {
    if (this.fd === null) return;
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
