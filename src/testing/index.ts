export { TopologyTestDriver, type TopologyTestDriverOptions } from './driver.ts';
export { TestInputTopic, type InputTopicOptions } from './input-topic.ts';
export { TestOutputTopic } from './output-topic.ts';
export type { TestRecord, TestRecordInit } from './test-record.ts';
