// kafkajs's log entries through floe's logger (kafkaLogCreator): the broker answers kafkajs
// retries and that every fresh broker or group produces ("The group coordinator is not
// available" …) become debug lines; real errors and warnings keep their level. The entries
// are shaped as kafkajs 2.2.4 makes them (src/network/connection.js, consumer/index.js).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { logLevel, type LogEntry } from 'kafkajs';
import { kafkaLogCreator, type KafkaLog } from '../../../src/ingest/kafka-source.ts';

const responseError = (error: string): LogEntry => ({
  namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR',
  log: { timestamp: '2026-12-06T05:35:31.411Z', logger: 'kafkajs', message: 'Response GroupCoordinator(key: 10, version: 2)', broker: '127.0.0.1:19092', clientId: 'floe', error, correlationId: 2, size: 55 },
});

function route(entries: LogEntry[]): [string, string, Record<string, unknown> | undefined][] {
  const seen: [string, string, Record<string, unknown> | undefined][] = [];
  const log: KafkaLog = (level, msg, fields) => { seen.push([level, msg, fields]); };
  const write = kafkaLogCreator(log)(logLevel.WARN);
  for (const e of entries) write(e);
  return seen;
}

describe('kafkaLogCreator', () => {
  test('the coordinator/leader answers of a fresh broker or group are debug lines, with their fields', () => {
    const seen = route([
      responseError('The group coordinator is not available'),
      responseError('The coordinator is loading and hence can\'t process requests for this group'),
      responseError('This is not the correct coordinator for this group'),
      responseError('There is no leader for this topic-partition as we are in the middle of a leadership election'),
      responseError('The group is rebalancing, so a rejoin is needed'),
    ]);
    assert.deepEqual(seen.map((s) => s[0]), ['debug', 'debug', 'debug', 'debug', 'debug']);
    assert.deepEqual(seen[0], ['debug', 'kafkajs: Response GroupCoordinator(key: 10, version: 2)', {
      kafkajs: 'Connection', broker: '127.0.0.1:19092', clientId: 'floe', error: 'The group coordinator is not available', correlationId: 2, size: 55,
    }]);
  });

  test('a consumer restarted after such an answer is a warning without the stack', () => {
    const seen = route([
      { namespace: 'Consumer', level: logLevel.ERROR, label: 'ERROR', log: {
        timestamp: 't', logger: 'kafkajs', message: 'Crash: KafkaJSProtocolError: The coordinator is loading and hence can\'t process requests for this group',
        groupId: 'g', retryCount: 0, stack: 'KafkaJSProtocolError: …\n    at createErrorFromCode (…)',
      } },
      { namespace: 'Consumer', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 't', logger: 'kafkajs', message: 'Restarting the consumer in 300ms', retryCount: 0, retryTime: 300, groupId: 'g' } },
    ]);
    assert.deepEqual(seen, [
      ['warn', 'kafkajs: Crash: KafkaJSProtocolError: The coordinator is loading and hence can\'t process requests for this group', { kafkajs: 'Consumer', groupId: 'g', retryCount: 0 }],
      ['warn', 'kafkajs: Restarting the consumer in 300ms', { kafkajs: 'Consumer', retryCount: 0, retryTime: 300, groupId: 'g' }],
    ]);
  });

  test('real errors and warnings keep their level', () => {
    const seen = route([
      responseError('Not authorized to access group: Group authorization failed'),
      { namespace: 'Consumer', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 't', logger: 'kafkajs', message: 'Crash: KafkaJSNumberOfRetriesExceeded: Connection timeout', groupId: 'g', stack: 'KafkaJSNumberOfRetriesExceeded: …' } },
      { namespace: 'BrokerPool', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 't', logger: 'kafkajs', message: 'The group coordinator is not available' } },
      { namespace: 'Consumer', level: logLevel.WARN, label: 'WARN', log: { timestamp: 't', logger: 'kafkajs', message: 'Consumer group is rebalancing' } },
    ]);
    assert.equal(seen[1]![2]!.stack, 'KafkaJSNumberOfRetriesExceeded: …', 'a real crash keeps its stack');
    assert.deepEqual(seen.map((s) => [s[0], s[1]]), [
      ['error', 'kafkajs: Response GroupCoordinator(key: 10, version: 2)'],
      ['error', 'kafkajs: Crash: KafkaJSNumberOfRetriesExceeded: Connection timeout'],
      ['error', 'kafkajs: The group coordinator is not available'],
      ['warn', 'kafkajs: Consumer group is rebalancing'],
    ]);
  });
});
