// The package's public types do not carry its internal helpers (stripInternal).
import { StreamsBuilder, Serdes } from 'tributary';

const stream = new StreamsBuilder().stream('in', { keySerde: Serdes.string(), valueSerde: Serdes.string() });
// @ts-expect-error repartitionAs is @internal
stream.repartitionAs('x', undefined, undefined);
// @ts-expect-error repartitionForGrouping is @internal
stream.repartitionForGrouping('x', undefined, undefined);
// @ts-expect-error KGroupedStream.source is @internal
stream.groupByKey().source('store');
// @ts-expect-error the builder behind a stream is @internal
void stream.builder;

export {};
