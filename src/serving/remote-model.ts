import { ModelError, type Model } from '../ml/model.ts';
import type { RecordValue, RegistryOutput } from '../ml/registry-mapping.ts';
import { HttpRemoteModel, type RemoteHttpOptions } from './remote-http.ts';
import { KafkaRemoteModel, type RemoteKafkaOptions } from './remote-kafka.ts';

/** Where a remote model is served: `{ http: url, ... }` or `{ kafka: { requestTopic, replyTopic, ... } }`. */
export type RemoteModelOptions = RemoteHttpOptions | { kafka: RemoteKafkaOptions; name?: string };

/**
 * A model served by `tributary serve`, usable wherever an embedded model is: `.predict` gets
 * outcomes in input order; timeouts, unreachable servers and rejected inputs become failed
 * outcomes that the error policy sends to the dead-letter topic.
 *
 * @example
 * stream.predict(remoteModel({ http: 'http://localhost:8501/v1/models/fraud:predict' }));
 * stream.predict(remoteModel({ kafka: { requestTopic: 'fraud-requests', replyTopic: 'fraud-replies' } }));
 */
export function remoteModel<In = RecordValue, Out = RegistryOutput>(options: RemoteModelOptions): Model<In, Out> {
  const http = 'http' in options ? options.http : undefined;
  const kafka = 'kafka' in options ? options.kafka : undefined;
  if ((http === undefined) === (kafka === undefined)) {
    throw new ModelError('give remoteModel exactly one of `http` (a :predict URL) or `kafka` ({ requestTopic, replyTopic })', { model: options.name ?? 'remote' });
  }
  if (kafka !== undefined) return new KafkaRemoteModel<In, Out>(kafka, options.name);
  return new HttpRemoteModel<In, Out>(options as RemoteHttpOptions);
}
