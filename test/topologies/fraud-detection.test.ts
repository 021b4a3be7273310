import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Serdes, TopologyTestDriver, keyHash } from 'tributary';
import fraudDetection, { FRAUD_SPLIT, demo, registry, type Payment, type PaymentKind, type ScoredPayment } from '../../topologies/fraud-detection.ts';

function start() {
  const driver = new TopologyTestDriver(fraudDetection.build(), { applicationId: 'fraud-detection', errorHandling: 'dead-letter' });
  return {
    driver,
    payments: driver.createInputTopic('payments', Serdes.string(), Serdes.json<unknown>()),
    alerts: driver.createOutputTopic('fraud-alerts', Serdes.string(), Serdes.json<ScoredPayment>()),
    scored: driver.createOutputTopic('payments-scored', Serdes.string(), Serdes.json<ScoredPayment>()),
    dlq: driver.createOutputTopic('fraud-detection-dlq', Serdes.string(), Serdes.bytes()),
  };
}

/** The version the documented routing gives a card: keyHash(key) below 0.5 → '1', else '2'. */
const expectedVersion = (card: string): string => (keyHash(card) < FRAUD_SPLIT['1'] ? '1' : '2');

const ordinary: Payment = {
  paymentId: 'pay-1', cardId: 'card-00001', merchantId: 'merchant-001', currency: 'EUR',
  amount: 23.4, hour: 13, merchantRisk: 0.12, distanceFromHomeKm: 3.1, txCountLastHour: 0, foreign: 0, cardAgeDays: 840,
};
const cardTesting: Payment = {
  paymentId: 'pay-2', cardId: 'card-99999', merchantId: 'merchant-666', currency: 'EUR',
  amount: 2_450, hour: 3, merchantRisk: 0.8, distanceFromHomeKm: 6_200, txCountLastHour: 7, foreign: 1, cardAgeDays: 2,
};

describe('topologies/fraud-detection', () => {
  afterAll(async () => {
    await registry.close();
  });

  it('alerts on a card-testing payment and passes an ordinary one, each with model and version', async () => {
    const { driver, payments, alerts, scored } = start();
    await payments.pipeInput(ordinary.cardId, ordinary, 1_000);
    await payments.pipeInput(cardTesting.cardId, cardTesting, 2_000);

    const [alert] = alerts.readKeyValuesToList();
    expect(alert?.key).toBe('card-99999');
    expect(alert?.value).toMatchObject({ ...cardTesting, prediction: { model: 'fraud', version: expectedVersion('card-99999'), label: 'fraud', labelIndex: 1 } });
    expect(alert!.value.prediction.score).toBeGreaterThan(0.9);

    const [ok] = scored.readKeyValuesToList();
    expect(ok?.value).toMatchObject({ ...ordinary, prediction: { model: 'fraud', version: expectedVersion('card-00001'), label: 'legit', labelIndex: 0 } });
    expect(ok!.value.prediction.score).toBeLessThan(0.05);
    expect(alerts.isEmpty() && scored.isEmpty()).toBe(true);
    await driver.close();
  });

  it('scores the demo stream: every record leaves exactly once, all card-testing bursts alert on both versions, malformed ones are dead-lettered at validate', async () => {
    const { driver, payments, alerts, scored, dlq } = start();
    const records = [...demo(3_000)];
    const kindOf = new Map<string, PaymentKind>(records.map((r) => [(r.value as Payment).paymentId, r.kind]));
    await payments.pipeKeyValueList(records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp! })));

    const alerted = alerts.readKeyValuesToList();
    const passed = scored.readKeyValuesToList();
    const dead = dlq.readRecordsToList();
    const count = (kind: PaymentKind) => records.filter((r) => r.kind === kind).length;
    expect(count('fraud-like')).toBeGreaterThan(30);
    expect(count('malformed')).toBeGreaterThan(5);

    // every record exactly once, in one of the three topics
    const seen = [...alerted, ...passed].map((r) => r.value.paymentId);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length + dead.length).toBe(records.length);

    // all card-testing payments alert, whichever version scored them; both versions did
    const fraudLike = alerted.filter((r) => kindOf.get(r.value.paymentId) === 'fraud-like');
    expect(fraudLike).toHaveLength(count('fraud-like'));
    expect(new Set(fraudLike.map((r) => r.value.prediction.version))).toEqual(new Set(['1', '2']));
    // ordinary payments alert rarely (the training data has 2.5 % fraud)
    expect(alerted.length - fraudLike.length).toBeLessThan(0.02 * count('ordinary'));

    // each prediction comes from the version its card hashes to
    for (const { key, value } of [...alerted, ...passed]) {
      expect(value.prediction).toMatchObject({ model: 'fraud', version: expectedVersion(key) });
      expect(value.prediction.latencyMs).toBeGreaterThanOrEqual(0);
    }

    // malformed records: the original bytes, with stage and reason in the headers
    expect(dead).toHaveLength(count('malformed'));
    for (const record of dead) {
      expect(record.headers).toMatchObject({ stage: 'validate', topic: 'payments' });
      expect(record.headers.error).toMatch(/does not match the input schema/);
      const original = JSON.parse(record.value!.toString('utf8')) as { paymentId: string };
      expect(kindOf.get(original.paymentId)).toBe('malformed');
    }
    await driver.close();
  });

  it('A/B: a card always meets the same version, and the shares follow the weights over many cards', async () => {
    const { driver, payments, alerts, scored } = start();
    const cards = Array.from({ length: 2_000 }, (_, i) => `card-${i}`);
    const rounds = 2;
    const batch = cards.flatMap((card, i) => Array.from({ length: rounds }, (_, r) => ({ key: card, value: { ...ordinary, paymentId: `p-${i}-${r}`, cardId: card }, timestamp: r })));
    await Promise.all(batch.map((r) => payments.pipeInput(r.key, r.value, r.timestamp)));

    const versions = new Map<string, Set<string>>();
    for (const { key, value } of [...alerts.readKeyValuesToList(), ...scored.readKeyValuesToList()]) {
      const set = versions.get(key) ?? new Set<string>();
      set.add(value.prediction.version);
      versions.set(key, set);
    }
    expect(versions.size).toBe(cards.length);
    expect([...versions.values()].every((set) => set.size === 1)).toBe(true);
    const onV1 = [...versions.values()].filter((set) => set.has('1')).length / cards.length;
    expect(onV1).toBeGreaterThan(0.46);
    expect(onV1).toBeLessThan(0.54);
    await driver.close();
  });

  it('the demo is deterministic and resolves the registry next to the file, not the working directory', () => {
    const first = [...demo(200)];
    expect([...demo(200)]).toEqual(first);
    expect(registry.dir).toBe(fileURLToPath(new URL('../../models', import.meta.url)));
    expect(registry.versions('fraud')).toEqual(['1', '2']);
  });
});
