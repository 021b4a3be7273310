import type { Headers } from '../util/headers.ts';

/** A record as a transport delivers it: bytes plus position. */
export interface IncomingRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Headers;
}

/** A record to write; without `partition` the transport picks one from the key (murmur2). */
export interface OutgoingRecord {
  topic: string;
  partition?: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Headers;
}
