/**
 * What differs between the Apache Kafka release lines that `tributary services` runs: the jars
 * beside `kafka_2.13` on the class path, the logging backend and its configuration, and the Java
 * they need. Kafka 4 moved the broker from log4j 1 (reload4j) to log4j 2 and to Java 17.
 */
import { pathToFileURL } from 'node:url';
import { ServicesError } from './common.ts';

/** The release `tributary services up` runs unless told otherwise (`--kafka-version`, `TRIBUTARY_KAFKA_VERSION`). */
export const DEFAULT_KAFKA_VERSION = '4.4.0';
/** The release lines that are supported and tested, for messages. */
export const SUPPORTED_KAFKA_VERSIONS = '3.9.x and 4.x';

/** Scala build of the Kafka server artifact. */
const SCALA_BINARY = '2.13';
const SLF4J_VERSION = '1.7.36';
const RELOAD4J_VERSION = '1.2.25';
/** Kafka 4 depends on log4j-api and log4j-core but leaves the slf4j binding to the distribution; pinning all three keeps them one version. */
const LOG4J2_VERSION = '2.25.5';

export interface MavenArtifact {
  groupId: string;
  artifactId: string;
  version: string;
}

/** One Apache Kafka release, as far as fetching, configuring and starting it differ by line. */
export interface KafkaRelease {
  version: string;
  major: 3 | 4;
  minJava: number;
  /** The artifacts whose runtime closure is the broker's class path. */
  artifacts: MavenArtifact[];
  /** The broker's jar, present in the libs folder once the fetch worked. */
  serverJar: string;
  /** File name of the logging configuration written beside server.properties. */
  logConfigName: string;
  logConfig(): string;
  /** The JVM system property that points the logging backend at that file. */
  logConfigArg(file: string): string;
}

/** The release for a version string; throws a ServicesError naming the supported lines otherwise. */
export function kafkaRelease(version: string): KafkaRelease {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  const [major, minor] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  if (!(major === 3 && minor === 9) && major !== 4) {
    throw new ServicesError(
      `Apache Kafka '${version}' is not supported; supported are ${SUPPORTED_KAFKA_VERSIONS} ` +
        `(e.g. --kafka-version ${DEFAULT_KAFKA_VERSION} or 3.9.2).`,
    );
  }
  const server: MavenArtifact = { groupId: 'org.apache.kafka', artifactId: `kafka_${SCALA_BINARY}`, version };
  const common = { version, serverJar: `kafka_${SCALA_BINARY}-${version}.jar` };
  if (major === 3) {
    return {
      ...common,
      major: 3,
      minJava: 11,
      artifacts: [
        server,
        { groupId: 'org.slf4j', artifactId: 'slf4j-reload4j', version: SLF4J_VERSION },
        { groupId: 'ch.qos.reload4j', artifactId: 'reload4j', version: RELOAD4J_VERSION },
      ],
      logConfigName: 'log4j.properties',
      logConfig: log4jProperties,
      logConfigArg: (file) => `-Dlog4j.configuration=${pathToFileURL(file).href}`,
    };
  }
  return {
    ...common,
    major: 4,
    minJava: 17,
    artifacts: [
      server,
      { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j-impl', version: LOG4J2_VERSION },
      { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-api', version: LOG4J2_VERSION },
      { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: LOG4J2_VERSION },
    ],
    logConfigName: 'log4j2.xml',
    logConfig: log4j2Xml,
    logConfigArg: (file) => `-Dlog4j2.configurationFile=${pathToFileURL(file).href}`,
  };
}

/** Loggers that report every request, segment, timer or config value at INFO: WARN keeps the log readable. */
const QUIET_LOGGERS_3 = [
  'kafka.request.logger',
  'kafka.network.RequestChannel$',
  'state.change.logger',
  'kafka.log',
  'kafka.cluster',
  'org.apache.kafka.storage.internals.log',
  'kafka.coordinator.transaction',
  'kafka.coordinator.group.GroupMetadataManager',
  'kafka.coordinator.group.GroupMetadata$',
  'kafka.server.DelayedOperationPurgatory$ExpiredOperationReaper',
  'kafka.server.ClientQuotaManager$ThrottledChannelReaper',
  'kafka.server.NodeToControllerRequestThread',
  'kafka.server.ReplicaFetcherManager',
  'org.apache.kafka.controller.ReplicationControlManager',
  'org.apache.kafka.controller.ClusterControlManager',
  'org.apache.kafka.image.loader.MetadataLoader',
  'org.apache.kafka.queue.KafkaEventQueue',
  'org.apache.kafka.clients',
  'org.apache.kafka.common.config',
  'kafka.server.KafkaConfig',
];

/** Kafka 4 moved most of these to Java packages under org.apache.kafka. */
const QUIET_LOGGERS_4 = [
  'kafka.request.logger',
  'kafka.network.RequestChannel$',
  'state.change.logger',
  'kafka.cluster',
  'kafka.coordinator.transaction',
  'kafka.server.ReplicaFetcherManager',
  'kafka.server.KafkaConfig',
  'org.apache.kafka.storage.internals.log',
  'org.apache.kafka.coordinator',
  'org.apache.kafka.controller',
  'org.apache.kafka.image',
  'org.apache.kafka.metadata',
  'org.apache.kafka.queue',
  'org.apache.kafka.raft',
  'org.apache.kafka.server.purgatory',
  'org.apache.kafka.server.quota',
  'org.apache.kafka.server.util.timer',
  'org.apache.kafka.server.NodeToControllerRequestThread',
  'org.apache.kafka.server.share',
  'org.apache.kafka.clients',
  'org.apache.kafka.common.config',
];

function log4jProperties(): string {
  return [
    '# Generated by tributary services: the broker logs to files only.',
    'log4j.rootLogger=INFO, server',
    'log4j.appender.server=org.apache.log4j.RollingFileAppender',
    'log4j.appender.server.File=${kafka.logs.dir}/server.log',
    'log4j.appender.server.MaxFileSize=10MB',
    'log4j.appender.server.MaxBackupIndex=2',
    'log4j.appender.server.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.server.layout.ConversionPattern=[%d] %p %m (%c)%n',
    ...QUIET_LOGGERS_3.map((name) => `log4j.logger.${name}=WARN`),
    '',
  ].join('\n');
}

function log4j2Xml(): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!-- Generated by tributary services: the broker logs to files only. -->',
    '<Configuration status="warn">',
    '  <Appenders>',
    '    <RollingFile name="server" fileName="${sys:kafka.logs.dir}/server.log" filePattern="${sys:kafka.logs.dir}/server.log.%i">',
    '      <PatternLayout pattern="[%d] %p %m (%c)%n"/>',
    '      <SizeBasedTriggeringPolicy size="10MB"/>',
    '      <DefaultRolloverStrategy max="2"/>',
    '    </RollingFile>',
    '  </Appenders>',
    '  <Loggers>',
    '    <Root level="INFO"><AppenderRef ref="server"/></Root>',
    ...QUIET_LOGGERS_4.map((name) => `    <Logger name="${name}" level="WARN"/>`),
    '  </Loggers>',
    '</Configuration>',
    '',
  ].join('\n');
}
