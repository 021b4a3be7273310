export { SerdeError, type Serde, type RecordPosition } from './serde.ts';
export { Serdes, windowedToString, type Window, type Windowed } from './serdes.ts';
