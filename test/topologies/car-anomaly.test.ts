import { afterAll, describe, expect, it } from 'vitest';
import { Serdes, TopologyTestDriver } from 'tributary';
import carAnomaly, { demo, demoVin, registry, type CarAlert, type CarFault, type TelemetryReading } from '../../topologies/car-anomaly.ts';

const MINUTE = 60_000;

function start() {
  const driver = new TopologyTestDriver(carAnomaly.build(), { applicationId: 'car-anomaly', errorHandling: 'dead-letter' });
  return {
    driver,
    telemetry: driver.createInputTopic('car-telemetry', Serdes.string(), Serdes.json<TelemetryReading>()),
    alerts: driver.createOutputTopic('car-alerts', Serdes.string(), Serdes.json<CarAlert>()),
  };
}

/** A car cruising in town: 40 km/h, 1900 rpm, 91 °C, 13.9 V, 233 kPa. */
const cruising = (i: number, change: Partial<TelemetryReading> = {}): TelemetryReading => ({
  speedKmh: 38 + (i % 5),
  engineTempC: 90.5 + (i % 3) * 0.2,
  rpm: 1880 + (i % 4) * 10,
  batteryV: 13.9 - (i % 2) * 0.02,
  tirePressureKpa: [233, 234, 232, 233],
  vibrationRms: 0.4,
  ...change,
});

describe('topologies/car-anomaly', () => {
  afterAll(async () => {
    await registry.close();
  });

  it('scores each car-minute once its window closes (end + 10 s grace) and alerts only on the anomalous car, with its features', async () => {
    const { driver, telemetry, alerts } = start();
    for (let i = 0; i < 12; i++) {
      await telemetry.pipeInput('healthy', cruising(i), i * 5_000);
      await telemetry.pipeInput('overheating', cruising(i, { engineTempC: 100 + i * 2.5 }), i * 5_000 + 1);
    }
    await telemetry.pipeInput('healthy', cruising(12), MINUTE + 9_999);
    expect(alerts.isEmpty()).toBe(true); // the first minute is still open (grace)

    await telemetry.pipeInput('healthy', cruising(13), MINUTE + 10_000);
    const list = alerts.readKeyValuesToList();
    expect(list).toHaveLength(1);
    const alert = list[0]!;
    expect(alert.key).toBe('overheating');
    expect(alert.value).toMatchObject({
      vin: 'overheating', windowStart: 0, windowEnd: MINUTE, readings: 12,
      avgSpeedKmh: 39.8, maxEngineTempC: 127.5, avgRpm: 1895, minBatteryV: 13.88, avgTirePressureKpa: 233, vibrationRms: 0.4,
      model: 'car-anomaly', version: '1',
    });
    expect(alert.value.score).toBeLessThan(0);
    expect(driver.metrics().deadLettered).toBe(0);
    await driver.close();
  });

  it('on the demo fleet, flags every faulty car after its fault starts and never a healthy one', async () => {
    const { driver, telemetry, alerts } = start();
    const records = [...demo(30)];
    await telemetry.pipeKeyValueList(records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp! })));

    const faultOf = new Map<string, CarFault>();
    for (const r of records) if (r.fault !== null) faultOf.set(r.key, r.fault);
    expect(new Set(faultOf.values())).toEqual(new Set(['overheating', 'battery', 'tyre-leak', 'vibration']));
    const firstFaultAt = Math.min(...records.filter((r) => r.fault !== null).map((r) => r.timestamp!));

    const list = alerts.readValuesToList();
    const perCar = new Map<string, number>();
    for (const alert of list) perCar.set(alert.vin, (perCar.get(alert.vin) ?? 0) + 1);
    // healthy cars: no alert at all
    expect([...perCar.keys()].filter((vin) => !faultOf.has(vin))).toEqual([]);
    // faulty cars: each flagged, only in minutes after its fault began
    for (const vin of faultOf.keys()) expect(perCar.get(vin) ?? 0).toBeGreaterThanOrEqual(3);
    expect(list.every((a) => a.windowEnd > firstFaultAt && a.score < 0)).toBe(true);
    // the strong signals (heat, tyre pressure) are caught in most of the 27 closed faulty minutes
    expect(perCar.get(demoVin(3))).toBeGreaterThan(13);
    expect(perCar.get(demoVin(19))).toBeGreaterThan(13);
    expect(driver.metrics().deadLettered).toBe(0);
    await driver.close();
  });

  it('the demo is deterministic and in the shape the model expects', () => {
    const first = [...demo(2)];
    expect([...demo(2)]).toEqual(first);
    expect(first).toHaveLength(2 * 12 * 40);
    expect(first[0]).toMatchObject({ topic: 'car-telemetry', key: demoVin(0) });
  });
});
