import { ModelError, describeError, type Model, type ScoreContext, type ScoreInput, type ScoreOutcome } from './model.ts';
import type { OnnxModel } from './onnx-model.ts';
import type { RecordValue, RegistryOutput } from './registry-mapping.ts';

/** A model whose version can change while it serves (hot reload). */
export interface VersionedModel<In, Out> extends Model<In, Out> {
  /** The version new batches go to; undefined until `ready()` resolved. */
  readonly version: string | undefined;
}

/** What a registry handle needs from its registry: loaded versions shared by all handles. */
export interface VersionSource {
  /** The version this handle should serve now; throws a ModelError when there is none. */
  target(name: string, pinned: string | undefined): string;
  /** A shared, reference-counted model of one version; every acquire needs one release. */
  acquire(name: string, version: string): Promise<OnnxModel<RecordValue, RegistryOutput>>;
  release(name: string, version: string): void;
  /** Reports a version that failed to load, so it is not retried until its files change. */
  failed(name: string, version: string, error: unknown): void;
  /** Reports a switch of version. */
  switched(name: string, from: string | undefined, to: string): void;
  /** Forgets a closed handle. */
  forget(handle: RegistryModel): void;
}

/**
 * A registry model: serves the newest version (or a pinned one) and, when the registry sees the
 * versions change, loads and warms the new version up, switches new batches to it, and lets the
 * old one finish its in-flight batches before it is closed.
 */
export class RegistryModel implements VersionedModel<RecordValue, RegistryOutput> {
  private current: { version: string; model: OnnxModel<RecordValue, RegistryOutput> } | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(readonly name: string, private readonly source: VersionSource, readonly pinned: string | undefined) {}

  get version(): string | undefined {
    return this.current?.version;
  }

  async ready(): Promise<void> {
    await this.update();
    if (this.current === undefined) {
      throw new ModelError(this.closed ? 'is closed' : 'has no version that loads', { model: this.name, version: this.pinned });
    }
  }

  /** Switches to the version the registry designates now, if it differs (serialised with other updates). */
  update(): Promise<void> {
    const next = this.chain.then(() => this.switchToTarget());
    this.chain = next.catch(() => undefined);
    return next;
  }

  async scoreBatch(inputs: readonly ScoreInput<RecordValue>[], context?: ScoreContext): Promise<ScoreOutcome<RegistryOutput>[]> {
    if (inputs.length === 0) return [];
    if (this.current === undefined) {
      try {
        await this.ready();
      } catch (error) {
        const failure: ScoreOutcome<RegistryOutput> = { ok: false, stage: 'inference', error: error instanceof Error ? error : new Error(String(error)) };
        return inputs.map(() => failure);
      }
    }
    return this.current!.model.scoreBatch(inputs, context);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    const current = this.current;
    this.current = undefined;
    if (current !== undefined) this.source.release(this.name, current.version);
    this.source.forget(this);
  }

  private async switchToTarget(): Promise<void> {
    if (this.closed) return;
    let target: string;
    try {
      target = this.source.target(this.name, this.pinned);
    } catch (error) {
      if (this.current === undefined) throw error;
      return;
    }
    if (target === this.current?.version) return;

    let model: OnnxModel<RecordValue, RegistryOutput> | undefined;
    try {
      model = await this.source.acquire(this.name, target);
      await model.ready();
    } catch (error) {
      this.source.release(this.name, target);
      this.source.failed(this.name, target, error);
      if (this.current === undefined) {
        throw error instanceof ModelError ? error : new ModelError(`cannot load: ${describeError(error)}`, { model: this.name, version: target, cause: error });
      }
      return;
    }
    if (this.closed) {
      this.source.release(this.name, target);
      return;
    }
    const previous = this.current;
    this.current = { version: target, model };
    this.source.switched(this.name, previous?.version, target);
    if (previous !== undefined) this.source.release(this.name, previous.version);
  }
}
