/**
 * Fraud detection: score every card payment with the fraud model, half of the cards on version 1
 * (logistic regression) and half on version 2 (gradient-boosted trees), and route the result.
 *
 *   payments (key: card id, value: payment JSON) → validate against the model's input schema
 *     → predict (A/B split by card: fraud@1 50 %, fraud@2 50 %) ─┬─ fraud → fraud-alerts
 *                                                                └─ legit → payments-scored
 *
 * The registry model validates each payment with the JSON Schema in `model.json` before its
 * features reach the tensor; a payment that fails goes to `fraud-detection-dlq` with the header
 * `stage: validate` and the reason. The split hashes the card id, so one card always meets the
 * same version, and every prediction says which `version` answered.
 *
 * The registry opens with a top-level `await` (a topology file is an ES module, so importing it
 * waits for the folder scan); sessions load lazily on the first batch. `registry` is exported so
 * that whoever imports the file can close it.
 */
import { fileURLToPath } from 'node:url';
import { ModelRegistry, Serdes, topology, type ClassifierOutput, type DemoRecord, type Prediction } from 'tributary';

/** A card payment as the acquirer sends it; the last seven fields are the fraud model's features. */
export interface Payment {
  paymentId: string;
  cardId: string;
  merchantId: string;
  currency: string;
  amount: number;
  /** Local hour of day at the card holder's location, 0–23. */
  hour: number;
  merchantRisk: number;
  distanceFromHomeKm: number;
  txCountLastHour: number;
  /** 1 if the payment is made abroad. */
  foreign: number;
  cardAgeDays: number;
}

/** A payment with the fraud model's verdict. */
export type ScoredPayment = Payment & { prediction: Prediction<ClassifierOutput> };

/** Share of cards per model version (keys are registry versions). */
export const FRAUD_SPLIT = { '1': 0.5, '2': 0.5 } as const;

/** The model registry next to this file (`../models`), whatever the working directory. */
export const registry = await ModelRegistry.open(fileURLToPath(new URL('../models', import.meta.url)));

export default topology(
  { applicationId: 'fraud-detection', description: 'scores card payments with an A/B split of two fraud models', topics: { payments: { partitions: 4 } }, demoRate: 2_000 },
  (builder) => {
    builder
      .stream('payments', { keySerde: Serdes.string(), valueSerde: Serdes.json<Payment>() })
      .predict(registry.split<Payment, ClassifierOutput>('fraud', FRAUD_SPLIT), { maxBatchSize: 256, maxDelayMs: 5 }, { name: 'score-payment' })
      .split({ name: 'verdict-' })
      .branch((_card, payment) => payment.prediction.label === 'fraud', { name: 'fraud', to: 'fraud-alerts' })
      .defaultBranch({ name: 'legit', to: 'payments-scored' });
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

class Random {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hi: number): number {
    return Math.floor(this.uniform(lo, hi + 1));
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
  lognormal(mean: number, sigma: number): number {
    return Math.exp(mean + sigma * this.normal());
  }
  /** Marsaglia–Tsang; shape >= 1. */
  gamma(shape: number, scale: number): number {
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v = (1 + c * x) ** 3;
      if (v > 0 && Math.log(1 - this.next()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * scale;
    }
  }
  beta(a: number, b: number): number {
    const x = this.gamma(a, 1);
    return x / (x + this.gamma(b, 1));
  }
  /** Knuth's method (fine for small lambda). */
  poisson(lambda: number): number {
    const limit = Math.exp(-lambda);
    let k = 0;
    for (let product = this.next(); product > limit; product *= this.next()) k++;
    return k;
  }
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let u = this.uniform(0, total);
    for (let i = 0; i < weights.length; i++) if ((u -= weights[i]!) < 0) return i;
    return weights.length - 1;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** Share of payments per local hour (as in models/train/train_fraud.py). */
const HOUR_WEIGHTS = [0.8, 0.5, 0.35, 0.3, 0.3, 0.45, 1.0, 2.0, 3.2, 4.0, 4.6, 5.2, 6.0, 5.6, 5.0, 4.8, 5.0, 5.6, 6.2, 5.8, 4.8, 3.6, 2.4, 1.4];
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

interface Card {
  id: string;
  issuedDaysAgo: number;
}

/** A payment drawn from the same distributions as the model's training data. */
function ordinaryPayment(random: Random, card: Card, merchant: { id: string; risk: number }): Omit<Payment, 'paymentId'> {
  const foreign = random.uniform() < 0.06 ? 1 : 0;
  return {
    cardId: card.id,
    merchantId: merchant.id,
    currency: 'EUR',
    amount: round(Math.min(25_000, Math.max(0.5, random.lognormal(3.5, 1.05))), 2),
    hour: random.weighted(HOUR_WEIGHTS),
    merchantRisk: merchant.risk,
    distanceFromHomeKm: round(foreign === 1 ? random.lognormal(6.6, 0.7) : random.lognormal(1.4, 1.1), 1),
    txCountLastHour: random.poisson(0.7),
    foreign,
    cardAgeDays: card.issuedDaysAgo,
  };
}

/** Card testing on a freshly issued (stolen) card: at night, abroad, a burst of large payments at a risky merchant. */
function fraudLikePayment(random: Random, card: Card, merchantId: string): Omit<Payment, 'paymentId'> {
  return {
    cardId: card.id,
    merchantId,
    currency: 'EUR',
    amount: round(random.uniform(900, 4_000), 2),
    hour: random.int(1, 4),
    merchantRisk: round(random.uniform(0.55, 0.9), 3),
    distanceFromHomeKm: round(random.uniform(2_500, 9_000), 1),
    txCountLastHour: random.int(5, 9),
    foreign: 1,
    cardAgeDays: random.int(0, 12),
  };
}

/** Records a broken upstream might send: each fails the model's input schema. */
const MALFORMED: readonly ((p: Omit<Payment, 'paymentId'>) => unknown)[] = [
  (p) => ({ ...p, amount: -p.amount }), // a refund sent to the wrong topic
  (p) => ({ ...p, hour: 24 + p.hour }),
  (p) => ({ ...p, merchantRisk: 'high' }),
  ({ cardAgeDays: _dropped, ...p }) => p,
];

/** How the demo stream is mixed. */
export interface PaymentDemoOptions {
  seed?: number;
  cards?: number;
  /** Share of payments that look like card testing (default 0.02). */
  fraudShare?: number;
  /** Share of records that fail the schema (default 0.005). */
  malformedShare?: number;
  startTimestamp?: number;
}

/** The kind of each demo record, for tests: `ordinary`, `fraud-like` or `malformed`. */
export type PaymentKind = 'ordinary' | 'fraud-like' | 'malformed';

/**
 * Deterministic sample payments (seeded): ordinary payments drawn like the training data, about
 * 2 % card-testing bursts on new cards, and about 0.5 % malformed records for the dead-letter topic.
 * Each record carries its kind in `kind` (not part of the payment).
 */
export function* demo(count = 20_000, options: PaymentDemoOptions = {}): Generator<DemoRecord & { key: string; kind: PaymentKind }> {
  const random = new Random(options.seed ?? 20250101);
  const cards: Card[] = Array.from({ length: options.cards ?? 500 }, (_, i) => ({
    id: `card-${String(i).padStart(5, '0')}`,
    issuedDaysAgo: Math.min(5_000, Math.round(random.gamma(1.4, 550))),
  }));
  const merchants = Array.from({ length: 60 }, (_, i) => ({ id: `merchant-${String(i).padStart(3, '0')}`, risk: round(random.beta(2, 9), 3) }));
  const fraudShare = options.fraudShare ?? 0.02;
  const malformedShare = options.malformedShare ?? 0.005;
  let timestamp = options.startTimestamp ?? 1_700_000_000_000;
  for (let i = 0; i < count; i++) {
    timestamp += random.int(1, 400);
    const paymentId = `pay-${String(i).padStart(7, '0')}`;
    const u = random.uniform();
    if (u < fraudShare) {
      const card = { id: `card-new-${String(i).padStart(7, '0')}`, issuedDaysAgo: 0 };
      yield { topic: 'payments', key: card.id, value: { paymentId, ...fraudLikePayment(random, card, random.pick(merchants).id) }, timestamp, kind: 'fraud-like' };
    } else if (u < fraudShare + malformedShare) {
      const card = random.pick(cards);
      const broken = random.pick(MALFORMED)(ordinaryPayment(random, card, random.pick(merchants)));
      yield { topic: 'payments', key: card.id, value: { paymentId, ...(broken as object) }, timestamp, kind: 'malformed' };
    } else {
      const card = random.pick(cards);
      yield { topic: 'payments', key: card.id, value: { paymentId, ...ordinaryPayment(random, card, random.pick(merchants)) }, timestamp, kind: 'ordinary' };
    }
  }
}
