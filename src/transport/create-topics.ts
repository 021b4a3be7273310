/**
 * Topic creation that returns only once every partition can be used: kafkajs' `waitForLeaders`
 * retries only LEADER_NOT_AVAILABLE, but a Kafka 4 broker can answer UNKNOWN_TOPIC_OR_PARTITION
 * ("This server does not host this topic-partition") for a moment after CreateTopics succeeded,
 * until its metadata image has the new topic. So the wait is done here, for both.
 */
import type { Admin, ITopicConfig } from 'kafkajs';

/** Errors that mean "the topic is not visible or led yet"; anything else is real. */
const NOT_READY = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER', 'NOT_LEADER_FOR_PARTITION']);

function notReady(error: unknown): boolean {
  for (let e: unknown = error; e !== null && typeof e === 'object'; ) {
    const { type, name, originalError } = e as { type?: unknown; name?: unknown; originalError?: unknown };
    if (typeof type === 'string' && NOT_READY.has(type)) return true;
    // kafkajs' own retrier gives up with this error, wrapping the last cause.
    if (name !== 'KafkaJSNumberOfRetriesExceeded' && originalError === undefined) return false;
    e = originalError;
  }
  return false;
}

/** Resolves true once each topic has its partitions, each with a leader that answers ListOffsets. */
async function topicsReady(admin: Admin, topics: ITopicConfig[]): Promise<boolean> {
  // All topics, not these: kafkajs caches the metadata of the topics named in a request *instead
  // of* its cache, and a concurrent `fetchTopicOffsets` on the same admin then finds no
  // partitions for its own topic.
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [] });
  for (const { topic } of topics) {
    // Not the asked-for count: a topic that existed already keeps its own. KRaft publishes a new
    // topic with all its partitions at once.
    const partitions = metadata.find((m) => m.name === topic)?.partitions ?? [];
    if (partitions.length === 0 || partitions.some((p) => p.leader < 0 || p.partitionErrorCode !== 0)) return false;
  }
  // The broker publishes a leader in its metadata a moment before its replica manager hosts the
  // partition; ListOffsets answers only then.
  for (const { topic } of topics) {
    try {
      await admin.fetchTopicOffsets(topic);
    } catch (error) {
      // A TypeError is kafkajs' client-side cache lacking a topic it was asked about before it
      // existed (it refreshes every 5 minutes); the broker's metadata above already shows a leader.
      if (!(error instanceof TypeError)) throw error;
    }
  }
  return true;
}

export interface CreateTopicsOptions {
  /** How long to wait for the topics to be usable (default 30 s). */
  timeoutMs?: number;
}

/**
 * Creates the topics (those that exist already are left as they are) and waits until every
 * partition has a leader that answers, on Kafka 3.9 and 4.x alike. Resolves true when it created
 * any, as `admin.createTopics` does.
 */
export async function createTopicsAndWait(admin: Admin, topics: ITopicConfig[], options: CreateTopicsOptions = {}): Promise<boolean> {
  if (topics.length === 0) return false;
  const created = await admin.createTopics({ topics, waitForLeaders: false });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    let lastError: unknown;
    try {
      if (await topicsReady(admin, topics)) return created;
    } catch (error) {
      if (!notReady(error)) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const names = topics.map((t) => t.topic).join(', ');
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`topics ${names} were created but have no answering leader after ${timeoutMs / 1000} s${cause}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}
