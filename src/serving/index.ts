export { ModelHttpServer, type ModelHttpServerOptions } from './http-server.ts';
export { ModelKafkaServer, type ModelKafkaServerOptions } from './kafka-server.ts';
export { ModelPool, type BatchingOptions, type VersionStatus } from './model-pool.ts';
export { ServingError, ServingHeaders, type BatchReply, type ErrorReply, type PredictionReply, type ReplyStage } from './protocol.ts';
export { remoteModel, type RemoteModelOptions } from './remote-model.ts';
export type { RemoteHttpOptions } from './remote-http.ts';
export type { RemoteKafkaOptions } from './remote-kafka.ts';
