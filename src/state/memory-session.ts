import type { Windowed } from '../serdes/serdes.ts';
import { ChangeLog } from './change-log.ts';
import { compareKeys, keyId } from './key-id.ts';
import { SortedTimes } from './sorted-times.ts';
import type { KeyValue, SessionStore } from './store.ts';

/** How an in-memory session store keeps its sessions. */
export interface InMemorySessionStoreOptions {
  /** Sessions ending at or before `observedStreamTime - retentionMs` are dropped (and puts to them ignored). */
  retentionMs: number;
}

interface Session<V> {
  start: number;
  end: number;
  value: V;
}

/** The sessions of one key, by start then end. */
interface KeySessions<K, V> {
  key: K;
  sessions: Session<V>[];
}

/**
 * The session store every task uses: `(key, [start, end]) → aggregate` in the task's memory, as
 * Kafka Streams' `InMemorySessionStore` behaves. Its observed stream time is the largest session
 * end put; sessions ending at or before `observedStreamTime - retentionMs` expire. A persistent
 * backend (Redis) loads it with `restore` and writes its change log at each commit: every put,
 * removal and expiry is recorded with `windowStart` and `windowEnd`.
 */
export class InMemorySessionStore<K, V> implements SessionStore<K, V> {
  readonly type = 'session' as const;
  readonly changes = new ChangeLog();
  readonly retentionMs: number;
  private observed = -1;
  private readonly byKey = new Map<string, KeySessions<K, V>>();
  /** Session end → the sessions ending then (`start|keyId` → key id and start). */
  private readonly byEnd = new Map<number, Map<string, { id: string; start: number }>>();
  private readonly ends = new SortedTimes();

  constructor(
    readonly name: string,
    options: InMemorySessionStoreOptions,
  ) {
    if (!(options.retentionMs >= 0)) throw new RangeError(`session store '${name}': retentionMs must be a non-negative number, got ${options.retentionMs}`);
    this.retentionMs = options.retentionMs;
  }

  /** The largest session end this store has seen (-1 when none): retention counts from it. */
  get observedStreamTime(): number {
    return this.observed;
  }

  put(session: Windowed<K>, aggregate: V | null): void {
    const { start, end } = session.window;
    if (!this.advance(end)) return;
    if (aggregate === null || aggregate === undefined) {
      this.remove(session);
      return;
    }
    const id = keyId(session.key);
    this.set(id, session.key, start, end, aggregate);
    if (this.changes.enabled) this.changes.record({ id: `${start}|${end}|${id}`, key: session.key, value: aggregate, windowStart: start, windowEnd: end });
  }

  remove(session: Windowed<K>): void {
    this.delete(keyId(session.key), session.window.start, session.window.end);
  }

  fetch(key: K): KeyValue<Windowed<K>, V>[] {
    return this.findSessions(key, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  findSessions(key: K, earliestSessionEnd: number, latestSessionStart: number): KeyValue<Windowed<K>, V>[] {
    const out: KeyValue<Windowed<K>, V>[] = [];
    const entry = this.byKey.get(keyId(key));
    if (!entry) return out;
    const minLive = this.minLiveTime();
    for (const s of entry.sessions) {
      if (s.start > latestSessionStart) break;
      if (s.end >= earliestSessionEnd && s.end >= minLive) out.push({ key: { key: entry.key, window: { start: s.start, end: s.end } }, value: s.value });
    }
    return out;
  }

  fetchSession(key: K, sessionStart: number, sessionEnd: number): V | undefined {
    if (sessionEnd < this.minLiveTime()) return undefined;
    return this.byKey.get(keyId(key))?.sessions.find((s) => s.start === sessionStart && s.end === sessionEnd)?.value;
  }

  all(): KeyValue<Windowed<K>, V>[] {
    const out: KeyValue<Windowed<K>, V>[] = [];
    for (const entry of this.byKey.values()) {
      for (const s of entry.sessions) out.push({ key: { key: entry.key, window: { start: s.start, end: s.end } }, value: s.value });
    }
    return out.sort((a, b) => a.key.window.start - b.key.window.start || compareKeys(a.key.key, b.key.key) || a.key.window.end - b.key.window.end);
  }

  /** Restores a session without recording it as a change (used by the persistent backend). */
  restore(session: Windowed<K>, aggregate: V): void {
    if (!this.advance(session.window.end)) return;
    this.set(keyId(session.key), session.key, session.window.start, session.window.end, aggregate);
  }

  /** Moves observed stream time to `end` if later and expires old sessions; false if a session ending at `end` has expired. */
  private advance(end: number): boolean {
    if (end > this.observed) {
      this.observed = end;
      this.expire();
    }
    return end >= this.minLiveTime();
  }

  /** Sessions ending before this time have expired. */
  private minLiveTime(): number {
    return this.observed - this.retentionMs + 1;
  }

  private set(id: string, key: K, start: number, end: number, value: V): void {
    let entry = this.byKey.get(id);
    if (!entry) {
      entry = { key, sessions: [] };
      this.byKey.set(id, entry);
    }
    const sessions = entry.sessions;
    let at = sessions.length;
    while (at > 0 && (sessions[at - 1]!.start > start || (sessions[at - 1]!.start === start && sessions[at - 1]!.end >= end))) at--;
    const existing = sessions[at];
    if (existing && existing.start === start && existing.end === end) {
      existing.value = value;
      return;
    }
    sessions.splice(at, 0, { start, end, value });
    let ending = this.byEnd.get(end);
    if (!ending) {
      ending = new Map();
      this.byEnd.set(end, ending);
      this.ends.add(end);
    }
    ending.set(`${start}|${id}`, { id, start });
  }

  private delete(id: string, start: number, end: number): void {
    const entry = this.byKey.get(id);
    if (!entry) return;
    const at = entry.sessions.findIndex((s) => s.start === start && s.end === end);
    if (at < 0) return;
    entry.sessions.splice(at, 1);
    if (entry.sessions.length === 0) this.byKey.delete(id);
    const ending = this.byEnd.get(end);
    if (ending) {
      ending.delete(`${start}|${id}`);
      if (ending.size === 0) {
        this.byEnd.delete(end);
        this.ends.delete(end);
      }
    }
    if (this.changes.enabled) this.changes.record({ id: `${start}|${end}|${id}`, key: entry.key, value: null, windowStart: start, windowEnd: end });
  }

  /** Drops every session that ends before the minimum live time. */
  private expire(): void {
    const minLive = this.minLiveTime();
    let first: number | undefined;
    while ((first = this.ends.first()) !== undefined && first < minLive) {
      for (const { id, start } of [...this.byEnd.get(first)!.values()]) this.delete(id, start, first);
    }
  }
}
