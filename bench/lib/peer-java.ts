/**
 * The Java side of bench/kafka-streams-peer.ts: builds bench/peer/ (pom.xml, Peer.java) with the
 * machine's Maven and JDK when its sources changed since the last build, and says how to run it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PEER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../peer');
const TARGET = join(PEER_DIR, 'target');
const STAMP = join(TARGET, 'sources.sha256');

export interface JavaPeer {
  /** `java` and the arguments before Peer's own flags. */
  command: string;
  prefix: string[];
  /** This run's build, ms (0 when the cached build was current). */
  buildMs: number;
  cached: boolean;
  javaVersion: string;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)])).sort();
}

/** A hash of everything the build reads: the pom and the sources. */
function sourcesHash(): string {
  const hash = createHash('sha256');
  for (const file of [join(PEER_DIR, 'pom.xml'), ...files(join(PEER_DIR, 'src'))]) hash.update(file).update(readFileSync(file));
  return hash.digest('hex');
}

function javaBinary(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Builds the Java side if needed (`mvn -q package`), else reuses target/. Throws with Maven's output on failure. */
export function buildJavaPeer(log: (line: string) => void = console.log): JavaPeer {
  const java = javaBinary();
  const version = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (version.status !== 0) throw new Error(`${java} -version failed: is a JDK 17+ installed? ${version.stderr ?? version.error?.message ?? ''}`);
  const javaVersion = /version "([^"]+)"/.exec(version.stderr)?.[1] ?? 'unknown';
  const classpathFile = join(TARGET, 'classpath.txt');
  const hash = sourcesHash();
  const current = (): boolean =>
    existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash && existsSync(classpathFile) && readFileSync(classpathFile, 'utf8').split(':').every((jar) => existsSync(jar));
  let buildMs = 0;
  const cached = current();
  if (!cached) {
    log(`building bench/peer with Maven (kafka-streams from Maven Central, JDK ${javaVersion}) ...`);
    const started = performance.now();
    const mvn = spawnSync('mvn', ['-q', '-B', 'package'], { cwd: PEER_DIR, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    buildMs = performance.now() - started;
    if (mvn.status !== 0) throw new Error(`mvn -q package in ${PEER_DIR} failed (${mvn.error?.message ?? `exit ${mvn.status}`}):\n${mvn.stdout}${mvn.stderr}`);
    writeFileSync(STAMP, hash);
    if (!current()) throw new Error(`mvn -q package in ${PEER_DIR} wrote no usable ${classpathFile}`);
  }
  const classpath = `${join(TARGET, 'classes')}:${readFileSync(classpathFile, 'utf8').trim()}`;
  return { command: java, prefix: ['-cp', classpath, 'tributary.peer.Peer'], buildMs, cached, javaVersion };
}
