// Compiled by tsc and run with plain `node out/app.js`: the package must load without tsx.
import { Serdes, TopologyTestDriver } from 'tributary';
import wordCount, { demo } from './word-count.js';

const driver = new TopologyTestDriver(wordCount.build(), { applicationId: wordCount.config.applicationId });
const lines = driver.createInputTopic('lines', Serdes.string(), Serdes.string());
const counts = driver.createOutputTopic('counts', Serdes.string(), Serdes.int64());
for (const record of demo(4)) await lines.pipeInput(String(record.key), String(record.value), record.timestamp);
const final = counts.readKeyValuesToMap();
await driver.close();

console.log(JSON.stringify(Object.fromEntries(final)));
