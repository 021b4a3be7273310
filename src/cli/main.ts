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

main(process.argv.slice(2)).then(
  (code) => exitSoon(code),
  (error: unknown) => {
    console.error(`tributary: ${error instanceof Error ? error.message : String(error)}`);
    exitSoon(exitCode(error));
  },
);
