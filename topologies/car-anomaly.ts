/**
 * Connected-car anomaly detection: cars send a telemetry reading every few seconds; per car and
 * per minute the readings are summarised into the features the car-anomaly model (an isolation
 * forest) was trained on, each closed minute is scored, and anomalous minutes become alerts.
 *
 *   car-telemetry (key: VIN, value: reading) → group by car → 1-minute windows (10 s grace)
 *     → aggregate readings → once the window closes → features → predict (car-anomaly, newest
 *     version) → anomalies only → car-alerts (key: VIN, value: alert)
 *
 * A window is scored once, when stream time passes its end + grace, so a car is judged on a whole
 * minute of driving, as in training, and never twice for the same minute.
 */
import { fileURLToPath } from 'node:url';
import { ModelRegistry, Serdes, TimeWindows, topology, type AnomalyOutput, type DemoRecord } from 'tributary';

/** One telemetry reading from a car. */
export interface TelemetryReading {
  speedKmh: number;
  engineTempC: number;
  rpm: number;
  batteryV: number;
  /** Front-left, front-right, rear-left, rear-right. */
  tirePressureKpa: readonly [number, number, number, number];
  /** RMS of the chassis accelerometer since the previous reading, in g. */
  vibrationRms: number;
}

/** Running sums of one car's readings in one window. */
export interface TelemetryWindow {
  readings: number;
  speedSum: number;
  maxEngineTempC: number;
  rpmSum: number;
  minBatteryV: number;
  tirePressureSum: number;
  vibrationSquaresSum: number;
}

/** The car-anomaly model's input: one car over one minute (names as in models/car-anomaly/1/model.json). */
export interface CarMinute {
  vin: string;
  windowStart: number;
  windowEnd: number;
  readings: number;
  avgSpeedKmh: number;
  maxEngineTempC: number;
  avgRpm: number;
  minBatteryV: number;
  avgTirePressureKpa: number;
  vibrationRms: number;
}

/** What `car-alerts` receives. */
export interface CarAlert extends CarMinute {
  /** Isolation-forest score; below 0 is anomalous, lower is stranger. */
  score: number;
  model: string;
  version: string;
}

const emptyWindow = (): TelemetryWindow => ({
  readings: 0, speedSum: 0, maxEngineTempC: -Infinity, rpmSum: 0, minBatteryV: Infinity, tirePressureSum: 0, vibrationSquaresSum: 0,
});

/** Adds one reading to a window's sums. */
export function addReading(w: TelemetryWindow, r: TelemetryReading): TelemetryWindow {
  const [fl, fr, rl, rr] = r.tirePressureKpa;
  return {
    readings: w.readings + 1,
    speedSum: w.speedSum + r.speedKmh,
    maxEngineTempC: Math.max(w.maxEngineTempC, r.engineTempC),
    rpmSum: w.rpmSum + r.rpm,
    minBatteryV: Math.min(w.minBatteryV, r.batteryV),
    tirePressureSum: w.tirePressureSum + (fl + fr + rl + rr) / 4,
    vibrationSquaresSum: w.vibrationSquaresSum + r.vibrationRms * r.vibrationRms,
  };
}

const r2 = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The model's features of one car-minute. */
export function toFeatures(vin: string, window: { start: number; end: number }, w: TelemetryWindow): CarMinute {
  return {
    vin,
    windowStart: window.start,
    windowEnd: window.end,
    readings: w.readings,
    avgSpeedKmh: r2(w.speedSum / w.readings, 1),
    maxEngineTempC: r2(w.maxEngineTempC, 1),
    avgRpm: Math.round(w.rpmSum / w.readings),
    minBatteryV: r2(w.minBatteryV, 2),
    avgTirePressureKpa: r2(w.tirePressureSum / w.readings, 1),
    vibrationRms: r2(Math.sqrt(w.vibrationSquaresSum / w.readings), 3),
  };
}

/** The model registry next to this file (`../models`), whatever the working directory; close it when done. */
export const registry = await ModelRegistry.open(fileURLToPath(new URL('../models', import.meta.url)));

export default topology(
  { applicationId: 'car-anomaly', description: 'flags anomalous minutes of connected-car telemetry', topics: { 'car-telemetry': { partitions: 4 } }, demoRate: 5_000 },
  (builder) => {
    builder
      .stream('car-telemetry', { keySerde: Serdes.string(), valueSerde: Serdes.json<TelemetryReading>() })
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace('1m', '10s'))
      .emitStrategy('onWindowClose')
      .aggregate(emptyWindow, (_vin, reading, window) => addReading(window, reading), { storeName: 'car-minutes', valueSerde: Serdes.json<TelemetryWindow>() })
      .toStream({ tombstones: 'drop' })
      .map((minute, sums) => [minute.key, toFeatures(minute.key, minute.window, sums)] as const)
      .predict(registry.model<CarMinute, AnomalyOutput>('car-anomaly'), {
        maxBatchSize: 256,
        maxDelayMs: 5,
        as: (features, p): CarAlert & { anomaly: boolean } => ({ ...features, score: p.score, model: p.model, version: p.version, anomaly: p.anomaly }),
      }, { name: 'score-car-minute' })
      .filter((_vin, scored) => scored.anomaly)
      .mapValues(({ anomaly: _anomaly, ...alert }): CarAlert => alert)
      .to('car-alerts', { keySerde: Serdes.string(), valueSerde: Serdes.json<CarAlert>() });
  },
);

// ---- demo input ----------------------------------------------------------------------------

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A fault a demo car develops (the four kinds the model's training data injects). */
export type CarFault = 'overheating' | 'battery' | 'tyre-leak' | 'vibration';

/** How a demo car drives in one minute: the values its readings scatter around. */
interface MinuteProfile {
  speed: number;
  rpm: number;
  engineTemp: number;
  battery: number;
  tyre: number;
  vibration: number;
}

const VIN_PREFIX = 'WVWZZZ1KZ';

/** The VIN of demo car `i`. */
export const demoVin = (i: number): string => `${VIN_PREFIX}${String(i).padStart(8, '0')}`;

/** Options of the demo. */
export interface CarDemoOptions {
  cars?: number;
  /** Cars (by index) and the fault each has from minute `fromMinute` on (default: cars 3, 11, 19, 27 from minute 2). */
  faults?: ReadonlyMap<number, CarFault>;
  fromMinute?: number;
  /** Seconds between two readings of a car (default 5). */
  intervalS?: number;
  seed?: number;
  startTimestamp?: number;
}

const DEFAULT_FAULTS: ReadonlyMap<number, CarFault> = new Map([[3, 'overheating'], [11, 'battery'], [19, 'tyre-leak'], [27, 'vibration']]);

/**
 * One minute of ordinary driving, drawn like the model's training data (idle, city or highway,
 * then correlated signals) but without its rarest tails, so that healthy demo cars stay healthy.
 */
function normalMinute(random: () => number, ambient: number): MinuteProfile {
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
  const u = random();
  const regime = u < 0.15 ? 'idle' : u < 0.7 ? 'city' : 'highway';
  const speed = regime === 'idle' ? 3 * random() : regime === 'city' ? clamp(38 + 8 * gauss(), 12, 65) : clamp(105 + 8 * gauss(), 85, 125);
  const rpm = regime === 'idle' ? 820 + 30 * gauss() : 900 + speed * (28 + 1.5 * gauss()) * (0.8 + 0.1 * random());
  const load = speed / 160 + (rpm - 800) / 8000;
  return {
    speed,
    rpm,
    engineTemp: 88 + 6 * load + 0.12 * (ambient - 15) + gauss(),
    battery: 13.9 + 0.1 * gauss() - (regime === 'idle' ? 0.3 * random() : 0),
    tyre: 232 + 4 * gauss() + 0.35 * (ambient - 15) + 0.03 * speed,
    vibration: 0.15 + 0.0045 * speed + 0.00004 * rpm + Math.abs(0.02 * gauss()),
  };
}

function withFault(m: MinuteProfile, fault: CarFault, random: () => number): MinuteProfile {
  switch (fault) {
    case 'overheating': return { ...m, engineTemp: 120 + 15 * random() };
    case 'battery': return { ...m, battery: 8 + 1.5 * random() };
    case 'tyre-leak': return { ...m, tyre: 140 + 30 * random() };
    case 'vibration': return { ...m, vibration: m.vibration * 4 + 0.5 };
  }
}

/**
 * Deterministic sample telemetry (seeded): `cars` cars, each sending a reading every `intervalS`
 * seconds, in time order; a few cars develop a fault partway through. Each record carries its
 * car's fault (or `null`) in `fault` (not part of the reading).
 */
export function* demo(minutes = 30, options: CarDemoOptions = {}): Generator<DemoRecord & { key: string; value: TelemetryReading; fault: CarFault | null }> {
  const random = mulberry32(options.seed ?? 20250102);
  const cars = options.cars ?? 40;
  const faults = options.faults ?? DEFAULT_FAULTS;
  const fromMinute = options.fromMinute ?? 2;
  const intervalMs = (options.intervalS ?? 5) * 1000;
  const start = options.startTimestamp ?? 1_700_000_040_000 - (1_700_000_040_000 % 60_000);
  const ambient = Array.from({ length: cars }, () => 15 + 6 * (random() - 0.5));
  const offset = Array.from({ length: cars }, () => Math.floor(random() * intervalMs));
  const noise = (scale: number): number => scale * (random() - 0.5);
  for (let minute = 0; minute < minutes; minute++) {
    const profiles = Array.from({ length: cars }, (_, car) => {
      const normal = normalMinute(random, ambient[car]!);
      const fault = faults.get(car);
      return fault !== undefined && minute >= fromMinute ? withFault(normal, fault, random) : normal;
    });
    for (let t = 0; t < 60_000; t += intervalMs) {
      for (let car = 0; car < cars; car++) {
        const p = profiles[car]!;
        const tyre = p.tyre + noise(1);
        const reading: TelemetryReading = {
          speedKmh: r2(Math.max(0, p.speed + noise(4)), 1),
          engineTempC: r2(p.engineTemp + noise(0.6), 1),
          rpm: Math.round(Math.max(600, p.rpm + noise(80))),
          batteryV: r2(p.battery + noise(0.06), 2),
          tirePressureKpa: [r2(tyre + noise(2), 1), r2(tyre + noise(2), 1), r2(tyre + noise(2), 1), r2(tyre + noise(2), 1)],
          vibrationRms: r2(Math.max(0, p.vibration + noise(0.04)), 3),
        };
        const fault = minute >= fromMinute ? (faults.get(car) ?? null) : null;
        yield { topic: 'car-telemetry', key: demoVin(car), value: reading, timestamp: start + minute * 60_000 + t + offset[car]!, fault };
      }
    }
  }
}
