import { describe, expect, it } from 'vitest';
import { ModelError, relayedModelError } from '../../src/ml/model.ts';

describe('a model server error relayed by a remote model client', () => {
  it('names the model once, keeping the version the server named', () => {
    const server = new ModelError('input has 3 values, expected 7', { model: 'gbr', version: '2' });
    const relayed = relayedModelError(server.message, 'gbr');
    expect(relayed).toEqual({ message: 'input has 3 values, expected 7', version: '2' });
    const client = new ModelError(relayed.message, { model: 'gbr', version: relayed.version, stage: 'validate' });
    expect(client.message).toBe('model gbr@2: input has 3 values, expected 7');
    expect(client.version).toBe('2');
  });

  it('leaves messages that do not start with the same model alone', () => {
    expect(relayedModelError('model fraud: boom', 'gbr')).toEqual({ message: 'model fraud: boom', version: undefined });
    expect(relayedModelError('no such model', 'gbr')).toEqual({ message: 'no such model', version: undefined });
    expect(relayedModelError('model gbr: x', 'gbr')).toEqual({ message: 'x', version: undefined });
  });

  it('drops the "instance <i>: " a server puts before the model in a batch request\'s error', () => {
    expect(relayedModelError('instance 3: model gbr@2: feature \'x\' is Infinity', 'gbr')).toEqual({ message: "feature 'x' is Infinity", version: '2' });
    expect(relayedModelError('instance 3: model fraud: boom', 'gbr')).toEqual({ message: 'model fraud: boom', version: undefined });
  });
});
