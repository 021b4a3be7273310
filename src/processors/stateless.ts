import type { Subject } from 'rxjs';
import type { Processor, ProcessorContext, ProcessorSupplier, StreamRecord } from './api.ts';

type Ctx = ProcessorContext<unknown, unknown>;

/** Builds a processor from its `process` body; the context arrives in `init`. */
function stateless<KIn, VIn>(body: (ctx: Ctx, record: StreamRecord<KIn, VIn>) => void): ProcessorSupplier {
  return () => {
    let ctx: Ctx;
    const processor: Processor<KIn, VIn> = {
      init: (context) => {
        ctx = context as Ctx;
      },
      process: (record) => body(ctx, record),
    };
    return processor as Processor;
  };
}

/** Keeps records whose predicate is true (or false, with `negate`). */
export function filterProcessor<K, V>(predicate: (key: K, value: V) => boolean, negate: boolean): ProcessorSupplier {
  return stateless<K, V>((ctx, r) => {
    if (predicate(r.key, r.value) !== negate) ctx.forward(r);
  });
}

/** Replaces key and value. */
export function mapProcessor<K, V, K2, V2>(mapper: (key: K, value: V) => readonly [K2, V2]): ProcessorSupplier {
  return stateless<K, V>((ctx, r) => {
    const [key, value] = mapper(r.key, r.value);
    ctx.forward({ ...r, key, value });
  });
}

/** Replaces the value. */
export function mapValuesProcessor<K, V, V2>(mapper: (value: V, key: K) => V2): ProcessorSupplier {
  return stateless<K, V>((ctx, r) => ctx.forward({ ...r, value: mapper(r.value, r.key) }));
}

/** Replaces the key. */
export function selectKeyProcessor<K, V, K2>(selector: (key: K, value: V) => K2): ProcessorSupplier {
  return stateless<K, V>((ctx, r) => ctx.forward({ ...r, key: selector(r.key, r.value) }));
}

/** Emits zero or more records per record; each keeps the input's timestamp and headers. */
export function flatMapProcessor<K, V, K2, V2>(mapper: (key: K, value: V) => Iterable<readonly [K2, V2]>): ProcessorSupplier {
  return stateless<K, V>((ctx, r) => {
    for (const [key, value] of mapper(r.key, r.value)) ctx.forward({ ...r, key, value });
  });
}

/** Emits zero or more values per record, with the same key. */
export function flatMapValuesProcessor<K, V, V2>(mapper: (value: V, key: K) => Iterable<V2>): ProcessorSupplier {
  return stateless<K, V>((ctx, r) => {
    for (const value of mapper(r.value, r.key)) ctx.forward({ ...r, value });
  });
}

/** Calls `action` and forwards the record unchanged. */
export function peekProcessor<K, V>(action: (key: K, value: V) => void): ProcessorSupplier {
  return stateless<K, V>((ctx, r) => {
    action(r.key, r.value);
    ctx.forward(r);
  });
}

/** Calls `action`; forwards nothing (a terminal operation). */
export function foreachProcessor<K, V>(action: (key: K, value: V) => void): ProcessorSupplier {
  return stateless<K, V>((_, r) => action(r.key, r.value));
}

/** Forwards every record (merge points, branch children, repartition hops). */
export function passThroughProcessor(): ProcessorSupplier {
  return stateless((ctx, r) => ctx.forward(r));
}

/** Forwards table updates through the record cache: a cogroup's merge node, where the updates of all its inputs to one key merge. */
export function cachedPassThroughProcessor(): ProcessorSupplier {
  return stateless((ctx, r) => ctx.forwardCached(r));
}

/** Sends each record to the first branch whose predicate matches, else to the default branch (if any). */
export function branchProcessor<K, V>(predicates: ReadonlyArray<(key: K, value: V) => boolean>, children: readonly string[], defaultChild: string | undefined): ProcessorSupplier {
  return stateless<K, V>((ctx, r) => {
    for (let i = 0; i < predicates.length; i++) {
      if (predicates[i]!(r.key, r.value)) {
        ctx.forward(r, children[i]);
        return;
      }
    }
    if (defaultChild !== undefined) ctx.forward(r, defaultChild);
  });
}

/** Pushes every record into an RxJS subject (behind `KStream.toObservable()`). */
export function observeProcessor<K, V>(subject: Subject<StreamRecord<K, V>>): ProcessorSupplier {
  return stateless<K, V>((_, r) => subject.next(r));
}
