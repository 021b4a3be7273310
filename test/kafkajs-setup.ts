/**
 * vitest setupFiles: installs Tributary's kafkajs fixes (src/transport/kafkajs-patches.ts) before
 * any test file loads kafkajs, so that the tests' own readers (read_committed truth checks) and
 * in-process runtimes see the records a correct read_committed consumer sees.
 */
import '../src/transport/kafkajs-patches.ts';
