/**
 * The names a ```ts fragment block of the documentation may use without defining them (besides
 * tributary's own exports): the streams, registry and callbacks the pages talk about. Only types:
 * fragments are type-checked, never run. See CONTRIBUTING.md, "Docs that run".
 */
import type { ClassifierOutput, DriftAlert, KStream, KTable, Model, ModelRegistry, ScoreInput, ScoreOutcome, ShadowComparison, StreamsBuilder } from 'tributary';

export type { ClassifierOutput, ScoreOutcome };

/** A card payment: the features of the `fraud` model, plus what dsl.md's examples use. */
export interface Payment {
  account: string;
  country: string;
  amount: number;
  hour: number;
  merchantRisk: number;
  distanceFromHomeKm: number;
  txCountLastHour: number;
  foreign: number;
  cardAgeDays: number;
}

export interface Order {
  orderId: string;
  customerId: string;
  amount: number;
}

export interface Customer {
  name: string;
  country: string;
}

export declare const builder: StreamsBuilder;
export declare const payments: KStream<string, Payment>;
export declare const stream: KStream<string, Payment>;
export declare const orders: KStream<string, Order>;
export declare const customers: KTable<string, Customer>;
export declare const registry: ModelRegistry;
export declare const comparisons: ShadowComparison[];
export declare const driftAlerts: DriftAlert[];

/** models.md's MicroBatcher example: what is pushed (a model's input: key and value), a model, and where results and errors go. */
export type Rec = ScoreInput<Payment>;
export type Out = ClassifierOutput;
export declare const record: Rec;
export declare const model: Model<Payment, Out>;
export declare function emit(record: Rec, outcome: ScoreOutcome<Out>): void;
export declare function deadLetter(record: Rec, error: unknown): void;
