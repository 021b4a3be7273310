package tributary.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Produced;

/**
 * The Kafka Streams programs that bench/kafka-streams-peer.ts measures Tributary against.
 *
 * <pre>
 * java -cp ... tributary.peer.Peer --workload word-count|json-filter --brokers b --application-id id
 *     --input t --output t --guarantee at_least_once|exactly_once_v2 --state-dir d
 *     [--commit-interval-ms n] [--cache-max-bytes n]
 * </pre>
 *
 * Runs until SIGTERM, then closes the streams (a final commit). Without the optional flags the
 * configuration is StreamsConfig's defaults (commit every 30 s at-least-once, 100 ms
 * exactly-once; a 10 MB record cache), not WordCountDemo's, which sets the cache to 0.
 */
public final class Peer {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Peer() {}

  public static void main(final String[] args) throws Exception {
    final Map<String, String> flags = flags(args);
    final Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, required(flags, "application-id"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, required(flags, "brokers"));
    props.put(StreamsConfig.STATE_DIR_CONFIG, required(flags, "state-dir"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, required(flags, "guarantee"));
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    if (flags.containsKey("commit-interval-ms")) props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(flags.get("commit-interval-ms")));
    if (flags.containsKey("cache-max-bytes")) props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.parseLong(flags.get("cache-max-bytes")));

    final StreamsBuilder builder = new StreamsBuilder();
    final String workload = required(flags, "workload");
    switch (workload) {
      case "word-count" -> wordCount(builder, required(flags, "input"), required(flags, "output"));
      case "json-filter" -> jsonFilter(builder, required(flags, "input"), required(flags, "output"));
      default -> throw new IllegalArgumentException("--workload must be word-count or json-filter, got " + workload);
    }

    final KafkaStreams streams = new KafkaStreams(builder.build(), props);
    final CountDownLatch stopped = new CountDownLatch(1);
    streams.setUncaughtExceptionHandler(error -> {
      error.printStackTrace();
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.ERROR) {
        System.err.println("kafka streams stopped: " + before + " -> " + now);
        Runtime.getRuntime().halt(1);
      }
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(Duration.ofSeconds(30));
      stopped.countDown();
    }, "peer-shutdown"));
    streams.start();
    stopped.await();
  }

  /** WordCountDemo's topology (org.apache.kafka.streams.examples.wordcount), with the topics as flags. */
  static void wordCount(final StreamsBuilder builder, final String input, final String output) {
    final KStream<String, String> source = builder.stream(input);
    final KTable<String, Long> counts = source
        .flatMapValues(value -> Arrays.asList(value.toLowerCase(Locale.getDefault()).split("\\W+")))
        .groupBy((key, value) -> value)
        .count();
    counts.toStream().to(output, Produced.with(Serdes.String(), Serdes.Long()));
  }

  /** Clicks {id, user, page, ms}: keeps those with ms >= 350 and adds seconds = ms / 1000, parsed and written once each. */
  static void jsonFilter(final StreamsBuilder builder, final String input, final String output) {
    final Serde<JsonNode> json = Serdes.serdeFrom(
        (topic, node) -> {
          try {
            return node == null ? null : JSON.writeValueAsBytes(node);
          } catch (IOException e) {
            throw new SerializationException(e);
          }
        },
        (topic, bytes) -> {
          try {
            return bytes == null ? null : JSON.readTree(bytes);
          } catch (IOException e) {
            throw new SerializationException(e);
          }
        });
    builder.stream(input, Consumed.with(Serdes.String(), json))
        .filter((key, click) -> click.path("ms").asDouble() >= 350)
        .mapValues(click -> {
          final ObjectNode out = click.deepCopy();
          out.put("seconds", click.path("ms").asDouble() / 1000);
          return (JsonNode) out;
        })
        .to(output, Produced.with(Serdes.String(), json));
  }

  private static Map<String, String> flags(final String[] args) {
    final Map<String, String> flags = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) throw new IllegalArgumentException("expected --name value pairs, got " + String.join(" ", args));
      flags.put(args[i].substring(2), args[i + 1]);
    }
    return flags;
  }

  private static String required(final Map<String, String> flags, final String name) {
    final String value = flags.get(name);
    if (value == null) throw new IllegalArgumentException("--" + name + " is required");
    return value;
  }
}
