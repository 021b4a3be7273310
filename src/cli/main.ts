// The `tributary` command (bin/tributary.js imports this file); the commands live in cli.ts.
import '../transport/kafkajs-patches.ts';
import { exitCode, main } from './cli.ts';

/**
 * Once a command is done the process exits, even if a client library left a socket or a retry
 * timer behind (kafkajs after a broker restart did: SIGTERM printed "stopped after ..." and the
 * process lived on). The grace period lets stdout drain; a clean exit happens before it.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

/**
 * Under npm (`npx tributary ...`, `npm run cli`, `npm start`) this process is the child of a shell
 * npm spawned: a SIGTERM to npm reaches that shell, which dies without passing it on, and this
 * process lived on as an orphan holding its ports. So when the parent it started under is gone, it
 * stops as a SIGTERM would stop it. Only under npm: a server started from a shell that then exits
 * (`nohup tributary serve &`) is meant to outlive it.
 */
function stopWhenNpmParentExits(): void {
  if (process.env.npm_command === undefined) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    console.error(`tributary: the process that started this one (pid ${parent}, under npm ${process.env.npm_command}) is gone; stopping as on SIGTERM`);
    process.kill(process.pid, 'SIGTERM');
  }, 200);
  timer.unref();
}

stopWhenNpmParentExits();
main(process.argv.slice(2)).then(
  (code) => exitSoon(code),
  (error: unknown) => {
    console.error(`tributary: ${error instanceof Error ? error.message : String(error)}`);
    exitSoon(exitCode(error));
  },
);
