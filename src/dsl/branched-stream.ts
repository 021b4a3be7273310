import { branchProcessor, passThroughProcessor } from '../processors/stateless.ts';
import { KStream } from './kstream.ts';
import type { Named, Produced } from './options.ts';

/** Options of one branch of `split()`. */
export interface BranchOptions<K, V> extends Named {
  /** Also write the branch's records to this topic. */
  to?: string;
  produced?: Produced<K, V>;
}

/**
 * The result of `KStream.split()`: add branches, then end with `defaultBranch()` or `noDefaultBranch()`.
 * Nodes are named as Kafka Streams names them: the splitter `KSTREAM-BRANCH-…` (or the `split`
 * name), each branch `<splitter name><branch name>`, or `<splitter name><n>` for unnamed branches
 * (numbered from 1) and `<splitter name>0` for an unnamed default branch.
 */
export class BranchedKStream<K, V> {
  private readonly predicates: Array<(key: K, value: V) => boolean> = [];
  private readonly branches: BranchOptions<K, V>[] = [];
  private readonly splitterName: string;

  /** @internal */
  constructor(private readonly parent: KStream<K, V>, private readonly prefix: string) {
    this.splitterName = parent.builder.name(prefix ? prefix : undefined, 'KSTREAM-BRANCH-');
  }

  /** Adds a branch; a record goes to the first branch whose predicate matches. */
  branch(predicate: (key: K, value: V) => boolean, options: BranchOptions<K, V> = {}): this {
    this.predicates.push(predicate);
    this.branches.push(options);
    this.parent.builder.skipIndexes(1);
    return this;
  }

  /** Ends the split with a branch for records no predicate matched; returns the branches by name. */
  defaultBranch(options: BranchOptions<K, V> = {}): Record<string, KStream<K, V>> {
    this.parent.builder.skipIndexes(1);
    return this.build(options);
  }

  /** Ends the split; unmatched records are dropped. Returns the branches by name. */
  noDefaultBranch(): Record<string, KStream<K, V>> {
    return this.build(undefined);
  }

  private build(defaultOptions: BranchOptions<K, V> | undefined): Record<string, KStream<K, V>> {
    const builder = this.parent.builder;
    const all = defaultOptions ? [...this.branches, defaultOptions] : this.branches;
    const suffixes = all.map((options, i) => options.name ?? String(defaultOptions && i === all.length - 1 ? 0 : i + 1));
    const names = suffixes.map((suffix) => this.prefix + suffix);
    const childNames = suffixes.map((suffix) => this.splitterName + suffix);
    builder.addProcessor(this.splitterName, [this.parent.nodeName], branchProcessor(this.predicates, childNames.slice(0, this.branches.length), defaultOptions ? childNames[childNames.length - 1] : undefined));
    const result: Record<string, KStream<K, V>> = {};
    all.forEach((options, i) => {
      builder.addProcessor(childNames[i]!, [this.splitterName], passThroughProcessor());
      const stream = new KStream<K, V>(builder, childNames[i]!, this.parent.keySerde, this.parent.valueSerde, this.parent.repartitionRequired);
      if (options.to !== undefined) stream.to(options.to, options.produced);
      result[names[i]!] = stream;
    });
    return result;
  }
}
