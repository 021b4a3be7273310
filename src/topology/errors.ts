/** The topology cannot run as declared; the message says what to change. */
export class TopologyError extends Error {
  override readonly name = 'TopologyError';
}
