/**
 * Whether a table node forwards old values with its changes: Kafka Streams' `sendOldValues`, off
 * until an operator downstream that needs them (groupBy, table-table and foreign-key joins,
 * suppress) asks with {@link OldValues.enable} (`KTableImpl.enableSendingOldValues`). Without them a
 * change carries `oldValue: null`. A filter whose parent sends them drops a change from "absent" to
 * "absent" (`Change(null, null)`) instead of forwarding a needless tombstone.
 *
 * The flag is settled while the topology is built; processors read {@link sending} when they start.
 */
export class OldValues {
  private constructor(
    private on: boolean,
    /** Turns old values on upstream as this node's kind needs; false when it cannot (an unmaterialized source, unforced). */
    private readonly turnOn: (forceMaterialization: boolean) => boolean,
  ) {}

  /** A node that always sends them (suppress, windowed and session aggregations). */
  static always(): OldValues {
    return new OldValues(true, () => true);
  }

  /** A source table (`builder.table`, `stream.toTable`, a foreign-key join's result): sends once asked, if it is materialized under a name or forced. */
  static source(materialized: boolean): OldValues {
    return new OldValues(false, (force) => force || materialized);
  }

  /** An aggregation (always materialized): sends once asked (KStreamAggregate, KTableAggregate, a table-table join's merger). */
  static onRequest(): OldValues {
    return new OldValues(false, () => true);
  }

  /**
   * A table derived from `parent` (filter, mapValues, transformValues): sends once asked if it is
   * materialized under a name, else only if its parent can. A filter starts sending already when
   * its parent does (`sendingAtStart`), as KTableFilter asks its parent with `force = false`.
   */
  static derived(parent: OldValues, materialized: boolean, sendingAtStart = false): OldValues {
    return new OldValues(sendingAtStart, (force) => materialized || parent.enable(force));
  }

  /** Whether changes carry old values. */
  get sending(): boolean {
    return this.on;
  }

  /** Asks this node (and what it needs upstream) to send old values; returns whether it now does. */
  enable(forceMaterialization: boolean): boolean {
    if (!this.on) this.on = this.turnOn(forceMaterialization);
    return this.on;
  }
}

/** `old` when the node sends old values (or has no flag: it always does), else `null`. */
export function oldValueIfSent<V>(oldValues: OldValues | undefined, old: V | null): V | null {
  return oldValues === undefined || oldValues.sending ? old : null;
}
