import '../transport/kafkajs-patches.ts';
import { logLevel, type logCreator } from 'kafkajs';

/**
 * Passes kafkajs errors to `log`, except the ones a consumer group raises during every ordinary
 * rebalance (which kafkajs logs as errors although it handles them).
 */
export function kafkaLogCreator(log: (line: string) => void): logCreator {
  return () => ({ level, log: entry }) => {
    if (level > logLevel.ERROR) return;
    const { message, error } = entry as { message: string; error?: string };
    const line = error === undefined ? message : `${message}: ${error}`;
    if (/rebalanc|rejoin|not the correct coordinator|The coordinator is loading/i.test(line)) return;
    log(`kafkajs: ${line}`);
  };
}
