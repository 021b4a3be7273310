import type { Headers } from '../util/headers.ts';

/** A record read from (or piped into) a test topic. */
export interface TestRecord<K, V> {
  key: K;
  value: V;
  timestamp: number;
  headers: Headers;
}

/** A record to pipe; the timestamp defaults to the input topic's current time. */
export interface TestRecordInit<K, V> {
  key: K;
  value: V;
  timestamp?: number;
  headers?: Headers;
}
