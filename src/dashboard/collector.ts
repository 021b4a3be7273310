import type { Registry } from 'prom-client';
import { onDriftAlert, type DriftAlert } from '../ml/drift.ts';
import { frameBetween, toReading, type DashboardFrame, type Reading } from './frame.ts';

/** A dead-lettered record as the dashboard lists it (the runner's `deadLetters$` events fit). */
export interface DeadLetterNote {
  stage: string;
  reason: string;
  topic: string;
  partition: number;
  offset: number;
  at: number;
}

export interface DashboardCollectorOptions {
  /** What the page's title says: the application id, or `model server`. */
  title: string;
  kind: 'runner' | 'model-server';
  /** The registries to read (each is read on its own, so a metric may live in one only). */
  registries: readonly Registry[];
  /** How often the registries are read (default 1000 ms). */
  intervalMs?: number;
  /** Frames kept (default 600: ten minutes at one a second). */
  historySize?: number;
  /** Rates are averaged over this span, so that counters published about once a second read smoothly (default 3000 ms). */
  rateWindowMs?: number;
}

/** What `GET /dashboard/data` answers. */
export interface DashboardData {
  title: string;
  kind: 'runner' | 'model-server';
  now: number;
  intervalMs: number;
  /** Frames newer than the `since` asked for, oldest first. */
  frames: DashboardFrame[];
  /** The last few dead-lettered records per stage, newest first. */
  deadLetters: Record<string, DeadLetterNote[]>;
  /** Dead-lettered records since the start, per stage. */
  deadLetterTotals: Record<string, number>;
  /** The most recent drift alerts, newest first. */
  driftAlerts: DriftAlert[];
  /** Lifecycle state changes, newest first, and the number of rebalances (entries into REBALANCING after the first). */
  states: { state: string; at: number }[];
  rebalances: number;
}

const REASONS_PER_STAGE = 5;
const ALERTS_KEPT = 20;
const STATES_KEPT = 20;

/**
 * Reads the Prometheus registries on a timer into a bounded history of frames for the dashboard
 * page, and keeps the few events that metrics cannot carry (dead-letter reasons, drift alerts,
 * state changes). One reading costs what one scrape of `/metrics` costs, without the text.
 */
export class DashboardCollector {
  readonly title: string;
  readonly kind: 'runner' | 'model-server';
  readonly intervalMs: number;
  private readonly registries: readonly Registry[];
  private readonly historySize: number;
  private readonly rateWindowMs: number;
  private readonly frames: DashboardFrame[] = [];
  private readonly readings: { at: number; reading: Reading }[] = [];
  private readonly deadLetters = new Map<string, DeadLetterNote[]>();
  private readonly deadLetterTotals = new Map<string, number>();
  private readonly alerts: DriftAlert[] = [];
  private readonly states: { state: string; at: number }[] = [];
  private rebalances = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly stopAlerts: () => void;
  private sampling = false;

  constructor(options: DashboardCollectorOptions) {
    this.title = options.title;
    this.kind = options.kind;
    this.registries = options.registries;
    this.intervalMs = Math.max(50, options.intervalMs ?? 1000);
    this.historySize = Math.max(2, options.historySize ?? 600);
    this.rateWindowMs = Math.max(this.intervalMs, options.rateWindowMs ?? 3000);
    this.stopAlerts = onDriftAlert((alert) => {
      this.alerts.unshift(alert);
      this.alerts.length = Math.min(this.alerts.length, ALERTS_KEPT);
    });
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
    void this.sample();
  }

  /** Notes a lifecycle state change of the application. */
  recordState(state: string, at = Date.now()): void {
    if (state === 'REBALANCING' && this.states.length > 0) this.rebalances++;
    this.states.unshift({ state, at });
    this.states.length = Math.min(this.states.length, STATES_KEPT);
  }

  /** Notes a dead-lettered record and its reason. */
  recordDeadLetter(note: DeadLetterNote): void {
    const list = this.deadLetters.get(note.stage) ?? [];
    list.unshift(note);
    list.length = Math.min(list.length, REASONS_PER_STAGE);
    this.deadLetters.set(note.stage, list);
    this.deadLetterTotals.set(note.stage, (this.deadLetterTotals.get(note.stage) ?? 0) + 1);
  }

  /** The frames after `since` (epoch ms; 0 for all) and the current events. */
  data(since = 0): DashboardData {
    return {
      title: this.title,
      kind: this.kind,
      now: Date.now(),
      intervalMs: this.intervalMs,
      frames: this.frames.filter((f) => f.t > since),
      deadLetters: Object.fromEntries(this.deadLetters),
      deadLetterTotals: Object.fromEntries(this.deadLetterTotals),
      driftAlerts: [...this.alerts],
      states: [...this.states],
      rebalances: this.rebalances,
    };
  }

  /** Stops sampling. */
  close(): void {
    clearInterval(this.timer);
    this.stopAlerts();
  }

  /** Reads the registries once and appends a frame (none for the first reading: rates need two). */
  async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const metrics = (await Promise.all(this.registries.map((r) => r.getMetricsAsJSON()))).flat();
      const at = Date.now();
      const reading = toReading(metrics);
      // The reading at least `rateWindowMs` old (or the oldest) is the rates' base.
      while (this.readings.length > 1 && at - this.readings[1]!.at >= this.rateWindowMs) this.readings.shift();
      const base = this.readings[0];
      if (base !== undefined) {
        this.frames.push(frameBetween(base.reading, base.at, reading, at));
        if (this.frames.length > this.historySize) this.frames.splice(0, this.frames.length - this.historySize);
      }
      this.readings.push({ at, reading });
    } finally {
      this.sampling = false;
    }
  }
}
