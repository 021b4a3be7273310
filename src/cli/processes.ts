import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The heartbeat interval of the processes' consumers unless TRIBUTARY_HEARTBEAT_MS sets one. */
const PROCESS_HEARTBEAT_MS = 500;

/** The runner script (bin/tributary.js) that started this process. */
const RUNNER = fileURLToPath(new URL('../../bin/tributary.js', import.meta.url));

/**
 * `tributary run --processes n`: JavaScript runs on one thread, so one process uses one core. This
 * starts n runner processes with the same arguments; they join one consumer group and share the
 * partitions as separate instances would (each task lives in one of them, with its state in
 * Redis). Their output lines are prefixed with `[i]`. SIGINT and SIGTERM go to all of them; when one
 * exits with an error the others are stopped and that code is returned, so that an orchestrator
 * restarts the lot; otherwise 0 once all have stopped.
 */
export async function runProcesses(args: readonly string[], count: number, out: (line: string) => void = console.log): Promise<number> {
  const childArgs = withoutProcessesFlag(args);
  const children: ChildProcess[] = [];
  let firstError: number | undefined;
  let stopping = false;
  const stopAll = (signal: NodeJS.Signals): void => {
    stopping = true;
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    out(`${signal}: stopping ${count} processes ...`);
    stopAll(signal);
  };
  const sigint = (): void => onSignal('SIGINT');
  const sigterm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  try {
    const exits = Array.from({ length: count }, (_, i) => {
      // execArgv: a checkout's --conditions=tributary-source (run the sources) reaches the children.
      const child = spawn(process.execPath, [...process.execArgv, RUNNER, 'run', ...childArgs], {
        env: childEnvironment(i, process.env),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      prefixLines(child.stdout!, `[${i}] `, (line) => out(line));
      prefixLines(child.stderr!, `[${i}] `, (line) => process.stderr.write(`${line}\n`));
      return new Promise<void>((resolve) => {
        child.on('exit', (code, signal) => {
          const failed = code !== 0 && !(stopping && (signal === 'SIGINT' || signal === 'SIGTERM'));
          if (failed && firstError === undefined) {
            firstError = code ?? 1;
            out(`process ${i} exited with ${code ?? signal}; stopping the others`);
            stopAll('SIGTERM');
          }
          resolve();
        });
      });
    });
    out(`tributary: ${count} processes in one consumer group`);
    await Promise.all(exits);
    return firstError ?? 0;
  } finally {
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
}

/**
 * The environment of process i. A member learns of a rebalance at its next heartbeat: with
 * kafkajs's 3 s, the process that joined first kept every task for up to 3 s while the others
 * waited (measured: 3 s idle in a 13 s word count), so the heartbeat is 500 ms unless set.
 */
export function childEnvironment(index: number, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, TRIBUTARY_PROCESS_INDEX: String(index), TRIBUTARY_HEARTBEAT_MS: env.TRIBUTARY_HEARTBEAT_MS ?? String(PROCESS_HEARTBEAT_MS) };
}

/** The arguments without `--processes n` / `--processes=n`. */
export function withoutProcessesFlag(args: readonly string[]): string[] {
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--processes') {
      i++;
      continue;
    }
    if (arg.startsWith('--processes=')) continue;
    rest.push(arg);
  }
  return rest;
}

function prefixLines(stream: NodeJS.ReadableStream, prefix: string, write: (line: string) => void): void {
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      write(prefix + buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buffered.length > 0) write(prefix + buffered);
  });
}
